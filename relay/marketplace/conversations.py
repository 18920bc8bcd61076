"""Conversations: aliases <-> parties <-> orders."""

from __future__ import annotations

import base64
import functools
import re
import secrets
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal, cast

import idna
from email_validator import EmailNotValidError, validate_email

from relay.errors import NotFound, UsageError
from relay.store import conversations as repo
from relay.store import messages
from relay.store.chain import head as chain_head
from relay.store.db import Connection, Store, utcnow

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


async def load(db: Connection, conversation_id: str, domain: str) -> Conversation | None:
    """The conversation as the chain holds it: a party, alias or closing added or changed
    past the relay is not read (who receives mail, who may write, whether it is closed are
    decided by chained rows only). None: no such conversation (or not one the chain has)."""
    stored = await repo.load(db, conversation_id)
    if stored is None or set(stored.aliases) != {"buyer", "seller"}:
        return None
    aliases = {role: f"{local}@{domain}" for role, local in stored.aliases.items()}
    return Conversation(
        id=stored.id, order_id=stored.order_id,
        buyer_alias=aliases["buyer"], seller_alias=aliases["seller"],
        buyers=tuple(address for role, address in stored.parties if role == "buyer"),
        sellers=tuple(address for role, address in stored.parties if role == "seller"),
        created_at=stored.created_at, closed_at=stored.closed_at,
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
        found = await repo.find(db, order_id, address_key(buyer), address_key(sellers[0]))
        created = found is None
        if found is not None:
            conv_id = found
        else:
            conv_id = new_token(8)
            now = utcnow()
            await repo.create(db, conv_id, order_id, address_key(buyer),
                              address_key(sellers[0]), now)
            for role in ("buyer", "seller"):
                await _insert_alias(db, conv_id, role, now)
            await _add_party(db, conv_id, "buyer", buyer)
        for seller in sellers:
            await _add_party(db, conv_id, "seller", seller)
        conversation = await load(db, conv_id, domain)
    assert conversation is not None
    return conversation, created


async def _insert_alias(db: Connection, conv_id: str, role: Role, now: str) -> None:
    # With 104 random bits a collision is practically impossible; the primary key makes
    # certain an alias is never handed out twice.
    for _ in range(5):
        if await repo.add_alias(db, new_token(ALIAS_BYTES), conv_id, role, now):
            return
    raise RuntimeError("could not draw a fresh alias")


async def _add_party(db: Connection, conv_id: str, role: Role, address: str) -> None:
    await repo.add_party(db, conv_id, role, address, address_key(address))


@dataclass(frozen=True)
class AliasHit:
    conversation: Conversation
    role: Role  # the party the alias stands for


# Per store: (domain, local part) -> (the store's version() then, what find_alias found).
# An SMTP transaction looks its alias up at RCPT and again after DATA, and mail in one
# conversation comes in runs; while nothing may have changed a conversation's rows the answer
# is the same, so it is not read and checked against the chain again.
_Found = OrderedDict[tuple[str, str], tuple[object, "AliasHit | None"]]
_FOUND: weakref.WeakKeyDictionary[Store, _Found] = weakref.WeakKeyDictionary()
FOUND_KEPT = 4096


async def find_alias(store: Store, domain: str, local_part: str) -> AliasHit | None:
    if not ALIAS_LOCAL.match(local_part):
        return None
    async with store.read() as db:
        seen = await repo.version(db)
        kept = _FOUND.get(store)
        if kept is None:  # setdefault() would make a weak reference at every call
            kept = _FOUND[store] = OrderedDict()
        key = (domain, local_part)
        if seen is not None and key in kept and kept[key][0] == seen:
            kept.move_to_end(key)
            return kept[key][1]
        hit = await _find_alias(db, domain, local_part)
    if seen is not None:
        kept[key] = (seen, hit)
        kept.move_to_end(key)
        if len(kept) > FOUND_KEPT:
            kept.popitem(last=False)
    return hit


async def _find_alias(db: Connection, domain: str, local_part: str) -> AliasHit | None:
    found = await repo.alias(db, local_part)
    if found is None:
        return None
    conversation = await load(db, found[0], domain)
    if conversation is None:
        return None
    return AliasHit(conversation, cast(Role, found[1]))


async def get(store: Store, domain: str, conversation_id: str) -> Conversation:
    async with store.read() as db:
        conversation = await load(db, conversation_id, domain)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation


async def by_order(store: Store, domain: str, order_id: str) -> list[Conversation]:
    """The order's conversations (one per buyer and first seller)."""
    async with store.read() as db:
        found = [await load(db, conv_id, domain) for conv_id in await repo.by_order(db, order_id)]
    return [c for c in found if c is not None]


async def list_all(store: Store, domain: str, seller: str | None = None) -> list[Conversation]:
    """Every conversation, or those where `seller` is a registered seller."""
    async with store.read() as db:
        ids = await repo.ids(db, None if seller is None else address_key(seller))
        found = [await load(db, conv_id, domain) for conv_id in ids]
    # A party row slipped in past the relay does not make anyone a seller of it.
    return [c for c in found
            if c is not None and (seller is None or c.is_registered("seller", seller))]


# Per connection and seller: the chain entry read up to, and the seller's conversations then.
_SELLERS: weakref.WeakKeyDictionary[Connection, dict[str, tuple[int, list[str]]]] = (
    weakref.WeakKeyDictionary())


async def seller_conversations(db: Connection, seller: str) -> list[str]:
    """The ids of the conversations where `seller` is a registered seller (chained rows).

    Checking every party row of a seller against the chain costs ~25 ms per 1,000
    conversations; the message center asks on every page. So the answer is kept, and each
    call adds what the chain's newer entries make the seller's (rows are never removed or
    changed: they are append-only, and a row changed past the relay is not the chain's)."""
    key = address_key(seller)
    known = _SELLERS.setdefault(db, {})
    if key not in known:
        (after, _), found = await chain_head(db), await repo.seller_conversations(db, key)
        known[key] = (after, found)
    after, found = known[key]
    added, upto = await repo.seller_parties_after(db, key, after)
    if added:
        found = list(dict.fromkeys(found + added))
    known[key] = (upto, found)
    return list(found)


async def message_count(store: Store, conversation_id: str) -> int:
    async with store.read() as db:
        return await messages.count(db, conversation_id)


async def close(store: Store, domain: str, conversation_id: str) -> Conversation:
    """Close a conversation: its aliases stop accepting mail (550 5.1.1), forever."""
    async with store.write() as db:
        await repo.close(db, conversation_id, utcnow())
        conversation = await load(db, conversation_id, domain)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return conversation
