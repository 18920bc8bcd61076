"""Rate limits per conversation and per sender (450 4.7.1), connections per client address.
The refusals counted per client network (rows in the store, kept over a restart) run on both
backends (the `backend` fixture); the hourly limits' sharing is in store/test_postgresql.py."""

from __future__ import annotations

import asyncio

from conftest import BUYER, SELLER, compose, make_config, open_conv, send

from relay.config import LimitsSettings
from relay.smtp.networks import client_network


async def limited(relay_factory, capture, tmp_path, backend=None, **limits):
    config = make_config(tmp_path, capture.port).replace(limits=LimitsSettings(**limits))
    if backend is not None:
        config = config.replace(store=backend)
    return await relay_factory(config)


async def test_a_busy_conversation_is_told_to_wait(relay_factory, capture, tmp_path):
    relay = await limited(relay_factory, capture, tmp_path, conversation_per_hour=3)
    conv = await open_conv(relay)
    for _ in range(3):
        data = compose(BUYER, conv.seller_alias, body="Where is my parcel?")
        assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Where is it now?"))
    assert (code, reply) == (450, "4.7.1 rate.limit: 3 messages an hour in one conversation;"
                                  " try again later")
    other = await open_conv(relay, order="112-0000000-0000009")
    data = compose(BUYER, other.seller_alias, body="And this order?")
    assert (await send(relay.smtp_port, BUYER, other.seller_alias, data))[0] == 250


async def test_a_busy_sender_is_told_to_wait(relay_factory, capture, tmp_path):
    relay = await limited(relay_factory, capture, tmp_path, sender_per_hour=2)
    convs = [await open_conv(relay, order=f"112-0000000-000000{i}") for i in range(3)]
    for conv in convs[:2]:
        data = compose(BUYER, conv.seller_alias, body="Where is my parcel?")
        assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    code, reply = await send(relay.smtp_port, BUYER.upper(), convs[2].seller_alias,
                             compose(BUYER, convs[2].seller_alias, body="And this one?"))
    assert code == 450 and "2 messages an hour from one sender" in reply
    # Another spelling of the same mailbox cannot start a count of its own: a trailing dot
    # is no RFC 5321 domain, and aiosmtpd refuses it at MAIL.
    code, reply = await send(relay.smtp_port, BUYER + ".", convs[2].seller_alias,
                             compose(BUYER, convs[2].seller_alias, body="And this one?"))
    assert code == 553, reply


async def greeting(port: int) -> tuple[bytes, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await asyncio.wait_for(reader.readline(), 5), writer


async def test_connections_per_client_address(relay_factory, capture, tmp_path):
    relay = await limited(relay_factory, capture, tmp_path, connections_per_ip=2)
    first, w1 = await greeting(relay.smtp_port)
    second, w2 = await greeting(relay.smtp_port)
    assert first.startswith(b"220") and second.startswith(b"220")
    third, w3 = await greeting(relay.smtp_port)
    assert third == b"421 4.7.0 too many connections from your address; try again later\r\n"
    w1.close()
    for _ in range(500):  # until the relay has let go of it (and of the refused third)
        if sum(s.transport is not None for s in relay.sessions) < 2:
            break
        await asyncio.sleep(0.01)
    fourth, w4 = await greeting(relay.smtp_port)
    assert fourth.startswith(b"220")
    for writer in (w2, w3, w4):
        writer.close()


# -- only accepted messages count for a conversation and a sender; refusals per network ---

STRANGER = "mallory@junk.example"
ELSEWHERE = "127.0.2.1"  # another client network (/24) than the buyer's 127.0.0.1


def junk(to: str, body: str = "Cheap watches, click here\n") -> bytes:
    """A message From: a stranger (refused: sender.unregistered, whatever MAIL FROM says)."""
    return compose(STRANGER, to, subject="Offer", body=body)


async def records(relay) -> int:
    async with relay.store.read() as db:
        ((count,),) = await db.execute_fetchall("SELECT COUNT(*) FROM messages")
    return int(count)


def test_client_network_of_an_address():
    assert client_network("192.0.2.77") == "192.0.2.0/24"
    assert client_network("::ffff:192.0.2.77") == "192.0.2.0/24"  # IPv4 on a dual-stack socket
    assert client_network("2001:db8:1:2:a:b:c:d") == "2001:db8:1:2::/64"
    assert client_network("2001:DB8:1:2::9") == client_network("2001:db8:1:2:0::1")
    assert client_network("fe80::1%eth0") == "fe80::/64"
    assert client_network("local") == "local"


async def test_strangers_junk_does_not_block_the_conversation(relay, capture):
    """As many refused messages as a conversation may have in an hour (20, the default) leave
    its buyer and seller free to write."""
    conv = await open_conv(relay)
    for _ in range(20):
        code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                                 junk(conv.seller_alias), source=ELSEWHERE)
        assert code == 550 and "sender.unregistered" in reply, reply
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Where is my parcel?"))
    assert code == 250, reply
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                             compose(SELLER, conv.buyer_alias, subject="Re: Question"))
    assert code == 250, reply
    await capture.wait_for(2)


async def test_refused_mail_in_a_senders_name_does_not_use_its_limit(relay_factory, capture,
                                                                     tmp_path):
    """MAIL FROM:<the buyer> with somebody else's From: is refused, and is none of the
    buyer's messages an hour."""
    relay = await limited(relay_factory, capture, tmp_path, sender_per_hour=2)
    conv = await open_conv(relay)
    for _ in range(2):
        code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                 junk(conv.seller_alias), source=ELSEWHERE)
        assert code == 550 and "From: address is not a registered" in reply, reply
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Where is my parcel?"))
    assert code == 250, reply


async def test_refusals_are_counted_per_client_network(backend, relay_factory, capture,
                                                       tmp_path):
    """Past the refusals a network may have in an hour, its next RCPT gets 450 rate.network
    (before any DATA); another network, and the buyer's, are treated as before; the count is
    in the store, so a restart does not reset it."""
    config = make_config(tmp_path, capture.port).replace(
        limits=LimitsSettings(refused_per_network_per_hour=3), store=backend)
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    for host in (1, 2, 3):  # three addresses of one /24
        code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                                 junk(conv.seller_alias), source=f"127.0.2.{host}")
        assert code == 550, reply
    assert await records(relay) == 3
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source="127.0.2.200")
    assert (code, reply) == (450, "4.7.1 rate.network: 3 refused messages an hour from your"
                                  " network; try again later")
    assert await records(relay) == 3  # refused at RCPT: no DATA read, nothing recorded
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source="127.0.3.1")
    assert code == 550 and "sender.unregistered" in reply, reply
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Where is my parcel?"))
    assert code == 250, reply

    await relay.stop()
    relay = await relay_factory(config)
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source="127.0.2.9")
    assert code == 450 and "rate.network" in reply, reply


async def test_refused_bytes_are_capped_per_client_network(backend, relay_factory, capture,
                                                           tmp_path):
    """Refused bytes count as well, those of a message too big to keep too: past the cap,
    450 rate.network at RCPT, so a stranger cannot go on pushing bytes."""
    relay = await limited(relay_factory, capture, tmp_path, backend,
                          refused_bytes_per_network_per_hour=100_000)
    conv = await open_conv(relay)
    bulky = junk(conv.seller_alias, body="Cheap watches, click here\n" * 2400)  # ~60 kB
    for _ in range(2):  # the first leaves the network under the cap, the second takes it over
        code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias, bulky,
                                 source=ELSEWHERE)
        assert code == 550, reply
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source=ELSEWHERE)
    assert (code, reply) == (450, "4.7.1 rate.network: 100000 bytes of refused mail an hour"
                                  " from your network; try again later")
    # A message over the size limit is discarded as it is read; its bytes count all the same.
    huge = junk(conv.seller_alias, body="Cheap watches, click here\n" * 45_000)  # ~1.2 MB
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias, huge,
                             source="127.0.3.1")
    assert code == 552, reply
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source="127.0.3.1")
    assert code == 450 and "rate.network" in reply, reply
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Where is my parcel?"))
    assert code == 250, reply


async def test_a_line_too_long_counts_all_its_bytes(relay_factory, capture, tmp_path):
    """A line over the line limit is discarded in pieces as it is read; every piece counts
    toward the refused bytes."""
    relay = await limited(relay_factory, capture, tmp_path,
                          refused_bytes_per_network_per_hour=150_000)
    conv = await open_conv(relay)
    head = junk(conv.seller_alias).split(b"\r\n\r\n")[0]
    long_line = head + b"\r\n\r\n" + b"x" * 160_000 + b"\r\n"  # two and a half MAX_LINEs
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias, long_line,
                             source=ELSEWHERE)
    assert code == 552 and "longer than" in reply, reply
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias,
                             junk(conv.seller_alias), source=ELSEWHERE)
    assert code == 450 and "bytes of refused mail" in reply, reply
