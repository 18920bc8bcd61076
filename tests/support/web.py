"""The web message center as its tests use it: an in-process relay with its API port (the
API tests' config, sellers with passwords), a browser-like HTTP client that signs in and
carries the CSRF token of the page it read, and the traffic the pages show."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from conftest import BUYER, SELLER, Capture, compose, send

from relay.auth import passwords
from relay.config import Config, WebSettings
from relay.marketplace import buyers, conversations
from relay.marketplace.conversations import Conversation
from relay.server import Relay
from relay.store import records
from support.api_client import ORDER, OTHER_BUYER, OTHER_ORDER, OTHER_SELLER, api_config

PASSWORD = "lamp base size two"  # what `relay sellers password` would have set
OTHER_PASSWORD = "another shop's secret"
PHONE = "+44 20 7946 0958"  # contact_phone = reject in the API tests' config
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def web_config(tmp_path: Path, capture: Capture, **web: Any) -> Config:
    return api_config(tmp_path, capture).replace(web=WebSettings(**web))


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, page[:2000]
    return found.group(1)


@dataclass
class Site:
    """The relay, its inbox, and the conversations the tests go through."""
    relay: Relay
    capture: Capture
    conv: Conversation  # SELLER's, with BUYER
    second: Conversation  # SELLER's, with OTHER_BUYER (a company buyer)
    other: Conversation  # OTHER_SELLER's
    asked: list[str] = field(default_factory=list)  # buyer messages to SELLER, as sent

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.relay.api_port}"

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=20, follow_redirects=False,
                                 **kwargs)


async def buyer_writes(site: Site, conv: Conversation, buyer: str, subject: str,
                       body: str, html: str | None = None) -> str:
    """A buyer's message over SMTP (with an HTML alternative, if given); its record's id."""
    data = compose(buyer, conv.seller_alias, subject=subject, body=body)
    if html is not None:
        message = email.message_from_bytes(data, policy=policy.SMTP)
        assert isinstance(message, EmailMessage)
        message.add_alternative(html, subtype="html")
        data = message.as_bytes()
    code, reply = await send(site.relay.smtp_port, buyer, conv.seller_alias, data)
    assert code == 250, reply
    return reply.rsplit(" ", 1)[1]


async def backdated(relay: Relay, conv: Conversation, message_id: str, when: datetime,
                    direction: str) -> None:
    """A message recorded as if it had come `when` (the response-time figures look back
    days), as the marketplace tests of the metric write them."""
    seller = direction == "seller_to_buyer"
    sender = SELLER if seller else conv.buyers[0]
    shown = SELLER if seller else conv.buyer_alias  # a buyer's message as delivered
    raw = f"From: {shown}\r\nSubject: Earlier\r\n\r\nAn earlier message.\r\n".encode()
    record = records.Record(
        id=message_id, conversation_id=conv.id,
        received_at=when.isoformat(timespec="microseconds"), direction=direction,
        disposition="delivered", reasons=(), peer="127.0.0.1", helo="test", mail_from=sender,
        rcpt_to=(conv.seller_alias,), recipient=SELLER, original_message_id=None,
        relay_message_id=f"<{message_id}@relay.test>", raw=raw,
        delivered=raw)
    assert relay.store is not None
    async with relay.store.write() as db:
        await records.append(db, record)


async def site(relay: Relay, capture: Capture, history: bool = False) -> Site:
    """Two sellers with passwords and conversations; the buyers' questions to SELLER (one
    with the buyer's own address in it); with history, late answers on earlier days."""
    store, domain = relay.store, relay.config.domain
    assert store is not None
    conv, _ = await conversations.open_conversation(store, domain, ORDER, BUYER, [SELLER])
    second, _ = await conversations.open_conversation(store, domain, "112-2222222-2222222",
                                                      OTHER_BUYER, [SELLER])
    other, _ = await conversations.open_conversation(store, domain, OTHER_ORDER, BUYER,
                                                     [OTHER_SELLER])
    await passwords.set_password(store, SELLER, domain, PASSWORD)
    await passwords.set_password(store, OTHER_SELLER, domain, OTHER_PASSWORD)
    await buyers.record(store, OTHER_BUYER, domain, "business", "on")
    found = Site(relay, capture, conv, second, other)
    if history:
        now = datetime.now(UTC)
        past = []
        for n, (days, hours) in enumerate([(9, 30), (6, 50), (3, 40), (1, 1)]):
            asked = now - timedelta(days=days)  # answered `hours` later: late past 24
            past += [(asked, f"past-q{n}", "buyer_to_seller"),
                     (asked + timedelta(hours=hours), f"past-a{n}", "seller_to_buyer")]
        for when, message_id, direction in sorted(past):  # the record is in time order
            await backdated(relay, second, message_id, when, direction)
    found.asked.append(await buyer_writes(
        found, conv, BUYER, "Lamp base size",
        f"Hello, is the lamp base size 2? You can also reach me at {BUYER}.\n",
        html=f"<p>Hello, is the lamp base <b>size 2</b>? You can also reach me at {BUYER}.</p>"
             "<script>document.title = 'ran'</script>"))
    found.asked.append(await buyer_writes(
        found, second, OTHER_BUYER, "Invoice please",
        "Hello, could you send the invoice for our company's order?\n"))
    await buyer_writes(found, other, BUYER, "Another shop", "Is it in stock?\n")
    return found


async def sign_in(client: httpx.AsyncClient, email: str = SELLER,
                  password: str = PASSWORD) -> str:
    """Sign in as a browser does (the form, its token and cookie); the CSRF token of the
    session's forms."""
    form = await client.get("/login")
    assert form.status_code == 200, form.text
    done = await client.post("/login", data={"email": email, "password": password,
                                             "csrf": csrf(form.text)})
    assert done.status_code == 303, done.text
    home = await client.get(done.headers["location"])
    assert home.status_code == 200, home.text
    return csrf(home.text)


async def admin_sign_in(client: httpx.AsyncClient, token: str) -> str:
    form = await client.get("/admin/login")
    done = await client.post("/admin/login", data={"token": token, "csrf": csrf(form.text)})
    assert done.status_code == 303, done.text
    home = await client.get(done.headers["location"])
    assert home.status_code == 200, home.text
    return csrf(home.text)
