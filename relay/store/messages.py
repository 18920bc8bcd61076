"""What the policies count and look up in the message record (the table records.py
appends to): rates, the thread map's IDs, answers, earlier review requests."""

from __future__ import annotations

from relay.store.db import Connection


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
