"""Sign-in sessions of the web pages: a random token in an HttpOnly, SameSite=Lax cookie
(Secure behind TLS), its SHA-256 in the store (relay.store.sessions) with the scope, the
account, a fingerprint of the credential it signed in with, and the CSRF token of its forms.

A session ends at sign-out, after web.session_lifetime, after web.session_idle without a
request, and when its credential changes: a seller's new password (`relay sellers password`),
or an admin token taken out of api.tokens (SIGHUP). Every form POST carries the session's
CSRF token; the sign-in forms, before there is a session, a token that must match a cookie
of their own (double submit)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from fastapi import Request, Response

from relay.api.tokens import Principal
from relay.auth import passwords
from relay.config import WebSettings
from relay.store import sessions as repo
from relay.store.db import Store

if TYPE_CHECKING:
    from relay.server import Relay

COOKIE = "relay_session"
FORM_COOKIE = "relay_form"  # the sign-in forms' CSRF token, before there is a session
TOUCH_EVERY = timedelta(seconds=60)  # seen_at is kept to the minute: one write a minute
_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_.=&?%-]{0,500}")


class SignIn(Exception):
    """No valid session: the page asks to sign in (and comes back to `next`)."""

    def __init__(self, admin: bool = False) -> None:
        super().__init__("sign in")
        self.admin = admin


class Forbidden(Exception):
    """A form without the right CSRF token, or a page of the other kind of account."""


@dataclass(frozen=True)
class Visitor:
    who: Principal
    csrf: str
    token_hash: str

    @property
    def admin(self) -> bool:
        return self.who.scope == "admin"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="microseconds")


def secure(request: Request, settings: WebSettings) -> bool:
    """Secure cookies: set so, or the request came over https (X-Forwarded-Proto of a proxy
    on this host, as uvicorn believes it)."""
    return settings.secure_cookies or request.url.scheme == "https"


def set_cookie(response: Response, request: Request, settings: WebSettings, name: str,
               value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure(request, settings))


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a path of this site only (never //host or a URL)."""
    return target if target and _NEXT.fullmatch(target) else default


async def open_session(store: Store, settings: WebSettings, scope: str, account: str,
                       credential: str) -> tuple[str, str]:
    """A new session; returns (the cookie's token, the CSRF token). Expired sessions go."""
    now = datetime.now(UTC)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    async with store.write() as db:
        await repo.remove_expired(db, _iso(now),
                                  _iso(now - timedelta(seconds=settings.session_idle)))
        await repo.add(db, repo.Session(
            token_hash=_digest(token), scope=scope, account=account, credential=credential,
            csrf=csrf, created_at=_iso(now), seen_at=_iso(now),
            expires_at=_iso(now + timedelta(seconds=settings.session_lifetime))))
    return token, csrf


async def close_session(store: Store, request: Request) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        async with store.write() as db:
            await repo.remove(db, _digest(token))


async def _credential_holds(request: Request, store: Store,
                            found: repo.Session) -> Principal | None:
    if found.scope == "admin":
        principal = request.app.state.tokens["current"].by_digest(found.credential)
        return principal if principal is not None and principal.scope == "admin" else None
    if await passwords.fingerprint(store, found.account) != found.credential:
        return None
    return Principal("seller", found.account)


async def visitor(request: Request) -> Visitor | None:
    """The signed-in visitor of this request, or None (no cookie, or a session that ended)."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    relay: Relay = request.app.state.relay
    store, settings = relay.store, relay.config.web
    assert store is not None
    token_hash = _digest(token)
    async with store.read() as db:
        found = await repo.get(db, token_hash)
    if found is None:
        return None
    now = datetime.now(UTC)
    seen = datetime.fromisoformat(found.seen_at)
    if (now >= datetime.fromisoformat(found.expires_at)
            or now - seen > timedelta(seconds=settings.session_idle)):
        return None
    who = await _credential_holds(request, store, found)
    if who is None:
        return None
    if now - seen >= TOUCH_EVERY:
        async with store.write() as db:
            await repo.touch(db, token_hash, _iso(now))
    return Visitor(who, found.csrf, token_hash)


async def require(request: Request, admin: bool = False) -> Visitor:
    """The visitor, signed in as a seller (or, admin=True, as an operator); else SignIn. A
    session of the other kind is Forbidden."""
    found = await visitor(request)
    if found is None:
        raise SignIn(admin)
    if found.admin != admin:
        raise Forbidden("this page is for " + ("operators" if admin else "sellers"))
    request.state.visitor = found
    return found


def check_csrf(expected: str, form_value: object) -> None:
    if not (isinstance(form_value, str) and expected
            and hmac.compare_digest(form_value.encode(), expected.encode())):
        raise Forbidden("the form's security token is missing or out of date")


def form_token(request: Request) -> str:
    """The sign-in forms' token: the one the browser has, or a new one (set_form_cookie)."""
    found = request.cookies.get(FORM_COOKIE, "")
    return found if re.fullmatch(r"[A-Za-z0-9_-]{43}", found) else secrets.token_urlsafe(32)
