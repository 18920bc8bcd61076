"""The submission port: STARTTLS, then AUTH PLAIN/LOGIN, then mail sent as the seller account.

A real relay on loopback with a trustme certificate, real aiosmtplib clients that verify it,
the capture server as the buyer's inbox, and the `relay` CLI as a subprocess.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import re
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
import trustme
from aiosmtplib.auth import auth_plain_encode
from conftest import (
    BUYER,
    DOMAIN,
    ROOT,
    SELLER,
    SELLER2,
    Capture,
    RelayFactory,
    compose,
    free_port,
    make_config,
    open_conv,
    send,
    store_section,
    store_url,
)

from relay.auth.passwords import set_password
from relay.config import LimitsSettings, StoreSettings, SubmissionSettings
from relay.marketplace.conversations import Conversation
from relay.server import Relay
from relay.store import records
from relay.store.db import Store

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

PASSWORD = "correct horse battery staple"
PASSWORD2 = "a different passphrase, 2nd"
OTHER_ORDER = "112-7654321-7654321"
OTHER_SELLER = "orders@other-shop.example"
QUEUED = re.compile(r"2\.0\.0 queued as (\S+)")


@dataclass(frozen=True)
class TLSFiles:
    ca: trustme.CA
    cert: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA (and checks the host name)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls(ca: trustme.CA, tmp_path: Path) -> TLSFiles:
    leaf = ca.issue_cert(DOMAIN, "127.0.0.1")
    folder = tmp_path / "trustme"
    folder.mkdir()
    cert, key = folder / "chain.pem", folder / "key.pem"
    cert.write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    return TLSFiles(ca, cert, key)


async def start_submission_relay(relay_factory: RelayFactory, capture: Capture,
                                 tmp_path: Path, tls: TLSFiles, tls_port: int = 0) -> Relay:
    """An in-process relay with the submission port (and tls_port, when given) on the
    trustme certificate."""
    config = make_config(tmp_path, capture.port).replace(submission=SubmissionSettings(
        port=0, tls_port=tls_port, tls_cert=tls.cert, tls_key=tls.key))
    return await relay_factory(config)


@pytest.fixture
async def sub(relay_factory: RelayFactory, capture: Capture, tmp_path: Path,
              tls: TLSFiles) -> Relay:
    """The relay with the submission port on the trustme certificate."""
    return await start_submission_relay(relay_factory, capture, tmp_path, tls)


def store_of(relay: Relay) -> Store:
    assert relay.store is not None
    return relay.store

async def assert_delivered_as(relay: Relay, capture: Capture, conv: Conversation, queue_id: str,
                              account: str, *absent: bytes) -> None:
    """Delivered to the buyer from the seller alias, without `absent`, and recorded as sent
    by `account`."""
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [BUYER]
    assert got.message["From"].addresses[0].addr_spec == conv.seller_alias
    for trace in absent:
        assert trace not in got.data, trace
    record = await records.get(store_of(relay), queue_id)
    assert record is not None and record.mail_from == account



@pytest.fixture
async def sconv(sub: Relay) -> Conversation:
    """BUYER's conversation with SELLER and SELLER2; SELLER has PASSWORD."""
    conv = await open_conv(sub, sellers=(SELLER, SELLER2))
    await set_password(store_of(sub), SELLER, DOMAIN, PASSWORD)
    return conv


@asynccontextmanager
async def session(port: int, tls: TLSFiles, *, starttls: bool = True, implicit: bool = False,
                  auth: tuple[str, str] | None = None,
                  source: str | None = None) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connected client after EHLO; with STARTTLS (verified) and AUTH PLAIN when asked;
    from the loopback address `source` when given (another client network)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False,
                             use_tls=implicit, tls_context=tls.client_context(),
                             source_address=(source, 0) if source else None)
    await client.connect()
    try:
        await client.ehlo(hostname="client.example")
        if starttls and not implicit:
            await client.starttls()
            await client.ehlo(hostname="client.example")
        if auth is not None:
            assert (await client.auth_plain(*auth)).code == 235
        yield client
    finally:
        try:
            await client.quit()
        except aiosmtplib.SMTPException:
            client.close()


async def submit(client: aiosmtplib.SMTP, mail_from: str, rcpt: str, data: bytes) -> str:
    """MAIL, RCPT, DATA on an authenticated session; returns the queue id of the 250."""
    await client.mail(mail_from)
    await client.rcpt(rcpt)
    reply = await client.data(data)
    assert reply.code == 250, reply
    found = QUEUED.fullmatch(reply.message)
    assert found, reply.message
    return found.group(1)


async def counts(relay: Relay) -> tuple[int, int]:
    """(records, outbox entries) in the store."""
    async with store_of(relay).read() as db:
        ((messages,),) = await db.execute_fetchall("SELECT COUNT(*) FROM messages")
        ((queued,),) = await db.execute_fetchall("SELECT COUNT(*) FROM outbox")
    return int(messages), int(queued)


async def test_before_starttls_no_auth_and_no_mail(sub: Relay, sconv: Conversation,
                                                  tls: TLSFiles) -> None:
    """In clear: STARTTLS offered, AUTH neither offered nor usable, MAIL refused with 530."""
    async with session(sub.submission_port, tls, starttls=False) as client:
        assert client.supports_extension("starttls")
        assert not client.supports_extension("auth")
        assert client.get_transport_info("sslcontext") is None
        # Even the right credentials are not looked at before TLS.
        reply = await client.execute_command(b"AUTH", b"PLAIN",
                                             auth_plain_encode(SELLER, PASSWORD))
        assert reply.code in (530, 538), reply
        reply = await client.execute_command(b"MAIL", b"FROM:<" + SELLER.encode() + b">")
        assert reply.code == 530, reply
        reply = await client.execute_command(b"RCPT", f"TO:<{sconv.buyer_alias}>".encode())
        assert reply.code == 530, reply
        assert (await client.noop()).code == 250
    assert await counts(sub) == (0, 0)


async def test_after_starttls_auth_offered_and_required(sub: Relay, sconv: Conversation,
                                                       tls: TLSFiles) -> None:
    """STARTTLS with the certificate verified by the test CA; then AUTH PLAIN and LOGIN are
    offered, STARTTLS no more, and MAIL before AUTH is still 530."""
    async with session(sub.submission_port, tls) as client:
        assert client.get_transport_info("sslcontext") is not None
        peer = client.get_transport_info("peercert")
        assert ("IP Address", "127.0.0.1") in peer["subjectAltName"]
        assert client.supports_extension("auth")
        assert {"PLAIN", "LOGIN"} <= {m.upper() for m in client.server_auth_methods}
        assert not client.supports_extension("starttls")
        reply = await client.execute_command(b"MAIL", b"FROM:<" + SELLER.encode() + b">")
        assert reply.code == 530, reply


async def test_starttls_certificate_is_really_verified(sub: Relay, tls: TLSFiles) -> None:
    """The client check above means something: a client that does not trust the test CA
    refuses the relay's certificate."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sub.submission_port, timeout=10,
                             start_tls=False)
    await client.connect()
    try:
        await client.ehlo(hostname="client.example")
        assert client.supports_extension("starttls")
        with pytest.raises(ssl.SSLCertVerificationError):
            await client.starttls(tls_context=ssl.create_default_context())
    finally:
        client.close()


async def test_auth_plain_sends_as_the_seller_whatever_the_sender_says(
        sub: Relay, sconv: Conversation, tls: TLSFiles, capture: Capture) -> None:
    """AUTH PLAIN 235; a message with a foreign MAIL FROM and From: goes out as the seller
    alias to the buyer, with no trace of the claimed sender, recorded as from the account."""
    data = compose("Mallory <mallory@evil.example>", sconv.buyer_alias,
                   subject="Re: Question about my order", body="It ships tomorrow.\n",
                   message_id="<m1@evil.example>")
    async with session(sub.submission_port, tls) as client:
        reply = await client.auth_plain(SELLER, PASSWORD)
        assert reply.code == 235, reply
        queue_id = await submit(client, "someone@else.example", sconv.buyer_alias, data)
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [BUYER]
    msg = got.message
    assert msg["From"].addresses[0].addr_spec == sconv.seller_alias
    assert msg.get_content() == "It ships tomorrow.\r\n"
    for trace in (b"evil.example", b"else.example", b"mallory", b"seller-host.example"):
        assert trace not in got.data.lower(), trace
    record = await records.get(store_of(sub), queue_id)
    assert record is not None
    assert record.mail_from == SELLER
    assert record.direction == "seller_to_buyer"
    assert record.disposition == "delivered"


async def test_auth_login_works_too(sub: Relay, sconv: Conversation, tls: TLSFiles,
                                    capture: Capture) -> None:
    """AUTH LOGIN with the right password authenticates the session for mail."""
    async with session(sub.submission_port, tls) as client:
        reply = await client.auth_login(SELLER, PASSWORD)
        assert reply.code == 235, reply
        queue_id = await submit(client, SELLER, sconv.buyer_alias,
                                compose(SELLER, sconv.buyer_alias, subject="Re: Question"))
    await assert_delivered_as(sub, capture, sconv, queue_id, SELLER)


async def test_wrong_password_and_unknown_account_are_535(sub: Relay, sconv: Conversation,
                                                          tls: TLSFiles) -> None:
    """A wrong password and an unknown account both get 535 5.7.8 (PLAIN and LOGIN); two
    failures leave the session open, and the right password still works in it."""
    async with session(sub.submission_port, tls) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as wrong:
            await client.auth_plain(SELLER, "not the password at all")
        assert wrong.value.code == 535 and wrong.value.message.startswith("5.7.8"), wrong.value
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as unknown:
            await client.auth_login("nobody@seller-host.example", PASSWORD)
        assert unknown.value.code == 535 and unknown.value.message.startswith("5.7.8")
        assert (await client.noop()).code == 250
        reply = await client.execute_command(b"MAIL", b"FROM:<" + SELLER.encode() + b">")
        assert reply.code == 530, reply  # a failed AUTH authenticates nothing
        assert (await client.auth_plain(SELLER, PASSWORD)).code == 235


async def test_three_failures_close_the_connection(sub: Relay, sconv: Conversation,
                                                   tls: TLSFiles) -> None:
    """After the third failed AUTH in one session the server hangs up."""
    async with session(sub.submission_port, tls) as client:
        for attempt in range(3):
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failed:
                if attempt == 1:
                    await client.auth_login(SELLER, f"wrong password number {attempt}")
                else:
                    await client.auth_plain(SELLER, f"wrong password number {attempt}")
            assert failed.value.code == 535, failed.value
        with pytest.raises(aiosmtplib.SMTPServerDisconnected):
            await client.auth_plain(SELLER, PASSWORD)  # not even the right one now
        assert not client.is_connected


async def test_seller_may_write_only_to_buyer_aliases_of_its_conversations(
        sub: Relay, sconv: Conversation, tls: TLSFiles, capture: Capture) -> None:
    """Its own seller alias, and both aliases of another seller's conversation with the same
    buyer, are refused at RCPT with 550 5.7.1; nothing is recorded or delivered."""
    other = await open_conv(sub, sellers=(OTHER_SELLER,), order=OTHER_ORDER)
    assert other.id != sconv.id
    forbidden = [sconv.seller_alias, other.buyer_alias, other.seller_alias]
    async with session(sub.submission_port, tls, auth=(SELLER, PASSWORD)) as client:
        for alias in forbidden:
            await client.mail(SELLER)
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
                await client.rcpt(alias)
            assert refused.value.code == 550, (alias, refused.value)
            assert refused.value.message.startswith("5.7.1"), (alias, refused.value)
            reply = await client.execute_command(b"DATA")
            assert reply.code >= 500, reply  # no recipient: no transaction
            await client.rset()
        # Another domain entirely: not relayed either.
        await client.mail(SELLER)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(BUYER)
        assert refused.value.code == 550 and refused.value.message.startswith("5.7.1")
    assert await counts(sub) == (0, 0)  # nothing recorded, so nothing to deliver
    assert capture.messages == []


async def test_second_seller_address_has_its_own_password(
        sub: Relay, sconv: Conversation, tls: TLSFiles, capture: Capture) -> None:
    """SELLER2 of the same conversation authenticates with its own password (SELLER's does
    not open it, before or after) and its mail goes out as the seller alias."""
    async with session(sub.submission_port, tls) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as none_yet:
            await client.auth_plain(SELLER2, PASSWORD)
        assert none_yet.value.code == 535
    await set_password(store_of(sub), SELLER2, DOMAIN, PASSWORD2)
    async with session(sub.submission_port, tls) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as crossed:
            await client.auth_plain(SELLER2, PASSWORD)
        assert crossed.value.code == 535
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as crossed_back:
            await client.auth_plain(SELLER, PASSWORD2)
        assert crossed_back.value.code == 535
        assert (await client.auth_login(SELLER2, PASSWORD2)).code == 235
        queue_id = await submit(client, SELLER2, sconv.buyer_alias,
                                compose(SELLER2, sconv.buyer_alias, subject="Re: Question"))
    await assert_delivered_as(sub, capture, sconv, queue_id, SELLER2, b"seller-host.example")


async def test_password_checks_do_not_block_the_event_loop(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path, tls: TLSFiles,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Six AUTHs (scrypt each) at once on six TLS sessions while port 25 answers NOOPs: a
    NOOP reply comes before the last AUTH reply, and NOOP replies come while a password
    check is running, which a check on the event loop thread would make impossible.
    (The NOOPs are a probe, as many as the loop answers: smtp.max_idle_commands is raised.)"""
    config = make_config(tmp_path, capture.port)
    sub = await relay_factory(config.replace(
        smtp=dataclasses.replace(config.smtp, max_idle_commands=1_000_000),
        submission=SubmissionSettings(port=0, tls_cert=tls.cert, tls_key=tls.key)))
    await open_conv(sub, sellers=(SELLER, SELLER2))
    await set_password(store_of(sub), SELLER, DOMAIN, PASSWORD)
    events: list[str] = []  # appended from the loop and from the checking threads, in order
    real_scrypt = hashlib.scrypt

    def observed_scrypt(*args: Any, **kwargs: Any) -> bytes:
        events.append("check start")
        try:
            return real_scrypt(*args, **kwargs)
        finally:
            events.append("check end")

    monkeypatch.setattr(hashlib, "scrypt", observed_scrypt)  # records, changes nothing
    port = sub.submission_port
    async with (session(port, tls) as c1, session(port, tls) as c2, session(port, tls) as c3,
                session(port, tls) as c4, session(port, tls) as c5, session(port, tls) as c6,
                session(sub.smtp_port, tls, starttls=False) as plain):

        async def auth(client: aiosmtplib.SMTP) -> None:
            reply = await client.auth_plain(SELLER, PASSWORD)
            events.append(f"auth {reply.code}")

        async def noops() -> None:
            while events.count("auth 235") < 6:
                reply = await plain.noop()
                events.append(f"noop {reply.code}")

        # gather starts the tasks in this order: the six AUTH lines go out before a NOOP.
        await asyncio.gather(*(auth(c) for c in (c1, c2, c3, c4, c5, c6)), noops())
    auths = [i for i, e in enumerate(events) if e.startswith("auth")]
    assert [events[i] for i in auths] == ["auth 235"] * 6, events
    assert events.count("check start") == events.count("check end") == 6, events
    assert events.index("noop 250") < auths[-1], events
    running, during = 0, 0
    for event in events:
        running += {"check start": 1, "check end": -1}.get(event, 0)
        during += running > 0 and event == "noop 250"
    assert during > 0, events


def write_config(tmp_path: Path) -> Path:
    """A config file on the same store the test relay uses (tmp_path/relay.db, or its
    PostgreSQL database)."""
    path = tmp_path / "cli.toml"
    store = tmp_path / "relay.db"
    path.write_text(
        f'domain = "{DOMAIN}"\n'
        + store_section(StoreSettings(path=store, url=store_url(store))) +
        f"[delivery]\nmaildir = {json.dumps(str(tmp_path / 'maildir'))}\n",
        encoding="utf-8",
    )
    return path


def relay_cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relay.cli", "--config", str(config), *args], input=stdin,
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )


async def test_cli_sets_password_from_stdin(relay_factory: RelayFactory, capture: Capture,
                                            tmp_path: Path, tls: TLSFiles) -> None:
    """`relay sellers password` takes the first stdin line: a good one is stored as a scrypt
    hash and opens the submission port; too short, or not a seller address: exit 2, nothing
    stored."""
    config = write_config(tmp_path)
    opened = relay_cli(config, "conversations", "open", "--order", OTHER_ORDER, "--buyer", BUYER,
                       "--seller", SELLER, "--json")
    assert opened.returncode == 0, opened.stderr
    buyer_alias = json.loads(opened.stdout)["buyer_alias"]

    done = relay_cli(config, "sellers", "password", SELLER, stdin=f"{PASSWORD}\nignored\n")
    assert done.returncode == 0, done.stderr
    assert f"password set for {SELLER}" in done.stdout

    short = relay_cli(config, "sellers", "password", SELLER, stdin="short pass\n")
    assert short.returncode == 2, short
    assert "at least 12 characters" in short.stderr
    for stranger in ("stranger@elsewhere.example", BUYER):
        refused = relay_cli(config, "sellers", "password", stranger, stdin=f"{PASSWORD}\n")
        assert refused.returncode == 2, refused
        assert "is not a seller address of any conversation" in refused.stderr

    relay = await start_submission_relay(relay_factory, capture, tmp_path, tls)
    async with store_of(relay).read() as db:
        rows = await db.execute_fetchall("SELECT address_key, hash FROM seller_credentials")
    assert [row[0] for row in rows] == [SELLER]
    assert rows[0][1].startswith("scrypt$") and PASSWORD not in rows[0][1]
    async with session(relay.submission_port, tls) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await client.auth_plain(SELLER, "ignored")  # only the first line counts
        assert (await client.auth_plain(SELLER, PASSWORD)).code == 235
        await submit(client, SELLER, buyer_alias, compose(SELLER, buyer_alias,
                                                          subject="Re: Question"))
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [BUYER]


async def test_implicit_tls_port(relay_factory: RelayFactory, capture: Capture, tmp_path: Path,
                                 tls: TLSFiles) -> None:
    """With submission.tls_port set, TLS from the first byte: AUTH offered at once (no
    STARTTLS), required before MAIL, and mail goes out as the seller."""
    port = free_port()
    relay = await start_submission_relay(relay_factory, capture, tmp_path, tls, tls_port=port)
    assert [s.sockets[0].getsockname()[1] for s in relay.submission][1] == port
    conv = await open_conv(relay, sellers=(SELLER, SELLER2))
    await set_password(store_of(relay), SELLER, DOMAIN, PASSWORD)
    async with session(port, tls, implicit=True) as client:
        assert client.get_transport_info("sslcontext") is not None
        assert not client.supports_extension("starttls")
        assert {"PLAIN", "LOGIN"} <= {m.upper() for m in client.server_auth_methods}
        reply = await client.execute_command(b"MAIL", b"FROM:<" + SELLER.encode() + b">")
        assert reply.code == 530, reply
        assert (await client.auth_plain(SELLER, PASSWORD)).code == 235
        queue_id = await submit(client, "someone@else.example", conv.buyer_alias,
                                compose(SELLER, conv.buyer_alias, subject="Re: Question"))
    await assert_delivered_as(relay, capture, conv, queue_id, SELLER, b"else.example")


async def test_bounce_address_is_no_recipient_for_a_seller(
        sub: Relay, sconv: Conversation, tls: TLSFiles, capture: Capture) -> None:
    """Only buyer aliases: not even the relay's bounce address for a message the seller got."""
    code, reply = await send(sub.smtp_port, BUYER, sconv.seller_alias,
                             compose(BUYER, sconv.seller_alias))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    verp = got.mail_from  # the envelope sender the seller's mailbox sees
    assert verp.startswith("bounces+")
    async with session(sub.submission_port, tls, auth=(SELLER, PASSWORD)) as client:
        await client.mail(SELLER)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(verp)
        assert refused.value.code == 550 and refused.value.message.startswith("5.7.1")


async def test_record_names_the_account_whatever_spelling_authenticated(
        sub: Relay, sconv: Conversation, tls: TLSFiles, capture: Capture) -> None:
    """Another spelling of the same account (case, a trailing dot) is still that account:
    the record says SELLER."""
    for spelling in ("sally@seller-host.example.", "SALLY@Seller-Host.EXAMPLE"):
        async with session(sub.submission_port, tls) as client:
            try:
                await client.auth_plain(spelling, PASSWORD)
            except aiosmtplib.SMTPAuthenticationError:
                continue  # refusing the spelling would do as well
            queue_id = await submit(client, SELLER, sconv.buyer_alias,
                                    compose(SELLER, sconv.buyer_alias, subject="Re: Question"))
        record = await records.get(store_of(sub), queue_id)
        assert record is not None
        assert record.mail_from == SELLER, spelling


async def test_sender_rate_limit_holds_for_every_spelling_of_the_account(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path, tls: TLSFiles) -> None:
    """With one message an hour per sender, a second message from the same account is 450
    however the login is spelt."""
    config = make_config(tmp_path, capture.port).replace(
        submission=SubmissionSettings(port=0, tls_cert=tls.cert, tls_key=tls.key),
        limits=LimitsSettings(sender_per_hour=1))
    relay = await relay_factory(config)
    conv = await open_conv(relay, sellers=(SELLER, SELLER2))
    await set_password(store_of(relay), SELLER, DOMAIN, PASSWORD)
    async with session(relay.submission_port, tls, auth=(SELLER, PASSWORD)) as client:
        await submit(client, SELLER, conv.buyer_alias,
                     compose(SELLER, conv.buyer_alias, subject="Re: Question"))
    async with session(relay.submission_port, tls) as client:
        try:
            await client.auth_plain("sally@seller-host.example.", PASSWORD)
        except aiosmtplib.SMTPAuthenticationError:
            return  # refusing the spelling would do as well
        await client.mail(SELLER)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as limited:
            await client.rcpt(conv.buyer_alias)
        assert limited.value.code == 450 and "rate.limit" in limited.value.message


async def test_guessing_is_throttled_per_client(sub: Relay, sconv: Conversation,
                                                tls: TLSFiles) -> None:
    """Past ten failures from one client in the window, even the right password gets 454
    until the window passes: reconnecting does not reset the count."""
    failures = 0
    while failures < 10:
        async with session(sub.submission_port, tls) as client:
            for _ in range(min(2, 10 - failures)):
                with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                    await client.auth_plain(SELLER, "not the password at all")
                failures += 1
    async with session(sub.submission_port, tls) as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as throttled:
            await client.auth_plain(SELLER, PASSWORD)
    assert throttled.value.code == 454 and "too many failed logins" in throttled.value.message


async def fail_logins(relay: Relay, tls: TLSFiles, source: str, logins: list[str]) -> None:
    """A wrong password for each of `logins`, from `source`, two per connection."""
    for start in range(0, len(logins), 2):
        async with session(relay.submission_port, tls, source=source) as client:
            for login in logins[start:start + 2]:
                with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
                    await client.auth_plain(login, "not the password at all")
                assert refused.value.code == 535, refused.value


async def test_guesses_from_other_networks_do_not_lock_the_seller_out(
        sub: Relay, sconv: Conversation, tls: TLSFiles) -> None:
    """Ten wrong passwords for the account from each of three networks (30 in all) throttle
    those networks; the seller, on a network of its own, still logs in."""
    for network in ("127.0.1", "127.0.2", "127.0.3"):
        await fail_logins(sub, tls, f"{network}.1", [SELLER] * 10)
    async with session(sub.submission_port, tls, source="127.0.2.99") as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as throttled:
            await client.auth_plain(SELLER, PASSWORD)  # another address of a guessing /24
        assert throttled.value.code == 454, throttled.value
    async with session(sub.submission_port, tls, auth=(SELLER, PASSWORD)) as client:
        await submit(client, SELLER, sconv.buyer_alias,
                     compose(SELLER, sconv.buyer_alias, subject="Re: Question"))


async def test_guessing_many_accounts_from_one_network_is_throttled(
        sub: Relay, sconv: Conversation, tls: TLSFiles) -> None:
    """Thirty failures from one network, one per account and address, throttle every login
    from that network; another network is not affected."""
    for host in range(1, 16):
        await fail_logins(sub, tls, f"127.0.4.{host}",
                          [f"nobody{host}a@seller-host.example", f"nobody{host}b@x.example"])
    async with session(sub.submission_port, tls, source="127.0.4.200") as client:
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as throttled:
            await client.auth_plain(SELLER, PASSWORD)
        assert throttled.value.code == 454, throttled.value
    async with session(sub.submission_port, tls, source="127.0.5.1",
                       auth=(SELLER, PASSWORD)):
        pass


async def test_a_sellers_refusals_are_its_accounts_not_its_networks(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path, tls: TLSFiles) -> None:
    """Strangers' refusals from the seller's network do not hold up its logged-in mail, and
    its own refused bytes count toward its account, not toward the strangers' network."""
    config = make_config(tmp_path, capture.port).replace(
        submission=SubmissionSettings(port=0, tls_cert=tls.cert, tls_key=tls.key),
        limits=LimitsSettings(refused_per_network_per_hour=2,
                              refused_bytes_per_network_per_hour=1_000_000))
    relay = await relay_factory(config)
    conv = await open_conv(relay, sellers=(SELLER, SELLER2))
    await set_password(store_of(relay), SELLER, DOMAIN, PASSWORD)
    junk = compose("mallory@junk.example", conv.seller_alias, body="Cheap watches")
    for _ in range(2):  # from 127.0.0.1, the seller's network too
        code, reply = await send(relay.smtp_port, "mallory@junk.example", conv.seller_alias,
                                 junk)
        assert code == 550, reply
    code, reply = await send(relay.smtp_port, "mallory@junk.example", conv.seller_alias, junk)
    assert code == 450 and "from your network" in reply, reply
    async with session(relay.submission_port, tls, auth=(SELLER, PASSWORD)) as client:
        await submit(client, SELLER, conv.buyer_alias,
                     compose(SELLER, conv.buyer_alias, subject="Re: Question"))
        huge = compose(SELLER, conv.buyer_alias, body="All the details.\n" * 70_000)  # 1.2 MB
        await client.mail(SELLER)
        await client.rcpt(conv.buyer_alias)
        with pytest.raises(aiosmtplib.SMTPDataError) as too_big:
            await client.data(huge)
        assert too_big.value.code == 552, too_big.value
        await client.mail(SELLER)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as waiting:
            await client.rcpt(conv.buyer_alias)
        assert waiting.value.code == 450 and "from your account" in waiting.value.message
    code, reply = await send(relay.smtp_port, "mallory@junk.example", conv.seller_alias, junk,
                             source="127.0.3.1")
    assert code == 550, reply  # another network: as before


async def test_the_throttle_is_shared_by_relays_on_one_database(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path, tls: TLSFiles,
        postgresql_url: str) -> None:
    """Two relays on one PostgreSQL database: ten failures spread over both throttle the
    client at either (the failures are counted in the database, not per process)."""
    config = make_config(tmp_path, capture.port).replace(
        store=StoreSettings(path=tmp_path / "relay.db", url=postgresql_url),
        submission=SubmissionSettings(port=0, tls_cert=tls.cert, tls_key=tls.key))
    relays = [await relay_factory(config), await relay_factory(config)]
    await open_conv(relays[0], sellers=(SELLER, SELLER2))
    await set_password(store_of(relays[0]), SELLER, DOMAIN, PASSWORD)
    for n in range(10):
        async with session(relays[n % 2].submission_port, tls) as client:
            with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                await client.auth_plain(SELLER, "not the password at all")
    for relay in relays:
        async with session(relay.submission_port, tls) as client:
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as throttled:
                await client.auth_plain(SELLER, PASSWORD)
        assert throttled.value.code == 454, throttled.value
