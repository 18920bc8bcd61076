"""SMTP smuggling: an end of data the relay does not accept as one cannot start a second
message, and nothing with a bare CR or LF leaves the relay."""

from __future__ import annotations

import re

import pytest
from conftest import BUYER, compose, send
from support.raw_smtp import talk

from relay.store import records

VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]


@pytest.mark.parametrize("end", VARIANTS, ids=[repr(v) for v in VARIANTS])
async def test_a_false_end_of_data_smuggles_nothing(relay, conv, capture, end):
    alias = conv.seller_alias
    smuggled = (f"MAIL FROM:<{BUYER}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n"
                f"From: {BUYER}\r\nTo: {alias}\r\nSubject: smuggled\r\n\r\nsecond\r\n").encode()
    first = compose(BUYER, alias, subject="First", body="Where is my parcel?").rstrip(b"\r\n")
    script = (b"EHLO client.example\r\n" + f"MAIL FROM:<{BUYER}>\r\n".encode()
              + f"RCPT TO:<{alias}>\r\n".encode() + b"DATA\r\n" + first + end + smuggled
              + b"\r\n.\r\nQUIT\r\n")
    replies = await talk(relay.smtp_port, script)
    # One message: the false end was data, and the "second transaction" is its text.
    assert replies.count(b"250 2.0.0 queued as") == 1, replies
    rows = await records.summaries(relay.store, conv.id)
    assert len(rows) == 1
    got = (await capture.wait_for(1))[0]
    assert not re.search(rb"\r(?!\n)|(?<!\r)\n", got.data)  # no bare CR or LF
    assert got.message["Subject"] == "First"
    assert len(capture.messages) == 1  # and one record (above): nothing else to deliver


async def test_mail_from_one_alias_to_another_is_refused(relay, conv):
    data = compose(conv.buyer_alias, conv.seller_alias, body="loop?")
    code, reply = await send(relay.smtp_port, conv.buyer_alias, conv.seller_alias, data)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 sender.unregistered")


async def test_pipelined_transactions_and_dot_stuffing_survive_the_data_reader(relay, conv,
                                                                               capture):
    """The body is read in runs of lines: what follows the end of data in the same packet is
    the next transaction, and a leading dot is removed from every line that has one."""
    alias = conv.seller_alias
    body = b"..leading dot\r\n...\r\n.. \r\nplain\r\n"
    first = compose(BUYER, alias, subject="One", body="x").rstrip(b"\r\n").rsplit(b"\r\n", 1)[0]
    message = first + b"\r\n" + body
    one = (f"MAIL FROM:<{BUYER}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n").encode() + message + b".\r\n"
    two = one.replace(b"Subject: One", b"Subject: Two")
    replies = await talk(relay.smtp_port, b"EHLO client.example\r\n" + one + two + b"QUIT\r\n")
    assert replies.count(b"250 2.0.0 queued as") == 2, replies
    got = await capture.wait_for(2)
    assert sorted(g.message["Subject"] for g in got) == ["One", "Two"]
    rows = await records.summaries(relay.store, conv.id)
    record = await records.get(relay.store, str(rows[0]["id"]))
    assert record is not None and record.raw.endswith(b"\r\n.leading dot\r\n..\r\n. \r\nplain\r\n")
