"""The PostgreSQL store (store.url): the SQLite store's read() and write(), on a pool.

Each write is a transaction of its own on a connection from the pool, committed before
`write()` returns; there is no group commit (the server commits many transactions at once
itself). Several writes, of this relay or of others on the same database, run at once;
what must stay linear, the chain and each conversation's record chain, is appended to under
an advisory lock held to the transaction's end (relay.store.dialect.lock_chain). A read is
a connection from the pool in autocommit. The SQL is the repositories' own, translated by
relay.store.dialect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from relay.config import redact_url
from relay.errors import StoreUnavailable
from relay.ops import prometheus
from relay.store import chain
from relay.store.db import CommitFailed, Store
from relay.store.dialect import CONNECTION_ERRORS, Connection, PostgresError, as_store_error


def _timed_out(exc: BaseException | None) -> bool:
    """Whether a statement ran out of store.command_timeout (asyncpg's TimeoutError, maybe
    as the cause or context of the store error it became)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _no_entries(seq: int) -> None:
    """A read's connection: it adds no chain entries."""


class PgStore(Store):
    """Shares Store's interface, not its state: no single connection, no turns, no batch."""

    def __init__(self, pool: asyncpg.Pool, url: str, secret: bytes | None,
                 timeout: float) -> None:
        self._pool = pool
        self.url = url
        self.secret = secret
        self.failed_at: float | None = None
        self.on_chain_entries = None
        self.chain_seq = 0
        self._timeout = timeout  # for a connection from the pool, as busy_timeout on SQLite
        self._waiting = 0

    @classmethod
    async def connect(cls, url: str, pool_size: int, timeout: float = 5.0,  # type: ignore[override]
                      secret: bytes | None = None,
                      command_timeout: float | None = None) -> PgStore:
        """The store at `url`; StoreUnavailable (one line) when no server answers there or
        it refuses the login. command_timeout: how long a statement may wait for the
        server's answer (store.command_timeout), then it fails (451 for a message); None:
        as long as it takes."""
        try:
            # lock_timeout: a write waits no longer than busy_timeout for a lock (the chain's,
            # a row's), as on SQLite; then 451 and the client tries again. command_timeout is
            # the client's own clock: it holds when the server answers nothing at all (hung,
            # or cut off without a reset), where no server-side timeout can.
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=pool_size, timeout=max(timeout, 1.0),
                statement_cache_size=256, command_timeout=command_timeout,
                server_settings={"application_name": "relay",
                                 "lock_timeout": f"{max(1, int(timeout * 1000))}ms"})
        except (*CONNECTION_ERRORS, ValueError) as exc:
            raise StoreUnavailable(
                f"store.url: cannot connect to {redact_url(url)}: {exc or type(exc).__name__}"
            ) from None
        return cls(pool, url, secret, timeout)

    @property
    def writers_waiting(self) -> int:
        return self._waiting

    async def close(self) -> None:
        with contextlib.suppress(*CONNECTION_ERRORS):
            await asyncio.wait_for(self._pool.close(), 10)
        self._pool.terminate()

    @asynccontextmanager
    async def _connection(self, on_entry: Callable[[int], None] = _no_entries,
                          ) -> AsyncIterator[Connection]:
        """A connection from the pool, bound to the chain key; on_entry is told of each chain
        entry added on it (write() counts them; a read adds none)."""
        try:
            raw = await self._pool.acquire(timeout=self._timeout)
        except TimeoutError as exc:
            # Every pooled connection busy for busy_timeout: 451 for this write, as SQLite's
            # "database is locked", but not the server-away hold that would refuse the next
            # FAILURE_HOLD seconds of mail too (a server that is away refuses connections).
            raise as_store_error(exc) from None
        except CONNECTION_ERRORS as exc:
            self.failed_at = time.monotonic()
            raise as_store_error(exc) from None
        try:
            conn = Connection(raw)
            if self.secret is not None:
                chain.bind(conn, self.secret, on_entry)
            yield conn
        except Exception as exc:
            if _timed_out(exc):
                # store.command_timeout: the server did not answer. Close the connection
                # (which hands it back to the pool) rather than wait as long again for the
                # cancelled statement's end.
                raw.terminate()
            elif raw.is_closed():  # the server went away (or restarted): every pooled
                # connection is as dead as this one; reconnect them, not fail one write each
                await self._pool.expire_connections()
            raise
        finally:
            await self._pool.release(raw)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Any]:
        async with self._connection() as conn:
            yield conn

    async def _can_write(self) -> bool:
        """The server answers as a primary (not in recovery, so writable); Store.writable()
        adds the hold after a failed write."""
        try:
            async with self.read() as db:
                rows = await db.execute_fetchall("SELECT pg_is_in_recovery()")
        except Exception:
            return False
        return not rows[0][0]

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Any]:
        """One transaction: returns once it is committed; on error in the block, it is
        rolled back and the error raised. CommitFailed: the COMMIT failed (the server went
        away: whether it was committed is not known, so the sender is told to retry)."""
        start = time.perf_counter()
        entries = newest = 0

        def entry(seq: int) -> None:
            nonlocal entries, newest
            entries += 1
            newest = seq

        async with contextlib.AsyncExitStack() as stack:
            self._waiting += 1
            try:
                conn = await stack.enter_async_context(self._connection(entry))
            finally:
                self._waiting -= 1
            tx = conn.raw.transaction()
            try:
                await tx.start()
            except CONNECTION_ERRORS as exc:
                self.failed_at = time.monotonic()
                raise as_store_error(exc) from None
            conn.in_transaction = True
            try:
                yield conn
            except BaseException as exc:
                if isinstance(exc, PostgresError):  # the server, not the block's own error
                    self.failed_at = time.monotonic()
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await tx.rollback()
                raise
            finally:
                conn.in_transaction = False
                chain.forget_head(conn)
            try:
                await tx.commit()
            except CONNECTION_ERRORS as exc:
                self.failed_at = time.monotonic()
                with contextlib.suppress(*CONNECTION_ERRORS):
                    await tx.rollback()
                raise CommitFailed(f"the store could not commit: {exc}") from None
        self.failed_at = None
        prometheus.STORE_COMMIT_WRITES.observe(1)
        prometheus.STORE_WRITE_SECONDS.observe(time.perf_counter() - start)
        if entries:
            # Other relays' entries are in between: the seq says how far the chain grew.
            self.chain_seq = max(self.chain_seq, newest)
            if self.on_chain_entries is not None:
                self.on_chain_entries(entries)
