"""ProhibitedContent alone, on the real store: promotions, review requests, unprompted
confirmations and thanks-only messages are refused with their reason; a confirmation that
answers a message of this conversation (by the record) is a reply and may pass."""

from __future__ import annotations

import pytest
from support.parcels import (
    BUYER,
    opened_store,
    parcel,
    record,
    rules,
    stored_conversation,
    text,
    wire,
)

from relay.errors import Reject
from relay.rules import confirmation
from relay.stages.content import ProhibitedContent

SHIPPED = "Your order has been shipped and is on its way."


@pytest.fixture
async def store(tmp_path):
    async with opened_store(tmp_path) as opened:
        yield opened


@pytest.fixture
async def conv(store):
    return await stored_conversation(store)


async def refusal(stage: ProhibitedContent, held) -> Reject:
    before = wire(held.message)
    with pytest.raises(Reject) as caught:
        await stage(held)
    assert wire(held.message) == before  # refusing changes nothing
    return caught.value


@pytest.mark.parametrize("subject, body, headers, code", [
    ("Special offer", "Use code SAVE20 for 20% off your next order!", {}, "content.promotion"),
    ("News", "Our autumn collection is in.", {"List_Unsubscribe": "<mailto:u@x.example>"},
     "content.promotion"),
    ("A favour", "Please leave us a 5-star review if you are happy!", {},
     "content.review_request"),
    ("Your order", SHIPPED, {}, "content.confirmation"),
    ("Thank you!", "Thank you for your order! We hope you enjoy it.\n\nBest regards,\nSally", {},
     "content.thanks_only"),
    # Both a review request and a promotion: the most specific is the one reported.
    ("Offer", "Use code SAVE20 for 20% off! And please leave us a 5-star review.", {},
     "content.review_request"),
])
async def test_a_prohibited_message_is_refused_with_its_reason(store, conv, subject, body,
                                                               headers, code):
    held = parcel(text(body, subject=subject, **headers), to="buyer", conv=conv)
    refused = await refusal(ProhibitedContent(rules(), store), held)
    assert refused.code == code
    assert refused.smtp_reply.startswith(f"550 5.7.1 {code}: ")


async def test_an_ordinary_question_passes_byte_for_byte(store, conv):
    held = parcel(text("Thank you, but the item arrived broken. Can I get a replacement?"),
                  conv=conv)
    before = wire(held.message)
    await ProhibitedContent(rules(), store)(held)
    assert wire(held.message) == before and held.reasons == []


async def test_a_confirmation_answering_a_recorded_message_is_a_reply(store, conv):
    question = parcel(text("Has it shipped yet?"), conv=conv)
    await record(store, question, original_id="<q1@example.com>",
                 relay_id="<r1@relay.example>")
    stage = ProhibitedContent(rules(), store)
    answer = parcel(text(SHIPPED, In_Reply_To="<r1@relay.example>"), to="buyer", conv=conv)
    await stage(answer)
    assert answer.reasons == []

    made_up = parcel(text(SHIPPED, In_Reply_To="<made-up@example.net>"), to="buyer", conv=conv)
    assert (await refusal(stage, made_up)).code == confirmation.code


async def test_a_message_of_another_conversation_makes_no_reply(store, conv):
    other = await stored_conversation(store, buyer="someone.else@example.org")
    await record(store, parcel(text("Has it shipped yet?"), conv=other),
                 original_id="<q1@example.org>", relay_id="<r1@relay.example>")
    answer = parcel(text(SHIPPED, References="<r1@relay.example>"), to="buyer", conv=conv)
    assert (await refusal(ProhibitedContent(rules(), store), answer)).code == confirmation.code


async def test_the_marketplace_review_request_and_rules_set_off_pass(store, conv):
    ask = "Please leave us a 5-star review if you are happy!"
    own = parcel(text(ask), to="buyer", conv=conv)
    own.kind = "review_request"  # sent by `relay review-request`, not by the seller
    await ProhibitedContent(rules(), store)(own)

    off = rules(content_review_request="off", content_promotion="off",
                content_confirmation="off", content_thanks_only="off")
    for body in (ask, SHIPPED, "Use code SAVE20 for 20% off your next order!"):
        await ProhibitedContent(off, store)(parcel(text(body), to="buyer", conv=conv))


async def test_quoted_words_are_not_the_authors(store, conv):
    """A seller answering a complaint quotes the buyer, who quoted a confirmation."""
    quoted = f"Your shop wrote: {SHIPPED} Nothing came."
    stage = ProhibitedContent(rules(), store)
    body = ("I have asked the carrier and will write again tomorrow.\n\n"
            f"On Mon, 1 Dec 2026, {BUYER} wrote:\n> {quoted}\n")
    held = parcel(text(body), to="buyer", conv=conv)
    await stage(held)
    assert held.reasons == []
    unquoted = parcel(text(body.replace("> ", "").replace(" wrote:", "")), to="buyer", conv=conv)
    assert (await refusal(stage, unquoted)).code == confirmation.code
