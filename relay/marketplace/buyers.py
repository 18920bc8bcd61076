"""Buyer preferences and facts: the opt-out from non-essential seller messages, the language
templates are written in, and whether the buyer is a business account.

Every change is an append-only event with its time; the latest one holds. So the record
shows, for any message, whether the buyer had opted out when it was sent.
"""

from __future__ import annotations

import re

from relay.errors import UsageError
from relay.marketplace.conversations import address_key, normalize_address
from relay.store import events
from relay.store.db import Store, utcnow
from relay.store.events import Event

_LOCALE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*", re.IGNORECASE)


async def record(store: Store, address: str, domain: str, kind: str, value: str) -> str:
    """Append one event; returns the address as normalized."""
    address = normalize_address(address, domain)
    if kind == "locale" and not _LOCALE.fullmatch(value):
        raise UsageError(f"{value!r} is not a language tag like de-DE or en")
    async with store.write() as db:
        await events.add_buyer(db, address_key(address), utcnow(), kind, value)
    return address


async def set_optout(store: Store, address: str, domain: str, on: bool) -> str:
    return await record(store, address, domain, "optout", "on" if on else "off")


async def latest(store: Store, address: str, kind: str) -> str | None:
    async with store.read() as db:
        found = await events.buyer(db, address_key(address), kind)
    return str(found[-1].value) if found else None


async def opted_out(store: Store, address: str) -> bool:
    return await latest(store, address, "optout") == "on"


async def history(store: Store, address: str) -> list[Event]:
    async with store.read() as db:
        return await events.buyer(db, address_key(address))
