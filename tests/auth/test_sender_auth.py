"""Inbound SPF/DKIM/DMARC against a real DNS server (dnsmasq on loopback), and the relay's
own signature checked by dkimpy and by an independent verifier (Perl Mail::DKIM)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
from conftest import (
    BUYER,
    DOMAIN,
    SELLER,
    Capture,
    RelayFactory,
    compose,
    dkim_key,
    make_config,
    open_conv,
    send,
)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dns_server import DKIM_VERIFY_PL, LocalDNS, dnsmasq_path, mail_dkim_available, require
from support.raw_smtp import talk
from support.record import assert_never_queued

from relay.auth.dmarc import aligned, organizational
from relay.config import AuthSettings, Config, DKIMSettings
from relay.delivery.dkim_sign import dns_record
from relay.server import Relay
from relay.store import records


def _key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


BUYER_KEY = _key()  # published for buyer-mail.example
ED_KEY = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption())  # the relay's second signature
ROGUE_KEY = _key()  # published for attacker.example; never for buyer-mail.example


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDNS]:
    require(dnsmasq_path() is not None, "dnsmasq (Debian package dnsmasq-base)")
    relay_key = dkim_key(tmp_path_factory.mktemp("relay-key")).read_bytes()
    server = LocalDNS({
        # The seller's domain sends from this machine and says so.
        "seller-host.example": ["v=spf1 ip4:127.0.0.1 -all"],
        "_dmarc.seller-host.example": ["v=DMARC1; p=reject"],
        # The buyer's provider sends from elsewhere; only its DKIM signature can vouch.
        "buyer-mail.example": ["v=spf1 ip4:192.0.2.1 -all"],
        "s1._domainkey.buyer-mail.example": [dns_record(BUYER_KEY)],
        "_dmarc.buyer-mail.example": ["v=DMARC1; p=none"],
        "attacker.example": ["v=spf1 ip4:127.0.0.1 -all"],
        "evil._domainkey.attacker.example": [dns_record(ROGUE_KEY)],
        f"relay._domainkey.{DOMAIN}": [dns_record(relay_key)],
        f"relayed._domainkey.{DOMAIN}": [dns_record(ED_KEY)],
    })
    with server:
        yield server


def config(tmp_path: Path, smarthost: int, dns_server: LocalDNS, mode: str = "dmarc",
           timeout: float = 3.0, resolvers: tuple[str, ...] | None = None) -> Config:
    servers = resolvers or (f"{dns_server.host}:{dns_server.port}",)
    return make_config(tmp_path, smarthost).replace(
        auth=AuthSettings(inbound=mode, resolvers=servers, dns_timeout=timeout))


def signed(data: bytes, domain: str, selector: str, key: bytes) -> bytes:
    header = dkim.sign(data, selector.encode(), domain.encode(), key,
                       canonicalize=(b"relaxed", b"relaxed"),
                       include_headers=[b"From", b"To", b"Subject", b"Date", b"Message-ID"])
    return header + data


def sign_without_from(data: bytes, key_pem: bytes) -> bytes:
    """A valid buyer-mail.example signature whose h= leaves From out."""
    policy = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
    headers, body = dkim.rfc822_parse(data)
    include = [b"subject", b"date"]
    fields = [(b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", b"relaxed/relaxed"),
              (b"d", b"buyer-mail.example"), (b"s", b"s1"), (b"h", b":".join(include)),
              (b"bh", base64.b64encode(hashlib.sha256(policy.canonicalize_body(body)).digest())),
              (b"b", b"")]
    value = b"; ".join(b"=".join(f) for f in fields)
    hasher = hashlib.sha256()
    dkim.hash_headers(hasher, policy, policy.canonicalize_headers(headers), include,
                      (b"DKIM-Signature", b" " + value), dict(fields))
    key = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(hasher.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    return b"DKIM-Signature: " + value + base64.b64encode(signature) + b"\r\n"


async def auth_results(relay: Relay, queue_id: str) -> str | None:
    async with relay.store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT value FROM authentication_results WHERE message_id = ?", (queue_id,))
    return rows[0][0] if rows else None


async def last_record(relay: Relay) -> records.Record:
    async with relay.store.read() as db:
        rows = await db.execute_fetchall("SELECT id FROM messages ORDER BY seq DESC LIMIT 1")
    record = await records.get(relay.store, rows[0][0])
    assert record is not None
    return record


@pytest.fixture
async def dmarc_relay(relay_factory: RelayFactory, capture: Capture, tmp_path: Path,
                      dns_server: LocalDNS) -> Relay:
    return await relay_factory(config(tmp_path, capture.port, dns_server))


async def test_spf_aligned_seller_passes_and_the_result_is_recorded_not_delivered(
        dmarc_relay, capture):
    conv = await open_conv(dmarc_relay)
    code, reply = await send(dmarc_relay.smtp_port, SELLER, conv.buyer_alias,
                             compose(SELLER, conv.buyer_alias, body="It ships on Monday."))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    value = await auth_results(dmarc_relay, reply.split()[-1])
    assert value == (f"{DOMAIN}; spf=pass smtp.mailfrom=seller-host.example; dkim=none;"
                     " dmarc=pass header.from=seller-host.example policy.published=reject")
    assert b"Authentication-Results" not in got.data


async def test_unsigned_mail_from_a_server_spf_does_not_list_is_refused(dmarc_relay, capture):
    conv = await open_conv(dmarc_relay)
    code, reply = await send(dmarc_relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 550, reply
    assert reply.startswith("5.7.26 sender.auth_failed: SPF fail for buyer-mail.example;"
                            " no DKIM signature;"), reply
    record = await last_record(dmarc_relay)
    assert record.disposition == "rejected" and "sender.auth_failed" in record.reasons
    assert "dmarc=fail" in (await auth_results(dmarc_relay, record.id) or "")
    await assert_never_queued(dmarc_relay, record.id)
    assert capture.messages == []


async def test_dkim_signature_of_the_from_domain_passes(dmarc_relay, capture):
    conv = await open_conv(dmarc_relay)
    data = signed(compose(BUYER, conv.seller_alias), "buyer-mail.example", "s1", BUYER_KEY)
    code, reply = await send(dmarc_relay.smtp_port, BUYER, conv.seller_alias, data)
    assert code == 250, reply
    value = await auth_results(dmarc_relay, reply.split()[-1]) or ""
    assert "spf=fail" in value and "dkim=pass header.d=buyer-mail.example header.s=s1" in value
    assert "dmarc=pass" in value
    await capture.wait_for(1)


@pytest.mark.parametrize("forgery", ["unpublished key", "changed after signing",
                                     "someone else's domain"])
async def test_forged_signatures_fail(dmarc_relay, capture, forgery):
    conv = await open_conv(dmarc_relay)
    data = compose(BUYER, conv.seller_alias, body="Please refund me.\n")
    if forgery == "unpublished key":
        data = signed(data, "buyer-mail.example", "s1", ROGUE_KEY)
    elif forgery == "changed after signing":
        data = signed(data, "buyer-mail.example", "s1", BUYER_KEY)
        data = data.replace(b"Please refund me.", b"Please refund me twice.")
    else:  # a valid signature, but not of the From: domain: no DMARC alignment
        data = signed(data, "attacker.example", "evil", ROGUE_KEY)
    code, reply = await send(dmarc_relay.smtp_port, BUYER, conv.seller_alias, data)
    assert code == 550 and "sender.auth_failed" in reply, reply
    expected = "pass for attacker.example" if forgery.startswith("someone") else "fail for"
    assert f"DKIM {expected}" in reply, reply
    assert "neither aligned with the From: domain buyer-mail.example" in reply


async def test_spf_or_dkim_mode(relay_factory, capture, tmp_path, dns_server):
    relay = await relay_factory(config(tmp_path, capture.port, dns_server, "spf-or-dkim"))
    conv = await open_conv(relay)
    ok = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                    compose(SELLER, conv.buyer_alias, body="It ships on Monday."))
    assert ok[0] == 250, ok
    refused = await send(relay.smtp_port, BUYER, conv.seller_alias,
                         signed(compose(BUYER, conv.seller_alias), "attacker.example", "evil",
                                ROGUE_KEY))
    assert refused[0] == 550 and "sender.auth_failed" in refused[1], refused


@pytest.fixture
def silent_dns() -> Iterator[str]:
    """A UDP port that takes queries and never answers: every lookup times out."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


async def test_dns_timeout_is_451_never_a_pass(relay_factory, capture, tmp_path, dns_server,
                                               silent_dns):
    relay = await relay_factory(config(tmp_path, capture.port, dns_server, timeout=0.3,
                                       resolvers=(silent_dns,)))
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                             compose(SELLER, conv.buyer_alias, body="It ships on Monday."))
    assert code == 451 and reply.startswith("4.4.3 sender.auth_temperror"), (code, reply)
    record = await last_record(relay)
    assert record.disposition == "deferred" and "sender.auth_temperror" in record.reasons
    assert "spf=temperror" in (await auth_results(relay, record.id) or "")


async def test_none_mode_looks_nothing_up(relay, conv, capture):
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    assert await auth_results(relay, reply.split()[-1]) is None


def test_organizational_domains_come_from_the_public_suffix_list():
    assert organizational("mail.shop.example.co.uk") == "example.co.uk"
    assert organizational("a.b.seller-host.example") == "seller-host.example"
    assert organizational("user.github.io") == "user.github.io"  # a private suffix
    assert aligned("bounce.example.co.uk", "example.co.uk", "r")
    assert not aligned("bounce.example.co.uk", "example.co.uk", "s")
    assert not aligned("other.co.uk", "example.co.uk", "r")


async def test_delivered_signature_verifies_with_dkimpy_and_mail_dkim(relay, conv, capture,
                                                                     dns_server):
    require(mail_dkim_available(), "Perl Mail::DKIM (Debian package libmail-dkim-perl)")
    data = compose(BUYER, conv.seller_alias, subject="Gr\u00fc\u00dfe: where is it?",
                   body="Hello,\n.\n..two dots\nthe parcel has not arrived. Trailing space \n")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    (got,) = await capture.wait_for(1)
    assert dkim.verify(got.data, dnsfunc=dns_server.dkim_dnsfunc)

    def perl(message: bytes) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["perl", str(DKIM_VERIFY_PL), dns_server.host,
                               str(dns_server.port)], input=message.decode("utf-8"),
                              capture_output=True, text=True, timeout=30, check=False)

    done = await asyncio.to_thread(perl, got.data)
    assert done.returncode == 0 and f"pass d={DOMAIN} s=relay" in done.stdout, done
    tampered = await asyncio.to_thread(perl, got.data.replace(b"not arrived", b"now arrived"))
    assert tampered.returncode == 1 and "overall fail" in tampered.stdout, tampered


# -- found in review: ways a real signature could vouch for a forged author -------------------

async def test_a_bare_cr_cannot_hide_a_second_header_block(dmarc_relay, capture):
    """dkimpy ends lines at LF only, Python's parser at a bare CR too: a signed message from
    Eve with "X-A: x\\rFrom: Bob" in front would pass DKIM for Eve and be read as Bob's.
    Sent raw: SMTP client libraries turn a bare CR into CRLF."""
    conv = await open_conv(dmarc_relay)
    eve = "eve@buyer-mail.example"
    data = signed(compose(eve, conv.seller_alias, body="Refund me."), "buyer-mail.example",
                  "s1", BUYER_KEY)
    forged = f"X-A: x\rFrom: {BUYER}\rSubject: refund\r\r\n".encode() + data
    script = (f"EHLO client.example\r\nMAIL FROM:<{BUYER}>\r\n"
              f"RCPT TO:<{conv.seller_alias}>\r\nDATA\r\n").encode() + forged + b".\r\nQUIT\r\n"
    replies = await talk(dmarc_relay.smtp_port, script)
    assert b"550 5.6.0 mime.malformed: a bare CR in the header section" in replies, replies
    assert b"250 2.0.0" not in replies
    record = await last_record(dmarc_relay)
    assert record.disposition == "rejected" and "mime.malformed" in record.reasons
    await assert_never_queued(dmarc_relay, record.id)
    assert capture.messages == []


@pytest.mark.parametrize("eol", [b"\n", b"\r\r\n"], ids=["LF", "CR CR LF"])
async def test_lines_ending_in_lf_or_cr_cr_lf_are_header_lines_to_every_reader(
        dmarc_relay, capture, eol):
    """Lines that end in a bare LF or in CR CR LF are read as if they ended in CRLF, by the
    parser and dkimpy alike: put in front of Eve's signed message, they are header lines
    everyone sees, and its From: now names two authors."""
    conv = await open_conv(dmarc_relay)
    eve = "eve@buyer-mail.example"
    data = signed(compose(eve, conv.seller_alias, body="Refund me."), "buyer-mail.example",
                  "s1", BUYER_KEY)
    forged = b"X-A: x" + eol + f"From: {BUYER}".encode() + eol + data
    script = (f"EHLO client.example\r\nMAIL FROM:<{BUYER}>\r\n"
              f"RCPT TO:<{conv.seller_alias}>\r\nDATA\r\n").encode() + forged + b".\r\nQUIT\r\n"
    replies = await talk(dmarc_relay.smtp_port, script)
    assert (b"550 5.7.1 sender.unregistered: the message needs exactly one address in its"
            b" From: header") in replies, replies
    await asyncio.sleep(0.2)
    assert capture.messages == []


@pytest.mark.parametrize("weakness", ["From not signed", "body length limit"])
async def test_signatures_that_vouch_for_no_author_do_not_pass(dmarc_relay, weakness):
    conv = await open_conv(dmarc_relay)
    data = compose(BUYER, conv.seller_alias, body="Please refund me.\n")
    if weakness == "From not signed":  # dkimpy refuses to make one; other signers do not
        header = sign_without_from(data, BUYER_KEY)
        expected = "DKIM permerror"
    else:
        header = dkim.sign(data, b"s1", b"buyer-mail.example", BUYER_KEY,
                           canonicalize=(b"relaxed", b"relaxed"), length=True)
        expected = "DKIM policy"
    assert dkim.verify(header + data, dnsfunc=lambda *_a, **_k: dns_record(BUYER_KEY).encode())
    code, reply = await send(dmarc_relay.smtp_port, BUYER, conv.seller_alias, header + data)
    assert code == 550 and expected in reply, reply


async def test_an_ed25519_signature_rides_along(relay_factory, capture, tmp_path, dns_server):
    """dkim.ed25519: a second, ed25519-sha256 signature (RFC 8463) under its own selector;
    both verify against the published keys, and Mail::DKIM still passes the message."""
    require(mail_dkim_available(), "Perl Mail::DKIM (Debian package libmail-dkim-perl)")
    (tmp_path / "ed.pem").write_bytes(ED_KEY)
    base = make_config(tmp_path, capture.port)
    relay = await relay_factory(base.replace(dkim=DKIMSettings(
        key=base.dkim.key, ed25519=True, ed25519_key=tmp_path / "ed.pem")))
    conv = await open_conv(relay)
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias,
                       compose(BUYER, conv.seller_alias)))[0] == 250
    (got,) = await capture.wait_for(1)
    checked = dkim.DKIM(got.data)
    tags = [dkim.util.parse_tag_value(v) for k, v in checked.headers
            if k.lower() == b"dkim-signature"]
    assert [(t[b"a"], t[b"s"]) for t in tags] == [(b"rsa-sha256", b"relay"),
                                                  (b"ed25519-sha256", b"relayed")]
    assert all(checked.verify(idx=i, dnsfunc=dns_server.dkim_dnsfunc) for i in range(2))
    tampered = dkim.DKIM(got.data.replace(b"Question about", b"Question abouT"))
    assert not tampered.verify(idx=1, dnsfunc=dns_server.dkim_dnsfunc)
    done = await asyncio.to_thread(
        subprocess.run, ["perl", str(DKIM_VERIFY_PL), dns_server.host, str(dns_server.port)],
        input=got.data.decode("utf-8"), capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and f"pass d={DOMAIN} s=relay" in done.stdout, done
