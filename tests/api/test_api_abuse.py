"""Regression tests for the adversarial review of the HTTP API: one per finding, each staged
like the reviewer's demonstration (/tmp/h), against a running relay over real HTTP or raw
sockets (real SMTP, real SQLite, the capture server as the inbox). The relay runs in-process
(so a test can make its limits small) unless the finding is about `relay serve` itself."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from conftest import BUYER, ROOT, SELLER, compose, run_cli, send
from support.api_client import (
    ADMIN,
    OTHER_BUYER,
    OTHER_ORDER,
    OTHER_SELLER,
    SELLER_TOKEN,
    Api,
    error,
    settled,
    smtp,
)
from support.api_relay import api_relay_settings, start_api_relay
from support.ports import free_ports
from support.relay_process import relay_toml

import relay.store.db
from relay.api import service
from relay.api.tokens import entry, new_token
from relay.config import APISettings, LimitsSettings, SMTPSettings, StoreSettings
from relay.marketplace import conversations, message_center

ORDER = "112-1234567-1234567"
DELAY = {"template": "shipping_delay", "variables": {"new_date": "the 3rd of May"}}


def send_path(conv: dict[str, Any]) -> str:
    return f"/v1/conversations/{conv['conversation_id']}/messages"


# -- raw HTTP --------------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def exchange(port: int, head: str, body: Iterable[bytes] = (), pace: float = 0.0,
                   timeout: float = 5.0) -> tuple[int, dict[str, str], bytes, int]:
    """Write a request head, then its body part by part (`pace` seconds apart) in the
    background, whatever the relay does meanwhile, and read the response. Returns (status,
    headers, body, how many body bytes had been written when the response was read)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    written = 0

    async def feed() -> None:
        nonlocal written
        try:
            writer.write(head.replace("\n", "\r\n").encode("latin-1"))
            for part in body:
                writer.write(part)
                await writer.drain()
                written += len(part)
                if pace:
                    await asyncio.sleep(pace)
        except OSError:  # the relay closed the connection: it answered without the rest
            pass

    feeding = asyncio.create_task(feed())
    try:
        status, headers, content = await asyncio.wait_for(read_response(reader), timeout)
        sent = written
    finally:
        feeding.cancel()
        writer.close()
    return status, headers, content, sent


def head(method: str, path: str, token: str | None = None, **headers: str) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: relay.test", "Content-Type: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\n".join(lines) + "\n\n"


async def closed_by_peer(reader: asyncio.StreamReader, timeout: float) -> bool:
    """Whether the relay closes the connection within `timeout` (EOF or reset)."""
    try:
        data = await asyncio.wait_for(reader.read(1024), timeout)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    assert data == b"", data  # a half-sent request gets no answer, only a close
    return True


# -- 1. connection flood and slow clients ---------------------------------------------------


async def test_half_sent_requests_are_cut_off_and_connections_over_the_cap_closed_at_once(
        start_api, monkeypatch):
    deadline = 1.5
    monkeypatch.setattr(service, "MAX_CONNECTIONS", 5)
    monkeypatch.setattr(service, "REQUEST_DEADLINE", deadline)
    api = await start_api()
    conv = await api.open()
    assert api.relay.api is not None and api.relay.api.server is not None
    for _ in range(500):  # until the relay has seen that request's connection close
        if not api.relay.api.server.server_state.connections:
            break
        await asyncio.sleep(0.01)
    partial = b"GET /healthz HTTP/1.1\r\nHost: relay.test\r\n"  # the headers never end
    held = []
    for _ in range(5):
        reader, writer = await asyncio.open_connection("127.0.0.1", api.relay.api_port)
        writer.write(partial)
        held.append((reader, writer))
    start = time.monotonic()
    extra = []
    other = b"GET /v1/messages HTTP/1.1\r\nHost: relay.test\r\n"  # not a health check
    try:
        # Over the cap: closed at once, before the deadline has closed any of the five.
        for _ in range(5):
            reader, writer = await asyncio.open_connection("127.0.0.1", api.relay.api_port)
            writer.write(other)
            extra.append(writer)
            assert await closed_by_peer(reader, 10.0)
        refused_after = time.monotonic() - start
        # The five within the cap are still open...
        for reader, _ in held:
            assert not await closed_by_peer(reader, 0.02)
        # ...and SMTP takes and delivers a buyer's message meanwhile.
        await smtp(api, BUYER, conv["seller_alias"], "Is the lamp base size 2?")
        assert (await api.capture.wait_for(1))[0].rcpt_tos == [SELLER]
        # The deadline closes the half-sent requests, from the relay's side.
        for reader, _ in held:
            assert await closed_by_peer(reader, start + deadline + 30.0 - time.monotonic())
        took = time.monotonic() - start
        assert took >= deadline * 0.8, took  # not before it
        print(f"\nover the cap closed after {refused_after:.2f} s, half-sent requests after"
              f" {took:.2f} s (deadline {deadline} s)")
        # The attacker has not let go of its sockets, yet the API answers again.
        ready = await api.get("/readyz", None)
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
    finally:
        for _, writer in held:
            writer.close()
        for writer in extra:
            writer.close()


async def get_from(port: int, source: str, path: str, timeout: float = 10.0) -> int | None:
    """GET `path` on a connection of its own from the client address `source`: the status,
    or None when the relay closes the connection without an answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(head("GET", path).replace("\n", "\r\n").encode())
        status, _, _ = await asyncio.wait_for(read_response(reader), timeout)
        return status
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    finally:
        writer.close()


async def test_idle_sockets_from_one_address_leave_the_api_and_health_checks_answering(
        start_api):
    """260 idle sockets from one address (more than the API's 256 connections): past
    api.connections_per_ip the rest are turned away, so /readyz from another address is
    200; over the cap a health check from that very address is still answered (anything
    else there is closed at its first bytes, or 503); and the idle ones are closed at
    api.header_timeout (1 s here)."""
    api = await start_api(api=APISettings(port=0, tokens=(entry("admin", ADMIN),),
                                       header_timeout=1.0))
    port, flooder = api.relay.api_port, "127.0.0.2"
    idle = []
    try:
        for _ in range(260):
            with contextlib.suppress(OSError):  # refused at once: the kernel may say so
                idle.append(await asyncio.open_connection("127.0.0.1", port,
                                                          local_addr=(flooder, 0)))
        assert await get_from(port, "127.0.0.1", "/readyz") == 200
        assert await get_from(port, flooder, "/readyz") == 200
        assert await get_from(port, flooder, "/healthz") == 200
        assert await get_from(port, flooder, "/v1/conversations") is None
        assert await get_from(port, flooder, "/healthz/../v1/conversations") == 503
        # The idle ones are let go of at the head deadline, with nothing said.
        for reader, _ in idle:
            assert await closed_by_peer(reader, 10.0)
        ready = await api.get("/readyz", None)
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
    finally:
        for _, writer in idle:
            writer.close()


# -- 2. body limits ---------------------------------------------------------------------------


SMALL = 100_000  # smtp.max_message_size in these tests
MAX_BODY = SMALL * 4 // 3 + 65_536


async def test_bodies_are_refused_before_they_are_read(start_api):
    api = await start_api(smtp=SMTPSettings(host="127.0.0.1", port=0, max_message_size=SMALL))
    port = api.relay.api_port
    conv = await api.open()

    # No token: 401 while the client has sent only 64 KiB of its 5 MB (the relay used to
    # read and parse the whole body first).
    status, headers, body, _ = await exchange(
        port, head("POST", "/v1/conversations", Content_Length="5000000"),
        [b'{"order_id":"' + b"a" * 65_536])
    assert (status, json.loads(body)["code"]) == (401, "unauthorized")
    assert headers["www-authenticate"] == "Bearer"
    # ... and when it keeps sending (5 MB in under a second), the answer does not wait.
    status, _, body, sent = await exchange(
        port, head("POST", "/v1/conversations", Content_Length=str(65_536 * 77)),
        (b"a" * 65_536 for _ in range(77)), pace=0.01)
    assert (status, json.loads(body)["code"]) == (401, "unauthorized")
    assert sent < 65_536 * 77 // 4, sent

    # A token, and a body over the limit: 413 by its Content-Length, at once...
    big = b'{"order_id":"' + b"a" * MAX_BODY + b'"}'
    status, _, body, sent = await exchange(
        port, head("POST", "/v1/conversations", ADMIN, Content_Length=str(len(big))),
        (big[i:i + 16_384] for i in range(0, len(big), 16_384)), pace=0.01)
    assert (status, json.loads(body)["code"]) == (413, "too_large"), body
    assert sent < len(big) // 2, sent
    # ...and counted when it comes chunked, without one.
    chunks = [b"%x\r\n%s\r\n" % (16_384, b"a" * 16_384) for _ in range(MAX_BODY // 16_384 + 2)]
    status, _, body, _ = await exchange(
        port, head("POST", send_path(conv), SELLER_TOKEN, Transfer_Encoding="chunked"),
        [*chunks, b"0\r\n\r\n"])
    assert (status, json.loads(body)["code"]) == (413, "too_large"), body
    assert len(await api.ok("GET", "/v1/conversations")) == 1  # nothing else was opened

    # Under the request limit, but the message it makes is over smtp.max_message_size.
    before = await api.ids()
    pdf = padded_pdf(80_000)
    request = {"template": "invoice", "variables": {"invoice_number": "INV-1"},
               "attachments": [{"filename": "invoice.pdf",
                                "content_base64": base64.b64encode(pdf).decode()}]}
    assert len(json.dumps(request)) < MAX_BODY
    response = await api.call("POST", send_path(conv), "seller", json=request)
    error(response, 413, "message.too_big", "attachments")
    assert await api.ids() == before
    # A smaller invoice goes.
    request["attachments"][0]["content_base64"] = base64.b64encode(padded_pdf(20_000)).decode()
    await api.ok("POST", send_path(conv), "seller", status=201, json=request)
    await api.capture.wait_for(1)


def padded_pdf(size: int) -> bytes:
    """A real one-page PDF carrying `size` random bytes in a stream: its size is what counts,
    and the relay reads PDFs now (random bytes after "%PDF-" are refused as unreadable)."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    blob = DecodedStreamObject()
    blob.set_data(os.urandom(size))
    writer._add_object(blob)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- 3. the rate limit under concurrent sends ------------------------------------------------


async def test_concurrent_sends_do_not_pass_the_rate_limit_together(start_api):
    api = await start_api(limits=LimitsSettings(conversation_per_hour=5))
    conv = await api.open()
    async with httpx.AsyncClient(
            base_url=str(api.http.base_url), timeout=30,
            headers={"Authorization": f"Bearer {SELLER_TOKEN}"},
            limits=httpx.Limits(max_connections=30, max_keepalive_connections=0)) as client:
        replies = await asyncio.gather(
            *[client.post(send_path(conv), json=DELAY) for _ in range(30)])
    assert Counter(r.status_code for r in replies) == {201: 5, 429: 25}, [
        r.text for r in replies if r.status_code not in (201, 429)]
    for reply in replies:
        if reply.status_code == 429:
            error(reply, 429, "rate.limit")
    assert len(await api.ids(conversation=conv["conversation_id"])) == 5
    # All five recorded as delivered: nothing is left to send, and the inbox got five.
    await settled(api, 5)
    assert len(api.capture.messages) == 5


# -- 4. encoded words --------------------------------------------------------------------------


async def test_no_encoded_words_in_a_subject_value_or_a_file_name(start_api):
    api = await start_api()
    conv = await api.open()
    path = send_path(conv)
    before = await api.ids()
    pdf = base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    for name in ("=?utf-8?q?invoice.pdf=0D=0AX-Injected:_yes?=", "inv=?oice.pdf"):
        error(await api.call("POST", path, "seller", json={
            "template": "invoice", "variables": {"invoice_number": "INV-7"},
            "attachments": [{"filename": name, "content_base64": pdf}]}),
            400, "invalid", "attachments")
    assert await api.ids() == before

    await api.ok("PATCH", f"/v1/buyers/{BUYER}", json={"opted_out": True})
    # A Subject that says [Important] once decoded: refused, not let past the opt-out.
    for value in ("=?utf-8?q?=5BImportant=5D?= x", "INV-7 =?utf-8?b?W0ltcG9ydGFudF0=?="):
        message = error(await api.call("POST", path, "seller", json={
            "template": "invoice", "variables": {"invoice_number": value}}),
            400, "invalid", "variables")
        assert "encoded words" in message
    assert await api.ids() == before
    # The plain value meets the opt-out.
    error(await api.call("POST", path, "seller", json={
        "template": "invoice", "variables": {"invoice_number": "INV-7"}}), 409, "optout")
    (refused,) = set(await api.ids()) - set(before)  # on the record, refused: never queued
    assert (await api.message(refused))["disposition"] == "rejected"
    assert api.capture.messages == []


# -- 5 and 6. store failures: 503, and readiness holds -----------------------------------


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """What a CLI command or a second process mid-write does to the store."""
    lock = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5)
    lock.execute("BEGIN IMMEDIATE")
    return lock


def release(lock: sqlite3.Connection) -> None:
    lock.rollback()
    lock.close()


async def test_a_locked_store_is_503_temporary_and_the_retry_succeeds(start_api, tmp_path):
    db = tmp_path / "relay.db"
    api = await start_api(store=StoreSettings(path=db, busy_timeout=0.2))
    conv = await api.open()
    requests: list[tuple[str, str, dict[str, Any], int]] = [
        ("PATCH", f"/v1/buyers/{BUYER}", {"opted_out": True}, 200),
        ("POST", "/v1/conversations",
         {"order_id": OTHER_ORDER, "buyer": BUYER, "sellers": [SELLER]}, 201),
    ]
    lock = await asyncio.to_thread(hold_write_lock, db)
    try:
        for method, path, body, _ in requests:
            response = await api.call(method, path, json=body)
            error(response, 503, "temporary")
            assert int(response.headers["retry-after"]) > 0
    finally:
        await asyncio.to_thread(release, lock)
    for method, path, body, status in requests:
        await api.ok(method, path, status=status, json=body)
    assert (await api.ok("GET", f"/v1/buyers/{BUYER}"))["opted_out"] is True
    assert len(await api.ok("GET", "/v1/conversations")) == 2

    # A lone surrogate (which UTF-8 cannot encode) in a variable's name is a 400, not a 500,
    # also where the error message names it.
    for raw, field in [
            (b'{"template":"shipping_delay","variables":{"x\\ud800":"1"}}', "variables"),
            (b'{"template":"shipping_delay","variables":{"x\\ud800":1}}', "variables.x"),
            (b'{"template":"\\ud800","variables":{}}', "template")]:
        response = await api.call("POST", send_path(conv), "seller", content=raw,
                                  headers={"Content-Type": "application/json"})
        error(response, 400, "invalid")
        assert response.json()["field"].startswith(field), (raw, response.text)


async def readiness_recovers(api: Api, failed: float, hold: float) -> None:
    """/readyz: not ready (store_writable false) at once, then ready by itself after about
    `hold` seconds from the failure at `failed`."""
    response = await api.get("/readyz", None)
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"] == {"accepting": True, "listeners": True,
                                         "delivery_worker": True, "store_writable": False,
                                         "disk_space": True}
    while (response := await api.get("/readyz", None)).status_code != 200:
        assert time.monotonic() - failed < hold + 30.0, response.text  # never ready again
        await asyncio.sleep(0.05)
    assert time.monotonic() - failed >= hold * 0.8  # not before the hold
    assert response.json()["checks"]["store_writable"] is True


async def test_readiness_holds_after_a_write_fails_at_a_full_disk(start_api, monkeypatch):
    """The reviewer's case: the store has no room for a write, yet a probe transaction (BEGIN,
    ROLLBACK) still succeeds, so /readyz used to say ready between failed writes."""
    hold = 1.0
    monkeypatch.setattr(relay.store.db, "FAILURE_HOLD", hold)
    api = await start_api()
    store = api.relay.store
    assert store is not None
    conv = await api.open()
    ready = await api.get("/readyz", None)
    assert ready.status_code == 200
    assert ready.json()["checks"]["disk_space"] is True
    async with store.read() as db:  # the relay's own connection: no page more for it
        pages = (await db.execute_fetchall("PRAGMA page_count"))[0][0]
        await db.execute(f"PRAGMA max_page_count = {pages}")
    pdf = base64.b64encode(padded_pdf(60_000)).decode()
    invoice = {"template": "invoice", "variables": {"invoice_number": "INV-1"},
               "attachments": [{"filename": "invoice.pdf", "content_base64": pdf}]}
    try:
        response = await api.call("POST", send_path(conv), "seller", json=invoice)
        failed = time.monotonic()
        error(response, 503, "temporary")
        assert int(response.headers["retry-after"]) > 0
    finally:
        async with store.read() as db:
            await db.execute("PRAGMA max_page_count = 1073741823")
    await readiness_recovers(api, failed, hold)
    await api.ok("POST", send_path(conv), "seller", status=201, json=invoice)


async def test_readiness_holds_after_a_write_fails_on_a_locked_store(start_api, tmp_path,
                                                                     monkeypatch):
    hold = 1.0
    monkeypatch.setattr(relay.store.db, "FAILURE_HOLD", hold)
    db = tmp_path / "relay.db"
    api = await start_api(store=StoreSettings(path=db, busy_timeout=0.2))
    await api.open()
    assert (await api.get("/readyz", None)).status_code == 200
    lock = await asyncio.to_thread(hold_write_lock, db)
    try:
        error(await api.call("PATCH", f"/v1/buyers/{BUYER}", json={"opted_out": True}), 503,
              "temporary")
        failed = time.monotonic()
    finally:
        await asyncio.to_thread(release, lock)
    await readiness_recovers(api, failed, hold)
    await api.ok("PATCH", f"/v1/buyers/{BUYER}", json={"opted_out": True})


# -- 7. a seller's conversations and what needs a response --------------------------------


async def test_a_seller_lists_only_its_own_conversations_among_many(start_api):
    api = await start_api()
    assert api.relay.store is not None
    domain = api.relay.config.domain
    mine: list[str] = []
    others: list[str] = []  # OTHER_SELLER's
    everyone: list[str] = []
    for i in range(45):
        order = f"112-{i:07d}-7654321"
        if i % 15 == 7:  # three of SELLER's, one of them shared with another seller
            sellers = [f"s{i}@shops.example", SELLER] if i == 22 else [SELLER]
            conv, _ = await conversations.open_conversation(
                api.relay.store, domain, order, f"b{i}@buyers.example", sellers)
            mine.append(conv.id)
        else:
            seller = OTHER_SELLER if i % 2 else f"s{i % 9}@shops.example"
            conv, _ = await conversations.open_conversation(
                api.relay.store, domain, order, f"b{i}@buyers.example", [seller])
            if seller == OTHER_SELLER:
                others.append(conv.id)
        everyone.append(conv.id)
    listed = await api.ok("GET", "/v1/conversations", "seller")
    assert [c["conversation_id"] for c in listed] == mine
    assert all(c["buyers"] is None and SELLER in c["sellers"] for c in listed)
    other = await api.ok("GET", "/v1/conversations", "other")
    assert [c["conversation_id"] for c in other] == others
    everything = await api.ok("GET", "/v1/conversations")
    assert sorted(c["conversation_id"] for c in everything) == sorted(everyone)


async def test_needs_response_with_replies_auto_replies_and_marks(start_api):
    api = await start_api()
    a = await api.open()
    b = await api.open(order="112-2222222-2222222")
    c = await api.open(order="112-3333333-3333333")
    elsewhere = await api.open(order=OTHER_ORDER, buyer=OTHER_BUYER, sellers=(OTHER_SELLER,))

    async def buyer(conv: dict[str, Any], text: str) -> str:
        return (await smtp(api, BUYER, conv["seller_alias"], text))[0]

    async def seller(conv: dict[str, Any], text: str, **headers: str) -> str:
        return (await smtp(api, SELLER, conv["buyer_alias"], text, **headers))[0]

    await buyer(a, "Is the lamp base size 2?")
    await seller(a, "About the lamp base: it is size 2.")
    await buyer(a, "And the shade?")
    await seller(a, "I am away until Monday.", Auto_Submitted="auto-replied")
    await buyer(a, "Does it come with a bulb?")
    await seller(a, "Yes, a bulb comes with it.")
    a_last = await buyer(a, "Thank you. Which colour is the cable?")
    await seller(a, "I am away until Monday.", X_Autoreply="yes")
    b_first = await buyer(b, "Can I change the address?")
    b_last = await buyer(b, "It is for a present.")
    c_only = await buyer(c, "Is the parcel insured?")
    await seller(c, "I am away until Monday.", Precedence="auto_reply")
    await seller(c, "Your parcel left our warehouse today.", Auto_Submitted="auto-generated")
    other = (await smtp(api, OTHER_BUYER, elsewhere["seller_alias"], "Is it in stock?"))[0]
    await api.ok("POST", f"/v1/messages/{b_first}/marks", "seller",
                 json={"mark": "no_response_needed"})
    await api.ok("POST", f"/v1/messages/{b_last}/marks", "seller", json={"mark": "read"})

    expected = [c_only, b_last, a_last]  # newest first
    assert await api.ids("seller", needs_response="true") == expected
    assert await api.ids(needs_response="true") == [other, *expected]
    assert await api.ids(needs_response="true", seller=SELLER) == expected
    assert await api.ids("seller", needs_response="true", conversation=a["conversation_id"]) \
        == [a_last]
    # A page at a time, the same messages.
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"needs_response": "true", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = await api.ok("GET", "/v1/messages", "seller", params=params)
        seen += [m["id"] for m in page["messages"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert seen == expected
    # The same answer as the message center's own query (what `relay messages list
    # --needs-response` prints), on the same store.
    assert api.relay.store is not None
    rows = await message_center.query(api.relay.store, message_center.Filters(
        seller=SELLER, needs_response=True, parties_only=True))
    assert [r["id"] for r in reversed(rows)] == expected


# -- 8. templates: read at start and on SIGHUP --------------------------------------------------


async def test_templates_change_only_on_sighup(tmp_path, capture, relay_processes):
    shutil.copytree(ROOT / "relay" / "default_templates", tmp_path / "templates")
    admin, seller = new_token(), new_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port,
                              [entry("admin", admin), entry(f"seller:{SELLER}", seller)])
    folder = tmp_path / "templates"
    async with relay.api(admin) as client:
        reply = await client.post("/v1/conversations", json={
            "order_id": ORDER, "buyer": BUYER, "sellers": [SELLER]})
        assert reply.status_code == 201, reply.text
        conv = reply.json()
    new = (folder / "shipping_delay.toml").read_text(encoding="utf-8").replace(
        'id = "shipping_delay"', 'id = "late_parcel"')
    assert 'id = "late_parcel"' in new

    async def ids(client: httpx.AsyncClient) -> list[str]:
        reply = await client.get("/v1/templates")
        assert reply.status_code == 200, reply.text
        return sorted(t["id"] for t in reply.json())

    async with relay.api(seller) as client:
        first = await ids(client)
        assert "shipping_delay" in first and "late_parcel" not in first
        assert (await client.post(send_path(conv), json=DELAY)).status_code == 201
        # An unfinished template saved into the folder, and a finished one; no SIGHUP.
        (folder / "broken.toml").write_text('id = "broken"\n', encoding="utf-8")
        (folder / "late_parcel.toml").write_text(new, encoding="utf-8")
        reply = await client.post(send_path(conv), json=DELAY)
        assert reply.status_code == 201, reply.text
        assert await ids(client) == first
        late = {**DELAY, "template": "late_parcel"}
        error(await client.post(send_path(conv), json=late), 400, "invalid", "template")
        # A SIGHUP while the broken one is there changes nothing.
        _, lines = await relay.reload(relay.settings())
        assert "config reload refused, nothing changed: template " in lines, lines
        assert await ids(client) == first
        assert (await client.post(send_path(conv), json=DELAY)).status_code == 201
        # Without it, the SIGHUP brings the new one in.
        (folder / "broken.toml").unlink()
        _, lines = await relay.reload(relay.settings())
        assert "config reload: applied templates" in lines, lines
        assert await ids(client) == sorted([*first, "late_parcel"])
        reply = await client.post(send_path(conv), json=late)
        assert reply.status_code == 201, reply.text
    await capture.wait_for(4)


# -- 9. a token pasted into the config is never echoed ------------------------------------------


async def test_a_malformed_token_entry_is_never_echoed(tmp_path, capture, relay_processes):
    secret = "rly_SECRETSECRETSECRET"
    admin_entry = entry("admin", new_token())
    config = api_relay_settings(tmp_path, *free_ports(2), 25, [f"admin {secret}"])
    config["templates"] = ROOT / "relay" / "default_templates"
    path = tmp_path / "pasted.toml"
    path.write_text(relay_toml(config), encoding="utf-8")
    checked = run_cli("--config", str(path), "check-config")
    assert checked.returncode == 1, checked
    problems = [line for line in checked.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 1, checked.stdout
    assert "api.tokens: entry 1 is not" in problems[0] and "looks like a token" in problems[0]
    assert "SECRETSECRET" not in checked.stdout + checked.stderr
    served = run_cli("--config", str(path), "serve")
    assert served.returncode == 2, served
    assert "entry 1" in served.stderr and "looks like a token" in served.stderr
    assert "SECRETSECRET" not in served.stdout + served.stderr
    # Nor in the log of a running relay that is sent it on SIGHUP.
    (tmp_path / "run").mkdir()
    relay = await start_api_relay(tmp_path / "run", relay_processes, capture.port, [admin_entry])
    changed = json.loads(json.dumps(relay.settings(), default=str))
    changed["api"]["tokens"] = [admin_entry, f"admin {secret}"]
    _, lines = await relay.reload(changed)
    assert "config reload refused, nothing changed: api.tokens: entry 2 is not" in lines, lines
    assert "looks like a token" in lines
    assert "SECRETSECRET" not in relay.log()


# -- 10. the paging cursor is opaque ------------------------------------------------------------


async def test_the_cursor_is_sealed_and_pages_still_cover_everything(start_api):
    api = await start_api(limits=LimitsSettings(conversation_per_hour=50))
    mine = await api.open()
    theirs = await api.open(order=OTHER_ORDER, buyer=OTHER_BUYER, sellers=(OTHER_SELLER,))
    for i in range(5):
        await smtp(api, BUYER, mine["seller_alias"], f"Question {i} about the lamp.")
    everything = await api.ids("seller")
    assert len(everything) == 5
    seen: list[str] = []
    cursors: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await api.ok("GET", "/v1/messages", "seller", params=params)
        seen += [m["id"] for m in page["messages"]]
        if (cursor := page["next_cursor"]) is None:
            break
        cursors.append(cursor)
        assert not re.fullmatch(r"\s*[0-9]+\s*", cursor), cursor
        # Another seller's conversation gets mail between the pages.
        for _ in range(3):
            await smtp(api, OTHER_BUYER, theirs["seller_alias"], "Is it in stock?")
    assert seen == everything
    assert len(cursors) == 2
    # A cursor the relay did not hand out (a number, or a sealed one altered) is refused.
    sealed, middle = cursors[0], len(cursors[0]) // 2
    altered = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1:]
    for forged in ("123", "0", "9" * 18, altered):
        for who in ("seller", "admin"):
            error(await api.get("/v1/messages", who, params={"cursor": forged}), 400,
                  "invalid", "cursor")
    # A cursor may be used again: it pages on from the same place.
    page = await api.ok("GET", "/v1/messages", "seller",
                        params={"cursor": cursors[0], "limit": 500})
    assert [m["id"] for m in page["messages"]] == everything[2:]


# -- 11. the size a seller sees ------------------------------------------------------------


async def test_a_seller_sees_delivered_sizes_not_the_buyers_address_length(start_api):
    api = await start_api()
    short, long = "al@mail.example", "alexandra.konstantinopoulou@mail.example"
    assert (len(short), len(long)) == (15, 40)
    ids = []
    for i, address in enumerate((short, long)):
        conv = await api.open(order=f"112-111111{i}-1111111", buyer=address)
        data = compose(address, conv["seller_alias"], body="Where is my parcel?\n",
                       message_id="<1@mail.example>")
        code, reply = await send(api.relay.smtp_port, address, conv["seller_alias"], data)
        assert code == 250, reply
        ids.append(reply.rsplit(" ", 1)[1])
    await api.capture.wait_for(2)
    for message_id in ids:
        await wait_delivered(api, message_id)
    seen = {m["id"]: m["size"] for m in (await api.ok("GET", "/v1/messages", "seller"))[
        "messages"]}
    admin = {m["id"]: m["size"] for m in (await api.ok("GET", "/v1/messages"))["messages"]}
    delivered = [len((await api.get(f"/v1/messages/{i}/delivered", "seller")).content)
                 for i in ids]
    assert [seen[i] for i in ids] == delivered
    assert seen[ids[0]] == seen[ids[1]]
    for message_id in ids:
        assert (await api.message(message_id, "seller"))["size"] == seen[message_id]
        marked = await api.ok("POST", f"/v1/messages/{message_id}/marks", "seller",
                              json={"mark": "read"})
        assert marked["size"] == seen[message_id]
    # The admin sees what was received, which does hold the address.
    assert admin[ids[1]] - admin[ids[0]] >= len(long) - len(short)
    for message_id in ids:
        received = await api.get(f"/v1/messages/{message_id}/received")
        assert admin[message_id] == len(received.content)


async def wait_delivered(api: Api, message_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (await api.message(message_id))["delivery"] != "delivered":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


# -- 12. no token: 401 before anything else -------------------------------------------------


async def test_without_a_token_everything_but_health_is_401(start_api):
    api = await start_api()
    conv = await api.open()
    message_id, _ = await smtp(api, BUYER, conv["seller_alias"], "Is the lamp base size 2?")
    cases: list[tuple[str, str, bytes | None, int]] = [
        ("POST", "/v1/conversations", b'{"order_id":', 400),
        ("POST", "/v1/conversations", b"[" * 5000, 400),
        ("POST", send_path(conv), b'{"template": 7', 400),
        ("GET", "/v1/nope", None, 404),
        ("GET", "/nope", None, 404),
        ("DELETE", f"/v1/messages/{message_id}", None, 405),
        ("DELETE", f"/v1/messages/{message_id}/received", None, 405),
        ("PUT", f"/v1/messages/{message_id}/marks", b"{}", 405),
        ("DELETE", f"/v1/conversations/{conv['conversation_id']}", None, 405),
    ]
    wrong = {"Authorization": f"Bearer {new_token()}"}
    for method, path, body, with_token in cases:
        for headers in ({}, wrong):
            response = await api.call(method, path, None, content=body,
                                      headers={"Content-Type": "application/json", **headers})
            error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer", (method, path)
        # With a token the same request gets as far as its real answer.
        response = await api.call(method, path, "admin", content=body,
                                  headers={"Content-Type": "application/json"})
        assert response.status_code == with_token, (method, path, response.text)
    # The open paths stay open.
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert (await api.get(path, None)).status_code == 200, path
    assert (await api.message(message_id))["id"] == message_id  # nothing was deleted

