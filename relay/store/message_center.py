"""The sellers' view of the record: messages by filters, in pages, with their delivery and
their read and no-response-needed marks (append-only, chained); the seller messages that
may answer a buyer; a seller's messages for the response-time metrics; the rows added
since a seq, for the tallies kept up to date from them.

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

# A look-up of the row's entry by the chain's unique key, row by row. Not EXISTS: PostgreSQL
# turns that into a join whose plan hangs on the tables' statistics, and without them (a
# young store, before autovacuum's first ANALYZE) it scanned every messages entry of the
# chain once per message: 15-40 ms a seller tally on 400 messages, where this takes 1 ms.
# A scalar subquery stays a per-row index probe, and IS NOT NULL is estimated as true for
# nearly every row, which it is.
_CHAINED = ("(SELECT 1 FROM chain l WHERE l.tbl = 'messages'"
            " AND l.row_key = json_array(m.id)) IS NOT NULL")


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
    among: tuple[str, ...] | None = None  # only these messages (by id)
    parties_only: bool = False  # without the relay's own system records (bounce reports)
    order: str | None = None  # the conversations whose order ID starts with this


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
    if f.among is not None:
        where.append("m.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(f.among)))
    if f.order:
        where.append("c.order_id LIKE ? ESCAPE '\\'")
        params.append(f.order.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                      + "%")
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
    conversation_id, received_at, direction, raw (bytes; a seller message's only: a buyer's
    is b""), reasons (JSON), excused (marked no-response-needed)."""
    rows = await db.execute_fetchall(
        "SELECT m.seq, m.id, m.conversation_id, m.received_at, m.direction,"
        " CASE WHEN m.direction = 'seller_to_buyer' THEN m.raw ELSE x'' END AS raw, m.reasons,"
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


async def questions(db: Connection, conversation_ids: list[str]) -> list[tuple[str, int, str]]:
    """(id, seq, conversation_id) of the conversations' accepted buyer messages that are not
    marked no-response-needed: those that need a response unless an answer follows."""
    rows = await db.execute_fetchall(
        "SELECT m.id, m.seq, m.conversation_id FROM messages m"
        " WHERE m.conversation_id IN (SELECT value FROM json_each(?))"
        f" AND m.direction = 'buyer_to_seller' AND m.disposition IN {ACCEPTED} AND {_CHAINED}"
        " AND NOT EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
        "  AND k.kind = 'no_response_needed')", (json.dumps(conversation_ids),))
    return [(str(i), int(seq), str(conv)) for i, seq, conv in rows]


async def newest_seller_heads(db: Connection,
                              conversation_ids: list[str]) -> list[tuple[str, int, str, bytes]]:
    """(conversation_id, seq, reasons as recorded (JSON), the first 64 KiB: its headers) of
    each conversation's newest accepted seller message, in one query."""
    rows = await db.execute_fetchall(
        "SELECT m.conversation_id, m.seq, m.reasons, substr(m.raw, 1, 65536) FROM messages m"
        " JOIN (SELECT conversation_id, MAX(seq) AS seq FROM messages m"
        "  WHERE conversation_id IN (SELECT value FROM json_each(?))"
        f"  AND direction = 'seller_to_buyer' AND disposition IN {ACCEPTED} AND {_CHAINED}"
        "  GROUP BY conversation_id) newest ON newest.seq = m.seq",
        (json.dumps(conversation_ids),))
    return [(str(conv), int(seq), str(reasons), bytes(head)) for conv, seq, reasons, head in rows]


async def heads(db: Connection, message_ids: list[str]) -> dict[str, tuple[str, bytes, bytes]]:
    """By message id: (MAIL FROM, the first 16 KiB as received, as delivered (b"": not
    delivered)), for the subjects of a page of the message center."""
    rows = await db.execute_fetchall(
        "SELECT id, mail_from, substr(raw, 1, 16384), substr(delivered, 1, 16384)"
        " FROM messages WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(message_ids),))
    return {str(i): (str(sender), bytes(raw), bytes(delivered or b""))
            for i, sender, raw, delivered in rows}


async def newest(db: Connection) -> tuple[int, int]:
    """The newest message's seq and the newest mark's (one snapshot): what a view kept up to
    date reads after, next time."""
    (messages, marks), = await db.execute_fetchall(
        "SELECT (SELECT COALESCE(MAX(seq), 0) FROM messages),"
        " (SELECT COALESCE(MAX(seq), 0) FROM message_marks)")
    return int(messages), int(marks)


async def added(db: Connection, after: int, upto: int) -> list[dict[str, Any]]:
    """The messages recorded after seq `after` up to `upto` (chained), oldest first: seq, id,
    conversation_id, direction, disposition, reasons (JSON), read, excused (marked
    no-response-needed)."""
    rows = await db.execute_fetchall(
        "SELECT m.seq, m.id, m.conversation_id, m.direction, m.disposition, m.reasons,"
        " EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
        "  AND k.kind = 'read') AS read,"
        " EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
        "  AND k.kind = 'no_response_needed') AS excused"
        f" FROM messages m WHERE m.seq > ? AND m.seq <= ? AND {_CHAINED} ORDER BY m.seq",
        (after, upto))
    return [{"seq": int(r["seq"]), "id": r["id"], "conversation_id": r["conversation_id"],
             "direction": r["direction"], "disposition": r["disposition"],
             "reasons": r["reasons"], "read": bool(r["read"]), "excused": bool(r["excused"])}
            for r in rows]


async def heads_at(db: Connection, seqs: list[int]) -> dict[int, bytes]:
    """The first 64 KiB (the headers) of the messages with these seqs."""
    rows = await db.execute_fetchall(
        "SELECT seq, substr(raw, 1, 65536) FROM messages"
        " WHERE seq IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", (json.dumps(seqs),))
    return {int(seq): bytes(head) for seq, head in rows}


async def marks_added(db: Connection, after: int, upto: int) -> list[tuple[str, str]]:
    """(message id, kind) of the marks made after seq `after` up to `upto`."""
    rows = await db.execute_fetchall(
        "SELECT message_id, kind FROM message_marks WHERE seq > ? AND seq <= ? ORDER BY seq",
        (after, upto))
    return [(str(message_id), str(kind)) for message_id, kind in rows]


async def unread(db: Connection, conversation_ids: list[str]) -> list[str]:
    """The ids of the conversations' buyer messages (any disposition) not marked read."""
    rows = await db.execute_fetchall(
        "SELECT m.id FROM messages m WHERE m.conversation_id IN"
        f" (SELECT value FROM json_each(?)) AND m.direction = 'buyer_to_seller' AND {_CHAINED}"
        " AND NOT EXISTS (SELECT 1 FROM message_marks k WHERE k.message_id = m.id"
        "  AND k.kind = 'read')", (json.dumps(conversation_ids),))
    return [str(r[0]) for r in rows]
