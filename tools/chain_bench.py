"""What the keyed chain costs: a record written (message row + chain entry + event), a
conversation loaded through the chain (every RCPT does one), and `audit verify` per record.
On a store in a temporary directory; synchronous=FULL, so the fsync of each commit counts.

    python -m tools.chain_bench [RECORDS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from relay.config import StoreSettings
from relay.marketplace import conversations
from relay.store import outbox, records
from relay.store.audit import audit
from relay.store.db import Store, utcnow
from relay.store.startup import open_store


async def unchecked_lookup(store: Store, local: str) -> None:
    """The queries of an alias lookup as they were before the chain, for comparison."""
    async with store.read() as db:
        (conv_id,), = await db.execute_fetchall(
            "SELECT conversation_id FROM aliases WHERE local_part = ?", (local,))
        await db.execute_fetchall("SELECT * FROM conversations WHERE id = ?", (conv_id,))
        await db.execute_fetchall("SELECT * FROM aliases WHERE conversation_id = ?", (conv_id,))
        await db.execute_fetchall("SELECT * FROM parties WHERE conversation_id = ?"
                                  " ORDER BY position", (conv_id,))


async def run(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = StoreSettings(path=Path(tmp) / "relay.db")
        store = await open_store(settings)
        conv, _ = await conversations.open_conversation(
            store, "relay.test", "112-1234567-1234567", "b@example.com", ["s@example.org"])
        raw = b"From: b@example.com\r\nSubject: hi\r\n\r\n" + b"x" * 20_000 + b"\r\n"
        started = time.perf_counter()
        for n in range(count):
            async with store.write() as db:
                await records.append(db, records.Record(
                    id=f"bench{n:011d}", conversation_id=conv.id, received_at=utcnow(),
                    direction="buyer_to_seller", disposition="delivered", reasons=(),
                    peer="127.0.0.1", helo="client", mail_from="b@example.com",
                    rcpt_to=(conv.seller_alias,), recipient="s@example.org",
                    original_message_id=None, relay_message_id=None, raw=raw, delivered=raw))
                await outbox.add_event(db, f"bench{n:011d}", "delivered")
        write = (time.perf_counter() - started) / count * 1000
        local = conv.seller_alias.partition("@")[0]
        rounds = 2000
        started = time.perf_counter()
        for _ in range(rounds):
            await conversations.find_alias(store, "relay.test", local)
        lookup = (time.perf_counter() - started) / rounds * 1e6
        started = time.perf_counter()
        for _ in range(rounds):
            await unchecked_lookup(store, local)
        baseline = (time.perf_counter() - started) / rounds * 1e6
        started = time.perf_counter()
        found = await audit(store, settings.log_path)
        verify = time.perf_counter() - started
        assert found.ok, found.problems[:3]
        await store.close()
    print(f"{count} records of {len(raw) / 1024:.0f} KB, each with one delivery event:")
    print(f"  write (record + event + their chain entries, one commit): {write:.2f} ms each")
    print(f"  alias lookup through the chain (conversation, 2 aliases, 2 parties): {lookup:.0f} µs"
          f" (the same queries without the chain: {baseline:.0f} µs)")
    print(f"  audit verify: {verify:.2f} s ({verify / count * 1000:.2f} ms per record)")


def main() -> None:
    asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))


if __name__ == "__main__":
    main()
