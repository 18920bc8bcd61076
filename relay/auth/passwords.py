"""Seller passwords for the submission port: scrypt hashes as append-only events.

Hashing costs ~50 ms of CPU by design, so it runs in a worker thread, never on the event
loop; an unknown account costs the same as a wrong password, so timing tells nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from concurrent.futures import ThreadPoolExecutor

from relay.errors import UsageError
from relay.marketplace.conversations import address_key, normalize_address
from relay.store import conversations, credentials
from relay.store.db import Store, utcnow

N, R, P = 2**14, 8, 1  # ~16 MiB and ~50 ms per check (RFC 7914's interactive setting)
MIN_LENGTH = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def check_hash(password: str, stored: str) -> bool:
    try:
        name, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8", "surrogateescape"),
                             salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return name == "scrypt" and hmac.compare_digest(got, expected)


_DUMMY = hash_password(os.urandom(16).hex())
# Two checks at a time (16 MiB of scrypt each): a login flood queues here instead of taking
# the threads the rest of the relay uses.
_POOL = ThreadPoolExecutor(2, thread_name_prefix="password")


async def set_password(store: Store, seller: str, domain: str, password: str) -> str:
    """Record a new hash for the seller's account; returns the normalized address."""
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password needs at least {MIN_LENGTH} characters")
    address = normalize_address(seller, domain)
    async with store.read() as db:
        known = await conversations.seller_address(db, address_key(address))
    if known is None:
        raise UsageError(f"{address} is not a seller address of any conversation")
    hashed = await asyncio.to_thread(hash_password, password)
    async with store.write() as db:
        await credentials.add(db, address_key(address), utcnow(), hashed)
    return address


async def fingerprint(store: Store, account: str) -> str | None:
    """A digest of the account's current password hash (None: no password): a web session
    keeps the one it signed in with, so setting a new password ends the account's sessions."""
    async with store.read() as db:
        stored = await credentials.latest(db, address_key(account))
    return None if stored is None else hashlib.sha256(stored.encode("ascii")).hexdigest()


async def verify(store: Store, login: str, password: str) -> str | None:
    """The account's registered address when the password is right, else None. However the
    client spelled the login (case, a trailing dot), the account has one spelling: the
    record, the rate limits and any failure notice use it."""
    key = address_key(login)
    async with store.read() as db:
        stored = await credentials.latest(db, key)
        account = await conversations.seller_address(db, key)
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(_POOL, check_hash, password, stored or _DUMMY)
    return account if ok and stored is not None else None
