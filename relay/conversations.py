"""Conversations: aliases <-> parties <-> orders."""

from __future__ import annotations

import base64
import functools
import re
import secrets
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

import aiosqlite
import idna
from email_validator import EmailNotValidError, validate_email

from relay.errors import NotFound, UsageError
from relay.store import chain
from relay.store.db import Store, utcnow

Role = Literal["buyer", "seller"]
ORDER_ID = re.compile(r"^\d{3}-\d{7}-\d{7}$")
# 13 random bytes = 104 bits, as 21 lower-case base32 characters.
ALIAS_BYTES = 13
ALIAS_LOCAL = re.compile(r"^[a-z2-7]{21}$")


def new_token(nbytes: int) -> str:
    return base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii").rstrip("=").lower()


@functools.lru_cache(maxsize=4096)  # IDNA encoding is slow, and the same few domains recur
def ascii_domain(domain: str) -> str:
    """The domain's A-label (xn--) form, lower-cased; unchanged if it is not valid IDNA."""
    try:
        return idna.encode(domain.rstrip("."), uts46=True).decode("ascii").lower()
    except idna.IDNAError:
        return domain.lower()


def address_key(address: str) -> str:
    """Matching form: local part lower-cased, domain as its lower-cased A-label.

    Not casefold(): that maps 'straße' to 'strasse', a different mailbox.
    """
    local, _, domain = address.rpartition("@")
    return f"{local.lower()}@{ascii_domain(domain)}"


@dataclass(frozen=True)
class Conversation:
    id: str
    order_id: str
    buyer_alias: str  # full address on the relay domain
    seller_alias: str
    buyers: tuple[str, ...]
    sellers: tuple[str, ...]  # sellers[0] receives mail
    created_at: str
    closed_at: str | None

    def alias(self, role: Role) -> str:
        return self.buyer_alias if role == "buyer" else self.seller_alias

    def addresses(self, role: Role) -> tuple[str, ...]:
        return self.buyers if role == "buyer" else self.sellers

    def is_registered(self, role: Role, address: str) -> bool:
        key = address_key(address)
        return any(address_key(a) == key for a in self.addresses(role))


def normalize_address(address: str, relay_domain: str) -> str:
    """Syntax check with email-validator; refuses the relay's own domain (it would loop)."""
    try:
        valid = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise UsageError(f"{address!r} is not a valid e-mail address: {exc}") from None
    if valid.domain.lower() == relay_domain:
        raise UsageError(f"{address!r} is on the relay's own domain; register a real mailbox")
    return valid.normalized


def check_order_id(order_id: str) -> str:
    if not ORDER_ID.match(order_id):
        raise UsageError(f"order ID {order_id!r} is not in the form 123-1234567-1234567")
    return order_id


async def _chained(db: aiosqlite.Connection, table: str, sql: str,
                   params: tuple[object, ...]) -> list[Any]:
    return await chain.chained(db, table, await db.execute_fetchall(sql, params))


async def load(db: aiosqlite.Connection, conversation_id: str, domain: str) -> Conversation | None:
    """The conversation as the chain holds it: a party, alias or closing added or changed
    past the relay is not read (who receives mail, who may write, whether it is closed are
    decided by chained rows only). None: no such conversation (or not one the chain has)."""
    rows = await _chained(db, "conversations", "SELECT * FROM conversations WHERE id = ?",
                          (conversation_id,))
    if not rows:
        return None
    conv = rows[0]
    aliases = {row["role"]: f"{row['local_part']}@{domain}" for row in await _chained(
        db, "aliases", "SELECT * FROM aliases WHERE conversation_id = ?", (conversation_id,))}
    if set(aliases) != {"buyer", "seller"}:
        return None
    parties = await _chained(
        db, "parties", "SELECT * FROM parties WHERE conversation_id = ? ORDER BY position",
        (conversation_id,))
    closing = await _chained(db, "conversation_closings",
                             "SELECT * FROM conversation_closings WHERE conversation_id = ?",
                             (conversation_id,))
    return Conversation(
        id=conv["id"], order_id=conv["order_id"],
        buyer_alias=aliases["buyer"], seller_alias=aliases["seller"],
        buyers=tuple(p["address"] for p in parties if p["role"] == "buyer"),
        sellers=tuple(p["address"] for p in parties if p["role"] == "seller"),
        created_at=conv["created_at"], closed_at=closing[0]["at"] if closing else None,
    )


async def open_conversation(
    store: Store, domain: str, order_id: str, buyer: str, sellers: list[str]
) -> tuple[Conversation, bool]:
    """Create the conversation, or return the existing one for the same order/buyer/seller.

    Extra seller addresses given later are added as senders. Returns (conversation, created).
    """
    check_order_id(order_id)
    if not sellers:
        raise UsageError("at least one --seller address is needed")
    buyer = normalize_address(buyer, domain)
    sellers = list(dict.fromkeys(normalize_address(s, domain) for s in sellers))
    if address_key(buyer) in {address_key(s) for s in sellers}:
        raise UsageError("the buyer and a seller cannot share an address")
    async with store.write() as db:
        rows = await db.execute_fetchall(
            "SELECT id FROM conversations WHERE order_id = ? AND buyer_key = ? AND seller_key = ?",
            (order_id, address_key(buyer), address_key(sellers[0])),
        )
        created = not rows
        if rows:
            conv_id = rows[0][0]
        else:
            conv_id = new_token(8)
            now = utcnow()
            await chain.insert(db, "conversations", {
                "id": conv_id, "order_id": order_id, "buyer_key": address_key(buyer),
                "seller_key": address_key(sellers[0]), "created_at": now})
            for role in ("buyer", "seller"):
                await _insert_alias(db, conv_id, role, now)
            await _add_party(db, conv_id, "buyer", buyer)
        for seller in sellers:
            await _add_party(db, conv_id, "seller", seller)
        conversation = await load(db, conv_id, domain)
    assert conversation is not None
    return conversation, created


async def _insert_alias(db: aiosqlite.Connection, conv_id: str, role: Role, now: str) -> None:
    # With 104 random bits a collision is practically impossible; the primary key makes
    # certain an alias is never handed out twice.
    for _ in range(5):
        try:
            await chain.insert(db, "aliases", {"local_part": new_token(ALIAS_BYTES),
                                               "conversation_id": conv_id, "role": role,
                                               "created_at": now})
            return
        except sqlite3.IntegrityError:
            continue
    raise RuntimeError("could not draw a fresh alias")


async def _add_party(db: aiosqlite.Connection, conv_id: str, role: Role, address: str) -> None:
    rows = await db.execute_fetchall(
        "SELECT COUNT(*) FROM parties WHERE conversation_id = ? AND role = ?", (conv_id, role)
    )
    await chain.insert(db, "parties", {
        "conversation_id": conv_id, "role": role, "address": address,
        "address_key": address_key(address), "position": rows[0][0]}, or_ignore=True)


@dataclass(frozen=True)
class AliasHit:
    conversation: Conversation
    role: Role  # the party the alias stands for


async def find_alias(store: Store, domain: str, local_part: str) -> AliasHit | None:
    if not ALIAS_LOCAL.match(local_part):
        return None
    async with store.read() as db:
        rows = await _chained(db, "aliases", "SELECT * FROM aliases WHERE local_part = ?",
                              (local_part,))
        if not rows:
            return None
        conversation = await load(db, rows[0]["conversation_id"], domain)
    if conversation is None:
        return None
    return AliasHit(conversation, rows[0]["role"])


async def get(store: Store, domain: str, conversation_id: str) -> Conversation:
    async with store.read() as db:
        conversation = await load(db, conversation_id, domain)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation


async def list_all(store: Store, domain: str, seller: str | None = None) -> list[Conversation]:
    """Every conversation, or those where `seller` is a registered seller."""
    async with store.read() as db:
        if seller is None:
            rows = await db.execute_fetchall(
                "SELECT id FROM conversations ORDER BY created_at, id")
        else:
            rows = await db.execute_fetchall(
                "SELECT c.id FROM conversations c JOIN parties p ON p.conversation_id = c.id"
                " AND p.role = 'seller' AND p.address_key = ? ORDER BY c.created_at, c.id",
                (address_key(seller),))
        ids = [r[0] for r in rows]
        found = [await load(db, conv_id, domain) for conv_id in dict.fromkeys(ids)]
    # A party row slipped in past the relay does not make anyone a seller of it.
    return [c for c in found
            if c is not None and (seller is None or c.is_registered("seller", seller))]


async def seller_conversations(db: aiosqlite.Connection, seller: str) -> list[str]:
    """The ids of the conversations where `seller` is a registered seller (chained rows)."""
    rows = await _chained(db, "parties", "SELECT * FROM parties WHERE role = 'seller' AND"
                          " address_key = ?", (address_key(seller),))
    return list(dict.fromkeys(r["conversation_id"] for r in rows))


# A message row counts only with its chain entry: one slipped in past the relay (a
# fabricated reply) is not listed, nor taken for an answer. (Its content is checked by
# `relay audit verify`.)
MESSAGE_CHAINED = ("EXISTS (SELECT 1 FROM chain l WHERE l.tbl = 'messages'"
                   " AND l.row_key = json_array(m.id))")


async def message_count(store: Store, conversation_id: str) -> int:
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
        )
    return int(rows[0][0])


async def close(store: Store, domain: str, conversation_id: str) -> Conversation:
    """Close a conversation: its aliases stop accepting mail (550 5.1.1), forever."""
    async with store.write() as db:
        now = utcnow()
        cursor = await db.execute(
            "UPDATE conversations SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
            (now, conversation_id),
        )
        # The closing itself is an append-only, chained row: what the relay goes by.
        if cursor.rowcount:
            await chain.insert(db, "conversation_closings",
                               {"conversation_id": conversation_id, "at": now})
        conversation = await load(db, conversation_id, domain)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation
