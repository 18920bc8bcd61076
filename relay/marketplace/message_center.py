"""A seller's message center over the record: filters, read and no-response-needed marks.

"Sent" and "received" are from the seller's side: sent is seller_to_buyer, received is
buyer_to_seller. A received message needs a response until a seller message follows it in
its conversation (an auto-reply does not count) or it is marked no-response-needed.
"""

from __future__ import annotations

from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from relay.errors import NotFound
from relay.marketplace.conversations import seller_conversations
from relay.message import line_ends
from relay.store import message_center as repo
from relay.store.db import Connection, Store, utcnow
from relay.store.message_center import Filters  # callers build them here too

_HEADERS = BytesParser(policy=policy.compat32)


def is_auto_reply(raw: bytes) -> bool:
    """automatic() of a recorded message, from its raw bytes (kept as received: read with
    their line ends normalized, as the pipeline read them)."""
    return automatic(_HEADERS.parsebytes(line_ends.normalized(raw), headersonly=True))


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


async def mark(store: Store, message_id: str, kind: str) -> None:
    async with store.write() as db:
        if not await repo.mark(db, message_id, kind, utcnow()):
            raise NotFound(f"no message {message_id!r}")


async def _sellers(db: Connection, f: Filters) -> list[str] | None:
    return await seller_conversations(db, f.seller) if f.seller else None


async def query(store: Store, f: Filters) -> list[dict[str, Any]]:
    """Every message the filters select, oldest first."""
    async with store.read() as db:
        out = await repo.oldest_first(db, f, await _sellers(db, f))
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
        sellers = await _sellers(db, f)
        answers = _Answers(db)
        while len(out) <= limit:
            rows = await repo.newest_first(db, f, sellers, batch, before)
            for row in rows:
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

    def __init__(self, db: Connection) -> None:
        self.db = db
        self.last: dict[str, int] = {}

    async def newest(self, conversation_id: str) -> int:
        if conversation_id not in self.last:
            self.last[conversation_id] = await self._find(conversation_id)
        return self.last[conversation_id]

    async def _find(self, conversation_id: str) -> int:
        before = None
        while True:
            rows = await repo.seller_heads(self.db, conversation_id, before, 20)
            for seq, reasons, head in rows:
                if is_answer(reasons, head):
                    return seq
            if len(rows) < 20:
                return 0
            before = rows[-1][0]


async def _needs_response(answers: _Answers, row: dict[str, Any]) -> bool:
    if row["disposition"] not in ("delivered", "delivered_redacted") or row["no_response_needed"]:
        return False
    return int(row["seq"]) > await answers.newest(row["conversation_id"])
