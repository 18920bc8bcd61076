"""What the policies count and look up in the message record (the table records.py
appends to): rates, the thread map's IDs, answers, earlier review requests."""

from __future__ import annotations

from relay.store.db import Connection
from relay.store.quick import QUICK_ROWS, Quick


async def count(db: Connection, conversation_id: str) -> int:
    """The conversation's records, refused ones and the relay's own included."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,))
    return int(rows[0][0])

# The dispositions of a message that went on (delivered, or delivered redacted).
ACCEPTED = "('delivered', 'delivered_redacted')"


async def review_request_sent(db: Connection, conversation_id: str) -> bool:
    """Whether the marketplace's review request went out in this conversation."""
    rows = await db.execute_fetchall(
        f"SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND disposition IN {ACCEPTED}"
        " AND reasons LIKE '%\"review_request.sent\"%'", (conversation_id,))
    return bool(rows[0][0])


async def _count_upto(db: Connection, where: str, params: tuple[object, ...], limit: int) -> int:
    """Messages matching `where`, counted up to `limit` only: past it the answer is the same,
    and a flood must not make every further RCPT count all of it."""
    sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE {where} LIMIT ?) AS found"
    (found,), = await db.execute_fetchall(Quick(sql) if limit <= QUICK_ROWS else sql,
                                          (*params, limit))
    return int(found)


async def accepted_in_conversation(db: Connection, conversation_id: str, since: str,
                                   limit: int) -> int:
    """The parties' accepted messages in the conversation since `since` (up to `limit`)."""
    return await _count_upto(
        db, "conversation_id = ? AND received_at >= ? AND direction != 'system'"
        f" AND disposition IN {ACCEPTED}", (conversation_id, since), limit)


async def accepted_from_sender(db: Connection, sender: str, since: str, limit: int) -> int:
    """Accepted messages with this MAIL FROM (any case) since `since` (up to `limit`)."""
    return await _count_upto(
        db, f"lower(mail_from) = lower(?) AND received_at >= ? AND disposition IN {ACCEPTED}",
        (sender, since), limit)


async def reports(db: Connection, conversation_id: str, since: str, limit: int) -> int:
    """Reports received at bounce addresses about the conversation's messages since `since`
    (its system records without a recipient; up to `limit`)."""
    return await _count_upto(
        db, "conversation_id = ? AND direction = 'system' AND recipient IS NULL"
        " AND received_at >= ?", (conversation_id, since), limit)


async def conversation_of(db: Connection, message_id: str) -> str | None:
    rows = await db.execute_fetchall(
        "SELECT conversation_id FROM messages WHERE id = ?", (message_id,))
    return str(rows[0][0]) if rows else None


async def referenced(db: Connection, conversation_id: str,
                     ids: list[str]) -> list[tuple[str, str | None, str]]:
    """(direction, original ID, relay ID) of the conversation's relayed messages that ids
    name by either ID, oldest first."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.execute_fetchall(
        "SELECT direction, original_message_id, relay_message_id FROM messages"
        " WHERE conversation_id = ? AND relay_message_id IS NOT NULL"
        f" AND (relay_message_id IN ({marks}) OR original_message_id IN ({marks}))"
        " ORDER BY seq",
        (conversation_id, *ids, *ids),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def last_buyer_message(db: Connection, conversation_id: str) -> int | None:
    """The seq of the conversation's newest accepted buyer message."""
    rows = await db.execute_fetchall(
        "SELECT MAX(seq) FROM messages WHERE conversation_id = ? AND direction ="
        f" 'buyer_to_seller' AND disposition IN {ACCEPTED}", (conversation_id,))
    return None if rows[0][0] is None else int(rows[0][0])


async def seller_messages_after(db: Connection, conversation_id: str,
                                seq: int) -> list[tuple[str, bytes]]:
    """(reasons as recorded (JSON), raw) of the conversation's accepted seller messages
    after `seq`."""
    rows = await db.execute_fetchall(
        "SELECT reasons, raw FROM messages WHERE conversation_id = ? AND seq > ?"
        f" AND direction = 'seller_to_buyer' AND disposition IN {ACCEPTED}",
        (conversation_id, seq))
    return [(str(reasons), bytes(raw)) for reasons, raw in rows]


async def critical_senders(db: Connection, buyer_key: str, since: str) -> list[str]:
    """The MAIL FROM of every accepted seller message marked critical ([Important]) to the
    buyer since `since`, in any of its conversations."""
    rows = await db.execute_fetchall(
        "SELECT m.mail_from FROM messages m JOIN conversations c"
        " ON c.id = m.conversation_id WHERE c.buyer_key = ?"
        " AND m.direction = 'seller_to_buyer' AND m.received_at >= ?"
        f" AND m.disposition IN {ACCEPTED} AND m.reasons LIKE '%\"critical\"%'",
        (buyer_key, since))
    return [str(sender) for (sender,) in rows]
