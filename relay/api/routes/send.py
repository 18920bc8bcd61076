"""Mail the API writes into a conversation: a template as the seller, and the marketplace's
review request. Both go through the same rules and rate limits as mail over SMTP."""

import asyncio
import base64
import binascii
import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request

from relay.api import models
from relay.api.deps import Domain, Running, Stored, Who, conversation, need
from relay.api.errors import APIError
from relay.errors import UsageError
from relay.marketplace import compose, conversations, review_request
from relay.pipeline.parcel import Disposition
from relay.store.db import Store

if TYPE_CHECKING:
    from relay.server import Relay

router = APIRouter(prefix="/v1/conversations", tags=["messages"])
_REFUSALS: dict[int | str, dict[str, object]] = {
    s: {"model": models.Error} for s in (409, 429, 503)}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def send_lock(request: Request) -> asyncio.Lock:
    # Check-then-record under one lock: concurrent sends cannot all pass the same count.
    return request.app.state.send_lock


Lock = Annotated[asyncio.Lock, Depends(send_lock)]


@router.post("/{conversation_id}/messages", status_code=201, response_model=models.Sent,
             responses=_REFUSALS)
async def send_template(conversation_id: str, body: models.SendIn, who: Who, relay: Running,
                        store: Stored, domain: Domain, lock: Lock) -> models.Sent:
    """Send a template as the seller, through the same rules as mail (409: refused,
    with the rule's reason code)."""
    conv = await conversation(who, conversation_id, store, domain)
    try:
        template = relay.templates[body.template]
    except KeyError:
        raise APIError(400, "invalid", f"no template {body.template!r}", "template") from None
    if body.attachments and not template.attachments:
        raise APIError(400, "invalid", f"template {template.id} does not allow"
                       " attachments", "attachments")
    for key in body.variables:
        if not _VARIABLE.fullmatch(key):
            raise APIError(400, "invalid", "variables: names are letters, digits and _",
                           "variables")
    files = [(a.filename, _decode(a.content_base64)) for a in body.attachments]
    sender, raw = await compose.template_message(store, conv, template, body.variables, files)
    return await _submit(relay, store, lock, conv, sender, raw, "message")


@router.post("/{conversation_id}/review-request", status_code=201,
             response_model=models.Sent, responses=_REFUSALS)
async def request_review(conversation_id: str, who: Who, relay: Running, store: Stored,
                         domain: Domain, lock: Lock) -> models.Sent:
    """The marketplace's one review request for the order (days 5 to 30 after delivery)."""
    need(who, "admin")
    conv = await conversation(who, conversation_id, store, domain)
    try:
        await review_request.check(store, conv)
    except UsageError as exc:
        raise APIError(409, "review_request.not_allowed", str(exc)) from None
    sender, raw = compose.review_request_message(conv)
    return await _submit(relay, store, lock, conv, sender, raw, "review_request")


async def _submit(relay: "Relay", store: Store, lock: asyncio.Lock,
                  conv: conversations.Conversation, sender: str, raw: bytes,
                  kind: str) -> models.Sent:
    assert relay.handler is not None
    try:
        outcome = await compose.send(relay.config, store, lock, conv, sender, raw, kind,
                                     relay.handler.intake)
    except compose.TooBig as exc:
        raise APIError(413, "message.too_big", str(exc), "attachments") from None
    except compose.RateLimited as exc:
        raise APIError(429, "rate.limit", str(exc), headers={"Retry-After": "300"}) from None
    if outcome.disposition.accepted and outcome.parcel is not None:
        return models.Sent(message_id=outcome.parcel.id,
                           disposition=outcome.disposition,  # type: ignore[arg-type]
                           reasons=outcome.reasons, reply=outcome.reply)
    if outcome.disposition is Disposition.DEFERRED:  # a fault of the relay's, or DNS
        raise APIError(503, "temporary", outcome.reply, headers={"Retry-After": "60"})
    code = outcome.reasons[-1] if outcome.reasons else "refused"
    raise APIError(409, code, outcome.reply)  # rejected: the sender's SMTP reply says why


def _decode(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(400, "invalid", "not base64", "attachments.content_base64") from None
