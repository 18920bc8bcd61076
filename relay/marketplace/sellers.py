"""Seller notification settings: whether buyer messages are e-mailed, and to which address.

When notifications are off, a buyer's message is still accepted, recorded and counted as
awaiting a reply; it is just not sent. Changes are append-only events, like buyers'.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.marketplace.conversations import address_key, normalize_address
from relay.store import events
from relay.store.db import Store, utcnow


@dataclass(frozen=True)
class Settings:
    notify: bool = True
    notify_address: str | None = None  # None: the seller's first registered address


async def update(store: Store, seller: str, domain: str, notify: bool | None = None,
                 notify_address: str | None = None) -> Settings:
    """Record the changes given (notify_address "" goes back to the default)."""
    key = address_key(normalize_address(seller, domain))
    if notify_address:
        notify_address = normalize_address(notify_address, domain)
    async with store.write() as db:
        if notify is not None:
            await events.add_seller(db, key, utcnow(), "notify", "on" if notify else "off")
        if notify_address is not None:
            await events.add_seller(db, key, utcnow(), "notify_address", notify_address)
    return await current(store, seller)


async def current(store: Store, seller: str) -> Settings:
    async with store.read() as db:
        found = await events.seller(db, address_key(seller))
    latest = {e.kind: e.value for e in found}  # later events of a kind overwrite earlier
    return Settings(notify=latest.get("notify", "on") == "on",
                    notify_address=latest.get("notify_address") or None)
