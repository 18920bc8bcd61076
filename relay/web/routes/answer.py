"""The seller's answer from the conversation page: a template (its variables filled in, sent
in the buyer's language) or free text, with files. It goes the API's way (the size and rate
limits, then the same intake and rules as mail); a refusal shows why in plain words, and the
form keeps what was typed."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from relay.errors import UsageError
from relay.marketplace import compose
from relay.marketplace.conversations import Conversation
from relay.pipeline.parcel import Disposition
from relay.web import reasons
from relay.web.deps import Running, Seller, Stored, conversation, form
from relay.web.errors import WebRoute
from relay.web.routes.thread import Answer, conversation_page
from relay.web.sessions import Visitor

router = APIRouter(route_class=WebRoute, include_in_schema=False)
MAX_SUBJECT, MAX_BODY = 200, 100_000


class Refused(Exception):
    def __init__(self, status: int, error: str, detail: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.detail = status, error, detail


def _text(found: FormData, name: str) -> str:
    value = found.get(name)
    return value if isinstance(value, str) else ""


async def _files(found: FormData) -> list[tuple[str, bytes]]:
    """The files chosen (a browser sends an empty part when none is)."""
    files = []
    for item in found.getlist("files"):
        if isinstance(item, UploadFile) and item.filename:
            files.append((item.filename, await item.read()))
    return files


def _from_template(relay: Any, conv: Conversation, answer: Answer,
                   files: list[tuple[str, bytes]]) -> Any:
    template = relay.templates.get(answer.template)
    if template is None:
        raise Refused(400, "Choose a template.")
    missing = [name for name, value in (answer.values or {}).items() if not value.strip()]
    if missing:
        raise Refused(400, "Fill in " + ", ".join(n.replace("_", " ") for n in missing) + ".")
    if files and not template.attachments:
        raise Refused(400, "This template takes no files: remove them, or write the message"
                      " yourself.")
    return template


async def _compose(relay: Any, store: Any, conv: Conversation, answer: Answer,
                   files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    try:
        if answer.mode == "template":
            template = _from_template(relay, conv, answer, files)
            return await compose.template_message(store, conv, template, answer.values or {},
                                                  files)
        if not answer.subject.strip() or not answer.body.strip():
            raise Refused(400, "Write a subject and a message.")
        if len(answer.subject) > MAX_SUBJECT or len(answer.body) > MAX_BODY:
            raise Refused(400, f"The subject may be {MAX_SUBJECT} characters long, the message"
                          f" {MAX_BODY:,}.")
        subject = " ".join(answer.subject.split())
        return compose.seller_message(conv, subject, answer.body.replace("\r\n", "\n"), files)
    except UsageError as exc:  # a variable or a file name the relay will not take
        raise Refused(400, str(exc).replace("--var ", "") + ".") from None


async def _send(relay: Any, store: Any, request: Request, conv: Conversation, answer: Answer,
                files: list[tuple[str, bytes]]) -> str:
    """The message's id once it is taken; Refused says why not."""
    sender, raw = await _compose(relay, store, conv, answer, files)
    assert relay.handler is not None
    try:
        outcome = await compose.send(relay.config, store, request.app.state.send_lock, conv,
                                     sender, raw, "message", relay.handler.intake)
    except compose.TooBig:
        limit = relay.config.smtp.max_message_size / 1_048_576
        raise Refused(413, f"The message with its files is too large: the relay takes at most"
                      f" {limit:.0f} MB.") from None
    except compose.RateLimited:
        raise Refused(429, "You have sent as many messages as the relay takes in an hour"
                      " (in this conversation, or from your address). Try again later.") from None
    if outcome.disposition.accepted and outcome.parcel is not None:
        return outcome.parcel.id
    if outcome.disposition is Disposition.DEFERRED:
        raise Refused(503, "The relay could not take your message just now; nothing was sent."
                      " Try again in a minute.")
    code = outcome.reasons[-1] if outcome.reasons else "refused"
    raise Refused(409, "Not sent. " + reasons.sentence(code), reasons.detail(code, outcome.reply))


@router.post("/conversations/{conversation_id}/answer")
async def answer(request: Request, conversation_id: str, visitor: Seller, relay: Running,
                 store: Stored) -> Response:
    conv = await conversation(visitor, conversation_id, store, relay.config.domain)
    found = await form(request, visitor)
    mode = "text" if _text(found, "mode") == "text" else "template"
    template = relay.templates.get(_text(found, "template"))
    values = {name: _text(found, f"var_{name}")[:10_000]
              for name in (template.variables if template else ())}
    typed = Answer(mode=mode, template=_text(found, "template")[:100], values=values,
                   subject=_text(found, "subject")[:MAX_SUBJECT * 2],
                   body=_text(found, "body")[:MAX_BODY * 2])
    files = await _files(found)
    typed.files = [name for name, _ in files]
    try:
        message_id = await _send(relay, store, request, conv, typed, files)
    except Refused as exc:
        typed.error, typed.detail = exc.error, exc.detail
        return await _kept(request, visitor, relay, store, conv, typed, exc.status)
    return RedirectResponse(f"/conversations/{quote(conv.id)}?sent={quote(message_id)}"
                            "#answer-status", 303)


async def _kept(request: Request, visitor: Visitor, relay: Any, store: Any,
                conv: Conversation, typed: Answer, status: int) -> Response:
    """The conversation again, the form as it was sent, the reason above it."""
    response = await conversation_page(request, visitor, relay, store, conv, typed, status)
    if status in (429, 503):
        response.headers["Retry-After"] = "300" if status == 429 else "60"
    return response
