"""The HTTP API over real HTTP, against a running relay (real SMTP, real SQLite, the capture
server as the inbox): tokens and scopes, conversations, the message center, buyers, sellers,
templates, the review request, the audit and /metrics."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import BUYER, SELLER, SELLER2, compose, send
from prometheus_client.parser import text_string_to_metric_families
from support.api_client import (
    ADMIN,
    ORDER,
    OTHER_BUYER,
    OTHER_ORDER,
    OTHER_SELLER,
    TEMPLATES,
    Api,
    error,
    settled,
    smtp,
)

from relay.api.tokens import new_token
from relay.config import LimitsSettings

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

PHONE = "+44 20 7946 0958"
ANCHOR = re.compile(r"^[0-9]+:[0-9a-f]{64}$")
# Every PUT/PATCH route there may be; none of them touches a message.
EDITABLE = {"/v1/buyers/{address}", "/v1/sellers/{address}/settings",
            "/v1/conversations/{conversation_id}/delivered"}


@pytest.fixture
async def api(start_api) -> Api:
    return await start_api()


@dataclass
class Traffic:
    conv: dict[str, Any]  # SELLER's conversation with BUYER
    other: dict[str, Any]  # OTHER_SELLER's conversation with OTHER_BUYER
    asked: str  # buyer -> seller, answered by `answer`
    answer: str  # seller -> buyer
    pending: str  # buyer -> seller, not answered
    refused: str  # buyer -> seller with a phone number: rejected (contact_phone = reject)
    elsewhere: str  # OTHER_BUYER -> OTHER_SELLER
    sent: dict[str, bytes] = field(default_factory=dict)  # id -> the bytes as sent
    delivered: dict[str, bytes] = field(default_factory=dict)  # id -> what the inbox got

    @property
    def newest_first(self) -> list[str]:
        return [self.elsewhere, self.refused, self.pending, self.answer, self.asked]


async def traffic(api: Api) -> Traffic:
    conv = await api.open()
    other = await api.open(order=OTHER_ORDER, buyer=OTHER_BUYER, sellers=(OTHER_SELLER,))
    sent: dict[str, bytes] = {}
    ids = []
    for sender, alias, body in [
        (BUYER, conv["seller_alias"], f"Is the lamp base size 2? Reach me at {BUYER} too."),
        (SELLER, conv["buyer_alias"], "About the lamp base: it is size 2."),
        (BUYER, conv["seller_alias"], "And does the lamp come with a bulb?"),
    ]:
        message_id, data = await smtp(api, sender, alias, body)
        ids.append(message_id)
        sent[message_id] = data
    phone = compose(BUYER, conv["seller_alias"], body=f"Please call me on {PHONE} today.\n")
    code, reply = await send(api.relay.smtp_port, BUYER, conv["seller_alias"], phone)
    assert (code, reply.split(":")[0]) == (550, "5.7.1 contact.phone"), reply
    refused = (await api.ok("GET", "/v1/messages", params={"limit": 1}))["messages"][0]
    assert (refused["disposition"], refused["reasons"]) == ("rejected", ["contact.phone"])
    sent[refused["id"]] = phone
    elsewhere, data = await smtp(api, OTHER_BUYER, other["seller_alias"], "Is it in stock?")
    sent[elsewhere] = data
    got = await api.capture.wait_for(4)
    found = Traffic(conv, other, *ids, refused["id"], elsewhere, sent)
    await settled(api, 4)
    by_message_id = {str(r.message["Message-ID"]): r.data for r in got}
    for message_id in (found.asked, found.answer, found.pending, found.elsewhere):
        relay_id = (await api.message(message_id))["relay_message_id"]
        found.delivered[message_id] = by_message_id[relay_id]
    return found


# -- tokens, scopes, health ------------------------------------------------------------------


async def test_requests_without_a_valid_token_are_401_with_a_bearer_challenge(api):
    wrong = new_token()
    cases = [
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": f"Bearer {ADMIN}x"},
        {"Authorization": f"Basic {ADMIN}"},
        {"Authorization": ADMIN},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer  {ADMIN} extra"},
        {"Authorization": f"Token {ADMIN}"},
    ]
    for path in ("/v1/conversations", "/metrics", "/v1/audit", "/v1/messages"):
        for headers in cases:
            response = await api.get(path, None, headers=headers)
            error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer", (path, headers)
    # The same request with the right token is let in: the 401s were about the token.
    assert (await api.get("/v1/conversations", None,
                          headers={"Authorization": f"Bearer {ADMIN}"})).status_code == 200
    assert (await api.get("/v1/conversations", None,
                          headers={"Authorization": f"bearer {ADMIN}"})).status_code == 200


async def test_health_and_readiness_need_no_token(api):
    assert (await api.ok("GET", "/healthz", None)) == {"status": "ok", "checks": {}}
    ready = await api.ok("GET", "/readyz", None)
    assert ready["status"] == "ready"
    assert ready["checks"] == {"accepting": True, "listeners": True, "delivery_worker": True,
                               "store_writable": True, "disk_space": True}
    # A token, even a wrong one, does not get in the way of the health checks.
    assert (await api.get("/healthz", "seller")).status_code == 200


async def test_the_interactive_docs_load_nothing_from_elsewhere(api):
    page = await api.get("/docs", None)
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(
        r"url: '([^']+)'", page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), page.text
    for asset in assets:
        assert asset.startswith("/"), asset  # served by the relay itself, no other host
        got = await api.get(asset, None)  # no token, like /docs itself
        assert got.status_code == 200, asset
    assert (await api.get("/docs/assets/../v1/conversations", None)).status_code == 401


async def test_responses_on_a_kept_alive_connection_do_not_stall(api):
    """Without TCP_NODELAY on the relay's side of a connection, every response after the
    first waits ~40 ms for the client's delayed ACK (Nagle): the relay's sockets have it."""
    async with httpx.AsyncClient(base_url=str(api.http.base_url), timeout=10) as client:
        took = []
        for _ in range(15):
            start = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            took.append(time.perf_counter() - start)
        assert api.relay.api is not None and api.relay.api.server is not None
        connections = api.relay.api.server.server_state.connections
        sockets = [c.transport.get_extra_info("socket") for c in connections]
        assert len(sockets) == 1  # the one kept alive
        assert sockets[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    print(f"\n15 requests on one connection, ms: {[round(t * 1000, 1) for t in took]}")


async def test_readyz_is_503_once_the_relay_stops_accepting(api):
    api.relay.stopped = True  # what stop() sets first; the API is still serving then
    try:
        response = await api.get("/readyz", None)
        assert response.status_code == 503
        assert response.json()["status"] == "not ready"
        assert response.json()["checks"]["accepting"] is False
    finally:
        api.relay.stopped = False


async def test_each_scope_reaches_only_its_endpoints(api):
    conv = await api.open()
    for who in ("admin", "metrics"):
        response = await api.get("/metrics", who)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert "relay_queue_depth" in response.text
    for who in ("seller", "other"):
        error(await api.get("/metrics", who), 403, "forbidden")
    for method, path in [
        ("GET", "/v1/conversations"), ("GET", "/v1/messages"), ("GET", "/v1/audit"),
        ("GET", "/v1/templates"), ("GET", f"/v1/conversations/{conv['conversation_id']}"),
        ("GET", f"/v1/buyers/{BUYER}"), ("GET", f"/v1/sellers/{SELLER}/settings"),
        ("GET", f"/v1/sellers/{SELLER}/response-time"),
        ("POST", f"/v1/conversations/{conv['conversation_id']}/close"),
    ]:
        error(await api.call(method, path, "metrics"), 403, "forbidden")
    # Seller tokens: not the admin's endpoints.
    for method, path, body in [
        ("GET", "/v1/audit", None),
        ("GET", f"/v1/buyers/{BUYER}", None),
        ("PATCH", f"/v1/buyers/{BUYER}", {"opted_out": True}),
        ("POST", "/v1/conversations",
         {"order_id": OTHER_ORDER, "buyer": BUYER, "sellers": [SELLER]}),
        ("POST", f"/v1/conversations/{conv['conversation_id']}/sellers",
         {"address": "sales@seller-host.example"}),
        ("PUT", f"/v1/conversations/{conv['conversation_id']}/delivered",
         {"delivered_on": date.today().isoformat()}),
        ("POST", f"/v1/conversations/{conv['conversation_id']}/close", None),
        ("POST", f"/v1/conversations/{conv['conversation_id']}/review-request", None),
    ]:
        error(await api.call(method, path, "seller", json=body), 403, "forbidden")
    # Nothing was done by the refused requests.
    conversations = await api.ok("GET", "/v1/conversations")
    assert [c["conversation_id"] for c in conversations] == [conv["conversation_id"]]
    assert conversations[0]["closed_at"] is None
    assert conversations[0]["sellers"] == [SELLER]
    assert (await api.ok("GET", f"/v1/buyers/{BUYER}"))["events"] == []


# -- conversations (admin) --------------------------------------------------------------------


async def test_admin_opens_lists_shows_extends_and_closes_a_conversation(api):
    conv = await api.open()
    assert conv["created"] is True
    assert (conv["order_id"], conv["buyers"], conv["sellers"]) == (ORDER, [BUYER], [SELLER])
    assert conv["buyer_alias"].endswith("@relay.test") and conv["seller_alias"].endswith(
        "@relay.test")
    assert conv["closed_at"] is None and conv["message_count"] == 0
    again = await api.ok("POST", "/v1/conversations", status=200, json={
        "order_id": ORDER, "buyer": BUYER, "sellers": [SELLER]})
    assert again["created"] is False
    assert again["conversation_id"] == conv["conversation_id"]
    assert again["buyer_alias"] == conv["buyer_alias"]
    second = await api.open(order=OTHER_ORDER)
    listed = await api.ok("GET", "/v1/conversations")
    assert [c["conversation_id"] for c in listed] == [conv["conversation_id"],
                                                      second["conversation_id"]]
    assert all("created" not in c for c in listed)  # only open says whether it made it
    cid = conv["conversation_id"]
    shown = await api.ok("GET", f"/v1/conversations/{cid}")
    assert "created" not in shown
    assert shown == {k: v for k, v in conv.items() if k != "created"}
    error(await api.get("/v1/conversations/nosuchconversation"), 404, "not_found")
    error(await api.call("POST", "/v1/conversations", json={
        "order_id": "ORDER-1001", "buyer": BUYER, "sellers": [SELLER]}), 400, "invalid")
    error(await api.call("POST", "/v1/conversations", json={
        "order_id": ORDER, "buyer": BUYER, "sellers": []}), 400, "invalid", "sellers")

    # A second seller address may write only once it is added.
    alias = conv["buyer_alias"]
    code, reply = await send(api.relay.smtp_port, SELLER2, alias,
                             compose(SELLER2, alias, body="About the lamp base: it is size 2."))
    assert (code, reply.split(":")[0]) == (550, "5.7.1 sender.unregistered"), reply
    added = await api.ok("POST", f"/v1/conversations/{cid}/sellers", json={"address": SELLER2})
    assert added["sellers"] == [SELLER, SELLER2]
    assert added["message_count"] == 1  # the refusal is on the record
    message_id, _ = await smtp(api, SELLER2, alias, "About the lamp base: it is size 2.")
    assert (await api.capture.wait_for(1))[0].rcpt_tos == [BUYER]
    assert (await api.message(message_id))["direction"] == "seller_to_buyer"
    error(await api.call("POST", f"/v1/conversations/{cid}/sellers", json={"address": BUYER}),
          400, "invalid")
    error(await api.call("POST", "/v1/conversations/nosuchconversation/sellers",
                         json={"address": SELLER2}), 404, "not_found")

    # The delivery date: today or earlier; a later one is refused, naming the field.
    today = datetime.now(UTC).date()
    path = f"/v1/conversations/{cid}/delivered"
    assert (await api.ok("PUT", path, json={"delivered_on": today.isoformat()}))[
        "conversation_id"] == cid
    error(await api.call("PUT", path, json={"delivered_on": (today + timedelta(days=2))
                                            .isoformat()}), 400, "invalid", "delivered_on")
    error(await api.call("PUT", path, json={"delivered_on": "last tuesday"}), 400, "invalid",
          "delivered_on")

    closed = await api.ok("POST", f"/v1/conversations/{cid}/close")
    assert closed["closed_at"] is not None
    assert (await api.ok("GET", f"/v1/conversations/{cid}"))["closed_at"] == closed["closed_at"]
    for alias in (conv["seller_alias"], conv["buyer_alias"]):
        sender = BUYER if alias == conv["seller_alias"] else SELLER
        code, reply = await send(api.relay.smtp_port, sender, alias, compose(sender, alias))
        assert code == 550 and reply.startswith("5.1.1"), reply
    # The other conversation is untouched.
    assert (await api.ok("GET", f"/v1/conversations/{second['conversation_id']}"))[
        "closed_at"] is None


async def test_opening_with_a_future_delivery_date_creates_nothing(api):
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    response = await api.call("POST", "/v1/conversations", json={
        "order_id": ORDER, "buyer": BUYER, "sellers": [SELLER],
        "delivered_on": tomorrow.isoformat()})
    error(response, 400, "invalid", "delivered_on")
    assert await api.ok("GET", "/v1/conversations") == []


async def test_opening_with_a_past_delivery_date_records_it(api):
    ten_days_ago = datetime.now(UTC).date() - timedelta(days=10)
    conv = await api.open(delivered_on=ten_days_ago.isoformat())
    # The review-request window is open: the date was recorded.
    await api.ok("POST", f"/v1/conversations/{conv['conversation_id']}/review-request",
                 status=201)


# -- seller scope ------------------------------------------------------------------------------


async def test_a_seller_sees_only_its_own_conversations_and_messages(api):
    t = await traffic(api)
    mine, theirs = t.conv["conversation_id"], t.other["conversation_id"]
    listed = await api.ok("GET", "/v1/conversations", "seller")
    assert [c["conversation_id"] for c in listed] == [mine]
    assert listed[0]["buyers"] is None
    assert (await api.ok("GET", f"/v1/conversations/{mine}", "seller"))["buyers"] is None
    assert (await api.ok("GET", "/v1/conversations", "other"))[0]["conversation_id"] == theirs
    assert [c["buyers"] for c in await api.ok("GET", "/v1/conversations")] == [
        [BUYER], [OTHER_BUYER]]

    mine_ids = [t.refused, t.pending, t.answer, t.asked]
    assert await api.ids("seller") == mine_ids
    assert await api.ids("seller", conversation=theirs) == []
    assert await api.ids("other") == [t.elsewhere]
    error(await api.get("/v1/messages", "seller", params={"seller": OTHER_SELLER}), 404,
          "not_found")
    assert await api.ids("seller", seller=SELLER) == mine_ids

    # Another seller's conversation and messages do not exist for this token.
    error(await api.get(f"/v1/conversations/{theirs}", "seller"), 404, "not_found")
    for message_id in (t.elsewhere,):
        for suffix in ("", "/received", "/delivered"):
            error(await api.get(f"/v1/messages/{message_id}{suffix}", "seller"), 404,
                  "not_found")
        error(await api.call("POST", f"/v1/messages/{message_id}/marks", "seller",
                             json={"mark": "read"}), 404, "not_found")
    for message_id in mine_ids:
        for suffix in ("", "/received", "/delivered"):
            error(await api.get(f"/v1/messages/{message_id}{suffix}", "other"), 404,
                  "not_found")
    assert (await api.message(t.elsewhere))["read"] is False  # the refused mark left no trace

    # Sellers may not open conversations; their own settings they may change.
    error(await api.call("POST", "/v1/conversations", "seller", json={
        "order_id": OTHER_ORDER, "buyer": BUYER, "sellers": [SELLER]}), 403, "forbidden")
    settings = f"/v1/sellers/{SELLER}/settings"
    assert await api.ok("GET", settings, "seller") == {
        "seller": SELLER, "notify": True, "notify_address": None}
    changed = await api.ok("PATCH", settings, "seller",
                           json={"notify_address": "inbox@seller-host.example"})
    assert changed == {"seller": SELLER, "notify": True,
                       "notify_address": "inbox@seller-host.example"}
    assert await api.ok("GET", settings, "seller") == changed
    upper = await api.ok("GET", settings.replace(SELLER, SELLER.upper()), "seller")
    assert (upper["notify"], upper["notify_address"]) == (True, "inbox@seller-host.example")
    assert await api.ok("PATCH", settings, "seller", json={"notify_address": ""}) == {
        "seller": SELLER, "notify": True, "notify_address": None}
    error(await api.call("PATCH", settings, "seller", json={"notify_address": "not an address"}),
          400, "invalid", "notify_address")
    other_settings = f"/v1/sellers/{OTHER_SELLER}/settings"
    error(await api.get(other_settings, "seller"), 404, "not_found")
    error(await api.call("PATCH", other_settings, "seller", json={"notify": False}), 404,
          "not_found")
    error(await api.get(f"/v1/sellers/{OTHER_SELLER}/response-time", "seller"), 404,
          "not_found")
    assert (await api.ok("GET", other_settings))["notify"] is True  # nothing changed


async def test_no_buyer_address_reaches_a_seller(api):
    t = await traffic(api)
    bodies: list[bytes] = []

    async def seen(method: str, path: str, status: int, **kwargs: Any) -> httpx.Response:
        response = await api.call(method, path, "seller", **kwargs)
        assert response.status_code == status, (path, response.text)
        bodies.append(response.content)
        return response

    cid = t.conv["conversation_id"]
    await seen("GET", "/v1/conversations", 200)
    await seen("GET", f"/v1/conversations/{cid}", 200)
    for params in ({}, {"received": "true"}, {"sent": "true"}, {"needs_response": "true"},
                   {"unread": "true"}, {"conversation": cid}, {"limit": 1}):
        await seen("GET", "/v1/messages", 200, params=params)
    for message_id in (t.asked, t.answer, t.pending, t.refused):
        await seen("GET", f"/v1/messages/{message_id}", 200)
    # Received bytes: only the seller's own messages (a buyer's holds the buyer's address).
    own = await seen("GET", f"/v1/messages/{t.answer}/received", 200)
    assert own.content == t.sent[t.answer]
    assert own.headers["content-type"] == "message/rfc822"
    for message_id in (t.asked, t.pending, t.refused):
        await seen("GET", f"/v1/messages/{message_id}/received", 404)
    # Delivered bytes: only what was delivered to the seller.
    for message_id in (t.asked, t.pending):
        copy = await seen("GET", f"/v1/messages/{message_id}/delivered", 200)
        assert copy.content == t.delivered[message_id]
    for message_id in (t.answer, t.refused):
        await seen("GET", f"/v1/messages/{message_id}/delivered", 404)
    await seen("POST", f"/v1/messages/{t.asked}/marks", 200, json={"mark": "read"})
    await seen("GET", f"/v1/sellers/{SELLER}/settings", 200)
    await seen("GET", f"/v1/sellers/{SELLER}/response-time", 200)
    await seen("GET", "/v1/templates", 200)

    for body in bodies:
        text = body.decode("utf-8", "replace").lower()
        assert BUYER.lower() not in text and "buyer-mail.example" not in text, text[:2000]
    # The check can fail: the admin's copy of what the buyer sent holds the address.
    assert BUYER.encode() in (await api.get(f"/v1/messages/{t.asked}/received")).content


async def test_a_buyer_writing_to_their_own_alias_is_not_shown_to_the_seller(api):
    conv = await api.open()
    alias = conv["buyer_alias"]
    code, reply = await send(api.relay.smtp_port, BUYER, alias,
                             compose(BUYER, alias, body="Where is my parcel?"))
    assert (code, reply.split(":")[0]) == (550, "5.7.1 sender.unregistered"), reply
    page = await api.ok("GET", "/v1/messages", "seller")
    for message in page["messages"]:
        for suffix in ("", "/received", "/delivered"):
            response = await api.get(f"/v1/messages/{message['id']}{suffix}", "seller")
            assert BUYER.lower() not in response.text.lower(), (suffix, response.text[:300])


# -- the message center ------------------------------------------------------------------------


async def test_message_filters_marks_and_bytes(api):
    t = await traffic(api)
    cid = t.conv["conversation_id"]
    assert await api.ids() == t.newest_first
    assert await api.ids(conversation=cid) == [t.refused, t.pending, t.answer, t.asked]
    assert await api.ids(sent="true") == [t.answer]
    assert await api.ids(received="true", conversation=cid) == [t.refused, t.pending, t.asked]
    # The first question was answered; the refused one never reached the seller.
    assert await api.ids(needs_response="true") == [t.elsewhere, t.pending]
    assert await api.ids(unread="true") == t.newest_first
    assert await api.ids(seller=OTHER_SELLER) == [t.elsewhere]
    assert await api.ids(business_buyers="true") == []
    now = datetime.now(UTC)
    assert await api.ids(since=(now - timedelta(minutes=5)).isoformat()) == t.newest_first
    assert await api.ids(since=(now + timedelta(minutes=5)).isoformat()) == []
    assert await api.ids(until=(now - timedelta(minutes=5)).isoformat()) == []
    error(await api.get("/v1/messages", params={"sent": "true", "received": "true"}), 400,
          "invalid", "sent")

    shown = await api.message(t.refused)
    assert (shown["direction"], shown["disposition"], shown["reasons"], shown["delivery"]) == (
        "buyer_to_seller", "rejected", ["contact.phone"], None)
    answer = await api.message(t.answer)
    assert (answer["direction"], answer["disposition"], answer["delivery"]) == (
        "seller_to_buyer", "delivered", "delivered")
    assert answer["order_id"] == ORDER and answer["conversation_id"] == cid
    assert answer["size"] == len(t.sent[t.answer])
    error(await api.get("/v1/messages/nosuchmessage"), 404, "not_found")

    # The bytes: as received, and as the inbox got them.
    for message_id, data in t.sent.items():
        received = await api.get(f"/v1/messages/{message_id}/received")
        assert received.status_code == 200
        assert received.headers["content-type"] == "message/rfc822"
        assert received.content == data
    for message_id, data in t.delivered.items():
        delivered = await api.get(f"/v1/messages/{message_id}/delivered")
        assert delivered.status_code == 200
        assert delivered.headers["content-type"] == "message/rfc822"
        assert delivered.content == data
    assert BUYER.encode() not in t.delivered[t.asked]  # redacted for the seller
    error(await api.get(f"/v1/messages/{t.refused}/delivered"), 404, "not_found")
    error(await api.get("/v1/messages/nosuchmessage/received"), 404, "not_found")

    # Marks change the flags, and the filters with them.
    marked = await api.ok("POST", f"/v1/messages/{t.asked}/marks", json={"mark": "read"})
    assert (marked["id"], marked["read"], marked["no_response_needed"]) == (t.asked, True, False)
    assert await api.ids(unread="true") == t.newest_first[:-1]
    assert (await api.message(t.asked))["read"] is True
    marked = await api.ok("POST", f"/v1/messages/{t.pending}/marks", "seller",
                          json={"mark": "no_response_needed"})
    assert (marked["read"], marked["no_response_needed"]) == (False, True)
    assert await api.ids(needs_response="true") == [t.elsewhere]
    assert await api.ids("seller", needs_response="true") == []
    error(await api.call("POST", f"/v1/messages/{t.asked}/marks", json={"mark": "unread"}),
          400, "invalid", "mark")
    error(await api.call("POST", "/v1/messages/nosuchmessage/marks", json={"mark": "read"}),
          404, "not_found")


async def test_pages_are_newest_first_and_cover_every_message_once(api):
    t = await traffic(api)
    everything = await api.ids()
    assert everything == t.newest_first
    for limit in (1, 2, 3, 5):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            page = await api.ok("GET", "/v1/messages", params=params)
            assert 0 < len(page["messages"]) <= limit
            seen += [m["id"] for m in page["messages"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
            assert pages < 10
        assert seen == everything, limit
        assert pages == -(-len(everything) // limit)
    received_at = [m["received_at"] for m in (await api.ok(
        "GET", "/v1/messages", params={"limit": 500}))["messages"]]
    assert received_at == sorted(received_at, reverse=True)
    # Filters and pages together.
    first = await api.ok("GET", "/v1/messages", params={"received": "true", "limit": 2})
    assert [m["id"] for m in first["messages"]] == [t.elsewhere, t.refused]
    rest = await api.ok("GET", "/v1/messages", params={
        "received": "true", "limit": 2, "cursor": first["next_cursor"]})
    assert [m["id"] for m in rest["messages"]] == [t.pending, t.asked]
    assert rest["next_cursor"] is None
    for params, name in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
                         ({"limit": "ten"}, "limit"), ({"cursor": "abc"}, "cursor"),
                         ({"cursor": "-1"}, "cursor"), ({"cursor": "1" * 19}, "cursor"),
                         ({"since": "yesterday"}, "since")]:
        error(await api.get("/v1/messages", params=params), 400, "invalid", name)


async def test_a_time_filter_at_the_edge_of_the_calendar_is_no_server_error(api):
    for params in ({"since": "0001-01-01T00:00:00+01:00"},
                   {"until": "9999-12-31T23:59:59-01:00"}):
        response = await api.get("/v1/messages", params=params)
        assert response.status_code in (200, 400), (params, response.text)


async def test_no_endpoint_deletes_or_edits_a_message(api):
    t = await traffic(api)
    document = await api.ok("GET", "/openapi.json", None)
    methods = {(path, method) for path, item in document["paths"].items() for method in item}
    assert ("/v1/messages", "get") in methods  # the document is the one we think it is
    assert not [m for m in methods if m[1] == "delete"]
    edits = {path for path, method in methods if method in ("put", "patch")}
    assert edits == EDITABLE
    assert not [p for p in edits if p.startswith("/v1/messages")]
    before = (await api.message(t.asked), (await api.get(f"/v1/messages/{t.asked}/received"))
              .content)
    for method in ("DELETE", "PUT", "PATCH"):
        for path in (f"/v1/messages/{t.asked}", f"/v1/messages/{t.asked}/received",
                     f"/v1/messages/{t.asked}/delivered", f"/v1/messages/{t.asked}/marks"):
            response = await api.call(method, path, json={"mark": "read"})
            error(response, 405, "method_not_allowed")
        error(await api.call(method, f"/v1/conversations/{t.conv['conversation_id']}"), 405,
              "method_not_allowed")
    after = (await api.message(t.asked), (await api.get(f"/v1/messages/{t.asked}/received"))
             .content)
    assert after == before
    assert (await api.ok("GET", "/v1/audit"))["ok"] is True


# -- buyers --------------------------------------------------------------------------------


async def test_buyer_opt_out_locale_and_business_flag(api):
    path = f"/v1/buyers/{BUYER}"
    assert await api.ok("GET", path) == {"address": BUYER, "opted_out": False, "locale": None,
                                         "business": False, "events": []}
    changed = await api.ok("PATCH", path, json={"opted_out": True, "locale": "de-DE",
                                                "business": True})
    assert (changed["opted_out"], changed["locale"], changed["business"]) == (True, "de-DE", True)
    shown = await api.ok("GET", path)
    assert {k: v for k, v in shown.items() if k != "events"} == {
        "address": BUYER, "opted_out": True, "locale": "de-DE", "business": True}
    assert [(e["kind"], e["value"]) for e in shown["events"]] == [
        ("locale", "de-DE"), ("optout", "on"), ("business", "on")]
    assert all(e["at"] for e in shown["events"])
    # One field at a time; the rest stays.
    changed = await api.ok("PATCH", path, json={"opted_out": False})
    assert (changed["opted_out"], changed["locale"], changed["business"]) == (False, "de-DE", True)
    assert len(changed["events"]) == 4
    # The same buyer, however the address is written.
    assert (await api.ok("GET", f"/v1/buyers/{BUYER.lower()}"))["events"] == changed["events"]
    for locale in ("not a locale", "x", "de_DE!"):
        error(await api.call("PATCH", path, json={"locale": locale}), 400, "invalid", "locale")
    error(await api.call("PATCH", path, json={"locale": "fr", "opted_out": "perhaps"}), 400,
          "invalid", "opted_out")
    after = await api.ok("GET", path)
    assert after["locale"] == "de-DE" and len(after["events"]) == 4  # nothing half-applied
    error(await api.get("/v1/buyers/not-an-address"), 400, "invalid")
    error(await api.call("PATCH", "/v1/buyers/someone@relay.test", json={"business": True}),
          400, "invalid")

    # The business flag feeds the message center's filter.
    conv = await api.open()
    message_id, _ = await smtp(api, BUYER, conv["seller_alias"], "Is the lamp base size 2?")
    assert await api.ids(business_buyers="true") == [message_id]
    await api.ok("PATCH", path, json={"business": False})
    assert await api.ids(business_buyers="true") == []


# -- templates, review request, rate limit -------------------------------------------------


async def test_send_a_template(api):
    conv = await api.open()
    cid = conv["conversation_id"]
    path = f"/v1/conversations/{cid}/messages"
    sent = await api.ok("POST", path, status=201, json={
        "template": "shipping_delay", "variables": {"new_date": "the 3rd of May"}})
    assert sent["disposition"] == "delivered" and sent["reasons"] == []
    assert sent["reply"] == f"250 2.0.0 queued as {sent['message_id']}"
    got = (await api.capture.wait_for(1))[0]
    assert got.rcpt_tos == [BUYER]
    assert str(got.message["Subject"]) == f"Order {ORDER}: new expected dispatch date"
    assert "the 3rd of May" in got.message.get_body(("plain",)).get_content()
    assert str(got.message["From"]).endswith(f"<{conv['seller_alias']}>")
    shown = await api.message(sent["message_id"])
    assert (shown["direction"], shown["conversation_id"]) == ("seller_to_buyer", cid)
    delivered = await api.get(f"/v1/messages/{sent['message_id']}/delivered")
    assert delivered.content == got.data

    # In the buyer's language.
    await api.ok("PATCH", f"/v1/buyers/{BUYER}", json={"locale": "de-DE"})
    await api.ok("POST", path, "seller", status=201, json={
        "template": "shipping_delay", "variables": {"new_date": "3. Mai"}})
    got = (await api.capture.wait_for(2))[1]
    assert str(got.message["Subject"]) == f"Bestellung {ORDER}: neues voraussichtliches" \
        " Versanddatum"

    count = len(await api.ids())
    for body, name in [
        ({"template": "shipping_delay"}, "variables"),
        ({"template": "shipping_delay", "variables": {"new_date": "x", "extra": "y"}},
         "variables"),
        ({"template": "shipping_delay", "variables": {"new_date": "x", "order_id": "y"}},
         "variables"),
        ({"template": "no_such_template", "variables": {}}, "template"),
        ({"template": "shipping_delay", "variables": {"new_date": "x"},
          "attachments": [{"filename": "a.pdf", "content_base64": "JVBERi0="}]}, "attachments"),
        ({"template": "invoice", "variables": {"invoice_number": "7"},
          "attachments": [{"filename": "a.pdf", "content_base64": "%%%"}]},
         "attachments.content_base64"),
    ]:
        error(await api.call("POST", path, json=body), 400, "invalid", name)
    assert len(await api.ids()) == count  # nothing recorded for the refused requests

    # A rule refuses it: 409 with the rule's reason code, and it is on the record.
    refused = await api.call("POST", path, json={
        "template": "shipping_delay", "variables": {"new_date": f"Monday, call {PHONE}"}})
    reply = error(refused, 409, "contact.phone")
    assert reply.startswith("550 5.7.1 contact.phone: ")
    newest = (await api.ok("GET", "/v1/messages", params={"limit": 1}))["messages"][0]
    assert (newest["direction"], newest["disposition"], newest["reasons"]) == (
        "seller_to_buyer", "rejected", ["contact.phone"])
    # An opted-out buyer gets no non-essential seller message.
    await api.ok("PATCH", f"/v1/buyers/{BUYER}", json={"opted_out": True})
    error(await api.call("POST", path, json={
        "template": "shipping_delay", "variables": {"new_date": "Monday"}}), 409, "optout")
    # Nothing more to send: the two sent are recorded delivered, the refusals queued nothing.
    await settled(api, 2)
    newest = (await api.ok("GET", "/v1/messages", params={"limit": 2}))["messages"]
    assert [m["disposition"] for m in newest] == ["rejected", "rejected"], newest
    assert len(await api.ids()) == count + 2  # the two refusals, on the record, not queued
    assert len(api.capture.messages) == 2

    # Another seller's conversation does not exist for this token; unknown ones for anybody.
    error(await api.call("POST", path, "other", json={
        "template": "shipping_delay", "variables": {"new_date": "x"}}), 404, "not_found")
    error(await api.call("POST", "/v1/conversations/nosuchconversation/messages", json={
        "template": "shipping_delay", "variables": {"new_date": "x"}}), 404, "not_found")


async def test_sending_past_the_rate_limit_is_429(start_api):
    api = await start_api(limits=LimitsSettings(conversation_per_hour=1))
    conv = await api.open()
    path = f"/v1/conversations/{conv['conversation_id']}/messages"
    body = {"template": "shipping_delay", "variables": {"new_date": "the 3rd of May"}}
    await api.ok("POST", path, status=201, json=body)
    response = await api.call("POST", path, json=body)
    error(response, 429, "rate.limit")
    assert int(response.headers["retry-after"]) > 0
    assert len(await api.ids()) == 1
    await api.capture.wait_for(1)


async def test_strangers_refused_mail_does_not_use_up_the_template_send(start_api):
    """Refused mail to the seller alias is none of the conversation's messages an hour."""
    api = await start_api(limits=LimitsSettings(conversation_per_hour=2))
    conv = await api.open()
    for _ in range(2):
        junk = compose("mallory@junk.example", conv["seller_alias"], body="Cheap watches")
        code, reply = await send(api.relay.smtp_port, "mallory@junk.example",
                                 conv["seller_alias"], junk, source="127.0.2.1")
        assert code == 550 and "sender.unregistered" in reply, reply
    body = {"template": "shipping_delay", "variables": {"new_date": "the 3rd of May"}}
    await api.ok("POST", f"/v1/conversations/{conv['conversation_id']}/messages",
                 status=201, json=body)
    await api.capture.wait_for(1)


async def test_review_request_needs_a_delivery_date_in_the_window(api):
    conv = await api.open()
    cid = conv["conversation_id"]
    path = f"/v1/conversations/{cid}/review-request"
    error(await api.call("POST", path), 409, "review_request.not_allowed")
    today = datetime.now(UTC).date()
    await api.ok("PUT", f"/v1/conversations/{cid}/delivered",
                 json={"delivered_on": (today - timedelta(days=2)).isoformat()})
    assert "too early" in error(await api.call("POST", path), 409, "review_request.not_allowed")
    await api.ok("PUT", f"/v1/conversations/{cid}/delivered",
                 json={"delivered_on": (today - timedelta(days=10)).isoformat()})
    sent = await api.ok("POST", path, status=201)
    assert sent["reasons"] == ["review_request.sent"]
    got = (await api.capture.wait_for(1))[0]
    assert got.rcpt_tos == [BUYER]
    assert str(got.message["Subject"]) == f"Order {ORDER}: your experience"
    assert "already sent" in error(await api.call("POST", path), 409,
                                   "review_request.not_allowed")
    # It is no answer to the buyer.
    message_id, _ = await smtp(api, BUYER, conv["seller_alias"], "Is the lamp base size 2?")
    assert await api.ids(needs_response="true") == [message_id]
    error(await api.call("POST", "/v1/conversations/nosuchconversation/review-request"), 404,
          "not_found")


# -- metrics, audit, templates ----------------------------------------------------------------


async def test_response_time_audit_and_templates(api):
    t = await traffic(api)
    timing = await api.ok("GET", f"/v1/sellers/{SELLER}/response-time", "seller")
    assert timing["seller"] == SELLER
    assert datetime.fromisoformat(timing["as_of"]) <= datetime.now(UTC)
    assert [w["days"] for w in timing["windows"]] == [7, 30, 90]
    for window in timing["windows"]:
        # Two accepted questions (the refused one does not count), one answered at once.
        assert (window["received"], window["answered_within_24h"], window["unanswered"],
                window["late"]) == (2, 1, 1, 0), window
        assert window["late_rate"] == 0.0
        assert 0 <= window["average_hours"] < 0.1 and window["median_hours"] is not None
    admin_view = await api.ok("GET", f"/v1/sellers/{SELLER}/response-time")
    assert admin_view["windows"] == timing["windows"]
    nobody = await api.ok("GET", "/v1/sellers/nobody@shop.example/response-time")
    assert [w["received"] for w in nobody["windows"]] == [0, 0, 0]
    assert nobody["windows"][0]["late_rate"] is None

    audit = await api.ok("GET", "/v1/audit")
    assert audit["ok"] is True and audit["broken"] == [] and audit["anchor_matches"] is None
    assert audit["records"] == len(t.sent)
    assert ANCHOR.match(audit["anchor"])
    checked = await api.ok("GET", "/v1/audit", params={"anchor": audit["anchor"]})
    assert (checked["ok"], checked["anchor_matches"]) == (True, True)
    seq, digest = audit["anchor"].split(":")
    wrong = f"{seq}:{'0' * 64 if digest != '0' * 64 else '1' * 64}"
    checked = await api.ok("GET", "/v1/audit", params={"anchor": wrong})
    assert (checked["ok"], checked["anchor_matches"]) == (False, False)
    assert checked["broken"] == []
    error(await api.get("/v1/audit", params={"anchor": "yesterday"}), 400, "invalid", "anchor")
    # An anchor taken earlier still matches after more mail.
    await smtp(api, BUYER, t.conv["seller_alias"], "One more question about the lamp.")
    later = await api.ok("GET", "/v1/audit", params={"anchor": audit["anchor"]})
    assert (later["ok"], later["anchor_matches"], later["records"]) == (
        True, True, len(t.sent) + 1)
    assert later["anchor"] != audit["anchor"]

    listed = await api.ok("GET", "/v1/templates", "seller")
    assert sorted(x["id"] for x in listed) == sorted(p.stem for p in TEMPLATES.glob("*.toml"))
    delay = next(x for x in listed if x["id"] == "shipping_delay")
    assert delay == {"id": "shipping_delay", "type": "shipping_delay", "critical": False,
                     "attachments": False, "languages": ["de", "en", "es", "fr", "it"],
                     "variables": ["new_date"]}
    assert next(x for x in listed if x["id"] == "invoice")["attachments"] is True


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def total(values: dict, name: str, **labels: str) -> float:
    return sum(v for (n, found), v in values.items()
               if n == name and all((k, x) in found for k, x in labels.items()))


async def test_metrics_after_traffic(api):
    t = await traffic(api)
    text = (await api.get("/metrics", "metrics")).text
    for name in ("relay_messages_received_total{direction=", "relay_smtp_replies_total{",
                 "relay_queue_depth", "relay_stage_seconds_bucket{",
                 "relay_store_write_seconds", "relay_delivery_attempts_total{"):
        assert name in text, name
    before = samples(text)
    assert total(before, "relay_messages_received_total", direction="buyer_to_seller") >= 4
    assert total(before, "relay_messages_refused_total", reason="contact.phone") >= 1
    assert before[("relay_queue_depth", ())] == 0.0  # everything was delivered

    await smtp(api, BUYER, t.conv["seller_alias"], "One more question about the lamp.")
    await api.capture.wait_for(5)
    deadline = time.monotonic() + 10
    while True:
        after = samples((await api.get("/metrics", "admin")).text)
        if total(after, "relay_delivery_attempts_total", result="delivered") > total(
                before, "relay_delivery_attempts_total", result="delivered"):
            break
        assert time.monotonic() < deadline, "no delivery attempt counted"
        await asyncio.sleep(0.05)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("relay_messages_received_total", direction="buyer_to_seller") == 1
    assert delta("relay_messages_received_total", direction="seller_to_buyer") == 0
    assert delta("relay_messages_delivered_total", direction="buyer_to_seller") == 1
    assert delta("relay_delivery_attempts_total", result="delivered") == 1
    # One each for EHLO (five lines, one reply), MAIL, RCPT and the end of DATA.
    assert delta("relay_smtp_replies_total", code="250") == 4
    assert delta("relay_smtp_replies_total", code="550") == 0
    assert delta("relay_stage_seconds_count") >= 1
    # CPU per stage, the parse first: one observation each for the one message.
    for stage in ("parse", "route", "redact", "encode"):
        assert delta("relay_stage_cpu_seconds_count", stage=stage) == 1, stage
    assert delta("relay_stage_cpu_seconds_sum", stage="encode") > 0  # an RSA signature
    assert delta("relay_store_write_seconds_count") >= 2  # the record, the delivery event
    assert delta("relay_messages_refused_total") == 0


# -- refused messages are recorded in part ---------------------------------------------------


async def test_a_big_refused_message_is_recorded_in_part_and_said_so(api, tmp_path):
    """An outsider who knows an alias sends big messages that are refused: the record keeps
    the header section and the first store.refused_body_keep bytes (64 KiB) of the body, with
    the size and SHA-256 of the whole, and every reader says it is not all there."""
    conv = await api.open()
    stranger = "stranger@evil.example"
    body = "".join(f"line {n} of a message nobody asked for, padded out.\n"
                   for n in range(12_000))  # ~600 KB
    data = compose(stranger, conv["seller_alias"], body=body)
    code, reply = await send(api.relay.smtp_port, stranger, conv["seller_alias"], data)
    assert code == 550, reply
    async with api.relay.store.read() as db:
        (mid, kept, size, digest), = await db.execute_fetchall(
            "SELECT id, raw, size, sha256 FROM messages")
    head = data.index(b"\r\n\r\n") + 4
    assert kept == data[:head + 65_536]
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())

    shown = await api.message(mid)
    assert (shown["size"], shown["truncated"]) == (len(data), True)
    received = await api.get(f"/v1/messages/{mid}/received")
    assert received.status_code == 200
    assert received.content == kept
    assert received.headers["record-truncated"] == f"kept {len(kept)} of {len(data)} bytes"
    assert received.headers["record-size"] == str(len(data))
    assert received.headers["record-sha256"] == digest

    # A message that was accepted is kept whole, and says nothing of the kind.
    accepted_id, sent = await smtp(api, BUYER, conv["seller_alias"], body)
    whole = await api.get(f"/v1/messages/{accepted_id}/received")
    assert whole.content == sent and "record-truncated" not in whole.headers
    assert (await api.message(accepted_id))["truncated"] is False
    audit = await api.ok("GET", "/v1/audit")
    assert audit["ok"] is True and audit["problems"] == [], audit
