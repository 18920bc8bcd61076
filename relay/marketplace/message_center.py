"""A seller's message center over the record: filters, read and no-response-needed marks.

"Sent" and "received" are from the seller's side: sent is seller_to_buyer, received is
buyer_to_seller. A received message needs a response until a seller message follows it in
its conversation (an auto-reply does not count) or it is marked no-response-needed.

A seller's counts (unread, needs a response) and their needs_response filter come from a
tally per seller, worked out whole once per process and then kept current from the rows
added to the record since: the web message center shows them on every page.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from dataclasses import dataclass, replace
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any

from relay.errors import NotFound
from relay.marketplace.conversations import address_key, seller_conversations
from relay.message import line_ends
from relay.store import conversations as conversation_repo
from relay.store import message_center as repo
from relay.store.db import Connection, Store, utcnow
from relay.store.message_center import Filters  # callers build them here too
from relay.store.records import header_end

_HEADERS = BytesParser(policy=policy.compat32)
# The fields automatic() reads. A header section without any of these names is not an
# auto-reply, and is not parsed to find that out (the message center asks it of every
# conversation's newest seller message).
_AUTOMATIC_FIELDS = re.compile(rb"auto-submitted|precedence|x-autoreply", re.IGNORECASE)


def is_auto_reply(raw: bytes) -> bool:
    """automatic() of a recorded message, from its raw bytes (kept as received: read with
    their line ends normalized, as the pipeline read them)."""
    # The parser's header section ends at or before the first empty line of the raw bytes.
    if not _AUTOMATIC_FIELDS.search(raw, 0, header_end(raw)):
        return False
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


@dataclass(frozen=True)
class Counts:
    unread: int  # buyer messages not marked read
    needs_response: int


async def awaiting(store: Store, seller: str) -> set[str]:
    """The ids of the seller's buyer messages that need a response: what the needs_response
    filter lists."""
    async with store.read() as db:
        tally = await _tally(store, db, seller)
        return set(tally.where)


async def counts(store: Store, seller: str) -> Counts:
    async with store.read() as db:
        tally = await _tally(store, db, seller)
        return Counts(unread=len(tally.unread), needs_response=len(tally.where))


class _Tally:
    """One seller's unread buyer messages and those that need a response, worked out once
    for every conversation, then kept current from the record's rows added since (messages
    and marks are append-only): a page of the message center costs what is new, not what
    the seller has."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.started = False
        self.conversations: set[str] = set()
        self.messages = self.marks = 0  # the seqs read up to
        self.waiting: dict[str, dict[str, int]] = {}  # conversation -> {message id: seq}
        self.where: dict[str, str] = {}  # message id -> conversation, of those waiting
        self.unread: set[str] = set()

    def wait(self, conversation_id: str, message_id: str, seq: int) -> None:
        self.waiting.setdefault(conversation_id, {})[message_id] = seq
        self.where[message_id] = conversation_id

    def answered(self, conversation_id: str, before: int) -> None:
        waiting = self.waiting.get(conversation_id, {})
        for message_id, seq in list(waiting.items()):
            if seq < before:
                del waiting[message_id]
                self.where.pop(message_id, None)

    async def settle(self, db: Connection, conversation_ids: list[str]) -> None:
        """Everything about these conversations, read whole."""
        self.conversations.update(conversation_ids)
        asked = await repo.questions(db, conversation_ids)
        answers = _Answers(db)
        await answers.prefetch(sorted({conv for _, _, conv in asked}))
        for message_id, seq, conv in asked:
            if seq > await answers.newest(conv):
                self.wait(conv, message_id, seq)
        self.unread.update(await repo.unread(db, conversation_ids))

    async def refresh(self, db: Connection, seller: str) -> None:
        upto_messages, upto_marks = await repo.newest(db)
        ids = await seller_conversations(db, seller)
        fresh = [c for c in ids if c not in self.conversations]
        if fresh:
            await self.settle(db, fresh)  # what came since is read again below: the same
        if not self.started:
            self.started = True
            self.messages, self.marks = upto_messages, upto_marks
            return
        rows = [r for r in await repo.added(db, self.messages, upto_messages)
                if r["conversation_id"] in self.conversations]
        replies = [r["seq"] for r in rows if r["direction"] == "seller_to_buyer"
                   and r["disposition"] in _ACCEPTED]
        heads = await repo.heads_at(db, replies) if replies else {}
        for r in rows:  # oldest first
            if r["direction"] == "buyer_to_seller":
                if not r["read"]:
                    self.unread.add(r["id"])
                if r["disposition"] in _ACCEPTED and not r["excused"]:
                    self.wait(r["conversation_id"], r["id"], r["seq"])
            elif r["seq"] in heads and is_answer(r["reasons"], heads[r["seq"]]):
                self.answered(r["conversation_id"], r["seq"])
        for message_id, kind in await repo.marks_added(db, self.marks, upto_marks):
            if kind == "read":
                self.unread.discard(message_id)
            elif message_id in self.where:
                self.waiting[self.where.pop(message_id)].pop(message_id, None)
        self.messages, self.marks = upto_messages, upto_marks


_ACCEPTED = ("delivered", "delivered_redacted")
# Per store (one a process) and seller. Not per connection: PostgreSQL's reads each have a
# connection of their own from the pool, and a tally kept per connection was worked out
# whole again on every page.
_TALLIES: weakref.WeakKeyDictionary[Store, dict[str, _Tally]] = weakref.WeakKeyDictionary()


async def _tally(store: Store, db: Connection, seller: str) -> _Tally:
    tally = _TALLIES.setdefault(store, {}).setdefault(address_key(seller), _Tally())
    # One refresh at a time: PostgreSQL's reads run side by side (SQLite's take turns).
    async with tally.lock:
        await tally.refresh(db, seller)
    return tally


async def heads(store: Store, message_ids: list[str]) -> dict[str, tuple[str, bytes, bytes]]:
    """By message id: (MAIL FROM, the first 16 KiB as received, as delivered (b"": not
    delivered)): what a page of the message center shows of each message."""
    async with store.read() as db:
        return await repo.heads(db, message_ids)


async def conversation_sellers(store: Store, conversation_ids: set[str]) -> dict[str, set[str]]:
    """The registered seller addresses of each conversation, in matching form (address_key):
    a seller message is the seller's own only when it came from one of them."""
    async with store.read() as db:
        rows = await conversation_repo.parties_of(db, sorted(conversation_ids), "seller")
    out: dict[str, set[str]] = {c: set() for c in conversation_ids}
    for conv, key in rows:
        out[conv].add(key)
    return out


def from_seller(sender: str, sellers: set[str]) -> bool:
    return bool(sender) and address_key(sender) in sellers


async def _waiting(store: Store, db: Connection, f: Filters) -> Filters:
    """A seller's needs_response filter as the messages their tally has waiting: the same
    messages, without finding each conversation's answer again."""
    if not (f.needs_response and f.seller):
        return f
    tally = await _tally(store, db, f.seller)
    return replace(f, needs_response=False, received=True, among=tuple(tally.where))


async def query(store: Store, f: Filters) -> list[dict[str, Any]]:
    """Every message the filters select, oldest first."""
    async with store.read() as db:
        f = await _waiting(store, db, f)
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
    async with store.read() as db:
        f = await _waiting(store, db, f)
        batch = max(limit + 1, 100) if f.needs_response else limit + 1
        sellers = await _sellers(db, f)
        answers = _Answers(db)
        while len(out) <= limit:
            rows = await repo.newest_first(db, f, sellers, batch, before)
            if f.needs_response:
                await answers.prefetch(sorted({row["conversation_id"] for row in rows}))
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

    async def prefetch(self, conversation_ids: list[str]) -> None:
        """Settle many conversations in one query: where the newest seller message is an
        answer (nearly always), that is the one; the others are looked for one by one."""
        unknown = [c for c in conversation_ids if c not in self.last]
        for start in range(0, len(unknown), 5000):  # bounded JSON arguments
            chunk = unknown[start:start + 5000]
            found = await repo.newest_seller_heads(self.db, chunk)
            for conv, seq, reasons, head in found:
                if is_answer(reasons, head):
                    self.last[conv] = seq
            with_seller = {conv for conv, *_ in found}
            for conv in chunk:
                if conv not in with_seller:
                    self.last[conv] = 0  # no seller message at all

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
