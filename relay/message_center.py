"""A seller's message center over the record: filters, read and no-response-needed marks.

"Sent" and "received" are from the seller's side: sent is seller_to_buyer, received is
buyer_to_seller. A received message needs a response until a seller message follows it in
its conversation (an auto-reply does not count) or it is marked no-response-needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from relay.conversations import MESSAGE_CHAINED, seller_conversations
from relay.errors import NotFound
from relay.store import chain
from relay.store.db import Store, utcnow

ACCEPTED = "('delivered', 'delivered_redacted')"
_HEADERS = BytesParser(policy=policy.compat32)


def is_auto_reply(raw: bytes) -> bool:
    """automatic() of a recorded message, from its raw bytes."""
    return automatic(_HEADERS.parsebytes(raw, headersonly=True))


def automatic(headers: Message) -> bool:
    """Auto-Submitted other than "no", Precedence auto_reply/bulk/junk, or X-Autoreply."""
    submitted = str(headers.get("Auto-Submitted", "no")).split(";")[0].split("(")[0]
    precedence = str(headers.get("Precedence", "")).strip().lower()
    return (submitted.strip().lower() != "no" or precedence in ("auto_reply", "bulk", "junk")
            or headers.get("X-Autoreply") is not None)


def is_answer(reasons: str, raw: bytes) -> bool:
    """A seller message that answers the buyer: not an auto-reply, not the marketplace's
    review request (both go out as the seller, neither is a response)."""
    return '"review_request.sent"' not in reasons and not is_auto_reply(raw)


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


async def mark(store: Store, message_id: str, kind: str) -> None:
    async with store.write() as db:
        found = await db.execute_fetchall("SELECT 1 FROM messages WHERE id = ?", (message_id,))
        if not found:
            raise NotFound(f"no message {message_id!r}")
        await chain.insert(db, "message_marks",
                           {"message_id": message_id, "at": utcnow(), "kind": kind})


async def _where(db: Any, f: Filters) -> tuple[list[str], list[Any]]:
    where: list[str] = [MESSAGE_CHAINED]
    params: list[Any] = []
    if f.conversation:
        where.append("m.conversation_id = ?")
        params.append(f.conversation)
    if f.seller:
        where.append("m.conversation_id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(await seller_conversations(db, f.seller)))
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


async def query(store: Store, f: Filters) -> list[dict[str, Any]]:
    """Every message the filters select, oldest first."""
    async with store.read() as db:
        where, params = await _where(db, f)
        rows = await db.execute_fetchall(
            f"{_COLUMNS} WHERE {' AND '.join(where)} ORDER BY m.seq", params)
        out = [_row(r) for r in rows]
        if f.needs_response:
            answers = _Answers(db)
            out = [row for row in out if await _needs_response(answers, row)]
    for row in out:
        del row["seq"]
    return out


async def page(store: Store, f: Filters, limit: int,
               before: int | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, `limit` at most, older than the record `before` (a seq: the cursor the
    previous page returned). Returns the page and the next page's cursor (None: no more)."""
    out: list[dict[str, Any]] = []
    batch = max(limit + 1, 100) if f.needs_response else limit + 1
    async with store.read() as db:
        where, params = await _where(db, f)
        answers = _Answers(db)
        while len(out) <= limit:
            cursor = ["m.seq < ?"] if before is not None else []
            rows = await db.execute_fetchall(
                f"{_COLUMNS} WHERE {' AND '.join(where + cursor)} ORDER BY m.seq DESC"
                f" LIMIT {batch}", [*params, *([before] if before is not None else [])])
            for row in map(_row, rows):
                if not f.needs_response or await _needs_response(answers, row):
                    out.append(row)
            if len(rows) < batch:
                break
            before = rows[-1]["seq"]
    more = len(out) > limit
    out = out[:limit]
    next_cursor = out[-1]["seq"] if more and out else None
    for row in out:
        del row["seq"]
    return out, next_cursor


class _Answers:
    """Per conversation, the seq of the newest seller message that answers (0: none): a
    buyer message after it needs a response. Found once per conversation and query, from
    the newest seller message back, reading only the start of each (its headers)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.last: dict[str, int] = {}

    async def newest(self, conversation_id: str) -> int:
        if conversation_id not in self.last:
            self.last[conversation_id] = await self._find(conversation_id)
        return self.last[conversation_id]

    async def _find(self, conversation_id: str) -> int:
        before = None
        while True:
            rows = await self.db.execute_fetchall(
                "SELECT seq, reasons, substr(raw, 1, 65536) FROM messages m WHERE"
                f" {MESSAGE_CHAINED} AND"
                " conversation_id = ? AND direction = 'seller_to_buyer' AND disposition IN"
                f" {ACCEPTED}{' AND seq < ?' if before else ''} ORDER BY seq DESC LIMIT 20",
                (conversation_id, before) if before else (conversation_id,))
            for seq, reasons, head in rows:
                if is_answer(reasons, bytes(head)):
                    return int(seq)
            if len(rows) < 20:
                return 0
            before = rows[-1][0]


async def _needs_response(answers: _Answers, row: dict[str, Any]) -> bool:
    if row["disposition"] not in ("delivered", "delivered_redacted") or row["no_response_needed"]:
        return False
    return int(row["seq"]) > await answers.newest(row["conversation_id"])
