"""Opt-out and [Important]: who may write to a buyer who opted out, over SMTP."""

from __future__ import annotations

import asyncio

import pytest
from conftest import (
    BUYER,
    DOMAIN,
    SELLER,
    compose,
    make_config,
    open_conv,
    run_cli,
    send,
    store_section,
)
from support.record import assert_never_queued

from relay.config import RulesSettings
from relay.marketplace import buyers
from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL


async def opt_out(relay, on: bool = True) -> None:
    await buyers.set_optout(relay.store, BUYER, DOMAIN, on)


async def last(relay, conv) -> dict:
    return (await records.summaries(relay.store, conv.id))[-1]


async def seller_says(relay, conv, subject: str = "About your order", **headers):
    data = compose(SELLER, conv.buyer_alias, subject=subject,
                   body="The blue one is back in stock; shall I swap it for you?", **headers)
    return await send(relay.smtp_port, SELLER, conv.buyer_alias, data)


async def test_an_opted_out_buyer_gets_no_ordinary_seller_message(relay, conv, capture):
    await opt_out(relay)
    code, reply = await seller_says(relay, conv)
    assert code == 550 and reply.startswith("5.7.1 optout: the buyer has opted out")
    assert "[Important]" in reply
    row = await last(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", ["optout"])
    await assert_never_queued(relay, row["id"])
    assert capture.messages == []


async def test_opting_back_in_lets_seller_messages_through(relay, conv, capture):
    await opt_out(relay)
    await opt_out(relay, on=False)
    code, _ = await seller_says(relay, conv)
    assert code == 250
    assert [e.value for e in await buyers.history(relay.store, BUYER)] == ["on", "off"]


@pytest.mark.parametrize("subject", [
    "[Important] Your order cannot ship without a flat number",
    "Your order: [IMPORTANT] missing flat number",
    "Missing flat number [ important ]",
    "Re: [important]",
])
async def test_important_in_any_spelling_bypasses_the_opt_out(relay, conv, capture, subject):
    await opt_out(relay)
    code, reply = await seller_says(relay, conv, subject=subject)
    assert code == 250, reply
    row = await last(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered", ["critical"])
    got = (await capture.wait_for(1))[0]
    assert got.rcpt_tos == [BUYER]


@pytest.mark.parametrize("subject", ["Important: flat number", "(Important) flat number",
                                     "Important flat number", "[Importantly] flat number"])
async def test_important_without_brackets_is_not_critical(relay, conv, subject):
    await opt_out(relay)
    code, reply = await seller_says(relay, conv, subject=subject)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 optout")


async def test_a_reply_to_the_buyer_is_not_an_initiation(relay, conv, capture):
    await opt_out(relay)
    question = compose(BUYER, conv.seller_alias, body="Can I get it in blue?")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, question))[0] == 250
    asked = (await capture.wait_for(1))[0]
    # An out-of-office is no answer: the buyer is still waiting.
    code, _ = await seller_says(relay, conv, Auto_Submitted="auto-replied")
    assert code == 250
    code, _ = await seller_says(relay, conv, In_Reply_To=asked.message["Message-ID"])
    assert code == 250
    # Answered now: threading to the same (answered) question does not open the door again.
    code, reply = await seller_says(relay, conv, References=asked.message["Message-ID"])
    assert (code, reply.split(":")[0]) == (550, "5.7.1 optout")
    code, _ = await seller_says(relay, conv)
    assert code == 550
    # A new question can be answered again.
    again = compose(BUYER, conv.seller_alias, body="And in green?")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, again))[0] == 250
    assert (await seller_says(relay, conv))[0] == 250


async def test_the_critical_limit_counts_every_address_of_the_seller(relay_factory, capture,
                                                                    tmp_path):
    from conftest import SELLER2

    rules = RulesSettings(critical_limit=2)
    relay = await relay_factory(make_config(tmp_path, capture.port).replace(rules=rules))
    conv = await open_conv(relay, sellers=(SELLER, SELLER2))
    await opt_out(relay)
    for sender in (SELLER, SELLER2):
        data = compose(sender, conv.buyer_alias, subject="[Important] flat number",
                       body="The carrier needs your flat number to deliver.")
        assert (await send(relay.smtp_port, sender, conv.buyer_alias, data))[0] == 250
    data = compose(SELLER2, conv.buyer_alias, subject="[Important] flat number",
                   body="The carrier needs your flat number to deliver.")
    code, reply = await send(relay.smtp_port, SELLER2, conv.buyer_alias, data)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 optout.critical_limit")


async def test_buyer_messages_always_reach_the_seller(relay, conv, capture):
    await opt_out(relay)
    data = compose(BUYER, conv.seller_alias, body="Where is my parcel?")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    assert (await capture.wait_for(1))[0].rcpt_tos == [SELLER]


async def test_important_messages_past_the_limit_are_refused(relay_factory, capture, tmp_path):
    # A window of about a second, so that it also rolls over within the test.
    rules = RulesSettings(critical_limit=2, critical_window_days=1.5 / 86400)
    relay = await relay_factory(make_config(tmp_path, capture.port).replace(rules=rules))
    conv = await open_conv(relay)
    await opt_out(relay)
    for _ in range(2):
        assert (await seller_says(relay, conv, subject="[Important] flat number"))[0] == 250
    code, reply = await seller_says(relay, conv, subject="[Important] flat number")
    assert (code, reply.split(":")[0]) == (550, "5.7.1 optout.critical_limit")
    row = await last(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", ["critical",
                                                                 "optout.critical_limit"])
    await asyncio.sleep(1.6)
    assert (await seller_says(relay, conv, subject="[Important] flat number"))[0] == 250


async def test_the_cli_records_each_change(relay, tmp_path):
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n' + store_section(relay.config.store))
    for state in ("on", "off", "on"):
        result = await asyncio.to_thread(run_cli, "--config", str(cfg), "buyers", "optout",
                                         BUYER, state)
        assert result.returncode == 0, result.stderr
    shown = await asyncio.to_thread(run_cli, "--config", str(cfg), "buyers", "show", BUYER)
    assert "opted out yes" in shown.stdout and shown.stdout.count("optout ") == 3
    bad = await asyncio.to_thread(run_cli, "--config", str(cfg), "buyers", "optout", "x", "on")
    assert bad.returncode == 2 and "not a valid e-mail address" in bad.stderr
    assert await buyers.opted_out(relay.store, BUYER)
