"""Rate limits per conversation and per sender (450 4.7.1), connections per client address."""

from __future__ import annotations

import asyncio

from conftest import BUYER, compose, make_config, open_conv, send

from relay.config import LimitsSettings


async def limited(relay_factory, capture, tmp_path, **limits):
    config = make_config(tmp_path, capture.port).replace(limits=LimitsSettings(**limits))
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
    await asyncio.sleep(0.2)
    fourth, w4 = await greeting(relay.smtp_port)
    assert fourth.startswith(b"220")
    for writer in (w2, w3, w4):
        writer.close()
