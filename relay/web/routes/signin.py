"""Signing in and out: sellers with their address and the password `relay sellers password`
set (the submission port's), operators with an admin API token. Failed tries count in the
same throttle as the submission port's AUTH, per (account, client network) and per network;
an unknown account and a wrong password get the same answer."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from relay.api import tokens
from relay.auth import passwords, throttle
from relay.ops.logs import event
from relay.web import sessions
from relay.web.deps import Running, Stored
from relay.web.errors import WebRoute
from relay.web.pages import render
from relay.web.sessions import COOKIE, FORM_COOKIE

router = APIRouter(route_class=WebRoute, include_in_schema=False)
log = logging.getLogger("relay.web")

WRONG = "The e-mail address or the password is not right."
WRONG_TOKEN = "That is not an admin token of this relay."
THROTTLED = ("Too many failed sign-ins from your network. Wait 15 minutes, then try again.")
ADMIN_ACCOUNT = "admin-token"  # what the throttle counts an operator's tries under
MAX_EMAIL, MAX_PASSWORD = 320, 1024

Text = Annotated[str, Form(max_length=4096)]


def _form_page(request: Request, name: str, status: int = 200, next: str | None = None,
               **context: object) -> Response:
    """A sign-in form with its CSRF token, and the cookie that token must match."""
    token = sessions.form_token(request)
    target = request.query_params.get("next") if next is None else next
    response = render(request, name, status, form_token=token,
                      next=sessions.safe_next(target, ""), **context)
    sessions.set_cookie(response, request, request.app.state.relay.config.web, FORM_COOKIE,
                        token)
    return response


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _signed_in(request: Request, scope: str, account: str, credential: str,
                     target: str) -> Response:
    relay = request.app.state.relay
    await sessions.close_session(relay.store, request)  # a new session, never the old token
    token, _ = await sessions.open_session(relay.store, relay.config.web, scope, account,
                                           credential)
    response = RedirectResponse(target, 303)
    sessions.set_cookie(response, request, relay.config.web, COOKIE, token,
                        max_age=int(relay.config.web.session_lifetime))
    event(log, "web.sign_in", scope=scope, account=account or "-",
          client=_client(request))
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    return _form_page(request, "login.html", error=None, email="")


@router.post("/login")
async def login(request: Request, relay: Running, store: Stored, email: Text = "",
                password: Text = "", csrf: Text = "", next: Text = "") -> Response:
    sessions.check_csrf(request.cookies.get(FORM_COOKIE, ""), csrf)
    email = email.strip()
    client = _client(request)
    if await throttle.blocked(store, relay.config.limits, client, email[:MAX_EMAIL]):
        response = _form_page(request, "login.html", 429, next, error=THROTTLED, email=email)
        response.headers["Retry-After"] = str(int(throttle.WINDOW))
        return response
    account = None
    if 0 < len(email) <= MAX_EMAIL and 0 < len(password) <= MAX_PASSWORD:
        account = await passwords.verify(store, email, password)
    credential = await passwords.fingerprint(store, account) if account else None
    if account is None or credential is None:
        recent = await throttle.failed(store, client, email[:MAX_EMAIL])
        log.info("failed web sign-in from %s (%d from its network in %.0f min)", client,
                 recent, throttle.WINDOW / 60)
        return _form_page(request, "login.html", 200, next, error=WRONG, email=email)
    return await _signed_in(request, "seller", account, credential,
                            sessions.safe_next(next))


@router.get("/admin/login")
async def admin_login_page(request: Request) -> Response:
    return _form_page(request, "admin_login.html", error=None)


@router.post("/admin/login")
async def admin_login(request: Request, relay: Running, store: Stored, token: Text = "",
                      csrf: Text = "", next: Text = "") -> Response:
    """An admin API token (`relay api token admin`) signs an operator in; the session ends
    when the token is taken out of api.tokens."""
    sessions.check_csrf(request.cookies.get(FORM_COOKIE, ""), csrf)
    client = _client(request)
    if await throttle.blocked(store, relay.config.limits, client, ADMIN_ACCOUNT):
        response = _form_page(request, "admin_login.html", 429, next, error=THROTTLED)
        response.headers["Retry-After"] = str(int(throttle.WINDOW))
        return response
    token = token.strip()
    found = request.app.state.tokens["current"].find(token) if token else None
    if found is None or found.scope != "admin":
        await throttle.failed(store, client, ADMIN_ACCOUNT)
        log.info("failed web operator sign-in from %s", client)
        return _form_page(request, "admin_login.html", 200, next, error=WRONG_TOKEN)
    return await _signed_in(request, "admin", "", tokens.digest(token),
                            sessions.safe_next(next, "/admin"))


@router.post("/logout")
@router.post("/admin/logout")
async def logout(request: Request, relay: Running) -> Response:
    """Sign out: the session is deleted (its cookie is worth nothing after), then the
    sign-in page. The form's CSRF token is checked when there is a session to end."""
    found = await sessions.visitor(request)
    if found is not None:
        form = await request.form()
        sessions.check_csrf(found.csrf, form.get("csrf"))
        await sessions.close_session(relay.store, request)
    target = "/admin/login" if request.url.path.startswith("/admin") else "/login"
    response = RedirectResponse(target, 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                           secure=sessions.secure(request, relay.config.web))
    return response
