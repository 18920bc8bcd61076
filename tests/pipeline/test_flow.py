"""Mail both ways through the relay, over real SMTP, with threading across three messages."""

from __future__ import annotations

import pytest
from conftest import BUYER, DOMAIN, SELLER, SELLER2, VERP, compose, send

from relay.stages.thread_map import message_ids

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL


async def test_buyer_to_seller_is_anonymized_and_delivered(relay, conv, capture):
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             compose(BUYER, conv.seller_alias))
    assert code == 250 and reply.startswith("2.0.0 queued as "), reply
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [SELLER]
    assert VERP.fullmatch(got.mail_from), got.mail_from  # bounces come back to the relay
    msg = got.message
    assert msg["From"].addresses[0].addr_spec == conv.buyer_alias
    assert msg["From"].addresses[0].display_name == f"Buyer of order {conv.order_id}"
    assert msg["Reply-To"].addresses[0].addr_spec == conv.buyer_alias
    assert msg["To"].addresses[0].addr_spec == SELLER
    assert msg["Message-ID"].endswith(f"@{DOMAIN}>")
    assert msg.get_content() == "Hello, when will it ship?\r\n"
    assert b"buyer-mail.example" not in got.data


async def test_threading_across_three_messages(relay, conv, capture):
    # 1: buyer writes; the seller sees a relay Message-ID.
    first = compose(BUYER, conv.seller_alias, message_id="<a1@buyer-mail.example>")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, first))[0] == 250
    (m1,) = await capture.wait_for(1)
    r1 = m1.message["Message-ID"]
    assert r1 != "<a1@buyer-mail.example>"

    # 2: a second seller address replies to what it saw.
    second = compose(SELLER2, conv.buyer_alias, subject="Re: Question",
                     message_id="<s2@seller-host.example>", In_Reply_To=str(r1),
                     References=str(r1))
    assert (await send(relay.smtp_port, SELLER2, conv.buyer_alias, second))[0] == 250
    m2 = (await capture.wait_for(2))[1]
    assert m2.rcpt_tos == [BUYER]
    assert m2.message["In-Reply-To"] == "<a1@buyer-mail.example>"
    assert message_ids(m2.message["References"]) == ["<a1@buyer-mail.example>"]
    r2 = m2.message["Message-ID"]
    assert b"seller-host.example" not in m2.data

    # 3: the buyer answers; the seller's client sees its own Message-ID and the relay one.
    third = compose(BUYER, conv.seller_alias, subject="Re: Re: Question",
                    message_id="<a3@buyer-mail.example>", In_Reply_To=str(r2),
                    References=f"<a1@buyer-mail.example> {r2} <stranger@elsewhere.example>")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, third))[0] == 250
    m3 = (await capture.wait_for(3))[2]
    assert m3.rcpt_tos == [SELLER]
    assert m3.message["In-Reply-To"] == "<s2@seller-host.example>"
    assert message_ids(m3.message["References"]) == [str(r1), "<s2@seller-host.example>"]
    assert b"buyer-mail.example" not in m3.data
    assert b"elsewhere.example" not in m3.data
