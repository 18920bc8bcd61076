"""Conversations, their aliases, parties and closings: every row chained, and read through
the chain (who receives mail, who may write, whether it is closed are decided by chained
rows only)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relay.store import chain, dialect
from relay.store.db import Connection
from relay.store.quick import Quick


@dataclass(frozen=True)
class Stored:
    """A conversation's chained rows."""
    id: str
    order_id: str
    created_at: str
    closed_at: str | None
    aliases: dict[str, str]  # role -> local part
    parties: tuple[tuple[str, str], ...]  # (role, address), in the order they were added


async def _chained(db: Connection, table: str, sql: str | Quick,
                   params: tuple[object, ...]) -> list[Mapping[str, Any]]:
    return await chain.chained(db, table, await db.execute_fetchall(sql, params))


async def load(db: Connection, conversation_id: str) -> Stored | None:
    """The conversation as the chain holds it; None: no such conversation (or not one the
    chain has)."""
    params = (conversation_id,)
    found = await db.execute_fetchall(_CONVERSATION, params)
    if not found:
        return None
    # The conversation's rows, then their chain entries in one statement.
    convs, alias_rows, parties, closing = await chain.chained_sets(db, [
        ("conversations", found),
        ("aliases", await db.execute_fetchall(_ALIASES, params)),
        ("parties", await db.execute_fetchall(_PARTIES, params)),
        ("conversation_closings", await db.execute_fetchall(_CLOSINGS, params)),
    ])
    if not convs:
        return None
    conv = convs[0]
    aliases = {row["role"]: row["local_part"] for row in alias_rows}
    return Stored(id=conv["id"], order_id=conv["order_id"], created_at=conv["created_at"],
                  closed_at=closing[0]["at"] if closing else None, aliases=aliases,
                  parties=tuple((p["role"], p["address"]) for p in parties))


_CONVERSATION = Quick("SELECT * FROM conversations WHERE id = ?")
_ALIASES = Quick("SELECT * FROM aliases WHERE conversation_id = ?")
_PARTIES = Quick("SELECT * FROM parties WHERE conversation_id = ? ORDER BY position")
_CLOSINGS = Quick("SELECT * FROM conversation_closings WHERE conversation_id = ?")


# What the conversations' rows are read from: what version() watches.
_TABLES = ("conversations", "aliases", "parties", "conversation_closings")
_DATA_VERSION = Quick("SELECT data_version FROM pragma_data_version()")


async def version(db: Connection) -> tuple[int, int] | None:
    """A value that changes whenever any conversation's rows may have: SQLite's data_version
    (it moves when another connection, of any process, commits) and the rows this connection
    added to their tables. None on PostgreSQL, where there is no such value (several relays
    write the database at once): nothing read may be kept there."""
    if dialect.is_postgresql(db):
        return None
    (data_version,), = await db.execute_fetchall(_DATA_VERSION)
    return int(data_version), sum(chain.added(db, table) for table in _TABLES)


async def find(db: Connection, order_id: str, buyer_key: str, seller_key: str) -> str | None:
    """The id of the conversation for this order, buyer and (first) seller, if there is one."""
    rows = await db.execute_fetchall(
        "SELECT id FROM conversations WHERE order_id = ? AND buyer_key = ? AND seller_key = ?",
        (order_id, buyer_key, seller_key))
    return str(rows[0][0]) if rows else None


async def by_order(db: Connection, order_id: str) -> list[str]:
    """The ids of the order's conversations (one per buyer and first seller), oldest first."""
    rows = await db.execute_fetchall(
        "SELECT id FROM conversations WHERE order_id = ? ORDER BY created_at, id", (order_id,))
    return [str(r[0]) for r in rows]


async def create(db: Connection, conversation_id: str, order_id: str, buyer_key: str,
                 seller_key: str, created_at: str) -> None:
    await chain.insert(db, "conversations", {
        "id": conversation_id, "order_id": order_id, "buyer_key": buyer_key,
        "seller_key": seller_key, "created_at": created_at})


async def add_alias(db: Connection, local_part: str, conversation_id: str, role: str,
                    created_at: str) -> bool:
    """False when the local part is taken (the primary key makes certain an alias is never
    handed out twice): draw another."""
    try:
        async with dialect.savepoint(db):
            await chain.insert(db, "aliases", {"local_part": local_part,
                                               "conversation_id": conversation_id,
                                               "role": role, "created_at": created_at})
    except sqlite3.IntegrityError:
        return False
    return True


async def add_party(db: Connection, conversation_id: str, role: str, address: str,
                    address_key: str) -> None:
    """After the conversation's parties of that role; nothing if the address is one already."""
    await dialect.lock_chain(db)  # the count stays the count until this commits
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM parties WHERE conversation_id = ? AND role = ?",
        (conversation_id, role))
    await chain.insert(db, "parties", {
        "conversation_id": conversation_id, "role": role, "address": address,
        "address_key": address_key, "position": rows[0][0]}, or_ignore=True)


async def alias(db: Connection, local_part: str) -> tuple[str, str] | None:
    """(conversation id, role) of the chained alias."""
    rows = await _chained(db, "aliases", Quick("SELECT * FROM aliases WHERE local_part = ?"),
                          (local_part,))
    return (rows[0]["conversation_id"], rows[0]["role"]) if rows else None


async def ids(db: Connection, seller_key: str | None = None) -> list[str]:
    """Every conversation's id, or those with a party row for the seller (not yet checked
    against the chain: load() does that), oldest first."""
    if seller_key is None:
        rows = await db.execute_fetchall("SELECT id FROM conversations ORDER BY created_at, id")
    else:
        rows = await db.execute_fetchall(
            "SELECT c.id FROM conversations c JOIN parties p ON p.conversation_id = c.id"
            " AND p.role = 'seller' AND p.address_key = ? ORDER BY c.created_at, c.id",
            (seller_key,))
    return list(dict.fromkeys(r[0] for r in rows))


async def _seller_parties(db: Connection, seller_key: str) -> list[Mapping[str, Any]]:
    return await _chained(db, "parties", "SELECT * FROM parties WHERE role = 'seller' AND"
                          " address_key = ?", (seller_key,))


async def seller_conversations(db: Connection, seller_key: str) -> list[str]:
    """The ids of the conversations where the seller is a registered seller (chained rows)."""
    return list(dict.fromkeys(r["conversation_id"] for r in await _seller_parties(db, seller_key)))


async def parties_of(db: Connection, conversation_ids: list[str],
                     role: str) -> list[tuple[str, str]]:
    """(conversation id, address_key) of the conversations' chained parties of a role."""
    rows = await _chained(
        db, "parties", "SELECT * FROM parties WHERE conversation_id IN"
        " (SELECT value FROM json_each(?)) AND role = ?", (json.dumps(conversation_ids), role))
    return [(str(r["conversation_id"]), str(r["address_key"])) for r in rows]


async def seller_parties_after(db: Connection, seller_key: str,
                               after: int) -> tuple[list[str], int]:
    """The conversations the seller became a registered seller of after the chain entry
    `after` (chained rows only), and the chain's newest entry: what to ask after next time.
    Reads the chain's new entries, not every party row of the seller."""
    (upto,), = await db.execute_fetchall("SELECT COALESCE(MAX(seq), 0) FROM chain")
    # By seq (the newest entries), not by the (tbl, row_key) index: "+tbl" keeps SQLite
    # from walking every party entry of the marketplace.
    entries = await db.execute_fetchall(
        "SELECT row_key FROM chain WHERE seq > ? AND seq <= ? AND +tbl = 'parties'",
        (after, upto))
    keys = [found for (row_key,) in entries
            if (found := json.loads(row_key))[1:] == ["seller", seller_key]]
    rows = []
    for conversation_id, role, key in keys:
        rows += await db.execute_fetchall(
            "SELECT * FROM parties WHERE conversation_id = ? AND role = ? AND address_key = ?",
            (conversation_id, role, key))
    return [str(r["conversation_id"]) for r in await chain.chained(db, "parties", rows)], int(upto)


async def seller_address(db: Connection, seller_key: str) -> str | None:
    """The address as registered for a seller, by its matching key; None: no seller."""
    rows = await _seller_parties(db, seller_key)
    return str(rows[0]["address"]) if rows else None


async def close(db: Connection, conversation_id: str, at: str) -> None:
    """Close it if it is open. The closing itself is an append-only, chained row: what the
    relay goes by (closed_at is its copy)."""
    cursor = await db.execute(
        "UPDATE conversations SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
        (at, conversation_id))
    if cursor.rowcount:
        await chain.insert(db, "conversation_closings",
                           {"conversation_id": conversation_id, "at": at})
