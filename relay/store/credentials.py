"""Seller password hashes: append-only, chained; the newest one the chain holds counts."""

from __future__ import annotations

from relay.store import chain
from relay.store.db import Connection


async def add(db: Connection, address_key: str, at: str, hashed: str) -> None:
    await chain.insert(db, "seller_credentials",
                       {"address_key": address_key, "at": at, "hash": hashed})


async def latest(db: Connection, address_key: str) -> str | None:
    """The account's newest chained hash; None: none (or an empty one: no password)."""
    # Every row of the account (a few): a newer one slipped in past the relay is left out.
    rows = await chain.chained(db, "seller_credentials", await db.execute_fetchall(
        "SELECT * FROM seller_credentials WHERE address_key = ? ORDER BY seq", (address_key,)))
    return str(rows[-1]["hash"]) if rows and rows[-1]["hash"] else None
