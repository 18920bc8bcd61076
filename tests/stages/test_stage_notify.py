"""Notifications alone, on the real store: a buyer message goes to the seller's chosen
address, or is held when the seller turned notifications off; seller messages are not its
business."""

from __future__ import annotations

import pytest
from support.parcels import (
    DOMAIN,
    SELLER,
    opened_store,
    parcel,
    stored_conversation,
    text,
    wire,
)

from relay.marketplace import sellers
from relay.stages.notify import Notifications


@pytest.fixture
async def store(tmp_path):
    async with opened_store(tmp_path) as opened:
        yield opened


@pytest.fixture
async def conv(store):
    return await stored_conversation(store)


async def test_by_default_the_seller_is_written_to_at_the_registered_address(store, conv):
    held = parcel(text("Is it blue?"), conv=conv)
    before = wire(held.message)
    await Notifications(store)(held)
    assert (held.deliver_to, held.hold, held.recipient) == (None, False, SELLER)
    assert wire(held.message) == before and held.reasons == []


async def test_a_chosen_address_receives_buyer_messages(store, conv):
    await sellers.update(store, "Seller@Example.NET", DOMAIN,
                         notify_address="orders@seller-desk.example")
    held = parcel(text("Is it blue?"), conv=conv)
    await Notifications(store)(held)
    assert (held.deliver_to, held.recipient) == ("orders@seller-desk.example",) * 2
    assert held.hold is False


async def test_notifications_off_holds_the_message(store, conv):
    await sellers.update(store, SELLER, DOMAIN, notify=False)
    held = parcel(text("Is it blue?"), conv=conv)
    await Notifications(store)(held)
    assert held.hold is True and held.deliver_to is None
    await sellers.update(store, SELLER, DOMAIN, notify=True)  # the latest setting holds
    again = parcel(text("Is it blue?"), conv=conv)
    await Notifications(store)(again)
    assert again.hold is False


async def test_seller_messages_are_neither_held_nor_redirected(store, conv):
    await sellers.update(store, SELLER, DOMAIN, notify=False,
                         notify_address="orders@seller-desk.example")
    held = parcel(text("Yes, blue."), to="buyer", conv=conv)
    await Notifications(store)(held)
    assert (held.deliver_to, held.hold, held.recipient) == (None, False, conv.buyers[0])
