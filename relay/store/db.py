"""The SQLite store: one connection per process, WAL, synchronous=FULL.

The connection is used by one holder at a time (relay.store.turns). A write is one
transaction, committed (fsynced) before `write()` returns, with group commit: the writes
that arrive while one is running join its transaction, each in a SAVEPOINT of its own, and
one COMMIT (one fsync) ends them all. A write whose block raises is rolled back to its
savepoint and gets its exception; the others go on. Each waits for the shared COMMIT, and
if that fails, every write of the batch gets the error: nothing is reported committed that
was not. While a batch is open the connection goes only to the writers joining it, so a
reader never sees another coroutine's uncommitted writes; a batch ends at MAX_BATCH writes
or MAX_BATCH_SECONDS, so readers wait no longer than that.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from relay.ops import prometheus
from relay.ops.logs import event
from relay.store import chain, quick
from relay.store.turns import Turns

log = logging.getLogger("relay.store")
FAILURE_HOLD = 30.0
# A write batch is committed once it holds this many writes, or once a write ends after it
# has been open this long, even with writers waiting (who start the next one).
MAX_BATCH = 32
MAX_BATCH_SECONDS = 0.1

# What Store.read() and Store.write() yield: the repository functions (relay.store.*) take
# it as `db`; outside relay.store it is opaque, only handed on.
Connection = aiosqlite.Connection
# What a failed store access raises (locked past busy_timeout, read-only, disk full).
StoreError = sqlite3.Error


class CommitFailed(sqlite3.OperationalError):
    """The COMMIT of a write batch failed (disk full, I/O error): none of its writes is
    committed. Each write of the batch gets one of its own."""


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(eq=False)
class _Batch:
    """One open write transaction and the writes in it."""
    done: asyncio.Future[BaseException | None]  # the COMMIT's outcome: None, or its error
    started: float = field(default_factory=time.perf_counter)
    begun: int = 0  # writes begun in it (their savepoints are named after this count)
    writes: int = 0  # writes whose block ended well: what the COMMIT commits
    entries: int = 0  # chain entries those writes added
    newest: int = 0  # the seq of the last of them


class Store:
    def __init__(self, conn: aiosqlite.Connection, secret: bytes | None = None) -> None:
        self._conn = conn
        self._turns = Turns()
        self._turns.on_abandoned = self._pass_turn
        self._batch: _Batch | None = None  # the open write transaction
        self._committing: asyncio.Task[None] | None = None
        self.failed_at: float | None = None  # when a write last failed in the store
        self.secret = secret  # the chain key (relay.store.chain); None: the chain is unused
        # Told how many chain entries this process added, once they are committed (the
        # checkpointer counts them).
        self.on_chain_entries: Callable[[int], None] | None = None
        # The seq of the newest chain entry this process committed: the chain's length then,
        # every process's entries included (the checkpointer counts the chain's growth by it).
        self.chain_seq = 0
        if secret is not None:
            chain.bind(conn, secret, self._chain_entry)

    def _chain_entry(self, seq: int) -> None:
        if self._batch is not None:  # always: entries are added inside write()
            self._batch.entries += 1
            self._batch.newest = seq

    @property
    def writers_waiting(self) -> int:
        """Writes waiting for their turn (they join the open batch, if any)."""
        return self._turns.writers_waiting

    @classmethod
    async def open(cls, path: Path, busy_timeout: float = 5.0,
                   secret: bytes | None = None) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves. Quick statements run on
        # the event loop's thread, the rest on aiosqlite's (relay.store.quick).
        conn = await quick.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return cls(conn, secret)

    async def close(self) -> None:
        await self._turns.take(writer=False)
        try:
            await self._conn.close()
        finally:
            self._pass_turn()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        await self._turns.take(writer=False)
        try:
            yield self._conn
        finally:
            self._pass_turn()

    async def writable(self) -> bool:
        """Whether a write transaction can start and none failed in the last FAILURE_HOLD
        seconds (for /readyz). The hold ends by itself, so a relay taken out of rotation
        gets traffic to try again."""
        if self.failed_at is not None and time.monotonic() - self.failed_at < FAILURE_HOLD:
            return False
        return await self._can_write()

    async def _can_write(self) -> bool:
        """Not locked, not read-only, not out of space at a commit."""
        async with self.read():  # never inside a batch: its turn is the writers'
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                await self._conn.rollback()
                return True
            except Exception:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                return False

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One transaction, shared with the writes that come together (group commit):
        returns once it is committed (and fsynced); on error in the block, that block's
        work is rolled back and the error raised. CommitFailed: the shared COMMIT failed."""
        await self._turns.take(writer=True)
        start = time.perf_counter()
        batch, savepoint = await self._begin()
        entries = batch.entries
        try:
            yield self._conn
        except BaseException as exc:
            await self._undo(batch, savepoint, entries, exc)
            raise
        if self._conn.in_transaction:
            batch.writes += 1
            self._pass_turn()
        else:  # SQLite rolled it all back after an error the block caught: nothing to commit
            await self._abort(batch, sqlite3.OperationalError("the transaction was rolled back"))
        failure = await asyncio.shield(batch.done)
        if failure is not None:
            raise CommitFailed(f"the store could not commit {batch.writes} writes:"
                               f" {failure}") from None
        prometheus.STORE_WRITE_SECONDS.observe(time.perf_counter() - start)

    async def _begin(self) -> tuple[_Batch, str | None]:
        """The open batch (a savepoint in it for this write), or a new one. On error the
        turn is passed on."""
        batch = self._batch
        if batch is None:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except BaseException as exc:
                if isinstance(exc, sqlite3.Error):  # locked past busy_timeout, read-only
                    self.failed_at = time.monotonic()
                self._pass_turn()
                raise
            chain.forget_head(self._conn)
            batch = self._batch = _Batch(asyncio.get_running_loop().create_future())
            batch.begun = 1
            return batch, None  # the first write: a failure rolls back the transaction
        batch.begun += 1
        savepoint = f"write{batch.begun}"
        try:
            await self._conn.execute(quick.Quick(f"SAVEPOINT {savepoint}"))
        except BaseException as exc:
            await self._abort(batch, exc)
            raise
        return batch, savepoint

    async def _undo(self, batch: _Batch, savepoint: str | None, entries: int,
                    exc: BaseException) -> None:
        """A write's block raised: roll back its work alone, then end its turn."""
        if isinstance(exc, sqlite3.Error):
            self.failed_at = time.monotonic()
        # SQLite rolls the whole transaction back itself after some errors (disk full, I/O
        # error): then the writes before this one are gone too.
        if not self._conn.in_transaction:
            await self._abort(batch, exc)
            return
        chain.forget_head(self._conn)  # it may name an entry rolled back now
        try:
            if savepoint is None:  # the batch's first write: nothing else is in it yet
                await self._conn.rollback()
                self._batch = None
            else:
                await self._conn.execute(f"ROLLBACK TO {savepoint}")
                batch.entries = entries
        except BaseException as error:
            await self._abort(batch, error)
            return
        self._pass_turn()

    async def _abort(self, batch: _Batch, exc: BaseException) -> None:
        """The batch cannot be committed: roll it all back; every write of it fails."""
        self.failed_at = time.monotonic()
        chain.forget_head(self._conn)
        try:
            if self._conn.in_transaction:
                await self._conn.rollback()
        except BaseException:
            log.exception("rolling back a failed write batch failed")
        finally:
            self._batch = None
            if batch.writes:
                event(log, "store.batch_failed", logging.ERROR, writes=batch.writes,
                      error=str(exc))
            batch.done.set_result(exc)
            self._pass_turn()

    def _pass_turn(self) -> None:
        """End a turn. Inside an open batch, the next waiting writer joins it unless it is
        full; otherwise it is committed (by a task that holds the turn meanwhile, so no
        one's cancellation leaves it uncommitted) before anyone else goes."""
        batch = self._batch
        if batch is None:
            self._turns.give()
            return
        if self._committing is not None:
            return  # the committing task holds the turn
        full = (batch.begun >= MAX_BATCH
                or time.perf_counter() - batch.started >= MAX_BATCH_SECONDS)
        if full or not self._turns.give(writers_only=True):
            self._committing = asyncio.get_running_loop().create_task(self._commit(batch))

    async def _commit(self, batch: _Batch) -> None:
        failure: BaseException | None = None
        try:
            await self._conn.commit()
        except BaseException as exc:  # disk full, I/O error: nothing of the batch is kept
            failure = exc
            self.failed_at = time.monotonic()
            try:
                if self._conn.in_transaction:
                    await self._conn.rollback()
            except BaseException:
                log.exception("rolling back a failed commit failed")
            event(log, "store.commit_failed", logging.ERROR, writes=batch.writes, error=str(exc))
        else:
            self.failed_at = None
            prometheus.STORE_COMMIT_WRITES.observe(batch.writes)
            if batch.entries:
                self.chain_seq = max(self.chain_seq, batch.newest)
                if self.on_chain_entries is not None:
                    self.on_chain_entries(batch.entries)
        finally:
            chain.forget_head(self._conn)
            self._batch = None
            self._committing = None
            batch.done.set_result(failure)
            self._pass_turn()
