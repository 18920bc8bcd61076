"""Security headers on every answer of a web path (relay.web.paths): what a browser may load
and run for the pages, that no other site may frame them, and that nothing private is cached.

A response may set its own Content-Security-Policy (a message's HTML part, an attachment):
it is kept, and X-Frame-Options follows its frame-ancestors."""

from __future__ import annotations

from relay.api.guard import ASGIApp, Message, Receive, Scope, Send
from relay.web.paths import is_web

# Scripts and styles from the relay's own /static only (no inline script or style); a
# message's HTML only in a frame from the relay (itself sandboxed); forms post only here.
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
               " frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
               " frame-ancestors 'none'")
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin"),
           (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_web(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", PAGE_POLICY.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                elif b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"SAMEORIGIN"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                headers += [h for h in _ALWAYS if h[0] not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
