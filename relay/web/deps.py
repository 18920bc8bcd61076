"""What the web routes share: the running relay and its store, the signed-in visitor, the
form of a POST with its CSRF token checked, and the conversation a seller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from relay.api import deps as api_deps
from relay.api.errors import APIError
from relay.marketplace import conversations
from relay.store.db import Store
from relay.web import sessions
from relay.web.errors import WebError
from relay.web.sessions import Visitor

MAX_FILES = 20  # as the API's attachments


async def seller(request: Request) -> Visitor:
    return await sessions.require(request)


async def admin(request: Request) -> Visitor:
    return await sessions.require(request, admin=True)


Seller = Annotated[Visitor, Depends(seller)]
Admin = Annotated[Visitor, Depends(admin)]
# The running relay and its store, as the API's routes get them.
Running = api_deps.Running
Stored = api_deps.Stored


async def form(request: Request, visitor: Visitor) -> FormData:
    """The POST's form, once its CSRF token is checked (403 without it)."""
    try:
        found = await request.form(max_files=MAX_FILES, max_fields=200)
    except Exception:  # a body that is no form, too many files: nothing to act on
        raise WebError(400) from None
    sessions.check_csrf(visitor.csrf, found.get("csrf"))
    return found


async def conversation(visitor: Visitor, conversation_id: str, store: Store,
                       domain: str) -> conversations.Conversation:
    """The conversation, if it is the visitor's (404 otherwise, as if it did not exist)."""
    try:
        return await api_deps.conversation(visitor.who, conversation_id[:64], store, domain)
    except APIError:
        raise WebError(404) from None
