"""Inputs a review found the rules mishandling: each one through the relay over SMTP."""

from __future__ import annotations

import pytest
from conftest import BUYER, SELLER, compose, send

from relay.store import records

MARKER = "[contact details removed]"


async def relay_and_read(relay, capture, data: bytes, sender: str, alias: str):
    code, reply = await send(relay.smtp_port, sender, alias, data)
    assert code == 250, reply
    return (await capture.wait_for(1))[0]


def raw(alias: str, head: str, body: str) -> bytes:
    text = (f"From: {BUYER}\nTo: {alias}\nSubject: Order question\nMIME-Version: 1.0\n"
            f"{head}\n\n{body}")
    return text.replace("\n", "\r\n").encode("utf-8", "surrogateescape")


async def test_hyphen_chains_do_not_stall_the_relay(relay, conv, capture):
    # "a-dot-a-dot-..." once took seconds per extra link (exponential backtracking).
    body = "Hi " + "a-dot-" * 40 + "x\nWrite to sally-at-shop-dot-com please.\n"
    got = await relay_and_read(relay, capture, compose(BUYER, conv.seller_alias, body=body),
                               BUYER, conv.seller_alias)
    assert "sally-at-shop" not in got.message.get_content()


@pytest.mark.parametrize("header", [
    "Subject: =?utf-8?q?call_+49_176_12345678=0Aok?=",
    "Content-Description: =?utf-8?q?mail_sally@gmail.com=0D=0Ax?=",
])
async def test_a_line_break_in_a_redacted_header_is_not_a_451(relay, conv, capture, header):
    name = header.split(":")[0]
    data = raw(conv.seller_alias, f"Content-Type: text/plain\n{header}",
               "Where is my parcel?\n").replace(b"Subject: Order question\r\n", b"")
    got = await relay_and_read(relay, capture, data, BUYER, conv.seller_alias)
    value = str(got.message[name])
    assert MARKER in value and "\n" not in value and "12345678" not in value


async def test_a_charset_python_cannot_decode_by_is_not_a_451(relay, conv, capture):
    data = raw(conv.seller_alias, "Content-Type: text/plain; charset=idna\n"
               "Content-Transfer-Encoding: 8bit", "Hello, when will it ship? caf\udce9\n")
    got = await relay_and_read(relay, capture, data, BUYER, conv.seller_alias)
    assert b"when will it ship?" in got.data


async def test_preamble_epilogue_and_text_files_are_redacted(relay, conv, capture):
    body = ('--b\nContent-Type: text/plain\n\nSee the notes.\n--b\n'
            'Content-Type: application/octet-stream; name="notes.txt"\n'
            'Content-Disposition: attachment; filename="notes.txt"\n\n'
            "mail me: sally@gmail.com or call +49 176 12345678\n--b--\n"
            "Epilogue: call +49 176 12345678\n")
    data = raw(conv.seller_alias, 'Content-Type: multipart/mixed; boundary="b"',
               "Preamble: mail sally@gmail.com\n" + body)
    got = await relay_and_read(relay, capture, data, BUYER, conv.seller_alias)
    assert b"sally@gmail" not in got.data and b"12345678" not in got.data
    notes = got.message.get_payload()[1]
    # Read and redacted as text, in the type it declared.
    assert notes.get_filename() == "notes.txt"
    assert notes.get_content_type() == "application/octet-stream"
    row = (await records.summaries(relay.store, conv.id))[-1]
    assert set(row["reasons"]) == {"contact.email", "contact.phone"}


@pytest.mark.parametrize("markup", [
    '<p>Call +49 176 <span style="display:none">Q</span>1234 5678</p>',
    '<p>Call 0176<span style="font-size:0">Q</span>12345678</p>',
    '<table summary="sally@gmail.com"><tr><td lang="sally@gmail.com">x</td></tr></table>',
    '<p style="--x: sally@gmail.com; color: red">x</p>',
])
async def test_html_cannot_hide_contact_details(relay, conv, capture, markup):
    from email import policy
    from email.message import EmailMessage

    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = BUYER, conv.seller_alias, "Order question"
    msg.set_content("Where is my parcel?")
    msg.add_alternative(f"<html><body>{markup}<p>Where is my parcel?</p></body></html>",
                        subtype="html")
    got = await relay_and_read(relay, capture, msg.as_bytes(), BUYER, conv.seller_alias)
    html = got.message.get_body(("html",)).get_content()
    assert "12345678" not in html and "1234 5678" not in html and "sally@" not in html
    assert "Where is my parcel?" in html


async def test_header_parameters_and_comments_carry_nothing(relay, conv, capture):
    data = raw(conv.seller_alias, 'Content-Type: text/plain; charset=us-ascii;'
               ' x-contact="sally@gmail.com"\nContent-Language: en (call +49 176 12345678)',
               "Where is my parcel?\n")
    got = await relay_and_read(relay, capture, data, BUYER, conv.seller_alias)
    assert b"sally@gmail" not in got.data and b"12345678" not in got.data
    assert got.message.get_content_charset() == "us-ascii"


@pytest.mark.parametrize("body", [
    "The Artikel-Nr. 123456789 on the invoice is wrong, can you check?",
    "Kunden-Nr. 987654321: did the refund go out?",
    "Barcode 4006381333931 is on the box; is it the 2024 model?",
])
async def test_order_numbers_survive(relay, conv, capture, body):
    got = await relay_and_read(relay, capture, compose(BUYER, conv.seller_alias, body=body),
                               BUYER, conv.seller_alias)
    assert got.message.get_content().strip() == body


async def test_a_redaction_keeps_the_space_after_it(relay, conv, capture):
    body = "Bitte an Packstation 123 liefern, geht das?"
    got = await relay_and_read(relay, capture, compose(BUYER, conv.seller_alias, body=body),
                               BUYER, conv.seller_alias)
    assert got.message.get_content().strip() == f"Bitte an {MARKER} liefern, geht das?"


@pytest.mark.parametrize("body", [
    "The display shows code ERR4 after start-up; please send it back and I will swap it.",
    "Did you use a discount code at checkout? The price looks lower than ours.",
    "Hello, your order has been shipped, but one of the two lamps is delayed until 3 May."
    " Would you like to wait, or shall I refund it?",
])
async def test_seller_answers_are_not_refused_as_marketing(relay, conv, capture, body):
    got = await relay_and_read(relay, capture, compose(SELLER, conv.buyer_alias, body=body),
                               SELLER, conv.buyer_alias)
    assert got.message.get_content().strip() == body


async def test_a_vertical_tab_in_a_redacted_subject_is_not_a_451(relay, conv, capture):
    data = raw(conv.seller_alias, "Content-Type: text/plain\n"
               "Subject: =?utf-8?q?call_+49_176_12345678=0Bok?=", "Where is my parcel?\n"
               ).replace(b"Subject: Order question\r\n", b"")
    got = await relay_and_read(relay, capture, data, BUYER, conv.seller_alias)
    assert str(got.message["Subject"]) == f"call {MARKER} ok"
