"""Ugly MIME and awkward addresses: nothing leaks, or the message is refused and recorded."""

from __future__ import annotations

import re

import pytest
from conftest import BUYER, DATA, DOMAIN, compose, open_conv, send

from relay.pipeline.intake import parse
from relay.store import records

HEAD = f"From: {BUYER}\r\nTo: {{alias}}\r\nSubject: hi\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n"


def message(alias: str, rest: str) -> bytes:
    return (HEAD.format(alias=alias) + rest).replace("\r\n", "\n").replace("\n", "\r\n").encode()


async def relayed(relay, capture, data: bytes, sender: str = BUYER):
    code, reply = await send(relay.smtp_port, sender, relay_alias(data), data)
    assert code == 250, reply
    return (await capture.wait_for(1))[0]


def relay_alias(data: bytes) -> str:
    return re.search(rb"^To: (\S+)\r$", data, re.M).group(1).decode()


async def refused(relay, conv, data: bytes, code: int, prefix: str, reason: str) -> None:
    got_code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias, data)
    assert (got_code, reply[: len(prefix)]) == (code, prefix), reply
    (row,) = await records.summaries(relay.store, conv.id)
    assert (row["disposition"], row["reasons"]) == ("rejected", [reason])


@pytest.mark.parametrize("text", [
    "連絡先は{addr}までお願いします。",
    "é{addr}é",
    "{addr}_x and ({addr}).",
])
async def test_address_next_to_non_ascii_letters_is_replaced(relay, conv, capture, text):
    got = await relayed(relay, capture, compose(BUYER, conv.seller_alias,
                                                body=text.format(addr=BUYER) + "\n"))
    assert BUYER.lower().encode() not in got.data.lower()
    assert conv.buyer_alias in got.message.get_content()


async def test_internationalized_addresses_match_in_both_spellings(relay, capture):
    conv = await open_conv(relay, buyer="bob@bücher.example",
                           sellers=("jürgen.straße@händler.example",))
    body = "Grüße, jürgen.straße@händler.example\nalso bob@xn--bcher-kva.example\n"
    data = compose("jürgen.straße@händler.example", conv.buyer_alias, body=body)
    code, _ = await send(relay.smtp_port, "jürgen.straße@händler.example", conv.buyer_alias,
                         data, mail_options=["SMTPUTF8"])
    assert code == 250
    text = (await capture.wait_for(1))[0].message.get_content()
    assert text == f"Grüße, {conv.seller_alias}\r\nalso {conv.buyer_alias}\r\n"
    # The buyer's MTA may spell the domain as its A-label without SMTPUTF8.
    code, _ = await send(relay.smtp_port, "bob@xn--bcher-kva.example", conv.seller_alias,
                         compose("bob@xn--bcher-kva.example", conv.seller_alias))
    assert code == 250
    # 'strasse' is another mailbox than 'straße'.
    code, reply = await send(relay.smtp_port, "jürgen.strasse@händler.example",
                             conv.buyer_alias, compose("x@y.example", conv.buyer_alias),
                             mail_options=["SMTPUTF8"])
    assert code == 550 and "sender.unregistered" in reply


async def test_dotless_i_lookalike_is_redacted_not_retried_forever(relay, conv, capture):
    lookalike = "bob.buyer@buyer-ma\u0131l.example"
    got = await relayed(relay, capture, compose(BUYER, conv.seller_alias,
                                                body=f"write {lookalike}\n"))
    # Another address, not the buyer's: not turned into the alias, but a contact detail.
    assert got.message.get_content().rstrip() == "write [contact details removed]"


async def test_encoded_forwarded_message_is_refused(relay, conv):
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        "Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        "UmVjZWl2ZWQ6IGZyb20gbXguYnV5ZXItbWFpbC5leGFtcGxlCgpoaQo=\n--b--\n"))
    await refused(relay, conv, data, 550, "5.6.0 mime.malformed", "mime.malformed")


async def test_multipart_without_usable_boundary_is_refused(relay, conv):
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="wrong"\n\n--actual\n'
        f"X-Originating-IP: 203.0.113.9\n\n{BUYER}\n--actual--\n"))
    await refused(relay, conv, data, 550, "5.6.0 mime.malformed", "mime.malformed")


@pytest.mark.parametrize("header", [
    "Content-Disposition: attachment; filename*=undefined''notes.txt",
    "Content-Type: text/plain; name*=undefined''notes.txt"])
async def test_a_parameter_in_a_charset_no_codec_reads_is_refused(relay, conv, header):
    """The email package raises at every read of such a header (found by the fuzz tests:
    each stage that read a file name answered 451 instead)."""
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        "Content-Type: text/plain\n\nhello\n--b\n"
        f"{header}\nContent-Transfer-Encoding: 8bit\n\nsome text\n--b--\n"))
    await refused(relay, conv, data, 550, "5.6.0 mime.malformed", "mime.malformed")


async def test_header_line_without_colon_is_refused(relay, conv):
    data = message(conv.seller_alias,
                   "X-Broken header without colon\nX-Mailer: Thunderbird\n\nhi\n")
    await refused(relay, conv, data, 550, "5.6.0 mime.malformed", "mime.malformed")


# 1000 levels: refused by the nesting count on the raw bytes, before parsing.
@pytest.mark.parametrize(("depth", "code"), [(25, "mime.depth"), (1000, "mime.depth")])
async def test_deep_nesting_is_refused(relay, conv, depth, code):
    body = "MIME-Version: 1.0\n"
    for i in range(depth):
        body += f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'
    body += "Content-Type: text/plain\n\nhi\n"
    body += "".join(f"--b{i}--\n" for i in reversed(range(depth)))
    data = message(conv.seller_alias, body)
    await refused(relay, conv, data, 550, f"5.6.0 {code}", code)


async def test_ids_boundaries_and_client_traces_are_renewed(relay, conv, capture):
    outlook = "_000_BY5PR11MB4008A1B2C3D4E5F6G7H8namp_"
    data = message(conv.seller_alias, (
        "MIME-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.300.61\\))\n"
        "Auto-Submitted: auto-replied\nSubject: second subject with " + BUYER + "\n"
        f'Content-Type: multipart/related; boundary="{outlook}";\n'
        ' start="<root.1@bobs-laptop.buyer-mail.example>"; type="text/html"\n\n'
        f"--{outlook}\nContent-Type: text/html\n"
        "Content-ID: <root.1@bobs-laptop.buyer-mail.example>\n\n"
        '<img src="CID:img%2E1@bobs-laptop.buyer-mail.example">\n'
        f"--{outlook}\nContent-Type: image/png\n"
        "Content-ID: <img.1@bobs-laptop.buyer-mail.example>\n"
        f'Content-Disposition: inline; filename="{BUYER}.png";\n'
        ' creation-date="Thu, 26 Nov 2026 10:00:00 -0700"\n'
        "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
        f"--{outlook}--\n"))
    got = await relayed(relay, capture, data)
    lowered = got.data.lower()
    for leak in (b"bobs-laptop", b"by5pr11mb4008", b"mac os x", b"-0700", b"buyer-mail"):
        assert leak not in lowered, leak
    msg = got.message
    assert msg.get_all("Subject") == ["hi"]
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-replied"
    html, image = msg.get_payload()
    assert msg.get_param("start") == html["Content-ID"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
    assert image.get_filename() == f"{conv.buyer_alias}.png"
    assert image["Content-ID"].endswith(f"@{DOMAIN}>")


async def test_header_dump_parts_keep_only_reader_headers(relay, conv, capture):
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        "Content-Type: text/plain\n\nwhy did this bounce?\n--b\n"
        "Content-Type: text/rfc822-headers\n\n"
        "Received: from bobs-laptop (mx.buyer-mail.example [203.0.113.7])\n"
        "Message-ID: <x@bobs-laptop.example>\nSubject: the lost one\n\n--b--\n"))
    got = await relayed(relay, capture, data)
    assert b"bobs-laptop" not in got.data and b"203.0.113.7" not in got.data
    assert b"Subject: the lost one" in got.data


async def test_long_lines_are_accepted_and_reencoded(relay, conv, capture):
    line = "x" * 1500
    data = compose(BUYER, conv.seller_alias, body=f"{line}\nshort\n")
    msg = parse(data)
    msg.set_content(f"{line}\nshort\n", cte="8bit")
    got = await relayed(relay, capture, bytes(msg))
    assert max(len(raw_line) for raw_line in got.data.split(b"\r\n")) <= 998
    assert got.message["Content-Transfer-Encoding"] == "quoted-printable"
    assert got.message.get_content() == f"{line}\r\nshort\r\n"


async def test_line_over_the_limit_is_552_and_recorded(relay, conv):
    data = compose(BUYER, conv.seller_alias) + b"y" * 70_000 + b"\r\n"
    await refused(relay, conv, data, 552, "5.3.4", "line_length")


@pytest.mark.parametrize("params", [
    'name="=?utf-8?b?Qm9iLkJ1eWVyQGJ1eWVyLW1haWwuZXhhbXBsZS5wZGY=?="',  # RFC 2047 in quotes
    "name*0*=utf-8''Bob.Buyer%40buy; name*1*=er-mail.example.pdf",  # RFC 2231 continuation
    'name="BOB.BUYER@Buyer-Mail.Example.pdf"',
])
async def test_encoded_attachment_names_are_rewritten(relay, conv, capture, params):
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        f"Content-Type: text/plain\n\nsee file\n--b\nContent-Type: application/pdf; {params}\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"))
    got = await relayed(relay, capture, data)
    assert b"buyer-mail" not in got.data.lower()
    assert got.message.get_payload()[1].get_param("name") == f"{conv.buyer_alias}.pdf"


async def test_long_encoded_lines_and_preambles_are_rewrapped(relay, conv, capture):
    import base64
    import binascii

    blob = b"%PDF-1.4\n" + bytes(range(256)) * 30  # binary, and an allowed kind
    qp_text = "é" * 1500
    one_line_b64 = base64.b64encode(blob).decode()
    qp_line = binascii.b2a_qp(qp_text.encode(), istext=True).decode().replace("=\n", "")
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n' + "p" * 3000 + "\n"
        f"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable"
        f"\n\n{qp_line}\n--b\nContent-Type: application/octet-stream\n"
        f"Content-Transfer-Encoding: base64\n\n{one_line_b64}\n--b--\n"))
    got = await relayed(relay, capture, data)
    assert max(len(line) for line in got.data.split(b"\r\n")) <= 998
    text, binary = got.message.get_payload()
    assert text.get_content().rstrip("\r\n") == qp_text
    assert binary.get_payload(decode=True) == blob


async def test_smime_signature_with_the_signers_certificate_is_stripped(relay, conv, capture):
    raw = (DATA / "smime_signed.eml").read_bytes().replace(b"%ALIAS%", conv.seller_alias.encode())
    import base64

    signature = next(p for p in parse(raw).walk()
                     if p.get_content_type() == "application/x-pkcs7-signature")
    assert b"Bob.Buyer@buyer-mail.example" in signature.get_payload(decode=True)
    got = await relayed(relay, capture, raw)
    msg = got.message
    assert msg.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain"]
    assert b"buyer-mail" not in got.data.lower()
    assert base64.b64encode(b"Bob.Buyer")[:8] not in got.data


async def test_encrypted_mail_is_refused(relay, conv):
    data = message(conv.seller_alias, (
        'MIME-Version: 1.0\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data;'
        ' name="smime.p7m"\nContent-Transfer-Encoding: base64\n\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\n'))
    await refused(relay, conv, data, 550, "5.6.0 mime.encrypted", "mime.encrypted")


async def test_calendar_invitations_and_auto_submitted(relay, conv, capture):
    data = message(conv.seller_alias, (
        f'Auto-Submitted: auto-replied; owner="{BUYER}" (vacation)\n'
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        "Content-Type: text/plain\n\nsee invite\n--b\nContent-Type: application/ics\n\n"
        f"BEGIN:VCALENDAR\nORGANIZER;CN=Bob:mailto:{BUYER}\nEND:VCALENDAR\n--b--\n"))
    got = await relayed(relay, capture, data)
    assert b"buyer-mail" not in got.data.lower()
    assert got.message["Auto-Submitted"] == "auto-replied"
    assert f"mailto:{conv.buyer_alias}".encode() in got.data
