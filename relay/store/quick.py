"""Statements that run on the event loop's own thread rather than aiosqlite's.

aiosqlite runs every statement on a thread of its own: the call is queued, the thread woken,
the result handed back through the event loop's self-pipe and a turn of the loop. For a key
lookup or a one-row insert the hop costs several times the statement (measured: ~26 us of
CPU per statement through the thread, ~6 us in place), and a message asks some 36 of them.

A statement marked `Quick` (by the repository that writes it: a lookup by key, a one-row
insert) runs in place when
- nothing is running or queued on aiosqlite's thread, so the connection's statements still
  run one at a time and in the order they were issued;
- its parameters are small (QUICK_BYTES), so a big message's bytes are copied on the thread;
- it can neither wait for a lock nor commit: it runs inside the store's write transaction
  (which holds the write lock since BEGIN IMMEDIATE, and commits on the thread), or it is a
  SELECT (a reader never waits for a writer in WAL mode).
Everything else (BEGIN, COMMIT and its fsync, ROLLBACK, scans, unmarked statements) goes to
the thread as before. On PostgreSQL the mark means nothing: a Quick is a str.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiosqlite

# Above this many bytes of parameters a statement goes to the thread even when marked: a
# record of a big message is copied into the database there, not on the event loop.
QUICK_BYTES = 65_536
# A count that reads up to this many index entries (a rate limit's, at its configured
# limit) is quick; a higher limit sends it to the thread.
QUICK_ROWS = 1_000


class Quick(str):
    """SQL that reads or writes a few rows by an index: may run on the event loop's thread
    (SQLite)."""

    __slots__ = ()


def _small(parameters: Iterable[Any]) -> bool:
    total = 0
    for value in parameters:
        if isinstance(value, str | bytes | bytearray | memoryview):
            total += len(value)
            if total > QUICK_BYTES:
                return False
    return True


class QuickConnection(aiosqlite.Connection):
    """aiosqlite's connection, running Quick statements in place (see the module's doc).
    Relies on aiosqlite's _execute, _execute_fetchall, _conn and _connection (checked in
    tests/test_dependency_internals.py)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # Calls sent to the thread and calls it has finished; each counter has one writer
        # (this thread, that thread), so equal means the thread is idle. A call whose
        # awaiting task was cancelled still counts until the thread has run it.
        self._sent = 0
        self._finished = 0

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or self._connection is None:
            return await super()._execute(fn, *args, **kwargs)  # raises: closed

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._finished += 1

        self._sent += 1
        return await super()._execute(counted)

    def _in_place(self, sql: str, parameters: Iterable[Any]) -> bool:
        conn = self._connection
        return (isinstance(sql, Quick) and conn is not None and self._running
                and self._sent == self._finished
                and (conn.in_transaction or sql.lstrip()[:6].upper() == "SELECT")
                and _small(parameters))

    async def execute_fetchall(  # type: ignore[override]
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[sqlite3.Row]:
        params = () if parameters is None else parameters
        if self._in_place(sql, params):
            return self._conn.execute(sql, params).fetchall()
        return await self._execute(self._execute_fetchall, sql, params)  # type: ignore[no-any-return]

    async def execute(  # type: ignore[override]
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> aiosqlite.Cursor:
        params = () if parameters is None else parameters
        if self._in_place(sql, params):
            return aiosqlite.Cursor(self, self._conn.execute(sql, params))
        return aiosqlite.Cursor(self, await self._execute(self._conn.execute, sql, params))


def connect(path: Path, **kwargs: Any) -> QuickConnection:
    """Like aiosqlite.connect; the sqlite3 connection may be used from the loop's thread
    too (never at the same time as from aiosqlite's: see QuickConnection)."""

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(str(path), check_same_thread=False, **kwargs)

    return QuickConnection(connector)
