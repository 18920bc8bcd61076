"""The HTTP API of an in-process relay as the API tests call it: one token per scope, the Api
handle (a client and who is calling), and the checks of an answer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from conftest import BUYER, ROOT, SELLER, Capture, compose, make_config, send

from relay.api.tokens import entry, new_token
from relay.config import APISettings, Config, RulesSettings
from relay.server import Relay

TEMPLATES = ROOT / "relay" / "default_templates"
OTHER_SELLER = "hello@other-shop.example"
OTHER_BUYER = "carla@buyer-mail.example"
ORDER = "112-1234567-1234567"
OTHER_ORDER = "112-7654321-7654321"
ADMIN, METRICS, SELLER_TOKEN, OTHER_TOKEN = (new_token() for _ in range(4))  # one per run
TOKENS = {"admin": ADMIN, "metrics": METRICS, "seller": SELLER_TOKEN, "other": OTHER_TOKEN}


@dataclass
class Api:
    """Calls as "admin", "metrics", "seller" (SELLER) or "other" (OTHER_SELLER); None: no
    token."""

    relay: Relay
    capture: Capture
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, who: str | None = "admin",
                   **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {TOKENS[who]}"
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def get(self, path: str, who: str | None = "admin", **kwargs: Any) -> httpx.Response:
        return await self.call("GET", path, who, **kwargs)

    async def ok(self, method: str, path: str, who: str | None = "admin", status: int = 200,
                 **kwargs: Any) -> Any:
        response = await self.call(method, path, who, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        return response.json()

    async def open(self, order: str = ORDER, buyer: str = BUYER,
                   sellers: tuple[str, ...] = (SELLER,), **extra: Any) -> dict[str, Any]:
        return await self.ok("POST", "/v1/conversations", status=201,
                             json={"order_id": order, "buyer": buyer, "sellers": list(sellers),
                                   **extra})

    async def ids(self, who: str = "admin", **params: Any) -> list[str]:
        page = await self.ok("GET", "/v1/messages", who, params={"limit": 500, **params})
        assert page["next_cursor"] is None
        return [m["id"] for m in page["messages"]]

    async def message(self, message_id: str, who: str = "admin") -> dict[str, Any]:
        return await self.ok("GET", f"/v1/messages/{message_id}", who)


def api_config(tmp_path: Path, capture: Capture, **changes: Any) -> Config:
    """make_config with the API on (every token above), the default templates and phone
    numbers refused."""
    tokens = (entry("admin", ADMIN), entry("metrics", METRICS),
              entry(f"seller:{SELLER}", SELLER_TOKEN), entry(f"seller:{OTHER_SELLER}", OTHER_TOKEN))
    settings: dict[str, Any] = {
        "templates": TEMPLATES, "rules": RulesSettings(contact_phone="reject"),
        "api": APISettings(port=0, tokens=tokens), **changes}
    return make_config(tmp_path, capture.port).replace(**settings)


def http_client(relay: Relay) -> httpx.AsyncClient:
    # A connection per request: on a kept-alive one every response stalls ~40 ms (see
    # test_responses_on_a_kept_alive_connection_do_not_stall).
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{relay.api_port}", timeout=10,
                             limits=httpx.Limits(max_keepalive_connections=0))


async def smtp(api: Api, sender: str, alias: str, body: str, **headers: str) -> tuple[str, bytes]:
    """Send over SMTP; returns the record's id and the bytes sent."""
    data = compose(sender, alias, body=body, **headers)
    code, reply = await send(api.relay.smtp_port, sender, alias, data)
    assert code == 250, reply
    return reply.rsplit(" ", 1)[1], data


def error(response: httpx.Response, status: int, code: str, field: Any = ...) -> str:
    """Assert a JSON error {code, message[, field]} (field: checked when given); returns the
    message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if field is not ...:
        assert body.get("field") == field, body
    return body["message"]


async def settled(api: Api, count: int, timeout: float = 10.0) -> None:
    """Until `count` messages are recorded as delivered (the worker has counted them)."""
    deadline = time.monotonic() + timeout
    while True:
        page = await api.ok("GET", "/v1/messages", params={"limit": 500})
        done = [m for m in page["messages"] if m["delivery"] == "delivered"]
        if len(done) >= count:
            return
        assert time.monotonic() < deadline, page
        await asyncio.sleep(0.02)
