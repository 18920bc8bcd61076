"""ThreadMap alone, on the real store: every message gets a fresh Message-ID on the relay
domain; In-Reply-To and References are mapped to the IDs the reader knows (by the record);
IDs the conversation does not know are dropped."""

from __future__ import annotations

import re

import pytest
from support.parcels import opened_store, parcel, record, stored_conversation, text

from relay.stages.thread_map import ThreadMap

DOMAIN = "relay.example"
RELAY_ID = re.compile(r"<[a-z2-7]{24}@relay\.example>")


@pytest.fixture
async def store(tmp_path):
    async with opened_store(tmp_path) as opened:
        yield opened


@pytest.fixture
async def conv(store):
    """One buyer message on the record: the buyer's client named it <q1@example.com>, the
    seller received it as <r1@relay.example>."""
    made = await stored_conversation(store)
    await record(store, parcel(text("Has it shipped?"), conv=made),
                 original_id="<q1@example.com>", relay_id="<r1@relay.example>")
    return made


async def mapped(store, held):
    await ThreadMap(store, DOMAIN)(held)
    assert held.reasons == []
    return held.message


async def test_every_message_gets_a_fresh_id_and_its_own_is_kept_for_the_record(store, conv):
    held = parcel(text("Hello", Message_ID="<abc.123@laptop.buyer-home.example>"), conv=conv)
    message = await mapped(store, held)
    assert held.original_message_id == "<abc.123@laptop.buyer-home.example>"
    assert RELAY_ID.fullmatch(held.relay_message_id)
    assert message.get_all("Message-ID") == [held.relay_message_id]
    again = parcel(text("Hello"), conv=conv)  # none of its own
    await mapped(store, again)
    assert again.original_message_id is None and again.relay_message_id != held.relay_message_id


async def test_a_reply_names_the_id_its_reader_wrote(store, conv):
    answer = parcel(text("Yes, Monday.", In_Reply_To="<r1@relay.example>",
                         References="<r1@relay.example>"), to="buyer", conv=conv)
    message = await mapped(store, answer)
    assert (message["In-Reply-To"], message["References"]) == ("<q1@example.com>",) * 2


async def test_a_party_naming_its_own_message_names_what_the_reader_saw(store, conv):
    follow_up = parcel(text("Any news?", In_Reply_To="<q1@example.com>"), conv=conv)
    assert (await mapped(store, follow_up))["In-Reply-To"] == "<r1@relay.example>"


async def test_ids_the_conversation_does_not_know_are_dropped(store, conv):
    other = await stored_conversation(store, buyer="someone.else@example.org")
    await record(store, parcel(text("Hi"), conv=other), original_id="<o1@example.org>",
                 relay_id="<o2@relay.example>")
    answer = parcel(text("Yes.", In_Reply_To="<unknown@seller.example>",
                         References="<o2@relay.example> <unknown@seller.example>"
                                    " <r1@relay.example>"), to="buyer", conv=conv)
    message = await mapped(store, answer)
    assert message["In-Reply-To"] is None
    assert message["References"] == "<q1@example.com>"


async def test_an_original_id_that_cannot_be_written_is_left_out(store):
    """An SMTPUTF8 client's Message-ID with non-ASCII in it is not encoded into a header."""
    conv = await stored_conversation(store)
    await record(store, parcel(text("Hallo"), conv=conv), original_id="<jörg.1@exämple.de>",
                 relay_id="<r9@relay.example>")
    answer = parcel(text("Ja.", In_Reply_To="<r9@relay.example>"), to="buyer", conv=conv)
    message = await mapped(store, answer)
    assert message["In-Reply-To"] is None and message["References"] is None
