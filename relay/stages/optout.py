"""Opt-out: a buyer who opted out gets only the seller messages the order cannot do without.

A seller message to an opted-out buyer goes through when it answers the buyer (a buyer
message of this conversation has had no real answer yet) or when it is critical:
"[Important]" in the Subject. Critical messages are counted per seller and buyer; past the
limit in the rolling window they are refused too, so "[Important]" cannot become a way
round the opt-out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from relay.config import RulesSettings
from relay.errors import Reject
from relay.marketplace import buyers
from relay.marketplace.conversations import address_key
from relay.marketplace.message_center import is_answer
from relay.pipeline.parcel import Parcel
from relay.store import messages
from relay.store.db import Store

IMPORTANT = re.compile(r"\[\s*important\s*\]", re.IGNORECASE)
CRITICAL = "critical"  # reason code of a message marked [Important]: informational


class OptOut:
    name = "optout"

    def __init__(self, rules: RulesSettings, store: Store) -> None:
        self.limit = rules.critical_limit
        self.days = rules.critical_window_days
        self.window = timedelta(days=rules.critical_window_days)
        self.store = store

    async def _answers_buyer(self, parcel: Parcel) -> bool:
        """Some buyer message has had no real answer yet (an auto-reply or the marketplace's
        review request is none). Threading to an old, answered message does not count: a
        seller could otherwise write on for ever under one old In-Reply-To."""
        # Only the buyer's latest message matters: an answer after it answers all before it.
        async with self.store.read() as db:
            last = await messages.last_buyer_message(db, parcel.conversation.id)
            if last is None:
                return False
            after = await messages.seller_messages_after(db, parcel.conversation.id, last)
        return not any(is_answer(reasons, raw) for reasons, raw in after)

    async def _critical_sent(self, parcel: Parcel) -> int:
        """[Important] messages from this seller (any of its addresses) to this buyer."""
        since = (datetime.now(UTC) - self.window).isoformat(timespec="microseconds")
        async with self.store.read() as db:
            senders = await messages.critical_senders(
                db, address_key(parcel.conversation.addresses("buyer")[0]), since)
        seller = {address_key(a) for a in parcel.conversation.addresses("seller")}
        return sum(1 for sender in senders if address_key(sender) in seller)

    async def __call__(self, parcel: Parcel) -> None:
        if parcel.author != "seller":
            return  # buyer messages always reach the seller
        critical = bool(IMPORTANT.search(str(parcel.message.get("Subject", ""))))
        if critical:
            parcel.note(CRITICAL)
        if not await buyers.opted_out(self.store, parcel.recipient):
            return
        if await self._answers_buyer(parcel):
            return
        if not critical:
            raise Reject("optout", "the buyer has opted out of seller messages; only a message"
                         " the order cannot proceed without may be sent, with [Important] in"
                         " the subject")
        if await self._critical_sent(parcel) >= self.limit:
            raise Reject("optout.critical_limit", f"this buyer has opted out and has had"
                         f" {self.limit} [Important] messages from you in the last"
                         f" {self.days:g} days already")
