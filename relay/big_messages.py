"""Big messages go through the stages in a worker process.

The rules are regular expressions over whole texts, and Python's `re` holds the GIL while
a search runs: on a 20 MB body one search can take a second, and a thread would not let
the event loop serve anyone meanwhile. So a message of BIG bytes or more is parsed, checked,
rewritten and signed in a process of its own; the event loop records the outcome. One
process: big messages wait for each other, small ones never wait for them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relay.accept import Outcome
    from relay.config import Config
    from relay.pipeline import Envelope

BIG = 256 * 1024  # bytes of raw message

_config: Config | None = None  # in the worker process


def _start(config: Config) -> None:
    global _config
    _config = config
    # The relay decides when to stop; a Ctrl-C or a SIGTERM to the whole process group must
    # not kill a message half-way (the pool is shut down when the relay has drained).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from relay import logs

    logs.setup(config.log_level, config.log.format)


def _process(envelope: Envelope, raw: bytes, kind: str) -> Outcome:
    return asyncio.run(_job(envelope, raw, kind))


async def _job(envelope: Envelope, raw: bytes, kind: str) -> Outcome:
    """A store connection and stages of its own, closed again: a connection left open keeps
    a thread that would stop the worker process from ever exiting."""
    from email.message import EmailMessage

    from relay import pipeline
    from relay.accept import Intake
    from relay.store.db import Store

    assert _config is not None
    store = await Store.open(_config.store.path, _config.store.busy_timeout)
    stages = pipeline.build(_config, store)
    try:
        outcome = await Intake(_config, store, stages, on_queued=lambda: None).process(
            envelope, raw, kind)
    finally:
        pipeline.close(stages)
        await store.close()
    if outcome.parcel is not None:
        # The parent has the raw bytes and needs no parsed tree: send back only the rest.
        outcome.parcel.raw = b""
        outcome.parcel.message = EmailMessage()
    return outcome


_retiring: set[asyncio.Task[None]] = set()  # workers replaced by a reload, still finishing


class BigMessages:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._pool: ProcessPoolExecutor | None = None
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def replaced(self, config: Config) -> BigMessages:
        """A fresh worker for a reloaded config; this one exits once its messages are done."""
        retiring = asyncio.get_running_loop().create_task(self._retire())
        _retiring.add(retiring)
        retiring.add_done_callback(_retiring.discard)
        return BigMessages(config)

    async def _retire(self) -> None:
        await self._idle.wait()
        await self.stop(self.config.shutdown_grace)

    async def process(self, envelope: Envelope, raw: bytes, kind: str) -> Outcome:
        self._active += 1
        self._idle.clear()
        try:
            return await self._process(envelope, raw, kind)
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    async def _process(self, envelope: Envelope, raw: bytes, kind: str) -> Outcome:
        if self._pool is None:  # started at the first big message, not at every start-up
            self._pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                initargs=(self.config,))
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, _process, envelope, raw, kind)
        except BrokenProcessPool:
            self._pool = None  # the next big message starts a new one; the old one is dead
            raise
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # e.g. a KeyboardInterrupt sent back from the worker
            raise RuntimeError(f"big message worker: {exc!r}") from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def stop(self, grace: float) -> None:
        """At shutdown, when no transaction is open any more: the worker is asked to exit
        and, should it not within `grace` seconds, terminated (shutdown without waiting has
        been seen to leave it running)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(pool._processes.values())  # type: ignore[attr-defined]
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in processes:
            await asyncio.to_thread(process.join, max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, 5)
