"""Contact response time, per seller, as the marketplace counts it.

For each buyer message (accepted, not marked no-response-needed): the time until the
seller's first reply in that conversation. Later than 24 hours, or no reply after 24 hours,
is late; weekends and holidays count like any day. Auto-replies and the marketplace's review
request are no reply.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from relay.marketplace.conversations import seller_conversations
from relay.marketplace.message_center import is_answer
from relay.store import message_center
from relay.store.db import Store

WINDOWS = (7, 30, 90)
DEADLINE = timedelta(hours=24)


@dataclass(frozen=True)
class Window:
    days: int
    received: int
    answered_within_24h: int
    late: int
    unanswered: int
    late_rate: float | None
    average_hours: float | None
    median_hours: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _messages(store: Store, seller: str) -> list[dict[str, Any]]:
    async with store.read() as db:
        return await message_center.exchanged(db, await seller_conversations(db, seller))


def _answers(rows: list[dict[str, Any]], at: dict[str, datetime],
             now: datetime) -> dict[str, datetime]:
    """When each buyer message was answered: the first answer after it (by seq) in its
    conversation, sent by `now`. One pass: a conversation's waiting messages all take the
    next answer that comes."""
    answered: dict[str, datetime] = {}
    waiting: dict[str, list[str]] = {}
    for r in sorted(rows, key=lambda r: r["seq"]):  # already in seq order: linear
        if r["direction"] == "buyer_to_seller":
            waiting.setdefault(r["conversation_id"], []).append(r["id"])
        elif (r["direction"] == "seller_to_buyer" and at[r["id"]] <= now
              and is_answer(r["reasons"], r["raw"])):
            for message_id in waiting.pop(r["conversation_id"], ()):
                answered[message_id] = at[r["id"]]
    return answered


def _window(days: int, asked: list[tuple[datetime, datetime | None]],
            now: datetime) -> Window:
    """The figures of one window from its questions: (sent, answered; None: not yet)."""
    times: list[float] = []
    late = unanswered = 0
    for sent, reply_at in asked:
        if reply_at is None:
            unanswered += 1
            late += now - sent > DEADLINE
            continue
        waited = reply_at - sent
        times.append(waited.total_seconds() / 3600)
        late += waited > DEADLINE
    return Window(
        days=days, received=len(asked),
        answered_within_24h=sum(1 for t in times if t <= DEADLINE.total_seconds() / 3600),
        late=late, unanswered=unanswered,
        late_rate=late / len(asked) if asked else None,
        average_hours=statistics.fmean(times) if times else None,
        median_hours=statistics.median(times) if times else None)


@dataclass(frozen=True)
class Day:
    """One day's buyer messages (by the day they came, UTC) and how many of them were, or
    are by now, answered late."""
    day: date
    received: int
    late: int


async def _questions(store: Store, seller: str,
                     now: datetime) -> list[tuple[datetime, datetime | None]]:
    """Every buyer message that counts, oldest first: (sent, answered; None: not yet)."""
    rows = await _messages(store, seller)
    at = {r["id"]: datetime.fromisoformat(r["received_at"]) for r in rows}
    answered = _answers(rows, at, now)
    return [(at[r["id"]], answered.get(r["id"])) for r in rows
            if r["direction"] == "buyer_to_seller" and not r["excused"]]


def _windows(questions: list[tuple[datetime, datetime | None]], now: datetime) -> list[Window]:
    windows = []
    for days in WINDOWS:
        start = now - timedelta(days=days)
        windows.append(_window(days, [q for q in questions if start <= q[0] <= now], now))
    return windows


def _late(sent: datetime, reply_at: datetime | None, now: datetime) -> bool:
    return (now if reply_at is None else reply_at) - sent > DEADLINE


async def response_time(store: Store, seller: str, now: datetime) -> list[Window]:
    return _windows(await _questions(store, seller, now), now)


async def report(store: Store, seller: str, now: datetime,
                 days: int = 30) -> tuple[list[Window], list[Day]]:
    """The windows, and the last `days` days (today last) one by one: the web page's
    figures and chart, from one read of the seller's messages."""
    questions = await _questions(store, seller, now)
    first = now.date() - timedelta(days=days - 1)
    received = dict.fromkeys((first + timedelta(days=n) for n in range(days)), 0)
    late = dict(received)
    for sent, reply_at in questions:
        if sent.date() in received and sent <= now:
            received[sent.date()] += 1
            late[sent.date()] += _late(sent, reply_at, now)
    return _windows(questions, now), [Day(d, received[d], late[d]) for d in received]
