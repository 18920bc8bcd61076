"""Opt-out: a buyer who opted out gets only the seller messages the order cannot do without.

A seller message to an opted-out buyer goes through when it answers the buyer (its
threading headers name a buyer message of this conversation, or the buyer wrote last and
has had no answer yet) or when it is critical: "[Important]" in the Subject. Critical
messages are counted per seller and buyer; past the limit in the rolling window they are
refused too, so "[Important]" cannot become a way round the opt-out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from relay import buyers
from relay.config import RulesSettings
from relay.conversations import address_key
from relay.errors import Reject
from relay.pipeline import Parcel
from relay.rewrite.thread_map import raw_ids
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
        ids = (raw_ids(parcel.message, "In-Reply-To") + raw_ids(parcel.message, "References"))
        ids = ids[:50]
        marks = ",".join("?" * len(ids))
        async with self.store.read() as db:
            if ids:
                rows = await db.execute_fetchall(
                    "SELECT 1 FROM messages WHERE conversation_id = ? AND direction ="
                    f" 'buyer_to_seller' AND relay_message_id IN ({marks}) LIMIT 1",
                    (parcel.conversation.id, *ids))
                if rows:
                    return True
            last = await db.execute_fetchall(
                "SELECT direction FROM messages WHERE conversation_id = ? AND disposition IN"
                " ('delivered', 'delivered_redacted') AND direction != 'system'"
                " ORDER BY seq DESC LIMIT 1", (parcel.conversation.id,))
        return bool(last) and last[0][0] == "buyer_to_seller"

    async def _critical_sent(self, parcel: Parcel) -> int:
        since = (datetime.now(UTC) - self.window).isoformat(timespec="microseconds")
        async with self.store.read() as db:
            rows = await db.execute_fetchall(
                "SELECT COUNT(*) FROM messages m JOIN conversations c"
                " ON c.id = m.conversation_id WHERE c.buyer_key = ? AND lower(m.mail_from) = ?"
                " AND m.direction = 'seller_to_buyer' AND m.received_at >= ?"
                " AND m.disposition IN ('delivered', 'delivered_redacted')"
                " AND m.reasons LIKE '%\"critical\"%'",
                (address_key(parcel.conversation.addresses("buyer")[0]),
                 parcel.envelope.mail_from.lower(), since))
        return int(rows[0][0])

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
