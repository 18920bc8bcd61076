"""The delivery outbox (a mutable work queue) and the append-only delivery events."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import aiosqlite

from relay.store import chain
from relay.store.db import Store, utcnow
from relay.store.quick import QUICK_ROWS, Quick


@dataclass(frozen=True)
class Job:
    message_id: str
    mail_from: str
    rcpt: str
    smtputf8: bool
    attempts: int
    next_attempt_at: float
    expires_at: float
    bounce: bool


async def add_event(db: aiosqlite.Connection, message_id: str, kind: str, detail: str = "") -> None:
    await chain.insert(db, "message_events",
                       {"message_id": message_id, "at": utcnow(), "kind": kind, "detail": detail})


async def has_event(db: aiosqlite.Connection, message_id: str, kind: str) -> bool:
    rows = await db.execute_fetchall(
        Quick("SELECT 1 FROM message_events WHERE message_id = ? AND kind = ? LIMIT 1"),
        (message_id, kind))
    return bool(rows)


@dataclass(frozen=True)
class DeliveryEvent:
    message_id: str
    at: str
    kind: str
    detail: str


async def conversation_events(db: aiosqlite.Connection,
                              conversation_id: str) -> list[DeliveryEvent]:
    """The delivery events of every message of the conversation, in the order they came."""
    rows = await db.execute_fetchall(
        "SELECT e.message_id, e.at, e.kind, e.detail FROM message_events e"
        " JOIN messages m ON m.id = e.message_id WHERE m.conversation_id = ? ORDER BY e.seq",
        (conversation_id,))
    return [DeliveryEvent(str(r[0]), str(r[1]), str(r[2]), str(r[3] or "")) for r in rows]


async def enqueue(db: aiosqlite.Connection, job: Job) -> None:
    await db.execute(Quick(
        "INSERT INTO outbox (message_id, mail_from, rcpt, smtputf8, attempts, next_attempt_at,"
        " expires_at, bounce) VALUES (?,?,?,?,?,?,?,?)"),
        (job.message_id, job.mail_from, job.rcpt, int(job.smtputf8), job.attempts,
         job.next_attempt_at, job.expires_at, int(job.bounce)),
    )
    await add_event(db, job.message_id, "queued")


def _job(row: aiosqlite.Row) -> Job:
    return Job(
        message_id=row["message_id"], mail_from=row["mail_from"], rcpt=row["rcpt"],
        smtputf8=bool(row["smtputf8"]), attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"], expires_at=row["expires_at"],
        bounce=bool(row["bounce"]),
    )


async def due(store: Store, now: float, limit: int, busy: Collection[str],
              lease: float = 900.0, claimant: str = "") -> list[Job]:
    """Jobs whose time has come, oldest first, skipping those already in flight. On
    PostgreSQL they are claimed: their next attempt moves `lease` seconds on, in the same
    statement, and rows another relay is claiming are skipped (SKIP LOCKED), so each job is
    taken by one relay; a relay that dies leaves its jobs to the others once the lease ends.
    `claimant`: this relay's mark on its claims; the jobs it holds and is not working on (not
    in `busy`) are taken again too, before their lease ends: one whose attempt failed inside
    the relay and whose claim could not be given back (the database was away), or a claim
    whose answer the database never sent (it restarted mid-statement). (SQLite: one relay
    per store, nothing to claim.)"""
    if getattr(store, "url", None):  # relay.store.pg.PgStore
        async with store.write() as db:
            rows = await db.execute_fetchall(
                "UPDATE outbox SET next_attempt_at = ?, claimed_by = ? WHERE message_id IN ("
                " SELECT message_id FROM outbox WHERE (next_attempt_at <= ? OR claimed_by = ?)"
                " AND NOT (message_id = ANY(?::text[]))"
                " ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *",
                (now + lease, claimant or None, now, claimant or None, list(busy), limit))
        return list(map(_job, rows))
    # The due index's first rows (a few: the free delivery slots and those in flight), so
    # the poll after each delivery runs in place, not on aiosqlite's thread (relay.store.quick).
    wanted = limit + len(busy)
    sql = "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"
    async with store.read() as db:
        rows = await db.execute_fetchall(Quick(sql) if wanted <= QUICK_ROWS else sql,
                                         (now, wanted))
    return [job for job in map(_job, rows) if job.message_id not in busy][:limit]


async def release(store: Store, message_id: str, at: float) -> None:
    """PostgreSQL: this relay's claim on the job ends at `at` (before its lease), when it
    will try again itself. SQLite: nothing to do."""
    if getattr(store, "url", None):
        async with store.write() as db:
            await db.execute("UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL"
                             " WHERE message_id = ?", (at, message_id))


async def next_due_at(store: Store, busy: Collection[str] = ()) -> float | None:
    """When the next job falls due, not counting those in flight or held back."""
    marks = ",".join("?" * len(busy))
    # SQLite walks the due index up to the first job not in `busy` (its MIN optimization):
    # at most len(busy) + 1 rows.
    sql = f"SELECT MIN(next_attempt_at) FROM outbox WHERE message_id NOT IN ({marks})"
    async with store.read() as db:
        rows = await db.execute_fetchall(Quick(sql) if len(busy) < QUICK_ROWS else sql,
                                         tuple(busy))
    return rows[0][0]


async def reschedule(db: aiosqlite.Connection, message_id: str, attempts: int, at: float) -> None:
    await db.execute(
        Quick("UPDATE outbox SET attempts = ?, next_attempt_at = ?, claimed_by = NULL"
              " WHERE message_id = ?"),
        (attempts, at, message_id),
    )


async def remove(db: aiosqlite.Connection, message_id: str) -> None:
    await db.execute(Quick("DELETE FROM outbox WHERE message_id = ?"), (message_id,))



async def depth(db: aiosqlite.Connection) -> tuple[int, str | None]:
    """How many jobs wait, and when the oldest one's message was received (None: none)."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*), MIN(m.received_at) FROM outbox o JOIN messages m"
        " ON m.id = o.message_id")
    return int(rows[0][0]), rows[0][1]
