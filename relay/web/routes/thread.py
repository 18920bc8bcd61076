"""A conversation as the seller reads it: the thread oldest first (a buyer's messages as
they were delivered, the seller's own as written: never a buyer's real address), text parts
first, HTML parts in a sandboxed frame, files to download; marks; the answer form."""

from __future__ import annotations

from dataclasses import dataclass
from string import Template as Text
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from relay.marketplace import buyers, message_center, templates
from relay.marketplace.conversations import Conversation
from relay.store import records
from relay.store.db import Store
from relay.web import reading, reasons
from relay.web.deps import Running, Seller, Stored, conversation, form
from relay.web.errors import WebError, WebRoute
from relay.web.pages import render
from relay.web.sessions import Visitor, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian"}
DOWNLOAD_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


@dataclass
class Item:
    """One message of the thread as the page shows it."""
    row: dict[str, Any]
    shown: reading.Shown | None  # None: nothing of it may be shown (or nothing delivered)
    needs_response: bool
    refusal: str | None  # why it was refused, in plain words


@dataclass
class Answer:
    """The answer form as the seller left it (kept when a send is refused)."""
    mode: str = "template"
    template: str = ""
    values: dict[str, str] | None = None
    subject: str = ""
    body: str = ""
    files: list[str] | None = None  # names of the files that were attached
    error: str | None = None
    detail: str | None = None


async def readable(store: Store, conv: Conversation, row: dict[str, Any]) -> bytes | None:
    """What the seller may read of a message: a buyer's as delivered (it went through the
    rules and the address rewriting), their own as received, and only when it came from
    one of the conversation's seller addresses. Nothing else."""
    record = await records.get(store, row["id"])
    if record is None:
        return None
    if row["direction"] == "buyer_to_seller":
        return record.delivered
    if row["direction"] == "seller_to_buyer" and conv.is_registered("seller", record.mail_from):
        return record.raw
    return None


async def message_row(visitor: Visitor, store: Store, message_id: str) -> dict[str, Any]:
    rows = await message_center.query(store, message_center.Filters(
        message=message_id[:64], seller=visitor.who.seller, parties_only=True))
    if not rows:
        raise WebError(404)
    return rows[0]


async def thread(store: Store, conv: Conversation, seller: str) -> list[Item]:
    rows = await message_center.query(store, message_center.Filters(
        conversation=conv.id, seller=seller, parties_only=True))
    awaiting = await message_center.awaiting(store, seller)
    items = []
    for row in rows:
        raw = await readable(store, conv, row)
        refused = row["disposition"] not in ("delivered", "delivered_redacted")
        code = row["reasons"][-1] if refused and row["reasons"] else None
        items.append(Item(row, reading.read(raw) if raw else None, row["id"] in awaiting,
                          reasons.sentence(code) if code else None))
    return items


def preview(template: templates.Template, lang: str, order_id: str,
            values: dict[str, str]) -> list[tuple[str, str]]:
    """The template's subject and body in the buyer's language: (as filled in so far, with
    the variables' placeholders left in for the page's script to fill as the seller types)."""
    fixed = {"order_id": order_id, "buyer_name": templates.UNKNOWN_NAME.get(lang, "customer")}
    filled = {**fixed, **{k: v for k, v in values.items() if v}}
    return [(Text(text).safe_substitute(filled).strip(), Text(text).safe_substitute(fixed).strip())
            for text in template.texts[lang]]


async def conversation_page(request: Request, visitor: Visitor, relay: Any, store: Store,
                            conv: Conversation, answer: Answer, status: int = 200,
                            sent: str | None = None) -> Response:
    seller = visitor.who.seller
    assert seller is not None
    items = await thread(store, conv, seller)
    locale = await buyers.latest(store, conv.addresses("buyer")[0], "locale")
    choices = sorted(relay.templates.values(), key=lambda t: t.id)
    chosen = relay.templates.get(answer.template)
    lang = templates.language(locale, chosen) if chosen else None
    just_sent = next((i for i in items if i.row["id"] == sent), None) if sent else None
    return render(
        request, "conversation.html", status, conv=conv, items=items, answer=answer,
        templates=choices, chosen=chosen, language=LANGUAGES.get(lang or "", lang),
        preview=preview(chosen, lang, conv.order_id, answer.values or {}) if chosen and lang
        else None, just_sent=just_sent, reasons=reasons,
        unread=sum(1 for i in items if i.row["direction"] == "buyer_to_seller"
                   and not i.row["read"]))


@router.get("/conversations/{conversation_id}")
async def show(request: Request, conversation_id: str, visitor: Seller, relay: Running,
               store: Stored, template: str = "", sent: str = "") -> Response:
    conv = await conversation(visitor, conversation_id, store, relay.config.domain)
    return await conversation_page(request, visitor, relay, store, conv,
                                   Answer(template=template[:100]), sent=sent[:64] or None)


@router.post("/conversations/{conversation_id}/read")
async def read_all(request: Request, conversation_id: str, visitor: Seller, relay: Running,
                   store: Stored) -> Response:
    """Mark every unread buyer message of the conversation read."""
    conv = await conversation(visitor, conversation_id, store, relay.config.domain)
    await form(request, visitor)
    for row in await message_center.query(store, message_center.Filters(
            conversation=conv.id, seller=visitor.who.seller, parties_only=True, received=True,
            unread=True)):
        await message_center.mark(store, row["id"], "read")
    return RedirectResponse(f"/conversations/{quote(conv.id)}", 303)


@router.post("/messages/{message_id}/marks")
async def mark(request: Request, message_id: str, visitor: Seller, store: Stored) -> Response:
    """Mark one message read, or as needing no response (marks are added, never removed)."""
    row = await message_row(visitor, store, message_id)
    found = await form(request, visitor)
    kind = found.get("mark")
    if kind not in ("read", "no_response_needed"):
        raise WebError(400)
    await message_center.mark(store, row["id"], str(kind))
    back = found.get("back")
    return RedirectResponse(safe_next(back if isinstance(back, str) else None, "/"), 303)


async def _part(visitor: Visitor, relay: Any, store: Store, message_id: str) -> bytes:
    row = await message_row(visitor, store, message_id)
    conv = await conversation(visitor, row["conversation_id"], store, relay.config.domain)
    raw = await readable(store, conv, row)
    if raw is None:
        raise WebError(404)
    return raw


@router.get("/messages/{message_id}/parts/{index}")
async def download(message_id: str, index: int, visitor: Seller, relay: Running,
                   store: Stored) -> Response:
    """A file of a message, as a download (never shown in the page's origin)."""
    raw = await _part(visitor, relay, store, message_id)
    found = reading.part(raw, index)
    if found is None:
        raise WebError(404)
    name = reading.filename(raw, index)
    ascii_name = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    return Response(found[1], media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\";"
                               f" filename*=UTF-8''{quote(name, safe='')}",
        "Content-Security-Policy": DOWNLOAD_POLICY, "X-Frame-Options": "DENY"})


@router.get("/messages/{message_id}/html/{index}")
async def html_part(message_id: str, index: int, visitor: Seller, relay: Running,
                    store: Stored) -> Response:
    """An HTML part, sanitized, for the page's sandboxed frame: its policy lets it load
    nothing (images only from the message itself) and run no script."""
    raw = await _part(visitor, relay, store, message_id)
    document = reading.html_document(raw, index)
    if document is None:
        raise WebError(404)
    return HTMLResponse(document, headers={"Content-Security-Policy": reading.FRAME_POLICY})
