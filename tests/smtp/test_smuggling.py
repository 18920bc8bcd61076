"""SMTP smuggling: an end of data the relay does not accept as one cannot start a second
message, and nothing with a bare CR or LF leaves the relay. Only <CRLF>.<CRLF> ends the data,
even now that lines ending in a bare LF or CR CR LF are read as if they ended in CRLF."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from conftest import BUYER, compose, send
from support.raw_smtp import talk

from relay.store import records

VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n",
            # CR CR LF forms: the "." line must end in CRLF itself (Postfix would strip the CRs)
            b"\r\n.\r\r\n", b"\r\r\n.\r\r\n", b"\n.\r\r\n", b"\r\r\n.\n"]
NO_BARE_CR_OR_LF = re.compile(rb"\r(?!\n)|(?<!\r)\n")


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
    assert not NO_BARE_CR_OR_LF.search(got.data)  # no bare CR or LF
    assert got.message["Subject"] == "First"
    assert len(capture.messages) == 1  # and one record (above): nothing else to deliver


def transaction(alias: str, data: bytes) -> bytes:
    """One transaction from the buyer, `data` sent as it is (the end of data is its own)."""
    return (f"MAIL FROM:<{BUYER}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n").encode() + data


@pytest.mark.parametrize("eol", [b"\n", b"\r\r\n"], ids=["LF", "CR CR LF"])
async def test_a_header_section_in_lf_or_cr_cr_lf_is_read_whole_and_smuggles_nothing(
        relay, conv, capture, eol):
    """smtplib.sendmail(..., msg.as_bytes()) ends lines in a bare LF; Postfix's smtp-source
    sends a file of CRLF lines as CR CR LF. Read as Postfix 3.9 reads them, every line as if it
    ended in CRLF: the message is delivered with its headers, and a false end of data in the
    same line ends, with a second transaction after it, is text of its body."""
    alias = conv.seller_alias
    first = compose(BUYER, alias, subject="Lamp base", body="Size 2, please.").rstrip(b"\r\n")
    smuggled = transaction(alias, f"From: {BUYER}\r\nTo: {alias}\r\nSubject: smuggled\r\n"
                                  "\r\nsecond\r\n".encode())
    data = (first + b"\r\n.\r\n" + smuggled).replace(b"\r\n", eol)
    replies = await talk(relay.smtp_port, b"EHLO client.example\r\n" + transaction(alias, data)
                         + b"\r\n.\r\nQUIT\r\n")
    assert replies.count(b"250 2.0.0 queued as") == 1, replies
    (row,) = await records.summaries(relay.store, conv.id)
    record = await records.get(relay.store, str(row["id"]))
    assert record is not None and record.raw == data + b"\r\n"  # as received
    (got,) = await capture.wait_for(1)
    assert not NO_BARE_CR_OR_LF.search(got.data)
    msg = got.message
    assert msg["From"].addresses[0].addr_spec == conv.buyer_alias
    assert msg["Subject"] == "Lamp base"
    assert msg["Date"].datetime == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    text = msg.get_content()
    assert text.startswith("Size 2, please.\r\n") and "Subject: smuggled" in text, text
    # One record for the conversation (above): the smuggled text never became a message.


@pytest.mark.parametrize("false_end", [b"\n.\r\n", b"\r\r\n.\r\r\n", b"\n.\n"],
                         ids=["LF CRLF", "CR CR LF", "LF LF"])
async def test_an_end_of_data_cut_between_two_reads_is_read_the_same(relay, conv, capture,
                                                                     false_end):
    """The reader looks for the end of data across what it read before: cut anywhere, a false
    end is still text and the true one still ends the message, read the same each time."""
    alias = conv.seller_alias
    first = compose(BUYER, alias, subject="First", body="x").rstrip(b"\r\n")
    data = first + false_end + b"after the false end\r\n.\r\n"
    start = len(first)
    cuts = [*range(start, start + len(false_end) + 1), *range(len(data) - 5, len(data))]
    for cut in cuts:
        script = b"EHLO client.example\r\n" + transaction(alias, data)
        at = len(script) - len(data) + cut
        replies = await talk(relay.smtp_port, [script[:at], script[at:] + b"QUIT\r\n"])
        assert replies.count(b"250 2.0.0 queued as") == 1, (cut, replies)
        assert not re.search(rb"^5", replies, re.MULTILINE), (cut, replies)  # no stray command
    rows = await records.summaries(relay.store, conv.id)
    kept = set()
    for row in rows:
        record = await records.get(relay.store, str(row["id"]))
        assert record is not None
        kept.add(record.raw)
    assert len(rows) == len(cuts) and len(kept) == 1, kept
    assert kept.pop().endswith(b"after the false end\r\n")
    got = await capture.wait_for(len(cuts))
    assert {g.message["Subject"] for g in got} == {"First"}


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
