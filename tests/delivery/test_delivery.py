"""Durable delivery: retries, DSNs that name only aliases, maildir."""

from __future__ import annotations

import asyncio
import re

import pytest
from conftest import (
    BUYER,
    DOMAIN,
    SELLER,
    Capture,
    compose,
    free_port,
    make_config,
    open_conv,
    send,
)
from support.record import events, queue_id, wait_event

from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL


async def test_smarthost_down_then_up(relay_factory, tmp_path):
    port = free_port()  # nothing listens here yet
    relay = await relay_factory(make_config(tmp_path, port))
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, subject="while down"))
    assert code == 250
    mid = queue_id(reply)
    found = await wait_event(relay, mid, "deferred")
    assert ("delivered" not in [k for k, _ in found])
    # Two deferrals: spaced by the backoff (0.2 s, then 0.4 s).
    while [k for k, _ in await events(relay, mid)].count("deferred") < 2:
        await asyncio.sleep(0.05)
    inbox = Capture(port=port)
    await inbox.start()
    try:
        (got,) = await inbox.wait_for(1)
        assert got.message["Subject"] == "while down"
        found = await wait_event(relay, mid, "delivered")
        kinds = [k for k, _ in found]
        assert kinds[0] == "queued" and kinds[-1] == "delivered" and "deferred" in kinds
        async with relay.store.read() as db:
            assert (await db.execute_fetchall("SELECT COUNT(*) FROM outbox"))[0][0] == 0
    finally:
        await inbox.stop()


async def test_smarthost_5xx_bounces_an_anonymized_dsn(relay, conv, capture):
    capture.refuse[SELLER] = (f"550 5.1.1 <{SELLER}>: Recipient address rejected by"
                              " mx.seller-host.example [198.51.100.7]")
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias,
                                     message_id="<orig@buyer-mail.example>"))
    assert code == 250
    mid = queue_id(reply)
    found = await wait_event(relay, mid, "bounced")
    assert [k for k, _ in found] == ["queued", "failed", "bounced"]
    (dsn,) = await capture.wait_for(1)  # the DSN, in the buyer's own mailbox
    # A DSN has a null envelope sender ("<>" as aiosmtpd spells it), so it is never bounced.
    assert dsn.mail_from == "<>"
    assert dsn.rcpt_tos == [BUYER]
    msg = dsn.message
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert str(msg["From"]) == f"Mail Delivery System <MAILER-DAEMON@{DOMAIN}>"
    assert msg["In-Reply-To"] == "<orig@buyer-mail.example>"
    status = msg.get_payload()[1]
    assert status.get_content_type() == "message/delivery-status"
    text = dsn.data.decode()
    assert f"Final-Recipient: rfc822; {conv.seller_alias}" in text
    assert "Status: 5.1.1" in text
    assert "Action: failed" in text
    for leak in (SELLER, "seller-host", "198.51.100.7"):
        assert leak not in text, leak
    # The DSN is on the record too, as a system message of the conversation.
    rows = await records.summaries(relay.store, conv.id)
    assert [r["direction"] for r in rows] == ["buyer_to_seller", "system"]


async def test_data_4xx_retries_then_delivers(relay, conv, capture):
    capture.data_reply = "451 4.7.1 greylisted, come back later"
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250
    await wait_event(relay, queue_id(reply), "deferred")
    capture.data_reply = None
    assert len(await capture.wait_for(1)) == 1
    found = await wait_event(relay, queue_id(reply), "delivered")
    assert any("greylisted" in d for k, d in found if k == "deferred")


async def test_deliveries_use_one_connection_again(relay, conv, capture):
    for n in range(3):
        code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                 compose(BUYER, conv.seller_alias, body=f"Message {n}, hello.\n"))
        assert code == 250, reply
        await capture.wait_for(n + 1)
    assert len(set(capture.peers)) == 1, capture.peers  # one connection, three messages


async def test_a_connection_closed_while_idle_is_replaced_without_a_retry(relay, conv, capture):
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250, reply
    await capture.wait_for(1)
    capture.drop_connections()  # the smarthost's idle timeout
    await asyncio.sleep(0.2)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, body="Second one, hello.\n"))
    assert code == 250, reply
    await capture.wait_for(2)
    found = await wait_event(relay, queue_id(reply), "delivered")
    assert [k for k, _ in found] == ["queued", "delivered"], found  # no deferred attempt
    assert capture.peers[0] != capture.peers[1]


async def test_queue_lifetime_expiry_bounces(relay_factory, tmp_path, capture):
    config = make_config(tmp_path, free_port(), queue_lifetime=0.5)
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250
    found = await wait_event(relay, queue_id(reply), "bounced")
    kinds = [k for k, _ in found]
    assert kinds[0] == "queued" and kinds[-2:] == ["failed", "bounced"] and "deferred" in kinds
    rows = await records.summaries(relay.store, conv.id)
    dsn = await records.get(relay.store, rows[-1]["id"])
    assert dsn is not None and dsn.direction == "system"
    assert b"Status: 4.4.7" in dsn.delivered and SELLER.encode() not in dsn.delivered


async def test_failed_dsn_is_not_bounced_again(relay, conv, capture):
    capture.rcpt_reply = "550 5.1.1 nobody here"
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250
    found = await wait_event(relay, queue_id(reply), "bounced")
    dsn_id = found[-1][1]
    await wait_event(relay, dsn_id, "failed")  # written with whatever it leads to
    rows = await records.summaries(relay.store, conv.id)
    assert len(rows) == 2  # the message and one DSN; no DSN about the DSN
    assert [row["delivery"] for row in rows] == ["bounced", "failed"]  # nothing left queued
    assert capture.messages == []


async def test_maildir_delivery(relay_factory, tmp_path):
    config = make_config(tmp_path, 0, mode="maildir")
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias, subject="to the maildir"))
    assert code == 250
    await wait_event(relay, queue_id(reply), "delivered")
    box = config.delivery.maildir / SELLER.lower()
    files = list((box / "new").iterdir())
    assert len(files) == 1 and list((box / "tmp").iterdir()) == []
    content = files[0].read_bytes()
    assert b"Subject: to the maildir\n" in content
    assert re.search(rb"^Return-Path: <bounces\+[a-z2-7.0-9]+@relay\.test>$", content, re.M)
    assert b"\r" not in content and BUYER.encode() not in content


async def test_dsn_hides_the_readers_mailbox_in_pieces(relay, conv, capture):
    capture.refuse[SELLER] = "550 5.1.1 sally... User unknown; mailbox sally%seller-host disabled"
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250
    await wait_event(relay, queue_id(reply), "bounced")
    text = (await capture.wait_for(1))[0].data.decode().lower()
    assert "sally" not in text and "seller-host" not in text
    assert "user unknown" in text


@pytest.mark.sqlite_only("injects the store fault as a trigger in the SQLite file")
async def test_internal_error_after_a_send_backs_off_instead_of_looping(relay_factory, tmp_path,
                                                                        capture):
    import sqlite3

    config = make_config(tmp_path, capture.port, retry_initial=2.0, retry_max=60.0)
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    fault = sqlite3.connect(config.store.path, isolation_level=None)
    # A real store fault: recording the delivery fails after the message went out.
    fault.execute("CREATE TRIGGER fault BEFORE INSERT ON message_events"
                  " WHEN NEW.kind = 'delivered' BEGIN SELECT RAISE(ABORT, 'injected'); END")
    try:
        code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                 compose(BUYER, conv.seller_alias))
        assert code == 250
        await capture.wait_for(1)
        await asyncio.sleep(1.0)
        assert len(capture.messages) == 1  # held back for retry_initial, not resent at once
    finally:
        fault.execute("DROP TRIGGER fault")
        fault.close()
    await wait_event(relay, queue_id(reply), "delivered")
    assert len(capture.messages) == 2  # at least once: the copy whose record failed is resent
    async with relay.store.read() as db:
        assert (await db.execute_fetchall("SELECT COUNT(*) FROM outbox"))[0][0] == 0
