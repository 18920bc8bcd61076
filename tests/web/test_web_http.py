"""The web message center over real HTTP, against a running relay (its API port, real SMTP,
a real SQLite file): sign-in and its throttle, sessions, cookies, CSRF, the security headers
of every page, what a seller may see (their own conversations, never a buyer's address),
answers and their refusals, and the operators' pages."""

from __future__ import annotations

import asyncio
import re
import time
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import samples
from conftest import BUYER, SELLER, send
from support.api_client import ADMIN, METRICS, OTHER_BUYER, OTHER_SELLER, SELLER_TOKEN
from support.web import (
    OTHER_PASSWORD,
    PASSWORD,
    PHONE,
    Site,
    admin_sign_in,
    buyer_writes,
    csrf,
    sign_in,
    site,
    web_config,
)

from relay.auth import passwords
from relay.config import APISettings, LimitsSettings
from relay.marketplace import buyers, message_center
from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

PAGE_DIRECTIVES = {"default-src": "'self'", "frame-ancestors": "'none'",
                   "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'"}


@pytest.fixture
async def start_web(relay_factory, capture, tmp_path):
    async def start(config_changes: dict[str, Any] | None = None, **web: Any) -> Site:
        config = web_config(tmp_path, capture, **web).replace(**(config_changes or {}))
        return await site(await relay_factory(config), capture)
    return start


@pytest.fixture
async def web(start_web) -> Site:
    return await start_web()


def policy_of(response: httpx.Response) -> dict[str, str]:
    header = response.headers.get("content-security-policy", "")
    return {part.split()[0]: " ".join(part.split()[1:])
            for part in header.split(";") if part.strip()}


def assert_page_headers(response: httpx.Response, path: str) -> None:
    found = policy_of(response)
    for name, value in PAGE_DIRECTIVES.items():
        assert found.get(name) == value, (path, found)
    for name in ("script-src", "style-src"):
        assert found.get(name) == "'self'", (path, found)  # no inline, no eval, no host
    assert response.headers["x-frame-options"] == "DENY", path
    assert response.headers["x-content-type-options"] == "nosniff", path
    assert response.headers["referrer-policy"] == "same-origin", path


def assert_no_inline_code(page: str, path: str) -> None:
    """What the policy would refuse is not there to refuse: no inline script or style, no
    event handler attributes, nothing from another host."""
    for attributes in re.findall(r"<script\b([^>]*)>", page):
        assert re.search(r'\bsrc="/static/', attributes), (path, attributes)
    assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", page), path
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', page):
        assert url.startswith(("/", "#", "data:")) or url == "", (path, url)


async def rich_message(web: Site) -> str:
    """A buyer message with a text part, an HTML part (a script and a remote image in it)
    and a PDF: what the conversation page shows in three ways."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = BUYER, web.conv.seller_alias, "Photo of the box"
    msg.set_content("The invoice is attached. The box arrived dented.\n")
    msg.add_alternative("<p>The invoice is <b>attached</b>. The box arrived dented.</p>"
                        "<script>alert(1)</script><img src=\"https://tracker.example/p.png\">",
                        subtype="html")
    msg.add_attachment(samples.pdf(), maintype="application", subtype="pdf",
                       filename="invoice.pdf")
    code, reply = await send(web.relay.smtp_port, BUYER, web.conv.seller_alias, msg.as_bytes())
    assert code == 250, reply
    return reply.rsplit(" ", 1)[1]


# -- pages and their headers -------------------------------------------------------------------


async def test_every_page_has_the_security_headers_and_no_inline_code(web):
    message_id = await rich_message(web)
    async with web.client() as client:
        for path in ("/login", "/admin/login", "/", "/response-time", "/conversations/x",
                     "/static/none.css"):
            response = await client.get(path)
            assert response.status_code in (200, 303, 404), (path, response.status_code)
            assert_page_headers(response, path)
        await sign_in(client)
        thread = f"/conversations/{web.conv.id}"
        for path in ("/", "/?show=needs_response", "/?show=sent&business=1", thread,
                     f"{thread}?template=invoice", "/response-time", "/conversations/nope",
                     "/nowhere/../conversations/x"):
            response = await client.get(path)
            assert response.status_code in (200, 404), (path, response.text[:500])
            assert response.headers["content-type"].startswith("text/html"), path
            assert response.headers["cache-control"] == "no-store", path
            assert_page_headers(response, path)
            assert_no_inline_code(response.text, path)
        page = (await client.get(thread)).text
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
            response = await client.get(asset)
            assert response.status_code == 200, asset
            assert_page_headers(response, asset)
        # The HTML part: in a sandboxed frame, sanitized again, under a policy of its own
        # that loads nothing and runs nothing (and lets only the relay's pages frame it).
        frames = re.findall(r'<iframe sandbox src="(/messages/[^"]+)"', page)
        assert f"/messages/{message_id}/html/1" in frames, page
        frame = await client.get(f"/messages/{message_id}/html/1")
        assert frame.status_code == 200
        rules = policy_of(frame)
        assert rules["default-src"] == "'none'" and rules["frame-ancestors"] == "'self'"
        assert "sandbox" in rules and rules["img-src"] == "data:"
        assert "<b>attached</b>" in frame.text
        assert "<script" not in frame.text and "tracker.example" not in frame.text
        # The file: a download, never a page of the relay's origin.
        files = re.findall(r'href="(/messages/[^"]+/parts/\d+)" download>invoice.pdf<', page)
        assert len(files) == 1, page
        download = await client.get(files[0])
        assert download.content == samples.pdf()
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith(
            'attachment; filename="invoice.pdf"')
        assert "sandbox" in policy_of(download) and download.headers["x-frame-options"] == "DENY"
    # The API keeps its own answers: JSON, a token needed.
    async with web.client() as client:
        assert (await client.get("/v1/conversations")).status_code == 401
        assert "content-security-policy" not in (await client.get("/healthz")).headers


async def test_session_cookie_flags_and_secure_behind_tls(start_web):
    web = await start_web()
    async with web.client() as client:
        form = await client.get("/login")
        assert re.fullmatch(r"relay_form=[\w-]+; HttpOnly; Path=/; SameSite=lax",
                            form.headers["set-cookie"]), form.headers["set-cookie"]
        done = await client.post("/login", data={"email": SELLER, "password": PASSWORD,
                                                 "csrf": csrf(form.text)})
        cookie = done.headers["set-cookie"]
        assert re.fullmatch(r"relay_session=[\w-]{43}; HttpOnly; Max-Age=43200; Path=/;"
                            r" SameSite=lax", cookie), cookie
        # Behind a TLS proxy on this host (X-Forwarded-Proto, believed from 127.0.0.1).
        proxied = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "; Secure" in proxied.headers["set-cookie"]
    secure = await start_web(secure_cookies=True)
    async with secure.client() as client:
        assert "; Secure" in (await client.get("/login")).headers["set-cookie"]


async def test_forms_without_the_csrf_token_are_403_and_do_nothing(web):
    async with web.client() as client:
        form = await client.get("/login")
        for token in (None, "", "x" * 43, csrf(form.text) + "x"):
            data = {"email": SELLER, "password": PASSWORD}
            if token is not None:
                data["csrf"] = token
            refused = await client.post("/login", data=data)
            assert refused.status_code == 403, refused.text
            assert "relay_session" not in refused.headers.get("set-cookie", "")
        # A token from another browser's form is no good without that browser's cookie.
        async with web.client() as elsewhere:
            stolen = csrf((await elsewhere.get("/login")).text)
        client.cookies.clear()
        await client.get("/login")
        assert (await client.post("/login", data={"email": SELLER, "password": PASSWORD,
                                                  "csrf": stolen})).status_code == 403
        token = await sign_in(client)
        asked = web.asked[0]
        before = len(web.capture.messages)
        for path, data in [
            (f"/messages/{asked}/marks", {"mark": "read", "back": "/"}),
            (f"/messages/{asked}/marks", {"mark": "no_response_needed"}),
            (f"/conversations/{web.conv.id}/read", {}),
            (f"/conversations/{web.conv.id}/answer",
             {"mode": "text", "subject": "Size", "body": "It is size 2."}),
            ("/logout", {}),
        ]:
            for bad in ({}, {"csrf": ""}, {"csrf": token[:-1]}):
                response = await client.post(path, data={**data, **bad})
                assert response.status_code == 403, (path, bad, response.text[:300])
                assert "Not allowed" in response.text
        row = (await message_center.query(web.relay.store, message_center.Filters(
            message=asked)))[0]
        assert not row["read"] and not row["no_response_needed"]
        assert len(web.capture.messages) == before  # nothing was sent
        assert (await client.get("/")).status_code == 200  # still signed in
        # With the token, the same requests work.
        marked = await client.post(f"/messages/{asked}/marks",
                                   data={"mark": "read", "csrf": token, "back": "/?show=unread"})
        assert (marked.status_code, marked.headers["location"]) == (303, "/?show=unread")


async def test_another_sellers_conversation_and_messages_are_404(web):
    elsewhere = (await message_center.query(web.relay.store, message_center.Filters(
        conversation=web.other.id)))[0]["id"]
    async with web.client() as client:
        token = await sign_in(client)
        missing = await client.get("/conversations/no-such-conversation")
        assert missing.status_code == 404
        for path in (f"/conversations/{web.other.id}", f"/messages/{elsewhere}/parts/0",
                     f"/messages/{elsewhere}/html/0"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.text == missing.text  # as if it did not exist
        for path, data in [(f"/messages/{elsewhere}/marks", {"mark": "read"}),
                           (f"/conversations/{web.other.id}/read", {}),
                           (f"/conversations/{web.other.id}/answer",
                            {"mode": "text", "subject": "Hi", "body": "Hello there."})]:
            response = await client.post(path, data={**data, "csrf": token})
            assert response.status_code == 404, path
        listed = (await client.get("/")).text
        assert web.other.order_id not in listed and web.conv.order_id in listed
        searched = (await client.get(f"/?order={web.other.order_id}")).text
        assert "No messages match these filters." in searched
    row = (await message_center.query(web.relay.store, message_center.Filters(
        message=elsewhere)))[0]
    assert not row["read"]
    # The other seller sees it.
    async with web.client() as client:
        await sign_in(client, OTHER_SELLER, OTHER_PASSWORD)
        assert (await client.get(f"/conversations/{web.other.id}")).status_code == 200
        assert (await client.get(f"/conversations/{web.conv.id}")).status_code == 404


CSRF_VALUE = re.compile(r'name="csrf" value="[^"]*"')


async def test_unknown_account_and_wrong_password_are_refused_the_same_way(web):
    async with web.client() as client:
        form = await client.get("/login")
        answers = []
        for email, password in [("nobody@seller-host.example", PASSWORD),
                                (SELLER, "not the password"), (SELLER, "x" * 2000),
                                (OTHER_BUYER, PASSWORD), ("not an address", PASSWORD)]:
            response = await client.post("/login", data={
                "email": email, "password": password, "csrf": csrf(form.text)})
            assert "relay_session" not in response.headers.get("set-cookie", "")
            assert f'value="{email}"' in response.text  # the form keeps the address
            # The same answer but for the address given back (and the form's token).
            answers.append((response.status_code,
                            sorted(k for k in response.headers if k != "date"),
                            CSRF_VALUE.sub("", response.text.replace(email, "EMAIL"))))
        assert answers[0][0] == 200 and "is not right" in answers[0][2]
        assert all(answer == answers[0] for answer in answers[1:])
        assert (await client.get("/")).status_code == 303  # not signed in


async def test_sign_out_ends_the_session_on_the_server(web):
    async with web.client() as client:
        token = await sign_in(client)
        cookie = client.cookies["relay_session"]
        out = await client.post("/logout", data={"csrf": token})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        assert 'relay_session=""' in out.headers["set-cookie"]
        assert "Max-Age=0" in out.headers["set-cookie"]
    # The cookie a browser (or a thief) kept is worth nothing now.
    async with web.client(cookies={"relay_session": cookie}) as client:
        response = await client.get("/")
        assert (response.status_code, response.headers["location"]) == (303, "/login")
        deep = await client.get(f"/conversations/{web.conv.id}")
        assert deep.headers["location"] == f"/login?next=/conversations/{web.conv.id}"


async def test_sessions_expire_and_end_with_a_new_password(start_web):
    web = await start_web(session_lifetime=1.5)
    async with web.client() as client:
        await sign_in(client)
        deadline = time.monotonic() + 20
        while (response := await client.get("/")).status_code == 200:
            assert time.monotonic() < deadline, "the session did not expire"
            await asyncio.sleep(0.1)
        assert response.headers["location"] == "/login"
    # A new password (relay sellers password) ends the sessions opened with the old one.
    web2 = await start_web()
    async with web2.client() as client:
        await sign_in(client)
        await passwords.set_password(web2.relay.store, SELLER, "relay.test", "a brand new one")
        assert (await client.get("/")).status_code == 303


async def test_sign_in_is_throttled_per_account_and_network(start_web):
    web = await start_web(config_changes={"limits": LimitsSettings(
        login_failures_per_account_network=3, login_failures_per_network=30)})
    async with web.client() as client:
        form = csrf((await client.get("/login")).text)
        for _ in range(3):
            wrong = await client.post("/login", data={"email": SELLER, "password": "guess",
                                                      "csrf": form})
            assert wrong.status_code == 200 and "is not right" in wrong.text
        # Now even the right password is refused unchecked, from this network.
        blocked = await client.post("/login", data={"email": SELLER, "password": PASSWORD,
                                                    "csrf": form})
        assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
        assert blocked.headers["retry-after"] == "900"
        assert "relay_session" not in blocked.headers.get("set-cookie", "")
        # Another account from the same network, and the same account from another network
        # (a proxy on this host says where the client is), are not held back.
        other = await client.post("/login", data={
            "email": OTHER_SELLER, "password": OTHER_PASSWORD, "csrf": form})
        assert other.status_code == 303
    async with web.client(headers={"X-Forwarded-For": "198.51.100.7"}) as client:
        assert await sign_in(client)


async def test_an_answer_goes_through_the_rules_and_a_refusal_keeps_the_form(web):
    thread = f"/conversations/{web.conv.id}"
    async with web.client() as client:
        token = await sign_in(client)
        page = (await client.get("/?show=needs_response")).text
        assert web.asked[0] in page
        before = len(web.capture.messages)
        refused = await client.post(f"{thread}/answer", data={
            "csrf": token, "mode": "text", "subject": "About the lamp",
            "body": f"Call me on {PHONE} and we sort it out."})
        assert refused.status_code == 409
        assert "Not sent. Phone numbers are not allowed in messages." in refused.text
        assert 'value="About the lamp"' in refused.text  # the form keeps what was typed
        assert f"Call me on {PHONE} and we sort it out.</textarea>" in refused.text
        assert len(web.capture.messages) == before
        by_template = await client.post(f"{thread}/answer", data={
            "csrf": token, "mode": "template", "template": "shipping_delay",
            "var_new_date": ""})
        assert by_template.status_code == 400 and "Fill in new date." in by_template.text
        sent = await client.post(f"{thread}/answer", data={
            "csrf": token, "mode": "text", "subject": "About the lamp",
            "body": "Yes, it is size 2. It ships tomorrow."})
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith(f"{thread}?sent=")
        shown = await client.get(sent.headers["location"])
        assert "Your message was sent." in shown.text
        got = await web.capture.wait_for(before + 1)
        assert got[-1].rcpt_tos == [BUYER] and "size 2" in got[-1].message.get_body(
            ("plain",)).get_content()
        after = (await client.get("/?show=needs_response")).text
        assert web.asked[0] not in after and web.asked[1] in after


async def test_no_buyer_address_in_any_page(web):
    """Every page a seller can reach, every message part: the buyers' real addresses are
    nowhere (a buyer put theirs in a message; the relay rewrote it)."""
    await rich_message(web)
    await buyer_writes(web, web.conv, BUYER, f"Write to {BUYER}",
                       f"My address is {BUYER}; {BUYER.upper()} works too.\n")
    seen: list[str] = []
    async with web.client() as client:
        await sign_in(client)
        paths = ["/", "/response-time"] + [f"/?show={s}" for s in (
            "unread", "needs_response", "received", "sent")]
        for conv in (web.conv, web.second):
            paths += [f"/conversations/{conv.id}", f"/conversations/{conv.id}?template=invoice",
                      f"/?order={conv.order_id}"]
        while paths:
            path = paths.pop()
            response = await client.get(path)
            assert response.status_code == 200, path
            seen.append(response.text)
            paths += [p for p in re.findall(r'(?:src|href)="(/messages/[^"]+)"', response.text)
                      if p not in seen]
            seen.append(path)
    assert len(seen) > 20
    for text in seen:
        lowered = text.lower()
        for address in (BUYER, OTHER_BUYER):
            assert address.lower() not in lowered, text[:3000]
        assert "buyer-mail.example" not in lowered
    # The check can fail: the record holds what the buyer sent, and an operator sees it.
    record = await records.get(web.relay.store, web.asked[0])
    assert record is not None and BUYER.encode() in record.raw


async def test_operators_find_conversations_deliveries_and_opt_outs(web):
    await web.capture.wait_for(3)
    async with web.client() as client:
        assert (await client.get("/admin")).headers["location"] == "/admin/login"
        form = csrf((await client.get("/admin/login")).text)
        wrong = await client.post("/admin/login", data={"token": "rly_nope", "csrf": form})
        assert wrong.status_code == 200 and "not an admin token" in wrong.text
        for token in (SELLER_TOKEN, METRICS):  # tokens of the relay, but not an admin's
            refused = await client.post("/admin/login", data={"token": token, "csrf": form})
            assert "not an admin token" in refused.text
            assert "relay_session" not in refused.headers.get("set-cookie", "")
        token = await admin_sign_in(client, ADMIN)
        home = (await client.get("/admin")).text
        assert re.search(r'id="queue"><strong>\d+</strong>', home)
        for query in (web.conv.order_id, web.conv.seller_alias, web.conv.buyer_alias.upper(),
                      web.conv.id):
            found = (await client.get("/admin", params={"find": query})).text
            assert f'href="/admin/conversations/{web.conv.id}"' in found, query
        assert "No conversation" in (await client.get("/admin", params={
            "find": "112-9999999-9999999"})).text
        page = await client.get(f"/admin/conversations/{web.conv.id}")
        assert page.status_code == 200
        assert "The record checks out: 1 message" in page.text
        assert re.search(r"<td>queued</td>", page.text) and "<td>delivered</td>" in page.text
        buyer = await client.get("/admin/buyers", params={"address": BUYER})
        assert "<dd>no</dd>" in buyer.text and "Nothing recorded" in buyer.text
        await buyers.set_optout(web.relay.store, BUYER, "relay.test", True)
        buyer = await client.get("/admin/buyers", params={"address": BUYER})
        assert re.search(r"Opted out of seller messages</dt><dd>yes", buyer.text)
        assert "<td>optout</td><td>on</td>" in buyer.text
        audit = await client.post("/admin/audit", data={"csrf": token})
        assert audit.status_code == 200 and "The record checks out" in audit.text
        assert (await client.post("/admin/audit", data={})).status_code == 403
        # Operator pages are not a seller's, and the other way round.
        assert (await client.get("/")).status_code == 403
        # Taking the token out of the config (SIGHUP) ends its sessions.
        relay = web.relay
        await relay.reload(relay.config.replace(api=APISettings(
            port=0, tokens=tuple(t for t in relay.config.api.tokens
                                 if not t.startswith("admin ")))))
        assert (await client.get("/admin")).headers["location"] == "/admin/login"
    async with web.client() as client:
        await sign_in(client)
        assert (await client.get("/admin")).status_code == 403


async def test_without_web_enabled_the_paths_are_the_apis(start_web):
    web = await start_web(enabled=False)
    async with web.client() as client:
        for path in ("/", "/login", "/static/app.css"):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert response.headers["content-type"] == "application/json"
