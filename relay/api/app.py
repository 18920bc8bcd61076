"""The HTTP API. Each endpoint (relay.api.routes) calls the same functions as the CLI command
of its name; none deletes or edits a message.

Scopes: an admin token may do everything; a seller token sees only conversations where its
address is a registered seller, never a buyer's real address, and gets 404 for anything
else; a metrics token may only read /metrics.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet
from fastapi import FastAPI, Request, Response
from fastapi_offline import FastAPIOffline

from relay.api import models
from relay.api.errors import install
from relay.api.guard import DOCS_ASSETS, Guard
from relay.api.routes import (
    audit,
    buyers,
    conversations,
    health,
    messages,
    sellers,
    send,
    templates,
)
from relay.api.tokens import Tokens
from relay.ops.logs import event
from relay.web import app as web

if TYPE_CHECKING:
    from relay.server import Relay

log = logging.getLogger("relay.api")
_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": models.Error} for s in (400, 401, 403, 404, 413, 503)}
# The order of the OpenAPI document's paths.
_ROUTERS = (health, conversations, send, buyers, sellers, messages, templates, audit)


def create_app(relay: "Relay") -> FastAPI:
    # /docs with Swagger UI's assets served by the relay itself: a CDN would leave the page
    # blank offline and load third-party code into an operator's browser.
    app = FastAPIOffline(
        title="Relay API", version="1", redoc_url=None, static_url=DOCS_ASSETS,
        responses=_ERRORS,
        description="Drive the anonymizing relay: conversations, buyers, sellers, the"
        " message center, templates, metrics and the audit. Errors are {code, message}.")
    install(app)
    app.state.relay = relay  # relay.api.deps.running
    tokens = {"current": Tokens(relay.config.api.tokens, relay.config.domain)}
    app.state.tokens = tokens  # replaced on SIGHUP (relay.server)
    app.state.send_lock = asyncio.Lock()  # relay.api.routes.send
    app.state.cursors = Fernet(Fernet.generate_key())  # relay.api.routes.messages
    # A request body is at most a message in base64, with room for the JSON around it.
    app.add_middleware(Guard, tokens=tokens,
                       max_body=relay.config.smtp.max_message_size * 4 // 3 + 65_536,
                       web=relay.config.web.enabled)
    app.middleware("http")(log_request)
    for module in _ROUTERS:
        app.include_router(module.router)
    if relay.config.web.enabled:  # the message center's pages (relay.web), on this port
        web.install(app)
    return app


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
