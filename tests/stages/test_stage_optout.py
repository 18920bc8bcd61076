"""OptOut alone, on the real store: a buyer who opted out gets a seller message only when
it answers the buyer or is marked [Important], and [Important] only so many times."""

from __future__ import annotations

import pytest
from support.parcels import (
    BUYER,
    DOMAIN,
    SELLER,
    opened_store,
    parcel,
    record,
    rules,
    stored_conversation,
    text,
    wire,
)

from relay.errors import Reject
from relay.marketplace import buyers
from relay.stages.optout import OptOut

SELLER2 = "support@example.net"


@pytest.fixture
async def store(tmp_path):
    async with opened_store(tmp_path) as opened:
        yield opened


@pytest.fixture
async def conv(store):
    return await stored_conversation(store, sellers=(SELLER, SELLER2))


def seller_says(conv, subject: str = "About your order", **envelope):
    return parcel(text("We have a question about the colour.", subject=subject), to="buyer",
                  conv=conv, **envelope)


async def refusal(stage, held) -> Reject:
    with pytest.raises(Reject) as caught:
        await stage(held)
    return caught.value


async def test_without_an_opt_out_seller_messages_pass_and_important_is_noted(store, conv):
    plain = seller_says(conv)
    before = wire(plain.message)
    await OptOut(rules(), store)(plain)
    assert plain.reasons == [] and wire(plain.message) == before
    marked = seller_says(conv, subject="[ important ] Your address")
    await OptOut(rules(), store)(marked)
    assert marked.reasons == ["critical"]


async def test_an_opted_out_buyer_gets_no_ordinary_seller_message(store, conv):
    await buyers.set_optout(store, BUYER, DOMAIN, True)
    refused = await refusal(OptOut(rules(), store), seller_says(conv))
    assert refused.code == "optout"
    assert refused.smtp_reply.startswith("550 5.7.1 optout: the buyer has opted out")
    await buyers.set_optout(store, BUYER, DOMAIN, False)
    await OptOut(rules(), store)(seller_says(conv))  # the latest choice holds


async def test_buyer_messages_always_pass(store, conv):
    await buyers.set_optout(store, BUYER, DOMAIN, True)
    held = parcel(text("Is it blue?", subject="[Important] colour"), conv=conv)
    await OptOut(rules(), store)(held)
    assert held.reasons == []  # "critical" is a seller's mark only


async def test_an_answer_to_the_buyer_passes_once(store, conv):
    await buyers.set_optout(store, BUYER, DOMAIN, True)
    await record(store, parcel(text("Which colour is it?"), conv=conv))
    stage = OptOut(rules(), store)
    auto = seller_says(conv)
    auto.message["Auto-Submitted"] = "auto-replied"
    await record(store, auto)  # an out-of-office answers nothing
    answer = seller_says(conv)
    await stage(answer)
    await record(store, answer)
    assert (await refusal(stage, seller_says(conv))).code == "optout"


async def test_important_past_the_limit_is_refused_counting_every_seller_address(store, conv):
    await buyers.set_optout(store, BUYER, DOMAIN, True)
    stage = OptOut(rules(critical_limit=2, critical_window_days=30), store)
    for address in (SELLER, SELLER2):
        sent = seller_says(conv, subject="[Important] Address", mail_from=address)
        await stage(sent)
        await record(store, sent, reasons=("critical",))
    refused = await refusal(stage, seller_says(conv, subject="[Important] Again"))
    assert refused.code == "optout.critical_limit"
    assert refused.reason.endswith("has had 2 [Important] messages from you in the last 30"
                                   " days already")
