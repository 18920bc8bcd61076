"""Buyer, seller and conversation events: append-only, chained, read through the chain. The
latest event of a kind holds (a buyer's opt-out, a seller's notification address, an
order's delivery date), and the record shows what held when."""

from __future__ import annotations

from dataclasses import dataclass

from relay.store import chain
from relay.store.db import Connection
from relay.store.quick import Quick


@dataclass(frozen=True)
class Event:
    at: str
    kind: str
    value: str


async def add_buyer(db: Connection, address_key: str, at: str, kind: str, value: str) -> None:
    await chain.insert(db, "buyer_events",
                       {"address_key": address_key, "at": at, "kind": kind, "value": value})


async def buyer(db: Connection, address_key: str, kind: str | None = None) -> list[Event]:
    """The buyer's events (of one kind, if given), oldest first."""
    if kind is None:
        sql, params = ("SELECT * FROM buyer_events WHERE address_key = ? ORDER BY seq",
                       (address_key,))
    else:
        sql, params = ("SELECT * FROM buyer_events WHERE address_key = ? AND kind = ?"
                       " ORDER BY seq", (address_key, kind))
    rows = await chain.chained(db, "buyer_events", await db.execute_fetchall(sql, params))
    return [Event(r["at"], r["kind"], r["value"]) for r in rows]


async def add_seller(db: Connection, address_key: str, at: str, kind: str, value: str) -> None:
    await chain.insert(db, "seller_events",
                       {"address_key": address_key, "at": at, "kind": kind, "value": value})


async def seller(db: Connection, address_key: str) -> list[Event]:
    """The seller's events, oldest first."""
    rows = await chain.chained(db, "seller_events", await db.execute_fetchall(
        Quick("SELECT * FROM seller_events WHERE address_key = ? ORDER BY seq"),
        (address_key,)))
    return [Event(r["at"], r["kind"], r["value"]) for r in rows]


async def add_conversation(db: Connection, conversation_id: str, at: str, kind: str,
                           value: str) -> None:
    await chain.insert(db, "conversation_events", {
        "conversation_id": conversation_id, "at": at, "kind": kind, "value": value})


async def conversation(db: Connection, conversation_id: str, kind: str) -> list[Event]:
    """The conversation's events of one kind, oldest first."""
    rows = await chain.chained(db, "conversation_events", await db.execute_fetchall(
        "SELECT * FROM conversation_events WHERE conversation_id = ? AND kind = ?"
        " ORDER BY seq", (conversation_id, kind)))
    return [Event(r["at"], r["kind"], r["value"]) for r in rows]
