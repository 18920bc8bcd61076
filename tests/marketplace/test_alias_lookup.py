"""find_alias keeps what it found while nothing may have changed a conversation's rows
(relay.marketplace.conversations, relay.store.conversations.version): whatever changes them,
through this store, another connection (the CLI's, another relay's) or past the relay, is
seen at the next lookup."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from conftest import BUYER, DOMAIN, SELLER

from relay.config import StoreSettings
from relay.marketplace import conversations
from relay.store.db import Store
from relay.store.startup import open_store

OTHER_SELLER = "shop@seller.example"


async def opened(path: Path) -> tuple[Store, conversations.Conversation, str]:
    store = await open_store(StoreSettings(path=path))
    conv, _ = await conversations.open_conversation(
        store, DOMAIN, "112-1234567-1234567", BUYER, [SELLER])
    return store, conv, conv.seller_alias.split("@")[0]


async def test_closed_and_extended_through_the_same_store(tmp_path: Path) -> None:
    store, conv, local = await opened(tmp_path / "relay.db")
    try:
        first = await conversations.find_alias(store, DOMAIN, local)
        assert first is not None and first.conversation.closed_at is None
        assert await conversations.find_alias(store, DOMAIN, local) == first
        await conversations.open_conversation(store, DOMAIN, "112-1234567-1234567", BUYER,
                                              [SELLER, OTHER_SELLER])
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.sellers == (SELLER, OTHER_SELLER)
        await conversations.close(store, DOMAIN, conv.id)
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.closed_at is not None
    finally:
        await store.close()


async def test_closed_through_another_connection(tmp_path: Path) -> None:
    """As `relay conversations close` does while the relay runs: a store of its own."""
    store, conv, local = await opened(tmp_path / "relay.db")
    other = await open_store(StoreSettings(path=tmp_path / "relay.db"))
    try:
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.closed_at is None
        await conversations.close(other, DOMAIN, conv.id)
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.closed_at is not None
    finally:
        await other.close()
        await store.close()


async def test_a_row_changed_past_the_relay_after_a_lookup_is_not_read(tmp_path: Path) -> None:
    store, conv, local = await opened(tmp_path / "relay.db")
    try:
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.sellers == (SELLER,)
        with contextlib.closing(sqlite3.connect(tmp_path / "relay.db")) as db:
            db.execute("DROP TRIGGER parties_no_update")
            db.execute("UPDATE parties SET address = 'mallory@evil.example'"
                       " WHERE conversation_id = ? AND role = 'seller'", (conv.id,))
            db.commit()
        hit = await conversations.find_alias(store, DOMAIN, local)
        assert hit is not None and hit.conversation.sellers == ()
        with contextlib.closing(sqlite3.connect(tmp_path / "relay.db")) as db:
            db.execute("DROP TRIGGER IF EXISTS aliases_no_update")
            db.execute("UPDATE aliases SET local_part = ? WHERE local_part = ?",
                       ("a" * 21, local))
            db.commit()
        # The alias moved past the relay: gone from its old local part, and its chain entry
        # names that one, so the new one is ignored.
        assert await conversations.find_alias(store, DOMAIN, local) is None
        assert await conversations.find_alias(store, DOMAIN, "a" * 21) is None
    finally:
        await store.close()
