"""Remote bounces: signed VERP senders, DSNs back to them, and the author told anonymously."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUYER, DOMAIN, SELLER, SELLER2, VERP, Capture, compose, send
from support.record import events, queue_id

from relay.delivery import dsn_parse
from relay.delivery.verp import Verp, load_key
from relay.marketplace.conversations import Conversation, new_token
from relay.pipeline.intake import Intake, parse
from relay.server import Relay
from relay.store import records
from relay.store.db import Store

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

REMOTE_HOST = "mx2.mailhost-provider.example"
REMOTE_IP = "203.0.113.9"
REMOTE_DIAGNOSTIC = (f"smtp; 550 5.1.1 <{SELLER}>: Recipient address rejected: User unknown\r\n"
                     f"    in virtual mailbox table ({REMOTE_HOST} [{REMOTE_IP}])")
LIFETIME = 30 * 24 * 3600.0


# --- helpers ---------------------------------------------------------------------------------

def store_of(relay: Relay) -> Store:
    assert relay.store is not None
    return relay.store


def intake_of(relay: Relay) -> Intake:
    assert relay.handler is not None
    return relay.handler.intake


async def kinds(relay: Relay, message_id: str) -> list[str]:
    return [k for k, _ in await events(relay, message_id)]


async def wait_kind(relay: Relay, message_id: str, kind: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while kind not in await kinds(relay, message_id):
        assert time.monotonic() < deadline, await events(relay, message_id)
        await asyncio.sleep(0.02)


async def outbox_count(relay: Relay) -> int:
    async with store_of(relay).read() as db:
        rows = list(await db.execute_fetchall("SELECT COUNT(*) FROM outbox"))
    return int(rows[0][0])


async def deliver_original(relay: Relay, capture: Capture, to: str,
                           sender: str = BUYER) -> tuple[str, str]:
    """Sends one message through the relay; returns (its id, the VERP sender it went out with)."""
    code, reply = await send(relay.smtp_port, sender, to, compose(sender, to))
    assert code == 250, reply
    original = queue_id(reply)
    (got,) = await capture.wait_for(1)
    await wait_kind(relay, original, "delivered")
    return original, got.mail_from


def multipart(content_type: str, parts: list[str], headers: str = "") -> str:
    boundary = f"=_b_{new_token(5)}"
    body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts)
    return (f"{headers}MIME-Version: 1.0\r\n"
            f'Content-Type: {content_type}; boundary="{boundary}"\r\n\r\n'
            f"{body}--{boundary}--\r\n")


def status_part(action: str = "failed", status: str = "5.1.1",
                diagnostic: str = REMOTE_DIAGNOSTIC, recipient: str = SELLER,
                content_type: str = "message/delivery-status") -> str:
    return (f"Content-Type: {content_type}\r\n\r\n"
            f"Reporting-MTA: dns; {REMOTE_HOST}\r\n"
            "X-Postfix-Queue-ID: 4Zx1Yq0Abc\r\n"
            "Arrival-Date: Thu, 26 Nov 2026 10:00:05 +0100 (CET)\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Original-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\n"
            f"Status: {status}\r\n"
            f"Remote-MTA: dns; {REMOTE_HOST}\r\n"
            f"Diagnostic-Code: {diagnostic}\r\n")


NOTICE = ("Content-Type: text/plain; charset=us-ascii\r\n\r\n"
          f"This is the mail system at host {REMOTE_HOST}.\r\n\r\n"
          "I'm sorry to have to inform you that your message could not\r\n"
          "be delivered to one or more recipients.\r\n")
EXTRA = "Content-Type: text/plain; charset=us-ascii\r\n\r\nTranscript of session follows.\r\n"
RETURNED = ("Content-Type: message/rfc822-headers\r\n\r\n"
            f"Return-Path: <bounces+x@{DOMAIN}>\r\nSubject: Question about my order\r\n")
GLOBAL_DIAGNOSTIC = (f"smtp; 550 5.1.1 <sälly@verkäufer.example> Benutzer unbekannt"
                     f" ({REMOTE_HOST} [{REMOTE_IP}])")


def dsn(to: str, layout: str = "standard", action: str = "failed", status: str = "5.1.1",
        recipient: str = SELLER) -> bytes:
    """A remote MTA's DSN to the VERP address `to`, its report placed as `layout` says."""
    head = (f"From: MAILER-DAEMON@{REMOTE_HOST} (Mail Delivery System)\r\n"
            f"To: {to}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Date: Thu, 26 Nov 2026 10:00:06 +0100 (CET)\r\n"
            f"Message-ID: <{new_token(8)}@{REMOTE_HOST}>\r\n"
            "Auto-Submitted: auto-replied\r\n")
    report_type = "multipart/report; report-type=delivery-status"
    report = status_part(action, status, recipient=recipient)
    if layout == "standard":
        text = multipart(report_type, [NOTICE, report, RETURNED], head)
    elif layout == "extra_text":  # the delivery-status is the third part, not the second
        text = multipart(report_type, [NOTICE, EXTRA, report, RETURNED], head)
    elif layout == "nested":  # the whole report wrapped in a multipart/mixed
        inner = multipart(report_type, [NOTICE, report, RETURNED]).removeprefix(
            "MIME-Version: 1.0\r\n")
        text = multipart("multipart/mixed", [inner, EXTRA], head)
    elif layout == "global":  # RFC 6533, UTF-8 in the status fields
        report = status_part(action, status, GLOBAL_DIAGNOSTIC, recipient,
                             "message/global-delivery-status")
        report = report.replace(f"rfc822; {recipient}", f"utf-8; {recipient}")
        text = multipart("multipart/report; report-type=global-delivery-status",
                         [NOTICE, report, RETURNED], head)
    else:
        raise AssertionError(layout)
    return text.encode("utf-8")


# --- unit level: the VERP address, its key, the DSN reader -----------------------------------

def test_verp_round_trip() -> None:
    """A signed address names its message again, and its shape is bounces+id.expiry.mac@domain."""
    verp = Verp(os.urandom(32), DOMAIN, LIFETIME)
    mid = new_token(10)
    address = verp.address(mid)
    assert VERP.fullmatch(address), address
    local, _, domain = address.rpartition("@")
    assert domain == DOMAIN
    assert verp.message_id(local) == mid


@pytest.mark.parametrize("change", [str.upper, str.lower, str.title, str.swapcase])
def test_verp_local_part_is_case_insensitive(change: Callable[[str], str]) -> None:
    """MTAs that change the case of the local part still reach the message."""
    verp = Verp(os.urandom(32), DOMAIN, LIFETIME)
    mid = new_token(10)
    local = verp.address(mid).rpartition("@")[0]
    assert verp.message_id(change(local)) == mid


def _flip(text: str, index: int, alphabet: str) -> str:
    replacement = next(c for c in alphabet if c != text[index])
    return text[:index] + replacement + text[index + 1:]


@pytest.mark.parametrize("field", ["message id", "expiry", "mac"])
@pytest.mark.parametrize("index", [0, -1])
def test_verp_tampering_is_rejected(field: str, index: int) -> None:
    """Changing one character of the message id, the expiry or the MAC breaks the address."""
    verp = Verp(os.urandom(32), DOMAIN, LIFETIME)
    local = verp.address(new_token(10)).rpartition("@")[0]
    mid, expiry, mac = local.removeprefix("bounces+").split(".")
    base32, base36 = "abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuvwxyz"
    if field == "message id":
        mid = _flip(mid, index, base32)
    elif field == "expiry":
        expiry = _flip(expiry, index, base36)
    else:
        mac = _flip(mac, index, base32)
    assert verp.message_id(f"bounces+{mid}.{expiry}.{mac}") is None


def test_verp_expiry_and_foreign_key() -> None:
    """An address is good until its expiry and not after; another key's address is not ours."""
    key = os.urandom(32)
    verp = Verp(key, DOMAIN, 3600.0)
    mid = new_token(10)
    now = 1_800_000_000.0
    local = verp.address(mid, now=now).rpartition("@")[0]
    assert verp.message_id(local, now=now + 3599) == mid
    assert verp.message_id(local, now=now + 3601) is None
    other = Verp(os.urandom(32), DOMAIN, 3600.0).address(mid, now=now).rpartition("@")[0]
    assert verp.message_id(other, now=now) is None


@pytest.mark.parametrize("local", [
    "bounces+", "bounces+hello", "bounces+..", "bounces+aaaaaaaaaaaaaaaa.1.aaaaaaaaaaaaaaaa",
    "bounces+aaaaaaaaaaaaaaaa.zzzzzzzzzzz.aaaaaaaaaaaaaaaa", "bounces+a@b", "someone",
])
def test_verp_garbage_is_rejected(local: str) -> None:
    """Anything that is not a signed address names no message."""
    assert Verp(os.urandom(32), DOMAIN, LIFETIME).message_id(local) is None


def test_load_key_makes_a_private_32_byte_key_once(tmp_path: Path) -> None:
    """The key is made on first use (32 bytes, mode 0600, parents too) and then kept."""
    path = tmp_path / "keys" / "bounce.key"
    key = load_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    assert load_key(tmp_path / "other.key") != key


def test_statuses_of_a_message_that_is_not_a_dsn() -> None:
    """Plain mail, an auto-reply and a multipart without a report give no statuses."""
    plain = parse(compose(SELLER, "someone@relay.test"))
    auto = parse(compose(SELLER, "someone@relay.test", subject="Out of office",
                         body="I am away until Monday.\n", Auto_Submitted="auto-replied"))
    mixed = parse(multipart("multipart/mixed", [NOTICE, EXTRA], "Subject: x\r\n").encode())
    for message in (plain, auto, mixed):
        assert dsn_parse.statuses(message) == []


@pytest.mark.parametrize("layout", ["standard", "extra_text", "nested"])
def test_statuses_finds_the_report_by_type(layout: str) -> None:
    """The delivery-status part is read wherever it sits in the MIME tree."""
    found = dsn_parse.statuses(parse(dsn("bounces+x@relay.test", layout)))
    assert len(found) == 1
    assert (found[0].action, found[0].status) == ("failed", "5.1.1")
    assert found[0].diagnostic.startswith(f"550 5.1.1 <{SELLER}>: Recipient address rejected")
    assert REMOTE_IP in found[0].diagnostic  # unfolded, whole: sanitizing comes later


def test_statuses_reads_global_delivery_status() -> None:
    """RFC 6533 message/global-delivery-status (UTF-8) is read like message/delivery-status."""
    found = dsn_parse.statuses(parse(dsn("bounces+x@relay.test", "global")))
    assert [(s.action, s.status) for s in found] == [("failed", "5.1.1")]
    assert "Benutzer unbekannt" in found[0].diagnostic


# --- over SMTP: the relay, a real store, the capture inbox -----------------------------------

async def test_delivered_mail_carries_a_signed_verp_sender(relay: Relay, conv: Conversation,
                                                           capture: Capture) -> None:
    """The envelope sender of delivered mail is a VERP address naming that message."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    assert VERP.fullmatch(verp_address), verp_address
    assert intake_of(relay).verp.message_id(verp_address.rpartition("@")[0]) == original


def assert_anonymous(data: bytes, *leaks: str) -> None:
    text = data.decode("utf-8", "replace").lower()
    for leak in leaks:
        assert leak.lower() not in text, leak


@pytest.mark.parametrize("layout", [
    "standard", "extra_text", "nested",
    # The stdlib reads this type as one enclosed message, not as blocks: it needs its own
    # handling (a regression test for a bug found in review).
    "global",
])
async def test_remote_dsn_is_recorded_and_the_author_told_anonymously(
        relay: Relay, conv: Conversation, capture: Capture, layout: str) -> None:
    """A DSN to the VERP address: 250, a system record (bounce.report, not delivered on), a
    remote_failed event on the original, and one DSN to its author naming only aliases."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    code, reply = await send(relay.smtp_port, "", verp_address, dsn(verp_address, layout))
    assert code == 250, reply
    report_id = queue_id(reply)

    report = await records.get(store_of(relay), report_id)
    assert report is not None
    assert report.direction == "system" and report.conversation_id == conv.id
    assert report.reasons[0] == "bounce.report", report.reasons
    assert report.recipient is None and report.delivered is None
    assert report.mail_from == "" and report.rcpt_to == (verp_address,)
    assert await events(relay, report_id) == []  # nothing goes onwards

    found = await events(relay, original)
    failed = [d for k, d in found if k == "remote_failed"]
    assert len(failed) == 1 and failed[0].startswith("5.1.1 "), found
    assert "bounced" in [k for k, _ in found]

    notice = (await capture.wait_for(2))[1]
    assert notice.mail_from in ("<>", "") and notice.rcpt_tos == [BUYER]
    msg = notice.message
    assert msg["From"].addresses[0].addr_spec == f"MAILER-DAEMON@{DOMAIN}"
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    text = notice.data.decode("utf-8", "replace")
    assert f"Final-Recipient: rfc822; {conv.seller_alias}" in text
    assert "Action: failed" in text and "Status: 5.1.1" in text
    # Only the status code reaches the author: anyone who has seen the bounce address can
    # send a "report", and its wording would otherwise reach a real mailbox unchecked.
    wording = "benutzer unbekannt" if layout == "global" else "recipient address rejected"
    assert wording not in text.lower()
    assert "the receiving mail server reported status 5.1.1" in text
    assert_anonymous(notice.data, SELLER, SELLER2, "seller-host.example", "seller-host",
                     REMOTE_HOST, REMOTE_IP, "mailhost-provider", "sälly", "verkäufer")
    rows = await records.summaries(store_of(relay), conv.id)
    assert [r["direction"] for r in rows] == ["buyer_to_seller", "system", "system"]


async def test_remote_dsn_for_a_seller_message_tells_the_seller(
        relay: Relay, conv: Conversation, capture: Capture) -> None:
    """The other way round: the seller is told, and the buyer's real address stays hidden."""
    original, verp_address = await deliver_original(relay, capture, conv.buyer_alias, SELLER)
    body = dsn(verp_address, recipient=BUYER).replace(SELLER.encode(), BUYER.encode())
    code, reply = await send(relay.smtp_port, "", verp_address, body)
    assert code == 250, reply
    assert "remote_failed" in await kinds(relay, original)
    notice = (await capture.wait_for(2))[1]
    assert notice.rcpt_tos == [SELLER]
    assert f"Final-Recipient: rfc822; {conv.buyer_alias}".encode() in notice.data
    assert_anonymous(notice.data, BUYER, "buyer-mail", REMOTE_HOST, REMOTE_IP)


async def test_second_dsn_is_recorded_but_not_told_again(relay: Relay, conv: Conversation,
                                                         capture: Capture) -> None:
    """A second DSN for the same message (here to the upper-cased address, as some MTAs
    rewrite it) is recorded with its remote_failed event; the author is told only once."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    assert (await send(relay.smtp_port, "", verp_address, dsn(verp_address)))[0] == 250
    await capture.wait_for(2)
    upper = verp_address.upper()
    code, reply = await send(relay.smtp_port, "", upper, dsn(upper))
    assert code == 250, reply
    report = await records.get(store_of(relay), queue_id(reply))
    assert report is not None and report.reasons[0] == "bounce.report"
    found = await events(relay, original)
    assert [k for k, _ in found].count("remote_failed") == 2, found
    (notice,) = [detail for kind, detail in found if kind == "bounced"]  # told once
    await wait_kind(relay, notice, "delivered")  # then nothing is left to send
    assert len(capture.messages) == 2 and await outbox_count(relay) == 0


async def test_delayed_dsn_is_only_noted(relay: Relay, conv: Conversation,
                                         capture: Capture) -> None:
    """Action: delayed adds a remote_delayed event and tells nobody."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    body = dsn(verp_address, action="delayed", status="4.4.1")
    code, reply = await send(relay.smtp_port, "", verp_address, body)
    assert code == 250, reply
    found = await events(relay, original)
    assert [k for k, _ in found] == ["queued", "delivered", "remote_delayed"], found
    assert found[-1][1].startswith("4.4.1 ")
    assert await outbox_count(relay) == 0  # nothing to send
    assert len(capture.messages) == 1


async def test_auto_reply_to_the_bounce_address_goes_nowhere(relay: Relay, conv: Conversation,
                                                              capture: Capture) -> None:
    """An out-of-office reply to the VERP address is recorded (bounce.other, auto_reply),
    changes nothing on the original, and is neither passed on nor answered."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    reply_body = compose(SELLER, verp_address, subject="Out of office: Question about my order",
                         body="I am out of the office until Monday.\n",
                         Auto_Submitted="auto-replied")
    code, reply = await send(relay.smtp_port, SELLER, verp_address, reply_body)
    assert code == 250, reply
    report = await records.get(store_of(relay), queue_id(reply))
    assert report is not None
    assert report.direction == "system" and report.reasons == ("bounce.other", "auto_reply")
    assert report.recipient is None and report.delivered is None
    assert await kinds(relay, original) == ["queued", "delivered"]
    assert await events(relay, report.id) == [] and await outbox_count(relay) == 0
    assert len(capture.messages) == 1  # and nothing left to send (above)


async def test_forged_bounce_addresses_are_refused_at_rcpt(relay: Relay, conv: Conversation,
                                                           capture: Capture) -> None:
    """Wrong MAC, unknown message id, garbage, expired, or another key's signature: 550 5.1.1
    at RCPT, and nothing is recorded."""
    original, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    local = verp_address.rpartition("@")[0]
    mid, expiry, mac = local.removeprefix("bounces+").split(".")
    flipped = mac[:-1] + ("a" if mac[-1] != "a" else "b")
    key = intake_of(relay).verp.key
    past = time.time() - 10 * LIFETIME
    forged = {
        "wrong mac": f"bounces+{mid}.{expiry}.{flipped}@{DOMAIN}",
        "unknown id": f"bounces+{new_token(10)}.{expiry}.{new_token(10)}@{DOMAIN}",
        "garbage": f"bounces+please-accept-me@{DOMAIN}",
        "empty": f"bounces+@{DOMAIN}",
        "expired": Verp(key, DOMAIN, LIFETIME).address(original, now=past),
        "other key": Verp(os.urandom(32), DOMAIN, LIFETIME).address(original),
    }
    for what, address in forged.items():
        code, reply = await send(relay.smtp_port, "", address, dsn(address))
        assert (code, reply[:5]) == (550, "5.1.1"), (what, code, reply)
    rows = await records.summaries(store_of(relay), conv.id)
    assert len(rows) == 1
    assert await kinds(relay, original) == ["queued", "delivered"]


async def test_signed_address_of_an_unknown_message_is_refused_at_data(
        relay: Relay, conv: Conversation, capture: Capture) -> None:
    """A correctly signed address naming no stored message passes RCPT but gets 550 5.1.1."""
    address = intake_of(relay).verp.address(new_token(10))
    code, reply = await send(relay.smtp_port, "", address, dsn(address))
    assert (code, reply[:5]) == (550, "5.1.1"), reply
    assert await records.summaries(store_of(relay), conv.id) == []


@pytest.mark.parametrize("bounce_first", [True, False])
async def test_bounce_address_and_alias_in_one_transaction(
        relay: Relay, conv: Conversation, capture: Capture, bounce_first: bool) -> None:
    """A report is about one message: a bounce address and an alias together get 452 4.5.3
    for the second RCPT, whichever comes first."""
    _, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    rcpts = [verp_address, conv.seller_alias]
    if not bounce_first:
        rcpts.reverse()
    code, reply = await send(relay.smtp_port, BUYER, rcpts, compose(BUYER, rcpts[0]))
    assert (code, reply[:5]) == (452, "4.5.3"), reply
    assert len(await records.summaries(store_of(relay), conv.id)) == 1


def test_report_message_is_a_stdlib_message() -> None:
    """dsn() builds what the stdlib reads as a multipart/report (guards the helpers above)."""
    msg = parse(dsn("bounces+x@relay.test"))
    assert msg.get_content_type() == "multipart/report"
    assert [p.get_content_type() for p in msg.iter_parts()] == [
        "text/plain", "message/delivery-status", "message/rfc822-headers"]


# -- found in review -------------------------------------------------------------------------

async def test_reports_about_one_conversation_are_rate_limited(
        relay_factory, capture: Capture, tmp_path: Path) -> None:
    """A bounce address takes no more reports an hour than the conversation takes mail."""
    from conftest import make_config, open_conv

    from relay.config import LimitsSettings

    relay = await relay_factory(make_config(tmp_path, capture.port).replace(
        limits=LimitsSettings(conversation_per_hour=2)))
    conv = await open_conv(relay)
    _, verp_address = await deliver_original(relay, capture, conv.seller_alias)
    for _ in range(2):
        delayed = dsn(verp_address, action="delayed", status="4.4.1")
        assert (await send(relay.smtp_port, "", verp_address, delayed))[0] == 250
    code, reply = await send(relay.smtp_port, "", verp_address, dsn(verp_address))
    assert code == 450 and "reports an hour" in reply, reply


async def test_the_address_a_message_went_to_stays_out_of_its_dsn(
        relay: Relay, conv: Conversation, capture: Capture) -> None:
    """A seller's private notification address, quoted by the server that refused it, is
    removed like the registered addresses are."""
    from relay.marketplace import sellers

    private = "janedoe77@private-mail.example"
    await sellers.update(store_of(relay), SELLER, DOMAIN, notify_address=private)
    capture.refuse[private] = "550 5.2.2 janedoe77... mailbox full"
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    (notice,) = await capture.wait_for(1)
    assert notice.rcpt_tos == [BUYER]
    text = notice.data.decode("utf-8", "replace").lower()
    assert "mailbox full" in text and "5.2.2" in text
    assert "janedoe77" not in text and "private-mail" not in text


# -- the relay's own DSN: the real address in other spellings, names, the smarthost ----------

def _b64(data: str, altchars: bytes | None = None) -> str:
    import base64

    return base64.b64encode(data.encode(), altchars).decode()


def squeezed(text: str) -> str:
    """Letters and digits only, lower-cased: a spaced-out address reads as the address."""
    return "".join(c for c in text.lower() if c.isalnum())


async def smarthost_dsn(relay: Relay, conv: Conversation, capture: Capture) -> str:
    """Sends buyer -> seller; the capture inbox refuses the seller as set up by the caller and
    gets the DSN to the buyer. Returns the DSN's body (its DKIM signature is random base64,
    in which "sally" could turn up by chance)."""
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    (notice,) = await capture.wait_for(1)
    assert notice.rcpt_tos == [BUYER]
    return notice.data.decode("utf-8", "replace").split("\r\n\r\n", 1)[1]


# Spellings of SELLER (sally@seller-host.example) a server's reply can carry.
SPELLINGS = {
    "base64": _b64(SELLER),
    "base64 inside a longer blob": _b64(f"rcpt={SELLER};orcpt=x"),
    "base64 url-safe, no padding": _b64(f"<{SELLER}>", b"-_").rstrip("="),
    "spaced out": " ".join(SELLER),
    "spaced around the at and dots": "sally @ seller-host . example",
    "at and dot words": "sally at seller-host dot example",
    "bracketed at and dot": "sally [at] seller-host [dot] example",
    "percent-encoded": "sally%40seller-host%2Eexample",
    "encoded word, Q": "=?utf-8?q?sally=40seller-host=2Eexample?=",
    "encoded word, B": f"=?utf-8?b?{_b64(SELLER)}?=",
    "HTML entities": "sally&#64;seller-host&#46;example",
    "hex": SELLER.encode().hex(),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
async def test_own_dsn_hides_the_address_in_any_spelling(
        relay: Relay, conv: Conversation, capture: Capture, spelling: str) -> None:
    form = SPELLINGS[spelling]
    capture.refuse[SELLER] = f"550 5.1.1 recipient {form} does not exist here"
    text = await smarthost_dsn(relay, conv, capture)
    assert "5.1.1" in text and "does not exist here" in text, text
    assert form.lower() not in text.lower(), text
    assert "sally" not in squeezed(text) and "sellerhost" not in squeezed(text), text


async def test_own_dsn_keeps_a_name_that_equals_the_mailbox(
        relay: Relay, conv: Conversation, capture: Capture) -> None:
    """The local part "sally" goes where it is part of an address; a person's name in the
    server's wording is not one, and "[mailbox] Smith" would tell the author what the real
    mailbox is called."""
    capture.refuse[SELLER] = (f"550 5.2.1 <{SELLER}>: the mailbox of Sally Smith is disabled;"
                              " sally... account closed")
    text = await smarthost_dsn(relay, conv, capture)
    assert "the mailbox of Sally Smith is disabled" in text, text
    assert "[mailbox] Smith" not in text and "[mailbox]... account closed" in text, text
    assert SELLER not in text and "seller-host" not in text, text


async def test_own_dsn_hides_the_smarthost_name_and_port(
        relay_factory, capture: Capture, tmp_path: Path) -> None:
    """A smarthost that cannot be reached: the DSN after the queue lifetime says so without
    its name (one label, which no host-name pattern catches) or its port."""
    from conftest import free_port, make_config, open_conv

    port = free_port()  # nothing listens there
    relay = await relay_factory(make_config(tmp_path, port, smtp_host="localhost",
                                            queue_lifetime=0.5))
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    original = queue_id(reply)
    await wait_kind(relay, original, "bounced")
    found = await events(relay, original)
    dsn_id = next(d for k, d in found if k == "bounced")
    failed = next(d for k, d in found if k == "failed")
    assert str(port) in failed and "localhost" in failed  # the record keeps it: not a leak
    dsn_record = await records.get(store_of(relay), dsn_id)
    assert dsn_record is not None and dsn_record.raw is not None
    text = dsn_record.raw.decode("utf-8", "replace")
    assert "Reason: SMTPConnectError: " in text, text
    assert str(port) not in text and "localhost" not in text.lower(), text
    assert "127.0.0.1" not in text and "::1" not in text, text


@pytest.mark.parametrize(("reply", "shown"), [
    ("550 5.1.1 User Sally unknown", "550 5.1.1 User [mailbox] unknown"),
    ("550 5.1.1 user sally unknown", "550 5.1.1 user [mailbox] unknown"),
    ("552 mailbox of Sally Smith is full", "552 mailbox of Sally Smith is full"),
    ("550 sally%seller-host refused", "550 [mailbox]%[host] refused"),
    # whole words only: the local part "sal" is no reason to change "salary"
    ("550 5.7.1 salary slips not accepted", "550 5.7.1 salary slips not accepted"),
    ("421 4.4.1 Connect call failed ('::1', 2525, 0, 0)", "421 4.4.1 Connect call failed"
                                                           " ('[ip]', [port], 0, 0)"),
    ("421 4.4.1 smarthost:2525 busy", "421 4.4.1 [host]:[port] busy"),
    ("421 4.4.1 try port 587 later", "421 4.4.1 try port [port] later"),
])
def test_sanitize_diagnostic_pieces(reply: str, shown: str) -> None:
    from relay.delivery.bounce import sanitize_diagnostic

    hide = ("sally@seller-host.example", "sal@seller-host.example")
    assert sanitize_diagnostic(reply, hide, ("smarthost", 2525)) == shown
