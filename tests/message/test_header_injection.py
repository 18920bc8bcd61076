"""Header injection through header values: whatever a sender puts in a header (nested
RFC 2047 encoded words that decode to CRLF, raw VT/FF/NEL/U+2028, 8-bit junk), the mail the
inbox gets has the relay's header set and nothing else: one From, one Reply-To, one To, all
the relay's, and a header section that ends where the relay ended it.

Sent over SMTP to a relay on loopback; checked on the bytes the capture inbox receives.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser

from conftest import BUYER, SELLER, make_config, open_conv, send
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relay.config import LimitsSettings
from relay.message.header_line import header_value, reader_text

FORGED = ("\r\nFrom: Marketplace Trust and Safety <security@relay.test>\r\nX-Priority: 1"
          "\r\nReply-To: x@[192.0.2.1]")
# (No link in it: a redaction of the Subject once made it one line by chance.)
EARLY_END = "\r\n\r\n<html><script>alert(1)</script><b>Your account is locked</b></html>"


def octets(text: str) -> bytes:
    """text as UTF-8, but a surrogate escape (U+DC80..U+DCFF) as the byte it stands for and
    any other surrogate as the (invalid) UTF-8 of its code point: junk a sender can send."""
    return b"".join(bytes([ord(c) - 0xDC00]) if "\udc80" <= c <= "\udcff"
                    else c.encode("utf-8", "surrogatepass") for c in text)


def q(text: str) -> str:
    """One RFC 2047 Q-encoded word (every byte but letters and digits as =XX)."""
    data = octets(text)
    return "=?utf-8?q?" + "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}"
                                  for b in data) + "?="


def b(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(octets(text)).decode() + "?="


def message(to: str, subject: str, sender: str = BUYER, description: str | None = None,
            body: str = "Hello, when will it ship?") -> bytes:
    """A plain message; with `description`, a multipart whose text part carries it as its
    Content-Description (both values sent as given: encoded words stay encoded)."""
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\nMessage-ID: <m1@client.example>\r\n"
            "MIME-Version: 1.0\r\n")
    if description is None:
        return octets(head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
                      + "\r\n")
    return octets(head + 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
                  "Content-Type: text/plain; charset=utf-8\r\n"
                  f"Content-Description: {description}\r\n\r\n{body}\r\n--b1--\r\n")


def header_names(data: bytes) -> list[str]:
    """The header fields of the delivered message as any reader splits them: a line that
    does not start with whitespace starts a field; the first empty line ends the section."""
    names = []
    for line in data.split(b"\r\n"):
        if not line:
            break
        if line[:1] not in (b" ", b"\t"):
            names.append(line.split(b":", 1)[0].decode("ascii", "replace").lower())
    return names


def part_header_names(data: bytes) -> list[list[str]]:
    """Each MIME part's header fields (as the parser reads them), in order."""
    msg = BytesParser(policy=policy.compat32).parsebytes(data)
    return [[k.lower() for k in part] for part in msg.walk()]


async def deliver(relay, capture, raw: bytes, sender: str, alias: str,
                  smtputf8: bool = False) -> bytes:
    before = len(capture.messages)
    options = ["SMTPUTF8", "BODY=8BITMIME"] if smtputf8 else ["BODY=8BITMIME"]
    code, reply = await send(relay.smtp_port, sender, alias, raw, mail_options=options)
    assert code == 250, reply
    return (await capture.wait_for(before + 1))[before].data


@dataclass
class Shape:
    """What the relay makes of a harmless message of the same shape: the header fields of
    the message and of each part (Received lines vary with the hops and are left out)."""

    top: Counter[str]
    parts: list[Counter[str]]

    @classmethod
    def of(cls, data: bytes) -> Shape:
        top = Counter(n for n in header_names(data) if n != "received")
        return cls(top, [Counter(p) for p in part_header_names(data)[1:]])


async def control(relay, capture, sender: str, alias: str, description: bool) -> Shape:
    raw = message(alias, "Question", sender=sender,
                  description="invoice" if description else None)
    return Shape.of(await deliver(relay, capture, raw, sender, alias))


def assert_relays_headers_only(data: bytes, shape: Shape, alias: str, reader: str) -> None:
    """The same header fields as the harmless message got, From and Reply-To the author's
    alias, To the reader, and nothing the sender smuggled into a header or the body."""
    got = Shape.of(data)
    head = data.split(b"\r\n\r\n", 1)[0]
    assert got == shape, head
    msg = BytesParser(policy=policy.SMTP).parsebytes(data)
    (sender,) = msg.get_all("From")
    assert [a.addr_spec for a in sender.addresses] == [alias]
    assert [a.addr_spec for a in msg["Reply-To"].addresses] == [alias]
    assert [a.addr_spec for a in msg["To"].addresses] == [reader]
    for part in msg.walk():  # what a sender put in a header stays out of every body
        body = b"" if part.is_multipart() else part.get_payload(decode=True)
        assert b"<script" not in body and b"account is locked" not in body, body


# -- the reported attack ---------------------------------------------------------------------

async def test_nested_encoded_words_with_an_address_rewrite_forge_no_header(relay, conv,
                                                                            capture):
    shape = await control(relay, capture, BUYER, conv.seller_alias, description=False)
    subject = q(f"Order {BUYER} " + q(FORGED))
    data = await deliver(relay, capture, message(conv.seller_alias, subject),
                         BUYER, conv.seller_alias)
    assert_relays_headers_only(data, shape, conv.buyer_alias, SELLER)
    msg = BytesParser(policy=policy.SMTP).parsebytes(data)
    # The reader sees the text the sender wrote, on one line, its address rewritten.
    assert str(msg["Subject"]).startswith(f"Order {conv.buyer_alias} ")
    assert "Marketplace Trust and Safety" in str(msg["Subject"])
    assert msg.get_content().strip() == "Hello, when will it ship?"


async def test_nested_words_ending_the_header_section_smuggle_no_body(relay, conv, capture):
    shape = await control(relay, capture, BUYER, conv.seller_alias, description=False)
    subject = q(f"Order {BUYER} " + q(EARLY_END))
    data = await deliver(relay, capture, message(conv.seller_alias, subject),
                         BUYER, conv.seller_alias)
    assert_relays_headers_only(data, shape, conv.buyer_alias, SELLER)


async def test_without_a_registered_address_other_triggers_forge_nothing(relay, conv, capture):
    # No address to rewrite: U+2028 or a VT in the Subject made the scrub write the decoded
    # Subject back; deeper nesting and B encoding are the same attack.
    shape = await control(relay, capture, BUYER, conv.seller_alias, description=False)
    for subject in (q("Order " + q(FORGED)) + " \x0b", q("Order\u2028" + q(FORGED)),
                    b(b(FORGED)), q(q(q(FORGED)))):
        data = await deliver(relay, capture, message(conv.seller_alias, subject),
                             BUYER, conv.seller_alias)
        assert_relays_headers_only(data, shape, conv.buyer_alias, SELLER)


async def test_a_redaction_in_the_subject_forges_no_header(relay, conv, capture):
    # A phone number and an unregistered address are redacted: Redact rewrites the Subject.
    shape = await control(relay, capture, BUYER, conv.seller_alias, description=False)
    subject = q("call me at +1 415 555 0100 or other@elsewhere.example " + q(FORGED))
    data = await deliver(relay, capture, message(conv.seller_alias, subject),
                         BUYER, conv.seller_alias)
    assert_relays_headers_only(data, shape, conv.buyer_alias, SELLER)


async def test_content_description_in_both_directions(relay, conv, capture):
    description = q(f"invoice for {SELLER} " + q(FORGED + EARLY_END))
    for sender, alias, author_alias, reader in (
            (BUYER, conv.seller_alias, conv.buyer_alias, SELLER),
            (SELLER, conv.buyer_alias, conv.seller_alias, BUYER)):
        shape = await control(relay, capture, sender, alias, description=True)
        raw = message(alias, q(f"Re: order {BUYER}"), sender=sender, description=description)
        data = await deliver(relay, capture, raw, sender, alias)
        assert_relays_headers_only(data, shape, author_alias, reader)


# -- the writer itself -----------------------------------------------------------------------

def test_header_value_is_one_ascii_line_that_decodes_to_the_cleaned_text():
    for text in (q(q(FORGED)), "a\x0bb\x0cc\x85d\u2028e\u2029f\x00g", "caf\udcc3\udca9",
                 "\ud800 lone", "x" * 3000, "=?bogus?q?=0D=0AFrom=3A_x?=", "Grüße " * 300):
        value = header_value(text)
        assert value.isascii(), value
        lines = value.split("\r\n")
        assert all(line and line[:1] in " \t" for line in lines[1:]), lines
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value.replace("\r\n ", " "))
        assert all(len(line) <= 78 for line in lines), max(map(len, lines))
        shown = str(policy.SMTP.header_fetch_parse("Subject", value))
        assert shown == reader_text(text), (shown, reader_text(text))
        assert reader_text(shown) == shown  # a fixed point: decoding again changes nothing


# -- the property ----------------------------------------------------------------------------

# Characters that break lines somewhere (CR, LF, VT, FF, FS, GS, RS, NEL, LS, PS), control
# characters, surrogates, the pieces of encoded words and header syntax, and some letters.
SPECIAL = list("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00\x7f\t =?:<>@\"'_;\\")
ALPHABET = st.sampled_from(SPECIAL) | st.characters(codec="utf-8") | st.sampled_from(
    ["\udcff", "\udcc3", "\ud800", "From: x@y", "Reply-To: z@[192.0.2.1]", "\r\n\r\n<b>"])


def _shapes(text: str, depth: int, how: str) -> str:
    """The value as sent: encoded `depth` times, by Q, B or alternating."""
    for level in range(depth):
        text = (q if how == "q" or (how == "mixed" and level % 2) else b)(text)
    return text


@st.composite
def header_values(draw) -> tuple[str, bool]:
    """(the header value as it goes on the wire, whether it needs SMTPUTF8)."""
    text = "".join(draw(st.lists(ALPHABET, max_size=12)))
    depth = draw(st.integers(0, 3))
    value = _shapes(text, depth, draw(st.sampled_from(["q", "b", "mixed"])))
    prefix = draw(st.sampled_from(["", f"Order {BUYER} ", "call +1 415 555 0100 ", "x\x0b "]))
    value = prefix + value
    # Raw CR/LF cannot be sent inside a header line (the relay refuses those outright);
    # a raw line break character that is not one can.
    value = value.replace("\r", " ").replace("\n", " ")
    return value, not value.isascii()


def property_config(tmp_path, smarthost_port: int):
    config = make_config(tmp_path, smarthost_port)
    # A hundred messages in one conversation from one sender.
    return config.replace(limits=LimitsSettings(sender_per_hour=100_000,
                                                conversation_per_hour=100_000))


async def test_property_any_header_value_leaves_the_relays_header_set(relay_factory, capture,
                                                                      tmp_path):
    relay = await relay_factory(property_config(tmp_path, capture.port))
    conv = await open_conv(relay)
    shapes = {(seller, description): await control(
        relay, capture, SELLER if seller else BUYER,
        conv.buyer_alias if seller else conv.seller_alias, description)
        for seller in (False, True) for description in (False, True)}
    loop = asyncio.get_running_loop()

    def one(case: tuple[tuple[str, bool], bool, bool]) -> None:
        (value, utf8), description, seller = case
        sender, alias, author_alias, reader = (
            (SELLER, conv.buyer_alias, conv.seller_alias, BUYER) if seller
            else (BUYER, conv.seller_alias, conv.buyer_alias, SELLER))
        raw = (message(alias, "Question", sender=sender, description=value) if description
               else message(alias, value, sender=sender))
        data = asyncio.run_coroutine_threadsafe(
            deliver(relay, capture, raw, sender, alias, smtputf8=utf8), loop).result(60)
        assert_relays_headers_only(data, shapes[seller, description], author_alias, reader)
        msg = BytesParser(policy=policy.SMTP).parsebytes(data)
        shown = str(list(msg.walk())[1]["Content-Description"] if description
                    else msg["Subject"])
        assert reader_text(shown) == shown, shown  # nothing left to decode, nothing broken

    check = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck), print_blob=False)(
        given(st.tuples(header_values(), st.booleans(), st.booleans()))(one))
    await asyncio.to_thread(check)
