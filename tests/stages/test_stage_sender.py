"""Authenticate alone: the envelope sender and the one From: address must be registered
addresses of the author; on the submission port the seller account stands for both."""

from __future__ import annotations

import pytest
from support.parcels import BUYER, SELLER, conversation, parcel, parsed, text, wire

from relay.errors import Reject
from relay.stages.sender import Authenticate


async def refusal(held) -> Reject:
    with pytest.raises(Reject) as caught:
        await Authenticate()(held)
    assert caught.value.code == "sender.unregistered"
    assert caught.value.smtp_reply.startswith("550 5.7.1 sender.unregistered: ")
    return caught.value


@pytest.mark.parametrize("to, author", [("seller", BUYER), ("buyer", SELLER)])
async def test_the_registered_author_passes_and_nothing_changes(to, author):
    held = parcel(text("Hello\n", From=f"Someone <{author}>"), to=to)
    before = wire(held.message)
    await Authenticate()(held)
    assert wire(held.message) == before and held.reasons == []


async def test_matching_ignores_case_of_local_part_and_domain():
    held = parcel(text("Hello\n", From="BUYER@Example.COM"), mail_from="Buyer@EXAMPLE.com")
    await Authenticate()(held)


async def test_an_unregistered_envelope_sender_is_refused_before_from_is_read():
    held = parcel(text("Hello\n", From=BUYER), mail_from="stranger@example.org")
    assert "envelope sender is not a registered buyer address" in (await refusal(held)).reason


@pytest.mark.parametrize("from_header, says", [
    ("stranger@example.org", "From: address is not a registered buyer"),
    (f"{BUYER}, other@example.org", "exactly one address"),
    (None, "exactly one address"),
    ("undisclosed-recipients:;", "exactly one address"),  # a group of none
])
async def test_from_must_be_one_registered_address(from_header, says):
    headers = {"From": from_header} if from_header else {}
    assert says in (await refusal(parcel(text("Hello\n", **headers)))).reason


async def test_a_party_writing_to_its_own_alias_is_a_stranger():
    """The buyer's address on the buyer alias: it would be the seller writing."""
    held = parcel(text("Hello\n", From=BUYER), to="buyer", mail_from=BUYER)
    assert "not a registered seller address" in (await refusal(held)).reason


async def test_a_raw_utf8_from_matches_its_registered_address():
    """SMTPUTF8: the From: bytes are UTF-8 as sent; parsed, they must still match."""
    buyer = "jörg@exämple.de"
    raw = (f"From: Jörg <{buyer}>\r\nSubject: Hallo\r\n\r\nHallo\r\n").encode()
    conv = conversation(buyers=(buyer,))
    held = parcel(parsed(raw), conv=conv, mail_from=buyer, smtputf8=True)
    await Authenticate()(held)
    held = parcel(parsed(raw.replace("jörg".encode(), "jürg".encode())), conv=conv,
                  mail_from=buyer, smtputf8=True)
    assert "From: address is not" in (await refusal(held)).reason


async def test_on_the_submission_port_the_account_decides_not_the_headers():
    own = parcel(text("Hello\n", From="anything@elsewhere.example"), to="buyer",
                 mail_from="bounce@elsewhere.example", login=SELLER)
    await Authenticate()(own)
    other = parcel(text("Hello\n", From=SELLER), to="buyer", login="seller@other.example")
    assert "own conversations" in (await refusal(other)).reason
    buyer_side = parcel(text("Hello\n", From=BUYER), to="seller", login=SELLER)
    assert "own conversations" in (await refusal(buyer_side)).reason
