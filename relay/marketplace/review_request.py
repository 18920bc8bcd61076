"""The marketplace's review request: one fixed, neutral message per order, sent to the buyer
between 5 and 30 days after delivery, never to a buyer who opted out. Nothing of it can be
changed; it is the one review request the content rules let through."""

from __future__ import annotations

from datetime import UTC, date, datetime

from relay.errors import UsageError
from relay.marketplace import buyers
from relay.marketplace.conversations import Conversation
from relay.store import events, messages
from relay.store.db import Store, utcnow

SUBJECT = "Order $order_id: your experience"
BODY = (
    "Hello,\n\n"
    "the marketplace asks every buyer about their orders. If you wish, you can review the item"
    " and the seller of order $order_id on the order page in your account. A review is"
    " voluntary, and this is the only request you will get for this order.\n"
)
FIRST_DAY, LAST_DAY = 5, 30


def not_in_future(day: date) -> None:
    """A delivery date is a fact: it cannot lie ahead (checked before anything is written)."""
    if day > datetime.now(UTC).date():
        raise UsageError(f"a delivery date cannot be in the future: {day}",
                         field="delivered_on")


async def set_delivered(store: Store, conv: Conversation, day: date) -> None:
    async with store.write() as db:
        await events.add_conversation(db, conv.id, utcnow(), "delivered", day.isoformat())


async def delivered_on(store: Store, conv: Conversation) -> date | None:
    async with store.read() as db:
        found = await events.conversation(db, conv.id, "delivered")
    return date.fromisoformat(found[-1].value) if found else None


async def check(store: Store, conv: Conversation, today: date | None = None) -> None:
    """Raise UsageError naming why a review request may not be sent now."""
    today = today or datetime.now(UTC).date()
    delivered = await delivered_on(store, conv)
    if delivered is None:
        raise UsageError("the order has no delivery date: set it with"
                         " `relay conversations delivered ID DATE`")
    days = (today - delivered).days
    if days < FIRST_DAY:
        raise UsageError(f"too early: delivered {days} days ago; a review request may be sent"
                         f" from day {FIRST_DAY} after delivery ({delivered})")
    if days > LAST_DAY:
        raise UsageError(f"too late: delivered {days} days ago; the window closed after day"
                         f" {LAST_DAY}")
    if await buyers.opted_out(store, conv.addresses("buyer")[0]):
        raise UsageError("the buyer has opted out of seller messages")
    async with store.read() as db:
        sent = await messages.review_request_sent(db, conv.id)
    if sent:
        raise UsageError("a review request was already sent for this order")
