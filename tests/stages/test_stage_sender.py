"""Authenticate alone: the envelope sender and the one From: address must be registered
addresses of the author; on the submission port the seller account stands for both."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.parcels import BUYER, SELLER, conversation, parcel, parsed, text, wire

from relay.errors import Reject
from relay.stages.sender import Authenticate, simple_from


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


# The From: read without the stdlib's parser (simple_from) where its shape is the commonest:
# wherever it answers, the stdlib's parse of the same field answers the same.
_PIECES = ["Bob", "b0b", " ", "\t", "<", ">", "@", ".", "a", "x.y", "example.com", "ex-1",
           '"', "(", ")", ",", ";", ":", "\\", "[", "]", "=?utf-8?q?x?=", "é", "-", "_", "+",
           "!", "#", "'", "{", "}", "~", "`", "|", "%", "&", "*", "/", "=", "?", "^", "$",
           "\udce9", "\r\n ", "\u00a0"]


def _stdlib_from(value: str) -> list[str]:
    message = EmailMessage(policy=policy.SMTP)
    message._headers.append(("From", value))  # raw, as the parser stores a field
    try:
        return [a.addr_spec for h in message.get_all("From")
                for a in policy.SMTP.header_factory("From", str(h)).addresses]
    except (AttributeError, IndexError, ValueError):
        return []


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_the_simple_from_reads_as_the_stdlib_does(value):
    quick = simple_from([value])
    if quick is not None:
        assert quick == _stdlib_from(value)


@pytest.mark.parametrize("value", [
    "Bob Buyer <bob.buyer@buyer-mail.example>", "bob@example.com", " Bob <b@x.y> ",
    "Bob<b@x.y>", "<b+tag@x-y.example>", "a.b!c#d@example.com",
])
def test_common_from_fields_are_read_without_the_stdlib(value):
    assert simple_from([value]) == _stdlib_from(value) != []


@pytest.mark.parametrize("value", [
    '"Bob, Buyer" <b@x.y>', "Bob (work) <b@x.y>", "=?utf-8?q?Bob?= <b@x.y>", "a@b, c@d",
    "Bob <b@x.y>\r\n (c)", "Bøb <b@x.y>", "b@[127.0.0.1]", "group: b@x.y;", "", "b..c@x.y",
    "<=?utf-8?q?x?=b@x.y>",
])
def test_other_from_fields_go_to_the_stdlib(value):
    assert simple_from([value]) is None
