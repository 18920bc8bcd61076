"""What the policies count and look up in the message record (the table records.py
appends to): rates, the thread map's IDs, answers, earlier review requests."""

from __future__ import annotations

from relay.store.db import Connection


async def count(db: Connection, conversation_id: str) -> int:
    """The conversation's records, refused ones and the relay's own included."""
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,))
    return int(rows[0][0])
