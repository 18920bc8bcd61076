"""What differs between SQLite and PostgreSQL, in one place: the repositories write their SQL
once, in SQLite's dialect, and a PostgreSQL connection (relay.store.pg) translates it here.

The translation covers what the repositories use: `?` placeholders, `json_array(x)` and
`json_each(?)` (its values are text: cast them where numbers are meant; `IN (SELECT value
FROM json_each(?))` becomes `= ANY(ARRAY(...))`), `IS NOT` between two
values, `IN ()`, `x''` blob literals, the unary `+` that keeps an index out of a plan; a
statement that needs more is
written per dialect where it is (`is_postgresql(db)`). PostgreSQL's errors come out as the
sqlite3 classes the relay already handles (a failed write is 451 4.3.0 either way, a
taken alias an IntegrityError), so callers need not know which database they talk to.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

# pg_advisory_xact_lock key for appends to the chain (and reads that decide what comes
# next in it: a conversation's last hash, a party's position), held to the transaction's
# end: "chain" in ASCII.
CHAIN_LOCK = 0x636861696E


class PostgresError(sqlite3.OperationalError):
    """A PostgreSQL failure: the server away, a lock or statement timeout, a refused
    statement."""


class PostgresIntegrityError(sqlite3.IntegrityError):
    """A constraint or an append-only trigger refused the statement."""


# What a lost or refused connection raises besides PostgresError.
CONNECTION_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def as_store_error(exc: BaseException) -> sqlite3.Error:
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return PostgresIntegrityError(str(exc))
    return PostgresError(str(exc) or type(exc).__name__)


_REWRITES = (
    # `x IN (SELECT value FROM json_each(?))`, a list of keys (a seller's conversations): a
    # semi join to the function's rows, whose plan hangs on the tables' statistics; without
    # them (a young store, before autovacuum's first ANALYZE) PostgreSQL ran the function
    # again for each message (web_bench: 1.3 s for 2,000 conversations). As an array made
    # once, it is an index condition or a filter: no join to choose.
    (re.compile(r"(?<!\bNOT )\bIN \(SELECT value FROM json_each\(\?\)\)"),
     "= ANY(ARRAY(SELECT json_array_elements_text(?::json)))"),
    (re.compile(r"json_each\(\?\)"), "json_array_elements_text(?::json)"),
    (re.compile(r"json_array\(([^()]*)\)"), r"(json_build_array(\1)::text)"),
    (re.compile(r"\bIS NOT (?!NULL\b)"), "IS DISTINCT FROM "),
    (re.compile(r"\bIN \(\)"), "IN (SELECT NULL WHERE FALSE)"),
    # A blob literal: x'00ff' is '\x00ff'::bytea.
    (re.compile(r"\bx'([0-9A-Fa-f]*)'"), r"'\\x\1'::bytea"),
    # SQLite's unary plus that keeps an index out of a plan ("+tbl = ?"): just the column.
    (re.compile(r"(?<=\s)\+(?=[A-Za-z_])"), ""),
)


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """A statement in SQLite's dialect, as PostgreSQL takes it."""
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)
    out: list[str] = []
    number = 0
    quoted = False
    for char in sql:
        if char == "'":
            quoted = not quoted
        if char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class Result:
    rowcount: int


class Connection:
    """A PostgreSQL connection with the part of aiosqlite's interface the repositories use
    (execute_fetchall, execute, in_transaction), for the length of one read() or write()."""

    def __init__(self, raw: asyncpg.Connection) -> None:
        self.raw = raw
        self.in_transaction = False
        self.chain_locked = False  # this transaction holds CHAIN_LOCK

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(await self.raw.fetch(translate(sql), *params))
        except CONNECTION_ERRORS as exc:
            raise as_store_error(exc) from exc

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        try:
            status = await self.raw.execute(translate(sql), *params)
        except CONNECTION_ERRORS as exc:
            raise as_store_error(exc) from exc
        last = status.rsplit(" ", 1)[-1]
        return Result(int(last) if last.isdigit() else -1)


def is_postgresql(db: Any) -> bool:
    return isinstance(db, Connection)


async def lock_chain(db: Any) -> None:
    """Before reading what the next chain entry (or a conversation's next record) follows:
    on PostgreSQL, wait for other transactions appending to it, on any relay, to end. (On
    SQLite the write transaction holds the database's one write lock already.)"""
    if isinstance(db, Connection) and db.in_transaction and not db.chain_locked:
        await db.execute("SELECT pg_advisory_xact_lock(?)", (CHAIN_LOCK,))
        db.chain_locked = True


@contextlib.asynccontextmanager
async def savepoint(db: Any) -> AsyncIterator[None]:
    """A statement that may fail and be caught: on PostgreSQL an error ends the whole
    transaction, unless it is inside a savepoint (SQLite undoes only the statement)."""
    if not isinstance(db, Connection):
        yield
        return
    await lock_chain(db)  # before the savepoint: rolling back to it would release the lock
    try:
        async with db.raw.transaction():
            yield
    except CONNECTION_ERRORS as exc:  # raised by the savepoint's own statements
        raise as_store_error(exc) from exc
