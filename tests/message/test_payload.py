"""A part's payload is decoded once while it stays the same (relay.message.payload), with
what the stdlib's decode returns and registers."""

from __future__ import annotations

import base64

from relay.message.header_line import set_value
from relay.message.parsed import parse
from relay.message.payload import KEEP_UP_TO, decoded


def message(body: bytes, cte: str = "base64") -> bytes:
    return (b"From: a@b.example\r\nContent-Type: application/pdf\r\n"
            b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + body + b"\r\n")


def test_decoded_once_while_the_payload_stays():
    part = parse(message(base64.encodebytes(b"%PDF-1.4 data")))
    first = decoded(part)
    assert first == b"%PDF-1.4 data" == part.get_payload(decode=True)
    assert decoded(part) is first
    part.set_payload(base64.encodebytes(b"other").decode("ascii"))
    assert decoded(part) == b"other"
    set_value(part, "Content-Transfer-Encoding", "7bit")  # the same payload, read otherwise
    assert decoded(part) == part.get_payload(decode=True)
    assert decoded(part) != b"other"


def test_a_broken_payload_registers_its_defects_at_every_read_as_before():
    broken = message(b"QUJD\r\nR=Ez")  # bad padding
    ours, theirs = parse(broken), parse(broken)
    for _ in range(3):
        assert decoded(ours) == (theirs.get_payload(decode=True) or b"")
    assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]
    assert ours.defects  # the test reads a payload that has some


def test_a_big_payload_is_decoded_at_each_read():
    part = parse(message(base64.encodebytes(b"x" * (KEEP_UP_TO // 4 * 3 + 3000))))
    assert decoded(part) == decoded(part)
    assert decoded(part) is not decoded(part)
