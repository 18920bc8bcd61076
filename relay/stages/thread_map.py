"""Threading map: each side sees its own Message-IDs, never the other side's.

Every relayed message has the ID its author's client gave it (original) and a fresh ID on
the relay domain that its reader sees (relay). When a party refers to an ID in
In-Reply-To/References it is either the relay ID of a message it received (the other side
knows that message by its original ID) or the original ID of a message it wrote (the other
side knows it by its relay ID). IDs the conversation does not know are dropped.
"""

from __future__ import annotations

import re
from email.message import Message

from relay.marketplace.conversations import new_token
from relay.message.header_line import set_value
from relay.pipeline.parcel import Parcel
from relay.store import messages
from relay.store.db import Store
from relay.unicode import storable

_MSGID = re.compile(r"<[^<>\s]+>")
# RFC 5322 3.6.4 lets References be trimmed; the oldest and the newest ones matter.
MAX_REFERENCES = 50


def message_ids(value: object) -> list[str]:
    return _MSGID.findall(str(value)) if value is not None else []


def _writable(message_id: str) -> bool:
    # Short (the generator refolds a line over 998 octets by parsing it) and nothing that
    # a parser would decode as an encoded word.
    return (message_id.isascii() and message_id.isprintable() and len(message_id) <= 250
            and "=?" not in message_id)


def raw_ids(message: Message, name: str) -> list[str]:
    """IDs from the header's raw text: the stdlib's structured parse of a broken
    Message-ID ("<", "<a@[b") raises instead of returning defects."""
    return [i for key, value in message.raw_items() if key.lower() == name.lower()
            for i in message_ids(storable(value))]


async def _referenced(store: Store, conversation_id: str,
                      ids: list[str]) -> list[tuple[str, str | None, str]]:
    """(direction, original ID, relay ID) of this conversation's messages that ids name."""
    if not ids:
        return []
    async with store.read() as db:
        return await messages.referenced(db, conversation_id, ids)


async def known_ids(store: Store, conversation_id: str, ids: list[str]) -> set[str]:
    """Those of ids that name a message of this conversation (by either of its IDs)."""
    rows = await _referenced(store, conversation_id, ids)
    return {i for _, original, relay in rows for i in (original, relay) if i in ids}


class ThreadMap:
    name = "thread_map"

    def __init__(self, store: Store, domain: str) -> None:
        self.store = store
        self.domain = domain

    async def _mapping(self, parcel: Parcel, ids: list[str]) -> dict[str, str]:
        rows = await _referenced(self.store, parcel.conversation.id, ids)
        mine = f"{parcel.author}_to_{parcel.addressed}"
        mapping: dict[str, str] = {}
        for direction, original, relay in rows:
            if direction == mine and original in ids:
                mapping[original] = relay  # my own message: the reader knows its relay ID
            elif direction != mine and relay in ids and original:
                mapping[relay] = original  # a message I received: the reader wrote it
        return mapping

    async def __call__(self, parcel: Parcel) -> None:
        message = parcel.message
        own = raw_ids(message, "Message-ID")
        parcel.original_message_id = own[0] if own else None
        parcel.relay_message_id = f"<{new_token(15)}@{self.domain}>"
        in_reply_to = raw_ids(message, "In-Reply-To")[:1]
        references = raw_ids(message, "References")
        if len(references) > MAX_REFERENCES:
            references = references[:1] + references[-(MAX_REFERENCES - 1):]
        mapping = await self._mapping(parcel, list(dict.fromkeys(in_reply_to + references)))
        # Written as they are (header_line.set_value): IDs are not text to decode; one that
        # is not printable ASCII (an SMTPUTF8 client's) is left out rather than encoded.
        mapped_reply = [mapping[i] for i in in_reply_to if i in mapping and _writable(mapping[i])]
        mapped_refs = list(dict.fromkeys(mapping[i] for i in references
                                         if i in mapping and _writable(mapping[i])))
        set_value(message, "Message-ID", parcel.relay_message_id)
        set_value(message, "In-Reply-To", mapped_reply[0] if mapped_reply else None)
        set_value(message, "References", "\r\n ".join(mapped_refs) if mapped_refs else None)
