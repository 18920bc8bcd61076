"""Encode alone: the message as it goes on the wire (CRLF only, lines within 998 octets), one
scrubbed Received line per hop it came with, SMTPUTF8 only when needed, a header that would
go out as two fields stopped, and the DKIM signature over the very bytes delivered."""

from __future__ import annotations

import random
from email.generator import BytesGenerator

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from support.parcels import conversation, parcel, parsed, text

from relay.delivery.dkim_sign import KeySigner, Signer, dns_record
from relay.stages.mime import Encode, UnsoundHeader, _Generator

DOMAIN = "relay.example"


def header_and_body(wire: bytes) -> tuple[bytes, bytes]:
    head, _, body = wire.partition(b"\r\n\r\n")
    return head, body


async def encoded(held, signer: Signer | None = None) -> bytes:
    await Encode(DOMAIN, signer)(held)
    assert held.delivered is not None and held.reasons == []
    return held.delivered


async def test_the_wire_is_crlf_only_and_the_content_as_it_was():
    message = text("Line one\nLine two\rstray CR\n\nLast\n")
    held = parcel(message)
    wire = await encoded(held)
    assert wire.endswith(b"\r\n")
    assert b"\n" not in wire.replace(b"\r\n", b"") and b"\r" not in wire.replace(b"\r\n", b"")
    sent = parsed(wire)
    assert sent["Subject"] == "About order 112-1234567-1234567"
    assert sent.get_content().splitlines() == ["Line one", "Line two", "stray CR", "", "Last"]


async def test_each_hop_becomes_a_received_line_that_names_only_the_relay():
    held = parcel(text("Hello\n", Received="from mx.buyer-home.example (203.0.113.9)"))
    held.hops = 2  # as LoopGuard counted them
    head, _ = header_and_body(await encoded(held))
    lines = head.split(b"\r\n")
    assert lines[0] == b"Received: by relay.example (relay) with ESMTP id m1;"
    assert lines[2:6:2] == [b"Received: by relay.example (earlier hop, details removed);"] * 2
    # SanitizeHeaders, before it, drops the sender's own; Encode only puts the relay's on top.
    assert lines[6].startswith(b"Subject:") and b"203.0.113.9" in head


async def test_long_lines_are_folded_within_the_limit():
    long_line = " ".join(["word"] * 600)  # 2999 characters
    held = parcel(text(long_line + "\n"))
    _, body = header_and_body(await encoded(held))
    assert max(len(line) for line in body.split(b"\r\n")) <= 998
    assert parsed(await encoded(parcel(text(long_line + "\n")))).get_content().split() == (
        long_line.split())


@pytest.mark.parametrize("smtputf8, reader, utf8", [
    (False, "seller@example.net", False),
    (True, "seller@example.net", True),  # it came as SMTPUTF8: its headers may be raw UTF-8
    (False, "jörg@exämple.de", True),  # a reader whose address needs it
])
async def test_smtputf8_only_when_needed(smtputf8, reader, utf8):
    held = parcel(text("Hallo\n"), conv=conversation(sellers=(reader,)), smtputf8=smtputf8)
    await encoded(held)
    assert held.smtputf8_out is utf8


async def test_a_header_that_would_go_out_as_two_fields_is_stopped():
    message = text("Hello\n")
    message._headers.append(("Subject", "Hi\r\nBcc: everyone@example.org"))  # a writer's bug
    held = parcel(message)
    with pytest.raises(UnsoundHeader):
        await Encode(DOMAIN)(held)
    assert held.delivered is None


async def test_the_signature_covers_the_bytes_delivered():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    record = dns_record(pem).encode()

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name.rstrip(b".") == b"s1._domainkey.relay.example" else None

    wire = await encoded(parcel(text("Where is it?\n")),
                         Signer([KeySigner(DOMAIN, "s1", pem)]))
    assert wire.startswith(b"DKIM-Signature: v=1; a=rsa-sha256;")
    assert dkim.verify(wire, dnsfunc=txt)
    assert not dkim.verify(wire.replace(b"Where is it?", b"Where is it!"), dnsfunc=txt)


@pytest.mark.parametrize("around", ["--{}--", "x\n--{}\n", "--{}\r\n", "--{}.0--\n--{}\n",
                                    "no boundary here"])
def test_a_boundary_is_drawn_as_the_stdlib_draws_it(around):
    """Encode's generator skips the stdlib's regular expression when the drawn boundary is
    not in the text at all; where it is (a sender cannot know it), the stdlib's search
    decides, and the same boundary comes out."""
    random.seed(7)
    drawn = BytesGenerator._make_boundary()
    text = around.format(drawn, drawn).encode("ascii")
    random.seed(7)
    ours = _Generator._make_boundary(text)
    random.seed(7)
    assert ours == BytesGenerator._make_boundary(text)
    assert (ours == drawn) == (around in ("--{}\r\n", "no boundary here"))


def test_a_header_object_is_folded_once_for_each_policy():
    from email.headerregistry import Address

    from relay.stages.addresses import _made
    from relay.stages.mime import WIRE, WIRE_UTF8

    made = _made("From", "Buyer of order 112-1234567-1234567",
                 "x" * 60 + "@relay.example")
    fresh = WIRE.header_factory("From", Address("Buyer of order 112-1234567-1234567",
                                                addr_spec="x" * 60 + "@relay.example"))
    for policy in (WIRE, WIRE_UTF8, WIRE.clone(max_line_length=40), WIRE):
        assert policy.fold_binary("From", made) == policy.fold_binary("From", fresh)
        assert policy.fold_binary("From", made) is policy.fold_binary("From", made)
    assert WIRE.clone(max_line_length=40).fold_binary("From", made).count(b"\r\n") > 1
