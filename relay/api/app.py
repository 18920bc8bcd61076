"""The HTTP API's endpoints. Each calls the same functions as the CLI command of its name;
none deletes or edits a message.

Scopes: an admin token may do everything; a seller token sees only conversations where its
address is a registered seller, never a buyer's real address, and gets 404 for anything
else; a metrics token may only read /metrics.
"""

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from relay.api import models
from relay.api.errors import APIError, install, not_found
from relay.api.guard import DOCS_ASSETS, Guard
from relay.api.tokens import Principal, Tokens
from relay.errors import UsageError
from relay.marketplace import (
    buyers,
    compose,
    conversations,
    message_center,
    review_request,
    sellers,
)
from relay.marketplace import response_time as response_times
from relay.ops import prometheus as relay_metrics
from relay.ops.logs import event
from relay.smtp import rate_limits
from relay.store import outbox, records
from relay.store.audit import audit as audit_store

if TYPE_CHECKING:
    from relay.server import Relay

log = logging.getLogger("relay.api")
_bearer = HTTPBearer(auto_error=False, description="A token from `relay api token`")
_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": models.Error} for s in (400, 401, 403, 404, 413, 503)}
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def create_app(relay: "Relay") -> FastAPI:
    # /docs with Swagger UI's assets served by the relay itself: a CDN would leave the page
    # blank offline and load third-party code into an operator's browser.
    app = FastAPIOffline(
        title="Relay API", version="1", redoc_url=None, static_url=DOCS_ASSETS,
        responses=_ERRORS,
        description="Drive the anonymizing relay: conversations, buyers, sellers, the"
        " message center, templates, metrics and the audit. Errors are {code, message}.")
    install(app)
    tokens = {"current": Tokens(relay.config.api.tokens, relay.config.domain)}
    app.state.tokens = tokens  # replaced on SIGHUP (relay.server)
    # A request body is at most a message in base64, with room for the JSON around it.
    app.add_middleware(Guard, tokens=tokens,
                       max_body=relay.config.smtp.max_message_size * 4 // 3 + 65_536)
    # Check-then-record under one lock: concurrent sends cannot all pass the same count.
    send_lock = asyncio.Lock()
    # Cursors are sealed: a seller learns nothing from them (they hold the store's sequence
    # number, which counts the whole marketplace's mail). Valid until the relay restarts.
    cursors = Fernet(Fernet.generate_key())

    @app.middleware("http")
    async def log_request(request: Request,
                          call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The route's template, never the path itself: paths can hold addresses.
        event(log, "api.request", method=request.method,
              route=getattr(route, "path", "unmatched"), status=response.status_code,
              ms=round((time.perf_counter() - start) * 1000, 1))
        return response

    async def principal(
        request: Request,
        # Declares the bearer scheme in the OpenAPI document; Guard has checked the token.
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        found = getattr(request.state, "principal", None)
        if not isinstance(found, Principal):
            raise APIError(401, "unauthorized", "a valid bearer token is required",
                           headers=_UNAUTHORIZED)
        return found

    Who = Annotated[Principal, Depends(principal)]

    def need(who: Principal, *scopes: str) -> None:
        if who.scope not in scopes:
            raise APIError(403, "forbidden", f"this needs a token of scope {' or '.join(scopes)}")

    def store() -> Any:
        assert relay.store is not None
        return relay.store

    def domain() -> str:
        return relay.config.domain

    async def conversation(who: Principal, conv_id: str) -> conversations.Conversation:
        need(who, "admin", "seller")
        try:
            conv = await conversations.get(store(), domain(), conv_id)
        except UsageError:
            raise not_found("conversation") from None
        if not who.owns(conv.sellers):
            raise not_found("conversation")  # another seller's: as if it did not exist
        return conv

    async def conversation_out(conv: conversations.Conversation,
                               who: Principal) -> models.Conversation:
        count = await conversations.message_count(store(), conv.id)
        return models.Conversation(
            conversation_id=conv.id, order_id=conv.order_id, buyer_alias=conv.buyer_alias,
            seller_alias=conv.seller_alias,
            buyers=list(conv.buyers) if who.scope == "admin" else None,
            sellers=list(conv.sellers), created_at=conv.created_at, closed_at=conv.closed_at,
            message_count=count)

    def address_in(field: str, address: str) -> str:
        try:
            return conversations.normalize_address(address, domain())
        except UsageError as exc:
            raise APIError(400, "invalid", str(exc), field) from None

    def own_seller(who: Principal, address: str) -> str:
        need(who, "admin", "seller")
        normalized = address_in("address", address)
        if who.scope == "seller" and (who.seller is None or conversations.address_key(
                who.seller) != conversations.address_key(normalized)):
            raise not_found("seller")
        return normalized

    # -- health and metrics ------------------------------------------------------------

    @app.get("/healthz", tags=["health"], response_model=models.Health)
    async def healthz() -> models.Health:
        """The process is up (no token needed)."""
        return models.Health(status="ok")

    @app.get("/readyz", tags=["health"], response_model=models.Health,
             responses={503: {"model": models.Health}})
    async def readyz(response: Response) -> models.Health:
        """Store writable, listeners up, delivery worker alive (no token needed)."""
        checks = await relay.readiness()
        ready = all(checks.values())
        response.status_code = 200 if ready else 503
        return models.Health(status="ready" if ready else "not ready", checks=checks)

    @app.get("/metrics", tags=["health"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    async def prometheus(who: Who) -> Response:
        """Prometheus metrics (token of scope metrics or admin)."""
        need(who, "admin", "metrics")
        async with store().read() as db:
            relay_metrics.set_queue(*await outbox.depth(db))
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # -- conversations -----------------------------------------------------------------

    @app.post("/v1/conversations", tags=["conversations"], status_code=201,
              response_model=models.OpenedConversation,
              responses={200: {"model": models.OpenedConversation,
                               "description": "It was open already (created: false)"}})
    async def open_conversation(body: models.ConversationIn, who: Who,
                                response: Response) -> models.OpenedConversation:
        """Open (or find) the conversation of an order between a buyer and a seller."""
        need(who, "admin")
        try:
            conversations.check_order_id(body.order_id)
        except UsageError as exc:
            raise APIError(400, "invalid", str(exc), "order_id") from None
        address_in("buyer", body.buyer)
        for seller in body.sellers:
            address_in("sellers", seller)
        if body.delivered_on is not None:
            review_request.not_in_future(body.delivered_on)  # before anything is written
        conv, created = await conversations.open_conversation(
            store(), domain(), body.order_id, body.buyer, body.sellers)
        if body.delivered_on is not None:
            await review_request.set_delivered(store(), conv, body.delivered_on)
        response.status_code = 201 if created else 200
        out = await conversation_out(conv, who)
        return models.OpenedConversation(**out.model_dump(), created=created)

    @app.get("/v1/conversations", tags=["conversations"],
             response_model=list[models.Conversation])
    async def list_conversations(who: Who) -> list[models.Conversation]:
        """Every conversation (a seller token: its own)."""
        need(who, "admin", "seller")
        found = await conversations.list_all(store(), domain(), seller=who.seller)
        return [await conversation_out(c, who) for c in found if who.owns(c.sellers)]

    @app.get("/v1/conversations/{conversation_id}", tags=["conversations"],
             response_model=models.Conversation)
    async def show_conversation(conversation_id: str, who: Who) -> models.Conversation:
        return await conversation_out(await conversation(who, conversation_id), who)

    @app.post("/v1/conversations/{conversation_id}/sellers", tags=["conversations"],
              response_model=models.Conversation)
    async def add_seller_address(conversation_id: str, body: models.SellerAddressIn,
                                 who: Who) -> models.Conversation:
        """Register one more address the seller may write from (the first receives mail)."""
        need(who, "admin")
        conv = await conversation(who, conversation_id)
        address_in("address", body.address)
        conv, _ = await conversations.open_conversation(
            store(), domain(), conv.order_id, conv.buyers[0], [conv.sellers[0], body.address])
        return await conversation_out(conv, who)

    @app.put("/v1/conversations/{conversation_id}/delivered", tags=["conversations"],
             response_model=models.Conversation)
    async def set_delivered(conversation_id: str, body: models.DeliveredIn,
                            who: Who) -> models.Conversation:
        """The order's delivery date, which opens the review-request window."""
        need(who, "admin")
        conv = await conversation(who, conversation_id)
        review_request.not_in_future(body.delivered_on)
        await review_request.set_delivered(store(), conv, body.delivered_on)
        return await conversation_out(conv, who)

    @app.post("/v1/conversations/{conversation_id}/close", tags=["conversations"],
              response_model=models.Conversation)
    async def close_conversation(conversation_id: str, who: Who) -> models.Conversation:
        """Close it for good: its aliases refuse mail (550 5.1.1)."""
        need(who, "admin")
        await conversation(who, conversation_id)
        return await conversation_out(
            await conversations.close(store(), domain(), conversation_id), who)

    @app.post("/v1/conversations/{conversation_id}/messages", tags=["messages"],
              status_code=201, response_model=models.Sent,
              responses={409: {"model": models.Error}, 429: {"model": models.Error},
                         503: {"model": models.Error}})
    async def send_template(conversation_id: str, body: models.SendIn,
                            who: Who) -> models.Sent:
        """Send a template as the seller, through the same rules as mail (409: refused,
        with the rule's reason code)."""
        conv = await conversation(who, conversation_id)
        try:
            template = relay.templates[body.template]
        except KeyError:
            raise APIError(400, "invalid", f"no template {body.template!r}",
                           "template") from None
        if body.attachments and not template.attachments:
            raise APIError(400, "invalid", f"template {template.id} does not allow"
                           " attachments", "attachments")
        for key in body.variables:
            if not _VARIABLE.fullmatch(key):
                raise APIError(400, "invalid", "variables: names are letters, digits and _",
                               "variables")
        files = [(a.filename, _decode(a.content_base64)) for a in body.attachments]
        sender, raw = await compose.template_message(store(), conv, template, body.variables,
                                                      files)
        return await _submit(conv, sender, raw, "message")

    @app.post("/v1/conversations/{conversation_id}/review-request", tags=["messages"],
              status_code=201, response_model=models.Sent,
              responses={409: {"model": models.Error}, 429: {"model": models.Error},
                         503: {"model": models.Error}})
    async def request_review(conversation_id: str, who: Who) -> models.Sent:
        """The marketplace's one review request for the order (days 5 to 30 after delivery)."""
        need(who, "admin")
        conv = await conversation(who, conversation_id)
        try:
            await review_request.check(store(), conv)
        except UsageError as exc:
            raise APIError(409, "review_request.not_allowed", str(exc)) from None
        sender, raw = compose.review_request_message(conv)
        return await _submit(conv, sender, raw, "review_request")

    async def _submit(conv: conversations.Conversation, sender: str, raw: bytes,
                      kind: str) -> models.Sent:
        limit = relay.config.smtp.max_message_size
        if len(raw) > limit:
            raise APIError(413, "message.too_big", f"the message would be {len(raw)} bytes;"
                           f" the relay takes at most {limit}", "attachments")
        assert relay.handler is not None
        async with send_lock:
            over = await rate_limits.exceeded(store(), relay.config.limits, conv.id, sender)
            if over:
                raise APIError(429, "rate.limit", f"rate limit: {over}; try again later",
                               headers={"Retry-After": "300"})
            outcome = await compose.submit(relay.config, store(), conv, sender, raw,
                                            kind=kind, intake=relay.handler.intake)
        if outcome.queue and outcome.parcel is not None:
            return models.Sent(message_id=outcome.parcel.id,
                               disposition=outcome.disposition,  # type: ignore[arg-type]
                               reasons=outcome.reasons, reply=outcome.reply)
        if outcome.reply.startswith("5"):
            code = outcome.reasons[-1] if outcome.reasons else "refused"
            raise APIError(409, code, outcome.reply)
        if outcome.reply.startswith("450"):
            raise APIError(429, "rate.limit", outcome.reply, headers={"Retry-After": "300"})
        raise APIError(503, "temporary", outcome.reply, headers={"Retry-After": "60"})

    # -- buyers and sellers -------------------------------------------------------------

    async def buyer_out(address: str) -> models.Buyer:
        events = await buyers.history(store(), address)
        latest = {e.kind: e.value for e in events}
        return models.Buyer(
            address=address, opted_out=latest.get("optout") == "on",
            locale=latest.get("locale"), business=latest.get("business") == "on",
            events=[models.BuyerEvent(at=e.at, kind=e.kind, value=e.value) for e in events])

    @app.get("/v1/buyers/{address}", tags=["buyers"], response_model=models.Buyer)
    async def show_buyer(address: str, who: Who) -> models.Buyer:
        """A buyer's opt-out, language and business flag, with their history."""
        need(who, "admin")
        return await buyer_out(address_in("address", address))

    @app.patch("/v1/buyers/{address}", tags=["buyers"], response_model=models.Buyer)
    async def update_buyer(address: str, body: models.BuyerPatch, who: Who) -> models.Buyer:
        """Opt out of (or back in to) seller messages; set the language or business flag."""
        need(who, "admin")
        address = address_in("address", address)
        if body.locale is not None:
            try:
                await buyers.record(store(), address, domain(), "locale", body.locale)
            except UsageError as exc:
                raise APIError(400, "invalid", str(exc), "locale") from None
        if body.opted_out is not None:
            await buyers.set_optout(store(), address, domain(), body.opted_out)
        if body.business is not None:
            await buyers.record(store(), address, domain(), "business",
                                "on" if body.business else "off")
        return await buyer_out(address)

    @app.get("/v1/sellers/{address}/settings", tags=["sellers"],
             response_model=models.SellerSettings)
    async def seller_settings(address: str, who: Who) -> models.SellerSettings:
        address = own_seller(who, address)
        found = await sellers.current(store(), address)
        return models.SellerSettings(seller=address, notify=found.notify,
                                     notify_address=found.notify_address)

    @app.patch("/v1/sellers/{address}/settings", tags=["sellers"],
               response_model=models.SellerSettings)
    async def update_seller_settings(address: str, body: models.SellerSettingsPatch,
                                     who: Who) -> models.SellerSettings:
        """Whether buyer messages are e-mailed, and to which address."""
        address = own_seller(who, address)
        try:
            found = await sellers.update(store(), address, domain(), body.notify,
                                         body.notify_address)
        except UsageError as exc:
            raise APIError(400, "invalid", str(exc), "notify_address") from None
        return models.SellerSettings(seller=address, notify=found.notify,
                                     notify_address=found.notify_address)

    @app.get("/v1/sellers/{address}/response-time", tags=["sellers"],
             response_model=models.ResponseTime)
    async def response_time(address: str, who: Who) -> models.ResponseTime:
        """The marketplace's contact response time over 7, 30 and 90 days."""
        address = own_seller(who, address)
        now = datetime.now(UTC)
        windows = await response_times.response_time(store(), address, now)
        return models.ResponseTime(seller=address, as_of=now.isoformat(), windows=windows)

    # -- messages ------------------------------------------------------------------------

    @app.get("/v1/messages", tags=["messages"], response_model=models.MessagePage)
    async def list_messages(
        who: Who,
        seller: Annotated[str | None, Query(max_length=320)] = None,
        conversation_id: Annotated[str | None, Query(alias="conversation",
                                                     max_length=64)] = None,
        unread: bool = False, sent: bool = False, received: bool = False,
        needs_response: bool = False, business_buyers: bool = False,
        since: Annotated[datetime | None, Query(description="ISO time, inclusive")] = None,
        until: Annotated[datetime | None, Query(description="ISO time, exclusive")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, Query(max_length=200,
                                            description="next_cursor of the page before")] = None,
    ) -> models.MessagePage:
        """The message center, newest first, a page at a time."""
        need(who, "admin", "seller")
        if sent and (received or needs_response):
            raise APIError(400, "invalid", "sent lists the seller's messages; it cannot go"
                           " with received or needs_response", "sent")
        if who.scope == "seller":
            if seller is not None:
                own_seller(who, seller)
            seller = who.seller
        elif seller is not None:
            seller = address_in("seller", seller)
        filters = message_center.Filters(
            seller=seller, conversation=conversation_id, unread=unread, sent=sent,
            received=received, needs_response=needs_response, business_buyers=business_buyers,
            since=_iso(since, "since"), until=_iso(until, "until"),
            parties_only=who.scope == "seller")
        before = None
        if cursor:
            try:
                before = int(cursors.decrypt(cursor.encode("ascii")))
            except (InvalidToken, ValueError, UnicodeEncodeError):
                raise APIError(400, "invalid", "cursor: not one this relay handed out (or it"
                               " restarted since)", "cursor") from None
        rows, next_seq = await message_center.page(store(), filters, limit, before)
        sealed = None if next_seq is None else cursors.encrypt(str(next_seq).encode()).decode()
        return models.MessagePage(messages=[message_out(r, who) for r in rows],
                                  next_cursor=sealed)

    async def message(who: Principal, message_id: str) -> dict[str, Any]:
        need(who, "admin", "seller")
        rows = await message_center.query(store(), message_center.Filters(
            message=message_id, seller=who.seller, parties_only=who.scope == "seller"))
        if not rows:
            raise not_found("message")
        return rows[0]

    def message_out(row: dict[str, Any], who: Principal) -> models.Message:
        # A seller is told the size of what it can read: the received size of a buyer's
        # message would give away the length of the buyer's address.
        row = dict(row)
        delivered_size = row.pop("delivered_size")
        if who.scope == "seller" and row["direction"] == "buyer_to_seller":
            row["size"] = delivered_size or 0
        return models.Message(**row)

    @app.get("/v1/messages/{message_id}", tags=["messages"], response_model=models.Message)
    async def show_message(message_id: str, who: Who) -> models.Message:
        return message_out(await message(who, message_id), who)

    _RFC822 = {200: {"content": {"message/rfc822": {}}}}

    @app.get("/v1/messages/{message_id}/received", tags=["messages"],
             response_class=Response, responses=_RFC822)
    async def received_bytes(message_id: str, who: Who) -> Response:
        """The message as it arrived. A refused message is recorded in part (its header
        section and the start of its body): then the Record-Truncated, Record-Size and
        Record-SHA256 headers say so and describe the whole. A seller token: only the
        seller's own messages (a buyer's holds the buyer's real address)."""
        row = await message(who, message_id)
        record = await records.get(store(), message_id)
        assert record is not None
        if who.scope == "seller":
            # Seller-to-buyer by direction is not enough: a buyer who wrote to their own
            # alias is recorded so (and refused); only mail from a seller address is theirs.
            conv = await conversation(who, row["conversation_id"])
            if row["direction"] != "seller_to_buyer" or not conv.is_registered(
                    "seller", record.mail_from):
                raise not_found("received copy of this message")
        headers = {}
        if record.truncated:
            # A refused message is recorded in part: the bytes kept, and what the whole was.
            headers = {"Record-Truncated": f"kept {len(record.raw)} of {record.size} bytes",
                       "Record-Size": str(record.size),
                       "Record-SHA256": str(record.sha256)}
        return Response(record.raw, media_type="message/rfc822", headers=headers)

    @app.get("/v1/messages/{message_id}/delivered", tags=["messages"],
             response_class=Response, responses=_RFC822)
    async def delivered_bytes(message_id: str, who: Who) -> Response:
        """The message as delivered (404: refused, nothing delivered). A seller token: only
        what was delivered to the seller."""
        row = await message(who, message_id)
        if who.scope == "seller" and row["direction"] != "buyer_to_seller":
            raise not_found("delivered copy of this message")
        record = await records.get(store(), message_id)
        if record is None or record.delivered is None:
            raise not_found("delivered copy of this message")
        return Response(record.delivered, media_type="message/rfc822")

    @app.post("/v1/messages/{message_id}/marks", tags=["messages"],
              response_model=models.Message)
    async def mark(message_id: str, body: models.MarkIn, who: Who) -> models.Message:
        """Mark read, or no response needed (marks are added, never removed)."""
        await message(who, message_id)
        await message_center.mark(store(), message_id, body.mark)
        return message_out(await message(who, message_id), who)

    # -- templates and audit -------------------------------------------------------------

    @app.get("/v1/templates", tags=["messages"], response_model=list[models.Template])
    async def list_templates(who: Who) -> list[models.Template]:
        need(who, "admin", "seller")
        return [models.Template(id=t.id, type=t.type, critical=t.critical,
                                attachments=t.attachments, languages=sorted(t.texts),
                                variables=list(t.variables))
                for t in relay.templates.values()]

    @app.get("/v1/audit", tags=["audit"], response_model=models.Audit)
    async def audit(
        who: Who,
        anchor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}:[0-9a-f]{64}$",
                                            description="An anchor printed earlier")] = None,
    ) -> models.Audit:
        """Recompute every conversation's hash chain (and compare an earlier anchor)."""
        need(who, "admin")
        at_seq = int(anchor.partition(":")[0]) if anchor else None
        found = await audit_store(store(), relay.config.store.log_path, at_seq)
        matches = None if anchor is None else found.records.anchor_at == anchor
        return models.Audit(
            ok=found.ok and matches is not False, records=found.records.count,
            anchor=found.records.anchor, anchor_matches=matches,
            broken=[models.BrokenRecord(**b.__dict__) for b in found.records.broken],
            problems=[str(p) for p in found.problems])

    return app


def _decode(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise APIError(400, "invalid", "not base64", "attachments.content_base64") from None


def _iso(when: datetime | None, field: str) -> str | None:
    if when is None:
        return None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(
            timespec="microseconds")
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise APIError(400, "invalid", f"{field}: out of range", field) from None

