"""The web message center with many conversations: how long its pages take to answer, as a
signed-in seller's browser asks for them (the relay in this process, on loopback; the times
include the HTTP round trip, so the server's own time is at most this).

    python -m tools.web_bench [CONVERSATIONS] [--store-url postgresql://…/db]

CONVERSATIONS: 10,000 by default. --store-url: on that PostgreSQL server, in a database the
bench creates beside the one named (the role needs CREATEDB) and drops at the end; without
it, SQLite in a temporary directory. --analyze: ANALYZE once the rows are in, as autovacuum
would have by then on a server where it is on (this project's test server has it off).

Each conversation has a buyer's question; most have the seller's answer, some an auto-reply
after it, some only an auto-reply, some a second question; a few are marked no response
needed. Rows are written with the store's own functions (chained, as the relay writes them),
a few hundred conversations to a transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from relay.auth import passwords
from relay.config import (
    APISettings,
    Config,
    DeliverySettings,
    DKIMSettings,
    SMTPSettings,
    StoreSettings,
    SubmissionSettings,
)
from relay.marketplace import message_center
from relay.marketplace.conversations import address_key, new_token
from relay.server import Relay
from relay.store import conversations as conversation_repo
from relay.store import records

DOMAIN = "relay.test"
SELLER = "sally@seller.example"
PASSWORD = "a password for the bench"
ROUNDS = 20  # requests per page, after the first
BODY = ("Hello,\r\n\r\nI ordered the lamp last week and wanted to ask whether the base comes"
        " in size 2 as well, and when it will ship.\r\n\r\nThank you\r\n") * 4


def message(sender: str, to: str, subject: str, when: datetime, auto: bool) -> bytes:
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: {when:%a, %d %b %Y %H:%M:%S +0000}\r\nMessage-ID: <{new_token(10)}@x>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Received: from mx.example by relay.test; Thu, 26 Nov 2026 10:00:00 +0000\r\n" * 3
            + ("Auto-Submitted: auto-replied\r\n" if auto else ""))
    return (head + "\r\n" + BODY).encode()


async def build(relay: Relay, count: int) -> dict[str, int]:
    store = relay.store
    assert store is not None
    rng = random.Random(18)
    now = datetime.now(UTC)
    kinds = {"answered": 0, "waiting": 0, "auto_reply_only": 0, "excused": 0}
    excused: list[str] = []
    for start in range(0, count, 250):
        async with store.write() as db:
            for i in range(start, min(count, start + 250)):
                conv_id, buyer = new_token(8), f"buyer{i}@buyer.example"
                when = now - timedelta(minutes=(count - i) * 12)
                stamp = when.isoformat(timespec="microseconds")
                await conversation_repo.create(db, conv_id, f"112-{i:07d}-{i * 7 % 10**7:07d}",
                                               address_key(buyer), address_key(SELLER), stamp)
                aliases = {}
                for role in ("buyer", "seller"):
                    aliases[role] = new_token(13)
                    await conversation_repo.add_alias(db, aliases[role], conv_id, role, stamp)
                await conversation_repo.add_party(db, conv_id, "buyer", buyer,
                                                  address_key(buyer))
                await conversation_repo.add_party(db, conv_id, "seller", SELLER,
                                                  address_key(SELLER))
                roll = rng.random()
                plan = [("buyer_to_seller", 0, False)]
                if roll < 0.70:
                    plan.append(("seller_to_buyer", rng.randrange(1, 40), False))
                    kinds["answered"] += 1
                    if rng.random() < 0.1:
                        plan.append(("seller_to_buyer", 41, True))
                elif roll < 0.80:
                    plan.append(("seller_to_buyer", 1, True))
                    kinds["auto_reply_only"] += 1
                else:
                    kinds["waiting"] += 1
                if rng.random() < 0.15:
                    plan.append(("buyer_to_seller", 45, False))
                for direction, hours, auto in plan:
                    at = when + timedelta(hours=hours)
                    seller = direction == "seller_to_buyer"
                    sender = SELLER if seller else buyer
                    raw = message(sender, f"{aliases['buyer' if seller else 'seller']}@{DOMAIN}",
                                  f"Order {i}: a question", at, auto)
                    message_id = new_token(10)
                    await records.append(db, records.Record(
                        id=message_id, conversation_id=conv_id,
                        received_at=at.isoformat(timespec="microseconds"),
                        direction=direction, disposition="delivered",
                        reasons=("auto_reply",) if auto else (), peer="198.51.100.7",
                        helo="mx.example", mail_from=sender,
                        rcpt_to=(f"{aliases['seller']}@{DOMAIN}",), recipient=SELLER,
                        original_message_id=None, relay_message_id=f"<{message_id}@{DOMAIN}>",
                        raw=raw, delivered=raw))
                    if direction == "buyer_to_seller" and rng.random() < 0.05:
                        excused.append(message_id)
    for message_id in excused:
        await message_center.mark(store, message_id, "no_response_needed")
    kinds["excused"] = len(excused)
    return kinds


async def timed(client: httpx.AsyncClient, path: str) -> tuple[list[float], int]:
    took = []
    size = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = await client.get(path)
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        size = len(response.content)
    return took, size


@contextlib.asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on url's server, dropped afterwards."""
    base, _, _ = url.rpartition("/")
    name = f"web_bench_{new_token(8)}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(count: int, store_url: str | None, analyze: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = await stack.enter_async_context(scratch_database(store_url)) if store_url else ""
        print(f"store: {'PostgreSQL' if url else 'SQLite'}"
              f"{', ANALYZEd after the build' if url and analyze else ''}")
        config = Config(
            domain=DOMAIN, smtp=SMTPSettings(port=0),
            store=StoreSettings(path=folder / "relay.db", url=url),
            delivery=DeliverySettings(maildir=folder / "maildir",
                                      bounce_key=folder / "bounce.key"),
            dkim=DKIMSettings(sign=False, key=folder / "dkim.pem"),
            submission=SubmissionSettings(enabled=False),
            api=APISettings(port=0))
        relay = Relay(config)
        await relay.start()
        try:
            started = time.perf_counter()
            kinds = await build(relay, count)
            assert relay.store is not None
            if analyze and url:
                async with relay.store.read() as db:
                    await db.execute("ANALYZE")
            await passwords.set_password(relay.store, SELLER, DOMAIN, PASSWORD)
            print(f"{count:,} conversations of one seller ({kinds}) built in"
                  f" {time.perf_counter() - started:.0f} s")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{relay.api_port}",
                                         timeout=60) as client:
                form = await client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', form.text)
                assert token is not None
                signed = await client.post("/login", data={
                    "email": SELLER, "password": PASSWORD, "csrf": token.group(1)})
                assert signed.status_code == 303, signed.text
                started = time.perf_counter()
                home = (await client.get("/")).text
                cold = (time.perf_counter() - started) * 1000
                first = re.search(r'href="/conversations/([^"]+)"', home)
                assert first is not None
                print(f"the first page after the start: {cold:.0f} ms (the seller's counts"
                      " worked out whole, once per process)")
                print(f"\n{'page':<42} {'median':>8} {'p95':>8} {'max':>8}   bytes")
                for label, path in [
                    ("/ (first page, with the counts)", "/"),
                    ("/?show=needs_response", "/?show=needs_response"),
                    ("/?show=unread", "/?show=unread"),
                    ("/?order=112-0005000 (search)", "/?order=112-0005000"),
                    ("a conversation", f"/conversations/{first.group(1)}"),
                    ("/response-time", "/response-time"),
                ]:
                    took, size = await timed(client, path)
                    took.sort()
                    print(f"{label:<42} {statistics.median(took):>6.1f}ms"
                          f" {took[int(len(took) * 0.95) - 1]:>6.1f}ms {took[-1]:>6.1f}ms"
                          f"   {size:,}")
        finally:
            with contextlib.suppress(Exception):
                await relay.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tools.web_bench")
    parser.add_argument("conversations", type=int, nargs="?", default=10_000)
    parser.add_argument("--store-url", help="postgresql://user@host:port/db: a server to"
                        " run on, in a scratch database created (and dropped) beside db")
    parser.add_argument("--analyze", action="store_true", help="PostgreSQL: ANALYZE after"
                        " the build (the statistics autovacuum keeps, where it is on)")
    args = parser.parse_args()
    asyncio.run(main(args.conversations, args.store_url, args.analyze))
