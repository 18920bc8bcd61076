"""The operators' pages (signed in with an admin API token): find a conversation by its order
ID or an alias, see its messages, delivery events and whether its record checks out; the
delivery queue; a buyer's opt-out with its history; the whole audit on request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response

from relay.errors import NotFound, UsageError
from relay.marketplace import buyers, conversations, message_center, review_request
from relay.store import outbox, records
from relay.store.audit import audit as audit_store
from relay.store.db import Store
from relay.web.deps import Admin, Running, Stored, form
from relay.web.errors import WebError, WebRoute
from relay.web.pages import render

if TYPE_CHECKING:
    from relay.server import Relay

router = APIRouter(route_class=WebRoute, include_in_schema=False)


async def _find(relay: Relay, store: Store, text: str) -> list[conversations.Conversation]:
    domain = relay.config.domain
    if conversations.ORDER_ID.match(text):
        return await conversations.by_order(store, domain, text)
    local, at, host = text.lower().partition("@")
    if at and host != domain:
        return []
    hit = await conversations.find_alias(store, domain, local)
    if hit is not None:
        return [hit.conversation]
    try:  # a conversation's own id
        return [await conversations.get(store, domain, text)]
    except NotFound:
        return []


@router.get("/admin")
async def home(request: Request, visitor: Admin, relay: Running, store: Stored,
               find: str = "") -> Response:
    async with store.read() as db:
        queued, oldest = await outbox.depth(db)
    find = find.strip()[:320]
    found = await _find(relay, store, find) if find else None
    return render(request, "admin_home.html", queued=queued, oldest=oldest, find=find,
                  found=found, domain=relay.config.domain)


@router.get("/admin/conversations/{conversation_id}")
async def conversation(request: Request, conversation_id: str, visitor: Admin,
                       relay: Running, store: Stored) -> Response:
    try:
        conv = await conversations.get(store, relay.config.domain, conversation_id[:64])
    except NotFound:
        raise WebError(404) from None
    rows = await message_center.query(store, message_center.Filters(conversation=conv.id))
    async with store.read() as db:
        events = await outbox.conversation_events(db, conv.id)
    broken = await records.verify_conversation(store, conv.id)
    return render(request, "admin_conversation.html", conv=conv, rows=rows, events=events,
                  broken=broken, opted_out=await buyers.opted_out(store, conv.buyers[0]),
                  delivered_on=await review_request.delivered_on(store, conv))


@router.get("/admin/buyers")
async def buyer(request: Request, visitor: Admin, relay: Running, store: Stored,
                address: str = "") -> Response:
    address = address.strip()[:320]
    problem, history, normalized = None, None, None
    if address:
        try:
            normalized = conversations.normalize_address(address, relay.config.domain)
        except UsageError:
            problem = "That is not an e-mail address."
        else:
            history = await buyers.history(store, normalized)
    latest = {e.kind: e.value for e in history or ()}
    return render(request, "admin_buyer.html", address=normalized or address, problem=problem,
                  history=history, opted_out=latest.get("optout") == "on",
                  locale=latest.get("locale"), business=latest.get("business") == "on")


@router.post("/admin/audit")
async def audit(request: Request, visitor: Admin, relay: Running, store: Stored) -> Response:
    """Every hash chain recomputed, as `relay audit verify` does (it reads the whole store)."""
    await form(request, visitor)
    found = await audit_store(store, relay.config.store.log_path)
    return render(request, "admin_audit.html", found=found,
                  problems=[str(p) for p in found.problems])
