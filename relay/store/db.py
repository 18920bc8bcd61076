"""The SQLite store: one connection per process, WAL, synchronous=FULL.

Every access goes through one asyncio lock, so a reader never sees another coroutine's
uncommitted transaction on the shared connection, and a commit is durable (fsynced)
before `write()` returns.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from relay.ops import prometheus
from relay.store import chain

FAILURE_HOLD = 30.0

# What Store.read() and Store.write() yield: the repository functions (relay.store.*) take
# it as `db`; outside relay.store it is opaque, only handed on.
Connection = aiosqlite.Connection
# What a failed store access raises (locked past busy_timeout, read-only, disk full).
StoreError = sqlite3.Error


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Store:
    def __init__(self, conn: aiosqlite.Connection, secret: bytes | None = None) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.failed_at: float | None = None  # when a write last failed in the store
        self.secret = secret  # the chain key (relay.store.chain); None: the chain is unused
        # Told of every chain entry this process adds (the checkpointer counts them).
        self.on_chain_entry: Callable[[], None] | None = None
        if secret is not None:
            chain.bind(conn, secret, self._chain_entry)

    def _chain_entry(self) -> None:
        if self.on_chain_entry is not None:
            self.on_chain_entry()

    @classmethod
    async def open(cls, path: Path, busy_timeout: float = 5.0,
                   secret: bytes | None = None) -> Store:
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        return cls(conn, secret)

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            yield self._conn

    async def writable(self) -> bool:
        """Whether a write transaction can start and none failed in the last FAILURE_HOLD
        seconds (for /readyz): not locked, not read-only, not out of space at a commit. The
        hold ends by itself, so a relay taken out of rotation gets traffic to try again."""
        if self.failed_at is not None and time.monotonic() - self.failed_at < FAILURE_HOLD:
            return False
        async with self._lock:
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
        """One transaction; committed (and fsynced) on exit, rolled back on error."""
        async with self._lock:
            start = time.perf_counter()
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error:  # locked by another process past busy_timeout, read-only
                self.failed_at = time.monotonic()
                raise
            try:
                yield self._conn
                await self._conn.commit()
                prometheus.STORE_WRITE_SECONDS.observe(time.perf_counter() - start)
                self.failed_at = None
            except BaseException as exc:
                if isinstance(exc, sqlite3.Error):
                    self.failed_at = time.monotonic()
                # Also when COMMIT itself fails (disk full, I/O error): never leave the
                # shared connection inside a transaction.
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise
