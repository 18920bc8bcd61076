"""The sellers' view of the record: messages by filters, in pages, with their delivery and
their read and no-response-needed marks (append-only, chained); the seller messages that
may answer a buyer; a seller's messages for the response-time metrics.

A message row counts only with its chain entry: one slipped in past the relay (a
fabricated reply) is not listed, nor taken for an answer. (Its content is checked by
`relay audit verify`.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from relay.store import chain
from relay.store.db import Connection
from relay.store.messages import ACCEPTED

_CHAINED = ("EXISTS (SELECT 1 FROM chain l WHERE l.tbl = 'messages'"
            " AND l.row_key = json_array(m.id))")


@dataclass(frozen=True)
class Filters:
    seller: str | None = None
    conversation: str | None = None
    unread: bool = False
    sent: bool = False
    received: bool = False
    needs_response: bool = False
    business_buyers: bool = False
    since: str | None = None  # ISO date or time, inclusive
    until: str | None = None  # ISO date or time, exclusive
    message: str | None = None  # one message by its id
    parties_only: bool = False  # without the relay's own system records (bounce reports)


async def mark(db: Connection, message_id: str, kind: str, at: str) -> bool:
    """Mark the message (read, no_response_needed); False: there is no such message."""
    found = await db.execute_fetchall("SELECT 1 FROM messages WHERE id = ?", (message_id,))
    if not found:
        return False
    await chain.insert(db, "message_marks", {"message_id": message_id, "at": at, "kind": kind})
    return True


def _where(f: Filters, seller_conversations: list[str] | None) -> tuple[list[str], list[Any]]:
    """f.seller's conversations are given: the chained ones (relay.marketplace.conversations)."""
    where: list[str] = [_CHAINED]
    params: list[Any] = []
    if f.conversation:
        where.append("m.conversation_id = ?")
        params.append(f.conversation)
    if f.seller:
        where.append("m.conversation_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(seller_conversations or []))
    if f.sent:
        where.append("m.direction = 'seller_to_buyer'")
    if f.received or f.needs_response:
        where.append("m.direction = 'buyer_to_seller'")
    if f.parties_only:
        where.append("m.direction != 'system'")
    if f.unread:
        where.append("NOT EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
                     " AND k.kind = 'read')")
    if f.business_buyers:
        where.append("(SELECT value FROM buyer_events b WHERE b.address_key = c.buyer_key"
                     " AND b.kind = 'business' ORDER BY b.seq DESC LIMIT 1) = 'on'")
    if f.since:
        where.append("m.received_at >= ?")
        params.append(f.since)
    if f.until:
        where.append("m.received_at < ?")
        params.append(f.until)
    if f.message:
        where.append("m.id = ?")
        params.append(f.message)
    return where, params


_COLUMNS = (
    "SELECT m.seq, m.id, m.conversation_id, c.order_id, m.received_at, m.direction,"
    " m.disposition, m.reasons, m.relay_message_id, COALESCE(m.size, length(m.raw)) AS size,"
    " length(m.raw) AS kept,"
    " length(m.delivered) AS delivered_size,"
    " (SELECT kind FROM message_events e WHERE e.message_id = m.id"
    "  ORDER BY e.seq DESC LIMIT 1) AS delivery,"
    " EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
    "  AND k.kind = 'read') AS read,"
    " EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
    "  AND k.kind = 'no_response_needed') AS no_response_needed"
    " FROM messages m JOIN conversations c ON c.id = m.conversation_id")


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"], "conversation_id": r["conversation_id"], "order_id": r["order_id"],
        "received_at": r["received_at"], "direction": r["direction"],
        "disposition": r["disposition"], "reasons": json.loads(r["reasons"]),
        "relay_message_id": r["relay_message_id"], "size": r["size"],
        # A refused message is kept in part (its headers, the start of its body): say so.
        "truncated": r["kept"] < r["size"],
        "delivered_size": r["delivered_size"], "delivery": r["delivery"], "read": bool(r["read"]),
        "no_response_needed": bool(r["no_response_needed"]), "seq": r["seq"],
    }


async def oldest_first(db: Connection, f: Filters,
                       seller_conversations: list[str] | None) -> list[dict[str, Any]]:
    """Every message the filters select (needs_response only as "received"), as dicts with
    their seq."""
    where, params = _where(f, seller_conversations)
    rows = await db.execute_fetchall(
        f"{_COLUMNS} WHERE {' AND '.join(where)} ORDER BY m.seq", params)
    return [_row(r) for r in rows]


async def newest_first(db: Connection, f: Filters, seller_conversations: list[str] | None,
                       limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """At most `limit` of them, newest first, older than the record `before` (a seq)."""
    where, params = _where(f, seller_conversations)
    cursor = ["m.seq < ?"] if before is not None else []
    rows = await db.execute_fetchall(
        f"{_COLUMNS} WHERE {' AND '.join(where + cursor)} ORDER BY m.seq DESC"
        f" LIMIT {int(limit)}", [*params, *([before] if before is not None else [])])
    return [_row(r) for r in rows]


async def seller_heads(db: Connection, conversation_id: str, before: int | None,
                       limit: int) -> list[tuple[int, str, bytes]]:
    """(seq, reasons as recorded (JSON), the first 64 KiB: its headers) of the
    conversation's accepted seller messages, newest first, older than `before`."""
    rows = await db.execute_fetchall(
        "SELECT seq, reasons, substr(raw, 1, 65536) FROM messages m WHERE"
        f" {_CHAINED} AND"
        " conversation_id = ? AND direction = 'seller_to_buyer' AND disposition IN"
        f" {ACCEPTED}{' AND seq < ?' if before else ''} ORDER BY seq DESC LIMIT {int(limit)}",
        (conversation_id, before) if before else (conversation_id,))
    return [(int(seq), str(reasons), bytes(head)) for seq, reasons, head in rows]


async def exchanged(db: Connection, conversation_ids: list[str]) -> list[dict[str, Any]]:
    """The accepted buyer and seller messages of these conversations, oldest first: seq, id,
    conversation_id, received_at, direction, raw (bytes), reasons (JSON), excused (marked
    no-response-needed)."""
    rows = await db.execute_fetchall(
        "SELECT m.seq, m.id, m.conversation_id, m.received_at, m.direction, m.raw, m.reasons,"
        " EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
        "  AND k.kind = 'no_response_needed') AS excused"
        " FROM messages m WHERE m.conversation_id IN (SELECT value FROM json_each(?))"
        f" AND {_CHAINED} AND m.disposition IN"
        f" {ACCEPTED} AND m.direction IN ('buyer_to_seller', 'seller_to_buyer')"
        " ORDER BY m.seq", (json.dumps(conversation_ids),))
    return [{"seq": r["seq"], "id": r["id"], "conversation_id": r["conversation_id"],
             "received_at": r["received_at"], "direction": r["direction"],
             "raw": bytes(r["raw"]), "reasons": r["reasons"], "excused": bool(r["excused"])}
            for r in rows]
