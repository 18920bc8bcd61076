"""Message rates per sender and per conversation, counted from the record (so they hold
across restarts and for every process that shares the store).

Only accepted messages count there: a refused one is anybody's (a stranger can name any
sender in MAIL FROM and write to any alias), so counting it would let strangers use up the
real buyer's and seller's hour. Refusals count per client instead: the network they came
from (relay.networks), or the submission account that sent them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite

from relay.config import LimitsSettings
from relay.conversations import address_key
from relay.networks import client_network
from relay.store.db import Store

# Not a client: what the relay's own commands (the CLI, the API) send. The API has limits
# of its own (tokens, the send lock), and a refusal there is nobody's attempt at the port.
LOCAL_PEER = "local"
_ACCEPTED = "disposition IN ('delivered', 'delivered_redacted')"


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
            db, "conversation_id = ? AND received_at >= ? AND direction != 'system'"
            f" AND {_ACCEPTED}", (conversation_id, since), limits.conversation_per_hour)
        per_sender = await _count(
            db, f"lower(mail_from) = lower(?) AND received_at >= ? AND {_ACCEPTED}",
            (sender, since),
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


def refusal_client(peer: str, login: str) -> str | None:
    """Whom a refused message counts against: the submission account that sent it (it has
    proved who it is, so a stranger on its network cannot use up its count), else the
    client network; None for the relay's own commands."""
    if peer == LOCAL_PEER:
        return None
    return f"account {address_key(login)}" if login else client_network(peer)


async def refusals_exceeded(store: Store, limits: LimitsSettings, client: str) -> str | None:
    """Why the client's next message must wait, or None: it had too many refused messages,
    or too many refused bytes, in the last hour."""
    async with store.read() as db:
        # Counted up to the limit only, like _count; below it the byte sum is complete.
        (count, size), = await db.execute_fetchall(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM (SELECT bytes FROM refusals"
            " WHERE client = ? AND at >= ? LIMIT ?)",
            (client, _hour_ago(), limits.refused_per_network_per_hour))
    whose = "your account" if client.startswith("account ") else "your network"
    if count >= limits.refused_per_network_per_hour:
        return f"{limits.refused_per_network_per_hour} refused messages an hour from {whose}"
    if size >= limits.refused_bytes_per_network_per_hour:
        return (f"{limits.refused_bytes_per_network_per_hour} bytes of refused mail an hour"
                f" from {whose}")
    return None


async def count_refusal(db: aiosqlite.Connection, client: str, at: str, size: int,
                        message_id: str | None) -> None:
    """In the transaction that records the refused message: counted if and only if it is
    on the record."""
    await db.execute("INSERT INTO refusals (at, client, bytes, message_id) VALUES (?, ?, ?, ?)",
                     (at, client, size, message_id))
