"""LoopGuard alone: Received lines are counted (Encode writes as many back), and past the
limit the message is refused as a loop."""

from __future__ import annotations

import pytest
from support.parcels import parcel, text, wire

from relay.errors import Reject
from relay.stages.loop import LoopGuard


def with_hops(count: int):
    message = text("Hello\n")
    for hop in range(count):
        message["Received"] = f"from host{hop}.example by mx{hop}.example; Thu, 26 Nov 2026"
    return message


async def test_hops_are_counted_and_the_message_left_as_it_is():
    held = parcel(with_hops(3))
    before = wire(held.message)
    await LoopGuard(30)(held)
    assert held.hops == 3
    assert wire(held.message) == before and held.reasons == []  # Encode replaces them


async def test_no_received_line_is_no_hop():
    held = parcel(text("Hello\n"))
    await LoopGuard(0)(held)
    assert held.hops == 0


async def test_the_limit_itself_passes_one_more_is_a_loop():
    await LoopGuard(5)(parcel(with_hops(5)))
    held = parcel(with_hops(6))
    with pytest.raises(Reject) as caught:
        await LoopGuard(5)(held)
    assert caught.value.code == "loop"
    assert caught.value.smtp_reply == "554 5.4.6 loop: mail loop detected (6 Received headers)"
    assert held.hops == 6  # the record says how many it came with
