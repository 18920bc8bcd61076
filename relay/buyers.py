"""Buyer preferences: the opt-out from non-essential seller messages.

Every change is an append-only event with its time; the latest one holds. So the record
shows, for any message, whether the buyer had opted out when it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.conversations import address_key, normalize_address
from relay.store.db import Store, utcnow


@dataclass(frozen=True)
class Event:
    at: str
    kind: str
    value: str


async def set_optout(store: Store, address: str, domain: str, on: bool) -> str:
    """Record the buyer's choice; returns the address as normalized."""
    address = normalize_address(address, domain)
    async with store.write() as db:
        await db.execute(
            "INSERT INTO buyer_events (address_key, at, kind, value) VALUES (?, ?, 'optout', ?)",
            (address_key(address), utcnow(), "on" if on else "off"),
        )
    return address


async def opted_out(store: Store, address: str) -> bool:
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT value FROM buyer_events WHERE address_key = ? AND kind = 'optout'"
            " ORDER BY seq DESC LIMIT 1", (address_key(address),))
    return bool(rows) and rows[0][0] == "on"


async def history(store: Store, address: str) -> list[Event]:
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT at, kind, value FROM buyer_events WHERE address_key = ? ORDER BY seq",
            (address_key(address),))
    return [Event(*row) for row in rows]
