"""Lines that end in a bare LF (smtplib.sendmail of msg.as_bytes()) or in CR CR LF (Postfix's
smtp-source sending a file of CRLF lines) are read as Postfix 3.9 reads them, as if they
ended in CRLF, over real SMTP; the record keeps the bytes as they came. The end of data stays
<CRLF>.<CRLF> only: tests/smtp/test_smuggling.py."""

from __future__ import annotations

import asyncio
import hashlib
import smtplib

import pytest
from conftest import BUYER, SELLER, compose, send
from support.raw_smtp import talk

from relay.marketplace import message_center
from relay.marketplace.message_center import Filters
from relay.pipeline.lanes import BIG
from relay.store import records


def sendmail(port: int, mail_from: str, rcpt: str, data: bytes) -> None:
    """smtplib as an application uses it: bytes go out with their line ends as they are
    (and a dot put in front of every line that starts with one, after a LF too)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail(mail_from, [rcpt], data)


async def only_record(relay, conv) -> records.Record:
    (row,) = await records.summaries(relay.store, conv.id)
    record = await records.get(relay.store, str(row["id"]))
    assert record is not None
    return record


async def test_smtplib_with_bare_lf_is_delivered_and_recorded_as_sent(relay, conv, capture):
    body = "Size 2, please.\n.5 mm thread\nThanks"
    data = compose(BUYER, conv.seller_alias, subject="Lamp base", body=body)
    data = data.replace(b"\r\n", b"\n").rstrip(b"\n")
    await asyncio.to_thread(sendmail, relay.smtp_port, BUYER, conv.seller_alias, data)
    (got,) = await capture.wait_for(1)
    msg = got.message
    assert msg["From"].addresses[0].addr_spec == conv.buyer_alias
    assert msg["Subject"] == "Lamp base"
    assert msg.get_content() == "Size 2, please.\r\n.5 mm thread\r\nThanks\r\n"
    record = await only_record(relay, conv)
    # smtplib ends the data with CRLF; its dot-stuffing is undone, the line ends are kept.
    assert record.raw == data + b"\r\n"
    assert (record.size, record.sha256) == (len(record.raw), hashlib.sha256(record.raw).hexdigest())


async def test_a_big_message_in_bare_lf_is_one_of_many_lines(relay, conv, capture):
    """Lines end at a LF for the 64 KiB line limit too; past BIG it is read in a worker."""
    lines = [f"line {n} of the catalogue, with its price list" for n in range(7000)]
    data = compose(BUYER, conv.seller_alias, body="\n".join(lines))
    data = data.replace(b"\r\n", b"\n").rstrip(b"\n")
    assert len(data) > BIG and b"\r" not in data
    await asyncio.to_thread(sendmail, relay.smtp_port, BUYER, conv.seller_alias, data)
    (got,) = await capture.wait_for(1)
    assert got.message.get_content().splitlines() == lines
    assert (await only_record(relay, conv)).raw == data + b"\r\n"


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["LF, lines after it", "CRLF, the last"])
async def test_a_line_over_64_kib_is_still_refused(relay, conv, capture, eol):
    """Measured to its LF. Last, its CR is read with it when the reader stops at the limit,
    and the LF and ".<CRLF>" after it still end the data: the end is looked for across reads."""
    data = compose(BUYER, conv.seller_alias, body="short\nLONG").replace(b"\r\n", eol)
    data = data.replace(b"LONG", b"x" * 70_000 + (eol + b"short" if eol == b"\n" else b""))
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await asyncio.to_thread(sendmail, relay.smtp_port, BUYER, conv.seller_alias, data)
    assert refused.value.smtp_code == 552, refused.value
    assert (await only_record(relay, conv)).reasons == ("line_length",)


async def test_a_cr_cr_lf_auto_reply_is_no_answer(relay, conv, capture):
    """Auto-Submitted on a later line of a CR CR LF header section: the record says auto_reply,
    and the message center, reading the record, does not take it for the seller's answer."""
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    asked = reply.rsplit(" ", 1)[1]
    away = compose(SELLER, conv.buyer_alias, subject="Away", body="Back on Monday.",
                   Auto_Submitted="auto-replied").replace(b"\r\n", b"\r\r\n")
    script = (f"EHLO client.example\r\nMAIL FROM:<{SELLER}>\r\nRCPT TO:<{conv.buyer_alias}>"
              f"\r\nDATA\r\n").encode() + away + b".\r\nQUIT\r\n"
    replies = await talk(relay.smtp_port, script)
    assert b"250 2.0.0 queued as" in replies, replies
    rows = await records.summaries(relay.store, conv.id)
    assert [r["reasons"] for r in rows] == [[], ["auto_reply"]]
    needing = await message_center.query(relay.store, Filters(seller=SELLER, needs_response=True))
    assert [r["id"] for r in needing] == [asked]
    got = await capture.wait_for(2)
    assert got[1].message["Auto-Submitted"] == "auto-replied"


async def test_a_refused_cr_cr_lf_message_keeps_its_header_section_and_the_body_start(
        relay, conv, capture):
    """A refused message is recorded in part: its header section, found where the lines end in
    CR CR LF, and store.refused_body_keep bytes of its body, with the size and SHA-256 of the
    whole as received."""
    stranger = "stranger@elsewhere.example"
    body = "\n".join(f"line {n} of a long letter" for n in range(8000))
    data = compose(stranger, conv.seller_alias, body=body).replace(b"\r\n", b"\r\r\n")
    script = (f"EHLO client.example\r\nMAIL FROM:<{stranger}>\r\nRCPT TO:<{conv.seller_alias}>"
              f"\r\nDATA\r\n").encode() + data + b".\r\nQUIT\r\n"
    replies = await talk(relay.smtp_port, script)
    assert b"550 5.7.1 sender.unregistered" in replies, replies
    record = await only_record(relay, conv)
    head = data.index(b"\r\r\n\r\r\n") + 6
    assert record.raw == data[:head + relay.config.store.refused_body_keep]
    assert (record.size, record.sha256) == (len(data), hashlib.sha256(data).hexdigest())
