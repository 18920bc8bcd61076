"""What every API request passes before its body is read: a valid token (but for health and
the schema; whose it is goes to request.state.principal) and a size limit. So a client
without a token cannot make the relay read, parse or hold a large body, and no request body
is bigger than a message could be. The web pages (relay.web) need no token but a session of
their own; their bodies are held to the same size."""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from relay.api.tokens import Tokens
from relay.web.paths import is_web

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/docs/oauth2-redirect"})
DOCS_ASSETS = "/docs/assets"  # Swagger UI's own files, served by the relay (no CDN)


def is_open(path: str) -> bool:
    """Paths that need no token: health, the schema and its viewer."""
    return path in OPEN or path.startswith(DOCS_ASSETS + "/")


def bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" and token.strip() else None
    return None


class Guard:
    def __init__(self, app: ASGIApp, tokens: dict[str, Tokens], max_body: int,
                 web: bool = False) -> None:
        self.app = app
        self.tokens = tokens  # {"current": Tokens}, replaced on SIGHUP
        self.max_body = max_body
        self.web = web  # the web pages are served: their paths sign in with a session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not is_open(scope["path"]) and not (self.web and is_web(scope["path"])):
            token = bearer(scope)
            found = None if token is None else self.tokens["current"].find(token)
            if found is None:
                await _answer(send, 401, "unauthorized", "a valid bearer token is required",
                              [(b"www-authenticate", b"Bearer")])
                return
            scope.setdefault("state", {})["principal"] = found  # request.state.principal
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _answer(send, 413, "too_large", f"a request body is at most {self.max_body}"
                          " bytes")
            return
        # Read the body here, counting, and hand it on: a body without Content-Length
        # (chunked) is held to the same limit.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body:
                await _answer(send, 413, "too_large",
                              f"a request body is at most {self.max_body} bytes")
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _answer(send: Send, status: int, code: str, message: str,
                  headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"code": code, "message": message}).encode("ascii")
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *(headers or [])]})
    await send({"type": "http.response.body", "body": body})
