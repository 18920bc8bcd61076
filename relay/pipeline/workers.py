"""Big messages (or, with smtp.workers, every message) go through the stages in worker
processes.

The rules are regular expressions over whole texts, and Python's `re` holds the GIL while
a search runs: on a 20 MB body one search can take a second, and a thread would not let
the event loop serve anyone meanwhile. So a message of BIG bytes or more is parsed, checked,
rewritten and signed in a process of its own; the event loop records the outcome. One
process, and one more for messages of HUGE bytes or more: a 20 MB message takes seconds, and
a 300 KB one must not wait for it. Small ones never wait for either. Who goes next is
decided before (relay.pipeline.lanes): per client network, round robin.

With smtp.workers = N, every message runs there, in N processes: the stages are the most of
a message's CPU time, so they then use every core, while the event loop keeps SMTP, the
record and delivery. Those N start with the relay (and with a reloaded config), all at once:
a process takes about two seconds of CPU to start (imports, stages, store), which under the
first messages would be spent while they wait.

What crosses to a worker is the envelope, the raw bytes and the kind; what comes back is the
outcome, its parcel without the message tree (the delivered bytes, reasons, timings). The
config goes once per process, at its start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

from relay.pipeline.lanes import BIG

if TYPE_CHECKING:
    from relay.config import Config
    from relay.pipeline.intake import Intake
    from relay.pipeline.parcel import Envelope, Outcome

HUGE = 2 * 1024 * 1024  # from here on, in a process of their own

_state: tuple[asyncio.AbstractEventLoop, Intake] | None = None  # in a worker process


def _start(config: Config) -> None:
    """A worker's own event loop, store connection and stages, kept for every message it
    runs, and closed at its exit (an open connection's thread would keep it from exiting)."""
    from multiprocessing import util

    from relay import keyfile
    from relay.ops import logs
    from relay.pipeline import memory
    from relay.pipeline.intake import Intake
    from relay.store.startup import connect

    global _state
    # The relay decides when to stop; a Ctrl-C or a SIGTERM to the whole process group must
    # not kill a message half-way (the pool is shut down when the relay has drained).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.setup(config.log_level, config.log.format)
    memory.return_big_buffers()
    loop = asyncio.new_event_loop()
    # The chain key too: the stages read parties and settings through the chain.
    secret = keyfile.read(config.store.key_path, "store.chain_key")
    store = loop.run_until_complete(connect(config.store, secret, pool_size=2))
    intake = Intake.for_config(config, store, on_queued=lambda: None)
    _state = (loop, intake)

    def close() -> None:
        intake.close()
        loop.run_until_complete(store.close())
        loop.close()

    util.Finalize(None, close, exitpriority=10)


def _process(envelope: Envelope, raw: bytes, kind: str) -> Outcome:
    from email.message import EmailMessage

    assert _state is not None
    loop, intake = _state
    outcome = loop.run_until_complete(intake.process(envelope, raw, kind))
    if outcome.parcel is not None:
        # The parent has the raw bytes and needs no parsed tree: send back only the rest.
        outcome.parcel.raw = b""
        outcome.parcel.message = EmailMessage()
        outcome.parcel.text_files = []
    return outcome


def _ready() -> None:
    """Nothing: submitted once per process at start, so that each one is started."""


_retiring: set[asyncio.Task[None]] = set()  # workers replaced by a reload, still finishing


class BigMessages:
    """The worker pools: `processes` worker processes; with `every` set, every message's
    stages run there (smtp.workers), else only those of BIG bytes or more, in one. Messages
    of HUGE bytes or more run in a pool of one process of their own."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.every = config.smtp.workers > 0
        self.processes = max(1, config.smtp.workers)
        self._pool: ProcessPoolExecutor | None = None
        self._huge: ProcessPoolExecutor | None = None
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def start(self) -> None:
        """With smtp.workers, start every process now (their start-up runs in the background;
        a message waits for it only if it comes first). Without, the one process for big
        messages starts at the first of them: most relays never see one."""
        if not self.every:
            return
        pool = self._executor(huge=False)
        for _ in range(self.processes):
            # No process is idle yet, so each call starts one (ProcessPoolExecutor, spawn).
            pool.submit(_ready)

    def lane(self, size: int) -> str | None:
        """Where a message of `size` bytes waits for its turn (relay.pipeline.lanes): "huge", "big",
        or None (its stages run in the event loop's process, without waiting)."""
        if size >= HUGE:
            return "huge"
        return "big" if self.every or size >= BIG else None

    @property
    def slots(self) -> dict[str, int]:
        """Processes per lane: how many messages of each run at once."""
        return {"big": self.processes, "huge": 1}

    def replaced(self, config: Config) -> BigMessages:
        """A fresh worker for a reloaded config; this one exits once its messages are done."""
        retiring = asyncio.get_running_loop().create_task(self._retire())
        _retiring.add(retiring)
        retiring.add_done_callback(_retiring.discard)
        fresh = BigMessages(config)
        fresh.start()
        return fresh

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

    def _executor(self, huge: bool) -> ProcessPoolExecutor:
        pool = self._huge if huge else self._pool
        if pool is None:  # started at the first message for it, not at every start-up
            pool = ProcessPoolExecutor(
                1 if huge else self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start, initargs=(self.config,))
            if huge:
                self._huge = pool
            else:
                self._pool = pool
        return pool

    async def _process(self, envelope: Envelope, raw: bytes, kind: str) -> Outcome:
        huge = len(raw) >= HUGE
        pool = self._executor(huge)
        try:
            return await asyncio.get_running_loop().run_in_executor(
                pool, _process, envelope, raw, kind)
        except BrokenProcessPool:
            # The next message starts a new one; the old one is dead.
            if huge:
                self._huge = None
            else:
                self._pool = None
            raise
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # e.g. a KeyboardInterrupt sent back from the worker
            raise RuntimeError(f"big message worker: {exc!r}") from exc

    async def stop(self, grace: float) -> None:
        """At shutdown, when no transaction is open any more: the workers are asked to exit
        and, should one not within `grace` seconds, terminated (shutdown without waiting has
        been seen to leave it running)."""
        pools = [p for p in (self._pool, self._huge) if p is not None]
        self._pool = self._huge = None
        processes: list[multiprocessing.process.BaseProcess] = []
        for pool in pools:
            processes += list(pool._processes.values())  # type: ignore[attr-defined]
            pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        for process in processes:
            await asyncio.to_thread(process.join, max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                await asyncio.to_thread(process.join, 5)
