"""The anonymizing rewrite, checked on the bytes the inbox receives."""

from __future__ import annotations

import base64
import re

import pytest
from conftest import BUYER, DATA, DOMAIN, SELLER, SELLER2, compose, send

from relay.pipeline.intake import parse

DROPPED = ("Received-SPF", "Return-Path", "Sender", "X-Originating-IP", "X-Mailer", "User-Agent",
           "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results",
           "Authentication-Results", "X-Google-DKIM-Signature",
           "X-Gm-Message-State", "Cc", "Organization")


def fixture(name: str, alias: str) -> bytes:
    return (DATA / name).read_bytes().replace(b"%ALIAS%", alias.encode())


def parts(data: bytes) -> list:
    return [p for p in parse(data).walk() if not p.is_multipart()]


async def relay_fixture(relay, capture, sender, alias, name):
    raw = fixture(name, alias)
    code, msg = await send(relay.smtp_port, sender, alias, raw)
    assert code == 250, msg
    got = (await capture.wait_for(1))[0]
    return raw, got


async def test_header_scrub_leaves_nothing_that_identifies_the_sender(relay, conv, capture):
    _, got = await relay_fixture(relay, capture, BUYER, conv.seller_alias,
                                 "gmail_style_reply.eml")
    msg = got.message
    for name in DROPPED:
        assert msg[name] is None, name
    # The sender's DKIM signature is gone; the one there is the relay's own.
    (signature,) = msg.get_all("DKIM-Signature")
    assert " d=relay.test;" in " " + str(signature).replace("\t", " ")
    assert not [k for k in msg if k.lower().startswith(("x-", "arc-", "list-"))]
    # The relay's own trace lines only, one per earlier hop plus its own.
    assert [r.startswith(f"by {DOMAIN}") for r in msg.get_all("Received")] == [True] * 3
    assert msg["Reply-To"].addresses[0].addr_spec == conv.buyer_alias
    assert msg["Subject"] == "Re: Grüße zur Bestellung"
    assert msg["Date"] == "Thu, 26 Nov 2026 08:59:44 +0000"  # same instant, in UTC
    lowered = got.data.lower()
    assert "Robert" not in str(msg["From"])  # the body's own sign-off is the sender's choice
    for leak in (b"buyer-mail.example", b"203.0.113.77", b"209.85.128.171", b"q. buyer",
                 b"bob.private", b"thunderbird", b"springfield", BUYER.lower().encode()):
        assert leak not in lowered, leak
    assert re.fullmatch(rf"<[a-z2-7]+@{re.escape(DOMAIN)}>", msg["Message-ID"])


async def test_registered_addresses_in_bodies_become_aliases(relay, conv, capture):
    _, got = await relay_fixture(relay, capture, BUYER, conv.seller_alias,
                                 "gmail_style_reply.eml")
    plain, html, image = parts(got.data)
    text = plain.get_content()
    assert f"Reach me at {conv.buyer_alias} anytime." in text
    assert f"Seller <{conv.seller_alias}> wrote:" in text
    assert "Straße and café" in text
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    markup = html.get_content()
    assert html["Content-Transfer-Encoding"] == "base64"
    assert f'href="mailto:{conv.buyer_alias}"' in markup
    assert f">{conv.buyer_alias}</a>" in markup
    # The inline image keeps its bytes; its Content-ID moves to the relay domain with the link.
    cid = image["Content-ID"].strip("<>")
    assert cid.endswith(f"@{DOMAIN}")
    assert f'src="cid:{cid}"' in markup
    original = next(p for p in parts(fixture("gmail_style_reply.eml", "x"))
                    if p.get_content_type() == "image/png")
    assert image.get_payload(decode=True) == original.get_payload(decode=True)


async def test_8bit_nested_attachment_and_forwarded_message_survive(relay, conv, capture):
    raw, got = await relay_fixture(relay, capture, SELLER, conv.buyer_alias,
                                   "seller_8bit_nested.eml")
    assert got.rcpt_tos == [BUYER]
    before, after = parts(raw), parts(got.data)
    assert [p.get_content_type() for p in after] == [p.get_content_type() for p in before]
    plain = after[0]
    assert plain["Content-Transfer-Encoding"] == "8bit"
    assert plain.get_content_charset() == "iso-8859-1"
    assert plain.get_param("format") == "flowed"
    assert "Grüße aus Köln!" in plain.get_content()
    assert f"Write back to {conv.seller_alias} or {conv.seller_alias}." in plain.get_content()
    # Untouched parts decode to exactly what was sent.
    for b, a in zip(before[1:], after[1:], strict=True):
        assert a.get_payload(decode=True) == b.get_payload(decode=True)
    assert after[2].get_payload(decode=True) == (DATA / "invoice.pdf.bin").read_bytes()
    assert after[2].get_filename() == "invoice 42.pdf"
    lowered = got.data.lower()
    for leak in (b"seller-host.example", b"10.1.2.3", b"sellersuite", b"x-internal-ticket"):
        assert leak not in lowered, leak
    assert b"Subject: Packed" in got.data  # the forwarded message is still readable


async def test_broken_mime_is_relayed_without_leaking(relay, conv, capture):
    _, got = await relay_fixture(relay, capture, BUYER, conv.seller_alias, "broken_mime.eml")
    assert BUYER.lower().encode() not in got.data.lower()
    assert conv.buyer_alias.encode() in got.data


@pytest.mark.parametrize("cte", ["base64", "quoted-printable", "8bit"])
async def test_utf8_subject_and_body_round_trip(relay, conv, capture, cte):
    body = "Привет! 日本語のテキスト. Ünïcödé ✓\n" * 3
    data = compose(BUYER, conv.seller_alias, subject="Frage zur Größe — 尺寸", body=body)
    msg = parse(data)
    msg.set_content(body, cte=cte)
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias, bytes(msg))
    assert code == 250
    got = (await capture.wait_for(1))[0]
    out = got.message
    assert out["Subject"] == "Frage zur Größe — 尺寸"
    assert out.get_content().replace("\r\n", "\n") == body
    assert out["Content-Transfer-Encoding"] == cte


async def test_smtputf8_addresses(relay, capture):
    from conftest import open_conv

    buyer = "пользователь@почта.example"
    conv = await open_conv(relay, buyer=buyer, sellers=("verkäufer@händler.example",))
    data = compose(buyer, conv.seller_alias, subject="Привет", body="Мой адрес: "
                   f"{buyer}\n")
    code, msg = await send(relay.smtp_port, buyer, conv.seller_alias, data,
                           mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    assert code == 250, msg
    got = (await capture.wait_for(1))[0]
    assert got.smtputf8
    assert got.rcpt_tos == ["verkäufer@händler.example"]
    assert str(got.message["To"]) == "verkäufer@händler.example"
    assert buyer.encode() not in got.data
    assert f"Мой адрес: {conv.buyer_alias}" in got.message.get_content()


async def test_wire_bytes_are_crlf_only(relay, conv, capture):
    data = compose(BUYER, conv.seller_alias, body="line one\nline two\n")
    msg = parse(data)
    msg.set_content("a\rb\nc\r\nd\n", cte="8bit")  # bare CR and LF inside the body
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias, bytes(msg))
    assert code == 250
    wire = (await capture.wait_for(1))[0].data
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", wire) is None


async def test_seller_second_address_may_send_first_receives(relay, conv, capture):
    code, _ = await send(relay.smtp_port, SELLER2, conv.buyer_alias,
                         compose(SELLER2, conv.buyer_alias, body=f"From {SELLER2}\n"))
    assert code == 250
    got = (await capture.wait_for(1))[0]
    assert got.message.get_content().strip() == f"From {conv.seller_alias}"
    # A reply from the buyer goes to the first seller address only.
    await send(relay.smtp_port, BUYER, conv.seller_alias, compose(BUYER, conv.seller_alias))
    assert (await capture.wait_for(2))[1].rcpt_tos == [SELLER]


def test_base64_helper_sanity():
    # The fixture's HTML part really carries the buyer address inside base64.
    raw = (DATA / "gmail_style_reply.eml").read_bytes()
    block = raw.split(b"Content-Transfer-Encoding: base64\r\n\r\n")[1].split(b"--")[0]
    assert b"Bob.Buyer@buyer-mail.example" in base64.b64decode(block)


async def test_addresses_in_preamble_forwarded_subject_and_other_text_parts(relay, conv, capture):
    from email.message import EmailMessage

    inner = EmailMessage()
    inner["Subject"] = f"Fwd: note from {BUYER}"
    inner["From"] = BUYER
    inner.set_content("inner\n")
    outer = parse(compose(BUYER, conv.seller_alias))
    outer.add_attachment(inner)  # message/rfc822
    outer.add_attachment(f"BEGIN:VCALENDAR\nORGANIZER:mailto:{BUYER}\nEND:VCALENDAR\n",
                         subtype="calendar")
    outer.preamble = f"Preamble mentioning {BUYER}."
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias, bytes(outer))
    assert code == 250
    got = (await capture.wait_for(1))[0]
    assert BUYER.encode() not in got.data
    assert got.message.preamble.strip() == f"Preamble mentioning {conv.buyer_alias}."
    assert f"Fwd: note from {conv.buyer_alias}".encode() in got.data
    assert f"ORGANIZER:mailto:{conv.buyer_alias}".encode() in got.data
