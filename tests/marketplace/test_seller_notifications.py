"""Seller notification settings: buyer messages e-mailed to the chosen address, or held."""

from __future__ import annotations

import asyncio

import pytest
from conftest import BUYER, DOMAIN, SELLER, SELLER2, compose, run_cli, send, store_section
from support.record import assert_never_queued, queue_id

from relay.marketplace import sellers
from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL


async def buyer_writes(relay, conv, body: str = "Where is my parcel?") -> tuple[int, str]:
    return await send(relay.smtp_port, BUYER, conv.seller_alias,
                      compose(BUYER, conv.seller_alias, body=body))


async def test_by_default_buyer_messages_go_to_the_first_seller_address(relay, conv, capture):
    assert (await buyer_writes(relay, conv))[0] == 250
    assert (await capture.wait_for(1))[0].rcpt_tos == [SELLER]


async def test_the_notify_address_receives_buyer_messages(relay, conv, capture):
    await sellers.update(relay.store, SELLER, DOMAIN, notify_address=SELLER2)
    assert (await buyer_writes(relay, conv))[0] == 250
    got = (await capture.wait_for(1))[0]
    assert got.rcpt_tos == [SELLER2] and got.message["To"] == SELLER2
    row = (await records.summaries(relay.store, conv.id))[-1]
    assert row["disposition"] == "delivered"
    # Back to the default.
    await sellers.update(relay.store, SELLER, DOMAIN, notify_address="")
    assert (await buyer_writes(relay, conv))[0] == 250
    assert (await capture.wait_for(2))[1].rcpt_tos == [SELLER]


async def test_notifications_off_records_but_does_not_mail(relay, conv, capture):
    await sellers.update(relay.store, SELLER, DOMAIN, notify=False)
    code, reply = await buyer_writes(relay, conv)
    assert code == 250 and reply.startswith("2.0.0 queued as")
    await assert_never_queued(relay, queue_id(reply))  # held, not queued: nothing to mail
    assert capture.messages == []
    row = (await records.summaries(relay.store, conv.id))[-1]
    assert (row["direction"], row["disposition"], row["delivery"]) == (
        "buyer_to_seller", "delivered", "held")
    # Seller messages to the buyer are not affected; turning it on again mails new ones.
    seller_msg = compose(SELLER, conv.buyer_alias, body="It left today; tracking follows.")
    assert (await send(relay.smtp_port, SELLER, conv.buyer_alias, seller_msg))[0] == 250
    assert (await capture.wait_for(1))[0].rcpt_tos == [BUYER]
    await sellers.update(relay.store, SELLER, DOMAIN, notify=True)
    assert (await buyer_writes(relay, conv))[0] == 250
    assert (await capture.wait_for(2))[1].rcpt_tos == [SELLER]


async def test_the_cli_shows_and_changes_the_settings(relay, tmp_path):
    cfg = tmp_path / "cli.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n' + store_section(relay.config.store))

    def cli(*args: str):
        return asyncio.to_thread(run_cli, "--config", str(cfg), "sellers", "settings", *args)

    shown = await cli(SELLER)
    assert "e-mailed to the seller's first registered address" in shown.stdout
    changed = await cli(SELLER, "--notify", "off", "--notify-address", SELLER2)
    assert changed.returncode == 0 and "recorded, not e-mailed" in changed.stdout
    assert await sellers.current(relay.store, SELLER) == sellers.Settings(False, SELLER2)
    bad = await cli(SELLER, "--notify-address", "not-an-address")
    assert bad.returncode == 2 and "not a valid e-mail address" in bad.stderr
