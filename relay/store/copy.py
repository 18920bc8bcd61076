"""`relay store copy --to postgresql://…`: move a SQLite store to PostgreSQL.

The SQLite store is read in one read transaction (one snapshot, while a relay may keep
writing to it: what comes after is not copied, so stop the relay for the move), and written
to an empty, migrated PostgreSQL database in one transaction: a copy that fails leaves
nothing behind. Rows keep their values, seqs and order, so the chain, every conversation's
record chain and the checkpoints already written verify against the copy as they did
against the original, which is checked before the command says it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg

from relay.errors import UsageError
from relay.store.audit import Findings, audit
from relay.store.db import Connection, Store
from relay.store.migrate import migrate
from relay.store.pg import PgStore

# Every table, parents before children (foreign keys), with the migrations' bookkeeping
# left out (each side has its own).
TABLES = ("conversations", "aliases", "parties", "conversation_closings", "messages",
          "authentication_results", "message_events", "message_marks", "conversation_events",
          "buyer_events", "seller_events", "seller_credentials", "outbox", "refusals",
          "login_failures", "web_sessions", "chain", "chain_adoption")
# Tables whose seq PostgreSQL numbers (an identity): set past the copied ones.
SEQUENCED = ("messages", "message_events", "message_marks", "conversation_events",
             "buyer_events", "seller_events", "seller_credentials", "refusals",
             "login_failures")
PAGE = 500


@dataclass(frozen=True)
class Copied:
    rows: dict[str, int]
    findings: Findings


async def copy(source: Store, target: PgStore, log_path: Path) -> Copied:
    await migrate(target)
    counts: dict[str, int] = {}
    async with target.read() as pg:
        conn = pg.raw
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM chain)"
                               " OR EXISTS (SELECT 1 FROM conversations)"):
            raise UsageError(f"{target.url.split('@')[-1]} holds a store already; copy to an"
                             " empty database")
        async with source.read() as db:
            await db.execute("BEGIN")  # one snapshot of the whole store
            try:
                async with conn.transaction():
                    await conn.execute("DELETE FROM chain_adoption")  # the source's, below
                    for table in TABLES:
                        counts[table] = await _copy_table(db, conn, table)
                    for table in SEQUENCED:
                        await conn.execute(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'),"
                            f" COALESCE((SELECT MAX(seq) FROM {table}), 0) + 1, false)")
            finally:
                await db.rollback()
    findings = await audit(target, log_path)
    return Copied(counts, findings)


async def _copy_table(db: Connection, conn: asyncpg.Connection, table: str) -> int:
    """The table's rows in rowid order (PostgreSQL numbers its own rowid in that order)."""
    columns: list[str] | None = None
    last = -(2**63)
    count = 0
    while True:
        rows = await db.execute_fetchall(
            f"SELECT rowid AS _rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid"
            f" LIMIT {PAGE}", (last,))
        if not rows:
            return count
        if columns is None:
            columns = [c for c in rows[0].keys() if c != "_rowid"]  # noqa: SIM118 (a Row iterates over its values)
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [tuple(row[c] for c in columns) for row in rows])
        count += len(rows)
        last = rows[-1]["_rowid"]


def summary(copied: Copied) -> str:
    moved = sum(n for table, n in copied.rows.items() if table != "chain_adoption")
    return (f"{moved} rows ({copied.rows['messages']} records, {copied.rows['chain']} chain"
            f" entries)")

