"""SanitizeHeaders alone: only what a reader needs is kept, and what is kept is written anew
(Date in UTC, Content-IDs on the relay domain with their cid: links, MIME parameters a client
uses); bodies and the threading IDs (ThreadMap's) are left as they came."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.parcels import parcel, parsed, text

from relay.stages.headers import SanitizeHeaders, _date

DOMAIN = "relay.example"
RAW = (b"Received: from mx.buyer.example (203.0.113.9) by relay.example\r\n"
       b"Return-Path: <buyer@example.com>\r\n"
       b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s1; b=abc\r\n"
       b"From: Bob Buyer <buyer@example.com>\r\n"
       b"To: s1@relay.example\r\nCc: friend@example.org\r\n"
       b"Reply-To: bob.private@example.org\r\nSender: assistant@example.com\r\n"
       b"Subject: Where is my parcel?\r\n"
       b"Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
       b"Message-ID: <abc.123@mail.example.com>\r\n"
       b"In-Reply-To: <prev@relay.example>\r\nReferences: <first@relay.example>\r\n"
       b"Auto-Submitted: auto-replied (vacation of Bob)\r\n"
       b"MIME-Version: 1.0 (Mac OS X Mail 16.0 \\(3774\\))\r\n"
       b"User-Agent: Thunderbird/115.0\r\nX-Mailer: iPhone Mail\r\n"
       b"X-Originating-IP: [203.0.113.9]\r\nList-Unsubscribe: <mailto:u@example.com>\r\n"
       b"Content-Type: text/plain; charset=utf-8; format=flowed; x-contact=bob\r\n"
       b"Content-Transfer-Encoding: 8bit\r\n\r\n"
       b"Hello,\r\nwhere is it? Bob, 555 0100\r\n")


async def scrubbed(message: EmailMessage) -> EmailMessage:
    held = parcel(message)
    await SanitizeHeaders(DOMAIN)(held)
    assert held.reasons == []
    return held.message


async def test_only_what_a_reader_needs_is_kept():
    message = await scrubbed(parsed(RAW))
    assert [name.lower() for name in message] == [
        "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
        "mime-version", "content-type", "content-transfer-encoding"]


async def test_kept_fields_are_written_anew_without_what_identifies():
    message = await scrubbed(parsed(RAW))
    assert message["Date"] == "Thu, 26 Nov 2026 09:00:00 +0000"  # no sender time zone
    assert message["MIME-Version"] == "1.0"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message.get_params() == [("text/plain", ""), ("charset", "utf-8"),
                                    ("format", "flowed")]  # x-contact gone
    assert message["Subject"] == "Where is my parcel?"


async def test_bodies_and_threading_ids_are_left_as_they_came():
    original = parsed(RAW)
    message = await scrubbed(parsed(RAW))
    assert message.get_payload(decode=True) == original.get_payload(decode=True)
    assert message.get_payload(decode=True) == b"Hello,\r\nwhere is it? Bob, 555 0100\r\n"
    for name in ("Message-ID", "In-Reply-To", "References"):
        assert message[name] == original[name]


async def test_a_file_keeps_its_name_and_loses_its_dates_and_x_parameters():
    message = text("The list.\n")
    message.add_attachment(b"1,2\n", maintype="text", subtype="csv", filename="list.csv",
                           params={"x-owner": "bob"})  # on Content-Type
    sent = next(message.iter_attachments())
    sent.set_param("creation-date", "Mon, 23 Nov 2026 08:00:00 -0500",
                   header="Content-Disposition")
    (part,) = (await scrubbed(message)).iter_attachments()
    assert part.get_params(header="Content-Disposition") == [("attachment", ""),
                                                             ("filename", "list.csv")]
    assert part.get_params() == [("text/csv", "")]
    assert part.get_content() == "1,2\n"


async def test_a_missing_date_is_supplied_in_utc():
    message = await scrubbed(text("Hello\n"))
    assert message["Date"].endswith(" +0000")


async def test_content_ids_move_to_the_relay_domain_and_their_links_follow():
    message = text("See the picture.\n")
    message.add_alternative('<p>The crack: <img src="cid:photo1@laptop.bob-home.example"></p>',
                            subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n", "image", "png",
                                         cid="<photo1@laptop.bob-home.example>")
    message = await scrubbed(message)
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert cid.endswith("@relay.example") and "bob-home" not in cid
    html = message.get_body(("html",)).get_content()
    assert f'src="cid:{cid}"' in html and "bob-home" not in html


async def test_a_forwarded_message_keeps_only_subject_date_and_mime_fields():
    inner = text("The original.\n", subject="Invoice", From="sally@seller.example",
                 Date="Mon, 23 Nov 2026 08:00:00 -0500", X_Mailer="Outlook 16.0")
    outer = text("Forwarding this.\n")
    outer.add_attachment(inner)
    outer.get_payload()[1]["X-Attachment-Id"] = "f_abc123"
    attached = (await scrubbed(outer)).get_payload()[1]
    assert "X-Attachment-Id" not in attached
    forwarded = attached.get_payload()[0]
    assert [k.lower() for k in forwarded] == [
        "subject", "date", "content-type", "content-transfer-encoding", "mime-version"]
    assert forwarded["Date"] == "Mon, 23 Nov 2026 13:00:00 +0000"
    assert forwarded.get_content() == "The original.\n"


def _header_datetime(value: str) -> object:
    message = EmailMessage(policy=policy.SMTP)
    message._headers.append(("Date", value))  # raw, as the parser stores a field
    try:
        return message["Date"].datetime
    except Exception as error:  # the same error, or the same value
        return type(error)


def _read_date(value: str) -> object:
    message = EmailMessage(policy=policy.SMTP)
    message._headers.append(("Date", value))
    try:
        return _date(message)
    except Exception as error:
        return type(error)


@pytest.mark.parametrize("value", [
    "Thu, 26 Nov 2026 10:00:00 +0100", "26 Nov 2026 10:00 -0000", "Thu, 26 Nov 2026 10:00:00",
    "Thu, 26 Nov 2026\r\n 10:00:00 +0100", "", " ", "yesterday", "Thu, 32 Nov 2026 10:00 +0000",
    "Thu, 26 Nov 99999999999999999999 10:00 +0000", "Thu, 26 Nov 2026 10:00:00 EST",
    "Thu, 26 Nov 2026 10:00:00 +2400", "Thu, 26 Nov 26 25:61:61 GMT",
])
def test_the_date_is_read_as_the_date_header_reads_it(value):
    assert _read_date(value) == _header_datetime(value)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([
    "Thu, ", "26", " ", "Nov", "2026", "10:00", ":00", "+0100", "-0000", "GMT", "EST", "99",
    "0", "-", "+", ",", "\r\n ", "(c)", "\udce9", "é", "x", "Feb", "29", "1900", "9999"]),
    max_size=10).map("".join))
def test_any_date_is_read_as_the_date_header_reads_it(value):
    assert _read_date(value) == _header_datetime(value)
