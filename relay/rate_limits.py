"""Message rates per sender and per conversation, counted from the record (so they hold
across restarts and for every process that shares the store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite

from relay.config import LimitsSettings
from relay.store.db import Store


def _hour_ago() -> str:
    """The start of the rolling hour, in the record's timestamp form."""
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="microseconds")


async def _count(db: aiosqlite.Connection, where: str, params: tuple[object, ...],
                 limit: int) -> int:
    """Recent messages matching `where`, counted up to `limit` only: past it the answer is
    the same, and a flood must not make every further RCPT count all of it."""
    (count,), = await db.execute_fetchall(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE {where} LIMIT ?)",
        (*params, limit))
    return int(count)


async def exceeded(store: Store, limits: LimitsSettings, conversation_id: str,
                   sender: str) -> str | None:
    """Why a new message must wait, or None."""
    since = _hour_ago()
    async with store.read() as db:
        per_conversation = await _count(
            db, "conversation_id = ? AND received_at >= ? AND direction != 'system'",
            (conversation_id, since), limits.conversation_per_hour)
        per_sender = await _count(
            db, "lower(mail_from) = lower(?) AND received_at >= ?", (sender, since),
            limits.sender_per_hour) if sender else 0
    if per_conversation >= limits.conversation_per_hour:
        return f"{limits.conversation_per_hour} messages an hour in one conversation"
    if per_sender >= limits.sender_per_hour:
        return f"{limits.sender_per_hour} messages an hour from one sender"
    return None


async def reports_exceeded(store: Store, limits: LimitsSettings, message_id: str) -> str | None:
    """Mail to a bounce address, counted per conversation of the message it names (reports
    are recorded as that conversation's system messages without a recipient)."""
    since = _hour_ago()
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT conversation_id FROM messages WHERE id = ?", (message_id,))
        if not rows:
            return None  # DATA answers for a message that is not there
        reports = await _count(
            db, "conversation_id = ? AND direction = 'system' AND recipient IS NULL"
            " AND received_at >= ?", (rows[0][0], since), limits.conversation_per_hour)
    if reports >= limits.conversation_per_hour:
        return f"{limits.conversation_per_hour} reports an hour about one conversation"
    return None
