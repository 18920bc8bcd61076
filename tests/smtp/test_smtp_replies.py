"""Every SMTP reply of DESIGN §4, over real SMTP on loopback."""

from __future__ import annotations

import asyncio
import sqlite3

import aiosmtplib
import pytest
from conftest import BUYER, DOMAIN, SELLER, compose, make_config, open_conv, send

from relay.marketplace import conversations
from relay.smtp import session
from relay.store import records


async def ehlo_reply(port: int) -> str:
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    try:
        reply = await client.ehlo(hostname="client.example")
        return reply.message
    finally:
        await client.quit()


async def test_ehlo_advertises_size_8bitmime_smtputf8(relay):
    text = await ehlo_reply(relay.smtp_port)
    assert f"SIZE {relay.config.smtp.max_message_size}" in text
    assert "8BITMIME" in text
    assert "SMTPUTF8" in text


@pytest.mark.parametrize("rcpt", [
    "someone@gmail.example",
    "user%other.example@" + DOMAIN,
    '"u@other.example"@' + DOMAIN,
    "u@[127.0.0.1]",
    "other.example!user@" + DOMAIN,
])
async def test_open_relay_forms_are_refused_at_rcpt(relay, conv, capture, rcpt):
    code, msg = await send(relay.smtp_port, BUYER, rcpt, compose(BUYER, rcpt))
    assert (code, msg[:5]) == (550, "5.7.1"), msg
    assert "relaying denied" in msg


async def dialogue(port: int, *commands: str) -> list[str]:
    """The final reply line to each command, over a raw connection (no client rewrites)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readline()
        lines = []
        for command in commands:
            writer.write(command.encode() + b"\r\n")
            await writer.drain()
            while True:
                line = await reader.readline()
                if line[3:4] != b"-":
                    lines.append(line.decode())
                    break
        return lines
    finally:
        writer.close()


@pytest.mark.parametrize("route", [
    "@hop.example,@hop2.example:{alias}",
    # The address parser takes comments, spaces and a leading comma before the route too,
    # and drops the route: each of these was accepted with 250 for the alias behind it.
    "(c)@evil.example:{alias}",
    " (c) @evil.example : {alias}",
    "\t@evil.example:{alias}",
    ",@evil.example:{alias}",
    "@[192.0.2.1]:{alias}",
    '@evil.example:"{local}"@{domain}',
    "(a(nested)comment)@evil.example,(x)@hop2.example:{alias}",
])
async def test_source_route_is_refused(relay, conv, route):
    local, _, domain = conv.seller_alias.partition("@")
    rcpt = route.format(alias=conv.seller_alias, local=local, domain=domain)
    lines = await dialogue(relay.smtp_port, "EHLO client.example", f"MAIL FROM:<{BUYER}>",
                           f"RCPT TO:<{rcpt}>", "RSET")
    assert lines[2].startswith("550 5.7.1 relaying denied"), lines
    assert lines[3].startswith("250"), lines


async def test_a_route_is_refused_again_when_its_reading_is_kept(relay, conv):
    rcpt = f"RCPT TO:<@evil.example:{conv.seller_alias}>"
    lines = await dialogue(relay.smtp_port, "EHLO client.example", f"MAIL FROM:<{BUYER}>",
                           rcpt, rcpt, f"RCPT TO:<{conv.seller_alias}>")
    assert lines[2].startswith("550 5.7.1 relaying denied"), lines
    assert lines[3].startswith("550 5.7.1 relaying denied"), lines
    assert lines[4].startswith("250"), lines


def test_kept_readings_are_of_short_arguments_and_few():
    """MAIL and RCPT arguments as read are kept (a sender's recur), but not long ones, and
    not more than session._KEEP: a client cannot fill memory with them."""
    session._READ.clear()
    reads: list[str] = []

    def read(arg: str) -> int:
        reads.append(arg)
        return len(reads)

    assert session._kept("t", "<a@b.example>", 0, lambda: read("x")) == 1
    assert session._kept("t", "<a@b.example>", 0, lambda: read("x")) == 1  # kept
    assert session._kept("t", "<a@b.example>", 64, lambda: read("x")) == 2  # another limit
    long = "<" + "a" * session._KEEP_LENGTH + "@b.example>"
    assert session._kept("t", long, 0, lambda: read("x")) == 3
    assert session._kept("t", long, 0, lambda: read("x")) == 4  # not kept
    for i in range(2 * session._KEEP):
        session._kept("t", f"<{i}@b.example>", 0, lambda: read("x"))
    assert 0 < len(session._READ) <= session._KEEP


@pytest.mark.parametrize("rcpt", [
    '"@evil.example:{alias}"',
    '"@evil.example":{alias}',
    '"@evil.example:{local}"@{domain}',
])
async def test_quoted_route_forms_are_refused(relay, conv, rcpt):
    local, _, domain = conv.seller_alias.partition("@")
    rcpt = rcpt.format(alias=conv.seller_alias, local=local, domain=domain)
    lines = await dialogue(relay.smtp_port, "EHLO client.example", f"MAIL FROM:<{BUYER}>",
                           f"RCPT TO:<{rcpt}>")
    assert lines[2][:1] == "5", lines  # 550 5.7.1 relaying denied, or aiosmtpd's 501 syntax


async def test_comments_without_a_route_still_reach_the_alias(relay, conv):
    """Only the route is refused: a comment alone is part of the address syntax."""
    lines = await dialogue(relay.smtp_port, "EHLO client.example", f"MAIL FROM:<{BUYER}>",
                           f"RCPT TO:<(note){conv.seller_alias}>")
    assert lines[2].startswith("250 2.1.5"), lines


async def test_unknown_alias_is_550_511(relay, conv):
    for rcpt in ("aaaaaaaaaaaaaaaaaaaaa@" + DOMAIN, "postmaster-ish@" + DOMAIN):
        code, msg = await send(relay.smtp_port, BUYER, rcpt, compose(BUYER, rcpt))
        assert (code, msg[:5]) == (550, "5.1.1"), msg


async def test_closed_alias_is_550_511(relay, conv):
    await conversations.close(relay.store, DOMAIN, conv.id)
    code, msg = await send(relay.smtp_port, BUYER, conv.seller_alias,
                           compose(BUYER, conv.seller_alias))
    assert (code, msg[:5]) == (550, "5.1.1")


async def test_alias_match_is_case_insensitive(relay, conv, capture):
    rcpt = conv.seller_alias.upper()
    code, _ = await send(relay.smtp_port, BUYER.upper(), rcpt, compose(BUYER.lower(), rcpt))
    assert code == 250
    assert (await capture.wait_for(1))[0].rcpt_tos == [SELLER]


async def test_second_conversation_in_one_transaction_is_452(relay, conv, capture):
    other = await open_conv(relay, order="113-1234567-1234567")
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=relay.smtp_port, start_tls=False)
    await client.connect()
    try:
        await client.mail(BUYER)
        assert (await client.rcpt(conv.seller_alias)).code == 250
        assert (await client.rcpt(conv.seller_alias)).code == 250  # same alias again: fine
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as refused:
            await client.rcpt(other.seller_alias)
        assert refused.value.code == 452 and refused.value.message.startswith("4.5.3")
        reply = await client.data(compose(BUYER, conv.seller_alias))
        assert reply.code == 250
    finally:
        await client.quit()
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [SELLER]  # delivered once, to the first conversation only


async def test_unregistered_envelope_sender(relay, conv, capture):
    code, msg = await send(relay.smtp_port, "mallory@evil.example", conv.seller_alias,
                           compose(BUYER, conv.seller_alias))
    assert (code, msg[:5]) == (550, "5.7.1")
    assert msg.startswith("5.7.1 sender.unregistered: ")
    assert "registered buyer address" in msg


async def test_unregistered_from_header(relay, conv):
    code, msg = await send(relay.smtp_port, BUYER, conv.seller_alias,
                           compose("mallory@evil.example", conv.seller_alias))
    assert code == 550 and msg.startswith("5.7.1 sender.unregistered: ")
    assert "From:" in msg


async def test_wrong_party_cannot_use_an_alias(relay, conv):
    # The seller writing to the seller alias (not the buyer's) is not the expected party.
    code, msg = await send(relay.smtp_port, SELLER, conv.seller_alias,
                           compose(SELLER, conv.seller_alias))
    assert code == 550 and msg.startswith("5.7.1 sender.unregistered")


async def test_null_sender_is_refused(relay, conv):
    alias = conv.seller_alias
    code, msg = await send(relay.smtp_port, "", alias, compose(BUYER, alias))
    assert code == 550 and msg.startswith("5.7.1 sender.unregistered")


async def test_message_too_big_is_552_534(relay, conv, capture):
    big = compose(BUYER, conv.seller_alias, body=("z" * 76 + "\n") * 14_000)
    code, msg = await send(relay.smtp_port, BUYER, conv.seller_alias, big)
    assert (code, msg[:5]) == (552, "5.3.4"), msg
    # On the record without the body the relay did not keep.
    (row,) = await records.summaries(relay.store, conv.id)
    assert (row["disposition"], row["reasons"], row["size"]) == ("rejected", ["size"], 0)
    # Declared up front with SIZE= it is refused at MAIL FROM.
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=relay.smtp_port, start_tls=False)
    await client.connect()
    try:
        await client.ehlo()
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await client.mail(BUYER, options=["SIZE=99999999"])
        assert refused.value.code == 552 and refused.value.message.startswith("5.3.4")
    finally:
        await client.quit()
    assert capture.messages == []


async def test_mail_loop_is_554_546(relay, conv, capture):
    data = compose(BUYER, conv.seller_alias)
    def hops(n: int) -> bytes:
        return b"".join(b"Received: from hop%d.example by x.example;"
                        b" Thu, 26 Nov 2026 10:00:00 +0000\r\n" % i for i in range(n))

    code, msg = await send(relay.smtp_port, BUYER, conv.seller_alias, hops(31) + data)
    assert (code, msg[:5]) == (554, "5.4.6"), msg
    # Under the limit is fine, and the hop count survives in scrubbed form.
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias, hops(15) + data)
    assert code == 250
    (got,) = await capture.wait_for(1)
    assert b"hop1.example" not in got.data
    assert len(got.message.get_all("Received")) == 1 + 15


async def test_busy_store_is_451_never_500_or_250(relay_factory, capture, tmp_path):
    config = make_config(tmp_path, capture.port)
    config = config.replace(store=config.store.__class__(path=config.store.path, busy_timeout=0.2))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    blocker = sqlite3.connect(config.store.path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        code, msg = await send(relay.smtp_port, BUYER, conv.seller_alias,
                               compose(BUYER, conv.seller_alias))
        assert (code, msg[:5]) == (451, "4.3.0"), msg
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The store is free again: the same message now goes through.
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias,
                         compose(BUYER, conv.seller_alias))
    assert code == 250
    assert len(await capture.wait_for(1)) == 1


async def test_null_recipient_and_vrfy(relay):
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.smtp_port)
    try:
        await reader.readline()
        replies = []
        for command in (b"EHLO client.example", b"VRFY someone@" + DOMAIN.encode(),
                        b"MAIL FROM:<" + BUYER.encode() + b">", b"RCPT TO:<>"):
            writer.write(command + b"\r\n")
            await writer.drain()
            while (line := await reader.readline())[3:4] == b"-":
                pass
            replies.append(line.decode())
        assert replies[1].startswith("252 2.1.5 ")
        assert replies[3].startswith("501 5.1.3 ")
    finally:
        writer.close()


@pytest.mark.parametrize(("sender", "own"), [(BUYER, "buyer_alias"), (SELLER, "seller_alias")])
async def test_writing_to_your_own_alias_reveals_nothing(relay, conv, sender, own):
    """Anyone can put a guessed address in MAIL FROM: a reply naming the counterpart's alias,
    or one worded apart from a stranger's, would confirm the guess (the buyer's real address)
    and hand out the other alias. The party gets the stranger's refusal, which says what to
    do."""
    alias = getattr(conv, own)
    code, msg = await send(relay.smtp_port, sender, alias, compose(sender, alias))
    stranger = "nobody@elsewhere.example"
    code2, msg2 = await send(relay.smtp_port, stranger, alias, compose(stranger, alias))
    assert (code, code2) == (550, 550)
    assert msg.startswith("5.7.1 sender.unregistered: "), msg
    assert msg == msg2
    for leak in (conv.buyer_alias, conv.seller_alias, "own alias"):
        assert leak.split("@")[0] not in msg, msg
    rows = await records.summaries(relay.store, conv.id)
    assert [(r["disposition"], r["reasons"]) for r in rows] == [
        ("rejected", ["sender.unregistered"])] * 2
