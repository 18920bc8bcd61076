"""Parcels by hand: a message, the conversation it travels in and its envelope, to run one
stage alone (`await Stage(...)(parcel)`), as Mailman tests its handlers. The store, where a
stage reads one, is the real one on a SQLite file, opened and migrated as the relay opens it.

Defaults: the buyer writes to the seller alias (addressed="seller"); `to="buyer"` turns it
round (the seller writes, MAIL FROM is the seller's address)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from relay.config import RulesSettings, StoreSettings
from relay.marketplace import conversations
from relay.marketplace.conversations import Conversation, Role
from relay.pipeline.intake import parse
from relay.pipeline.parcel import Envelope, Parcel
from relay.store import records
from relay.store.db import Store, utcnow
from relay.store.startup import open_store

DOMAIN = "relay.example"
ORDER = "112-1234567-1234567"
BUYER = "buyer@example.com"
SELLER = "seller@example.net"


def conversation(**changes: Any) -> Conversation:
    """A conversation not in any store (for the stages that read none)."""
    made = Conversation(
        id="c1", order_id=ORDER, buyer_alias=f"b1@{DOMAIN}", seller_alias=f"s1@{DOMAIN}",
        buyers=(BUYER,), sellers=(SELLER,), created_at="", closed_at=None)
    return dataclasses.replace(made, **changes)


def parcel(message: EmailMessage, to: Role = "seller", conv: Conversation | None = None,
           raw: bytes = b"", **envelope: Any) -> Parcel:
    """The message on its way to `to`'s alias, sent from the author's first address;
    `envelope` replaces Envelope fields (mail_from, login, smtputf8...)."""
    conv = conv or conversation()
    author: Role = "buyer" if to == "seller" else "seller"
    fields: dict[str, Any] = {
        "peer": "127.0.0.1", "helo": "client", "mail_from": conv.addresses(author)[0],
        "rcpt_to": (conv.alias(to),), "smtputf8": False}
    fields.update(envelope)
    return Parcel(id="m1", received_at=utcnow(), envelope=Envelope(**fields), raw=raw,
                  message=message, conversation=conv, addressed=to)


def text(body: str, subject: str = f"About order {ORDER}", **headers: str) -> EmailMessage:
    """A text/plain message; headers given as From="...", In_Reply_To="..."."""
    message = EmailMessage()
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def parsed(raw: bytes) -> EmailMessage:
    """Raw bytes read as the intake reads them."""
    return parse(raw)


def wire(message: EmailMessage) -> bytes:
    """The message as bytes, to say what a stage left byte for byte."""
    return message.as_bytes(policy=policy.SMTP)


def rules(**actions: Any) -> RulesSettings:
    return dataclasses.replace(RulesSettings(), **actions)


@asynccontextmanager
async def opened_store(tmp_path: Path) -> AsyncIterator[Store]:
    """The real store on a SQLite file in tmp_path: chain key, migrations, as `relay serve`."""
    store = await open_store(StoreSettings(path=tmp_path / "relay.db"))
    try:
        yield store
    finally:
        await store.close()


async def stored_conversation(store: Store, buyer: str = BUYER,
                              sellers: tuple[str, ...] = (SELLER,)) -> Conversation:
    conv, _ = await conversations.open_conversation(store, DOMAIN, ORDER, buyer, list(sellers))
    return conv


async def record(store: Store, sent: Parcel, disposition: str = "delivered",
                 reasons: tuple[str, ...] = (), original_id: str | None = None,
                 relay_id: str | None = None) -> None:
    """Put a relayed message on the record, as the intake records an accepted one."""
    raw = sent.raw or wire(sent.message)
    accepted = disposition in ("delivered", "delivered_redacted")
    async with store.write() as db:
        await records.append(db, records.Record(
            id=conversations.new_token(10), conversation_id=sent.conversation.id,
            received_at=utcnow(), direction=sent.direction, disposition=disposition,
            reasons=reasons, peer=sent.envelope.peer, helo=sent.envelope.helo,
            mail_from=sent.envelope.mail_from, rcpt_to=sent.envelope.rcpt_to,
            recipient=sent.recipient if accepted else None, original_message_id=original_id,
            relay_message_id=relay_id if accepted else None, raw=raw,
            delivered=raw if accepted else None))
