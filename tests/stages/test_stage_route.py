"""Route alone: mail to an alias of a closed conversation is refused, whichever side writes."""

from __future__ import annotations

import pytest
from support.parcels import conversation, opened_store, parcel, stored_conversation, text, wire

from relay.errors import Reject
from relay.marketplace import conversations
from relay.stages.route import Route


@pytest.mark.parametrize("to", ["seller", "buyer"])
async def test_a_closed_conversation_is_refused_as_an_unknown_alias_would_be(to):
    closed = parcel(text("Still there?\n"), to=to,
                    conv=conversation(closed_at="2026-11-26T10:00:00+00:00"))
    with pytest.raises(Reject) as caught:
        await Route()(closed)
    assert caught.value.code == "alias.closed"
    assert caught.value.smtp_reply == "550 5.1.1 alias.closed: this conversation is closed"


async def test_an_open_conversation_passes_untouched():
    held = parcel(text("When will it ship?\n"))
    before = wire(held.message)
    await Route()(held)
    assert wire(held.message) == before
    assert held.reasons == [] and held.delivered is None


async def test_a_conversation_closed_in_the_store_is_refused(tmp_path):
    """The conversation as the intake loads it after `relay close`: closed_at is set."""
    async with opened_store(tmp_path) as store:
        conv = await stored_conversation(store)
        await Route()(parcel(text("Hello\n"), conv=conv))  # open: no refusal
        closed = await conversations.close(store, "relay.example", conv.id)
    with pytest.raises(Reject) as caught:
        await Route()(parcel(text("Hello\n"), conv=closed))
    assert caught.value.code == "alias.closed"
