"""The message center at /: the seller's messages, newest first, a page at a time, with the
filters (Unread, Need a response, Received, Sent; company buyers, a date range, an order ID)
and the counts of unread messages and of those that need a response."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Query, Request, Response

from relay.marketplace import message_center
from relay.store.db import Store
from relay.web import reading
from relay.web.deps import Running, Seller, Stored
from relay.web.errors import WebRoute
from relay.web.pages import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SHOWS = {"all": "All", "unread": "Unread", "needs_response": "Need a response",
         "received": "Received", "sent": "Sent"}
_ORDER = re.compile(r"[0-9-]{1,19}")


@dataclass(frozen=True)
class View:
    """The page's filters as the seller chose them (and as the links keep them)."""
    show: str
    business: bool
    since: date | None
    until: date | None
    order: str
    problems: list[str]

    def query(self, **changes: Any) -> str:
        values = {"show": self.show, "business": "1" if self.business else "",
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else "", "order": self.order}
        values.update(changes)
        return "?" + urlencode({k: v for k, v in values.items() if v and v != "all"})


def _day(text: str, label: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}: not a date (use the form YYYY-MM-DD)")
        return None


def view(show: str, business: str, since: str, until: str, order: str) -> View:
    problems: list[str] = []
    order = "".join(order.split())
    if order and not _ORDER.fullmatch(order):
        problems.append("Order ID: digits and dashes, like 112-1234567-1234567")
        order = ""
    return View(show if show in SHOWS else "all", business in ("1", "on", "true"),
                _day(since, "From", problems), _day(until, "To", problems), order, problems)


def filters(seller: str, v: View) -> message_center.Filters:
    def start(day: date | None) -> str | None:
        return None if day is None else datetime.combine(day, time(), UTC).isoformat(
            timespec="microseconds")

    return message_center.Filters(
        seller=seller, parties_only=True, unread=v.show == "unread",
        received=v.show in ("unread", "received"), sent=v.show == "sent",
        needs_response=v.show == "needs_response", business_buyers=v.business,
        since=start(v.since), until=start(v.until + timedelta(days=1) if v.until else None),
        order=v.order or None)


def cursors(request: Request) -> Fernet:
    return request.app.state.cursors  # the API's: sealed, valid until the relay restarts


async def subjects(store: Store, rows: list[dict[str, Any]],
                   sellers: dict[str, set[str]]) -> dict[str, str]:
    """The subject of each message the seller may read: a buyer's as delivered, the
    seller's own as written (only when it came from a registered seller address)."""
    found = await message_center.heads(store, [r["id"] for r in rows])
    out = {}
    for row in rows:
        sender, raw, delivered = found.get(row["id"], ("", b"", b""))
        if row["direction"] == "buyer_to_seller" and delivered:
            out[row["id"]] = reading.subject(delivered)
        elif row["direction"] == "seller_to_buyer" and message_center.from_seller(
                sender, sellers.get(row["conversation_id"], set())):
            out[row["id"]] = reading.subject(raw)
    return out


@router.get("/")
async def center(
    request: Request, visitor: Seller, relay: Running, store: Stored,
    show: Annotated[str, Query(max_length=20)] = "all",
    business: Annotated[str, Query(max_length=5)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    order: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    seller = visitor.who.seller
    assert seller is not None
    v = view(show, business, since, until, order)
    before = None
    if cursor:
        try:
            before = int(cursors(request).decrypt(cursor.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            before = None  # an old link (the relay restarted): the first page
    rows, next_seq = await message_center.page(store, filters(seller, v),
                                               relay.config.web.page_size, before)
    counts = await message_center.counts(store, seller)
    awaiting = await message_center.awaiting(store, seller)
    sellers = await message_center.conversation_sellers(store, {r["conversation_id"]
                                                                for r in rows})
    next_cursor = None if next_seq is None else cursors(request).encrypt(
        str(next_seq).encode()).decode()
    return render(request, "center.html", view=v, shows=SHOWS, rows=rows, counts=counts,
                  awaiting=awaiting, subjects=await subjects(store, rows, sellers),
                  next_link=v.query(cursor=next_cursor) if next_cursor else None,
                  back=request.url.path + (f"?{request.url.query}" if request.url.query
                                           else ""),
                  first_page=cursor == "")
