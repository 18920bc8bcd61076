"""Prohibited message types: confirmations, thanks-only, promotions, review requests.

Judged on the Subject and the author's own words (quotes and signature left out), before
the header scrub drops List-Unsubscribe and Precedence, which mark bulk mail.
"""

from __future__ import annotations

from relay.config import RulesSettings
from relay.pipeline.decide import act, refuses
from relay.pipeline.parcel import Parcel
from relay.rules import confirmation, promotion, review, thanks
from relay.rules.reading import read
from relay.stages.thread_map import known_ids, raw_ids
from relay.store.db import Store

# The order refusals are reported in when more than one applies: the most specific first.
RULES = (review, promotion, confirmation, thanks)


class ProhibitedContent:
    name = "prohibited_content"

    def __init__(self, rules: RulesSettings, store: Store) -> None:
        self.settings = rules
        self.rules = tuple(r for r in RULES if refuses(rules, r.code))
        self.store = store

    async def __call__(self, parcel: Parcel) -> None:
        if not self.rules:
            return
        # A reply is one that names a message of this conversation: an In-Reply-To made up
        # to pass a shipping confirmation off as an answer does not count.
        ids = raw_ids(parcel.message, "In-Reply-To") + raw_ids(parcel.message, "References")
        answered = await known_ids(self.store, parcel.conversation.id, ids[:50])
        reading = read(parcel.message, parcel.direction, is_reply=bool(answered))
        for rule in self.rules:
            if rule is review and parcel.kind == "review_request":
                continue  # the marketplace's own fixed request, sent by `relay review-request`
            why = rule.judge(reading)
            if why is not None:
                act(parcel, self.settings, rule.code, why)
