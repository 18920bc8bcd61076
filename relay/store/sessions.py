"""Web sessions (relay/web): who signed in, until when, and the CSRF token of their forms.
A work table, not the record: rows are added at sign-in, touched on use and deleted at
sign-out or once expired. Only the SHA-256 of a session's token is stored."""

from __future__ import annotations

from dataclasses import dataclass

from relay.store.db import Connection


@dataclass(frozen=True)
class Session:
    token_hash: str
    scope: str  # "seller" or "admin"
    account: str  # the seller's registered address; "" for an operator
    credential: str
    csrf: str
    created_at: str
    seen_at: str
    expires_at: str


async def add(db: Connection, session: Session) -> None:
    await db.execute(
        "INSERT INTO web_sessions (token_hash, scope, account, credential, csrf, created_at,"
        " seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (session.token_hash, session.scope, session.account, session.credential,
         session.csrf, session.created_at, session.seen_at, session.expires_at))


async def get(db: Connection, token_hash: str) -> Session | None:
    rows = await db.execute_fetchall(
        "SELECT token_hash, scope, account, credential, csrf, created_at, seen_at, expires_at"
        " FROM web_sessions WHERE token_hash = ?", (token_hash,))
    return Session(*rows[0]) if rows else None


async def touch(db: Connection, token_hash: str, seen_at: str) -> None:
    await db.execute("UPDATE web_sessions SET seen_at = ? WHERE token_hash = ?",
                     (seen_at, token_hash))


async def remove(db: Connection, token_hash: str) -> None:
    await db.execute("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))


async def remove_expired(db: Connection, now: str, idle_since: str) -> int:
    """Sessions past their lifetime, or unused since `idle_since`; returns how many."""
    cursor = await db.execute(
        "DELETE FROM web_sessions WHERE expires_at <= ? OR seen_at < ?", (now, idle_since))
    return int(cursor.rowcount)
