"""What the checks at every RCPT and AUTH cost when strangers have flooded the store: the
conversation and sender counts (accepted messages only) beside 20,000 refused records in
the hour, the refusal check of a network at its limit, and the login throttle.

    python -m tools.limits_bench
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from relay.auth import throttle
from relay.config import LimitsSettings
from relay.marketplace import conversations
from relay.smtp import rate_limits
from relay.store.db import Store, utcnow
from relay.store.migrate import migrate

REFUSED = 20_000
ROUNDS = 500


async def per_call(check: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    for _ in range(ROUNDS):
        await check()
    return (time.perf_counter() - started) / ROUNDS * 1e6


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "relay.db")
        await migrate(store)
        conv, _ = await conversations.open_conversation(
            store, "relay.test", "112-1234567-1234567", "carol@buyer.example",
            ["sally@seller.example"])
        now = utcnow()
        # Rows written straight into the tables (the record's hash chain is not what is
        # measured): refused junk in carol's name to her conversation, from 200 networks.
        async with store.write() as db:
            await db.executemany(
                "INSERT INTO messages (id, conversation_id, received_at, direction,"
                " disposition, reasons, peer, helo, mail_from, rcpt_to, raw, prev_hash, hash)"
                " VALUES (?, ?, ?, 'buyer_to_seller', 'rejected', '[]', ?, 'x',"
                " 'carol@buyer.example', '[]', x'', '', '')",
                [(f"m{i}", conv.id, now, f"198.51.{i % 200}.1") for i in range(REFUSED)])
            await db.executemany(
                "INSERT INTO refusals (at, client, bytes, message_id) VALUES (?, ?, 1000, ?)",
                [(now, f"198.51.{i % 200}.0/24", f"m{i}") for i in range(REFUSED)])
            await db.executemany(
                "INSERT INTO login_failures (at, network, account) VALUES (?, ?, ?)",
                [(now, f"198.51.{i % 200}.0/24", f"x{i}@y.example") for i in range(6000)])
        limits = LimitsSettings()
        figures = {
            "conversation + sender counts (accepted only)": await per_call(
                lambda: rate_limits.exceeded(store, limits, conv.id, "carol@buyer.example")),
            "refusal check, network at its limit": await per_call(
                lambda: rate_limits.refusals_exceeded(store, limits, "198.51.7.0/24")),
            "refusal check, a fresh network": await per_call(
                lambda: rate_limits.refusals_exceeded(store, limits, "203.0.113.0/24")),
            "login throttle check, network with 30 failures": await per_call(
                lambda: throttle.blocked(store, limits, "198.51.7.9", "sally@seller.example")),
        }
        await store.close()
    print(f"{REFUSED} refused records in the hour, SQLite, {ROUNDS} calls each:")
    for name, micros in figures.items():
        print(f"  {name:<48} {micros:7.0f} µs per call")


if __name__ == "__main__":
    asyncio.run(main())
