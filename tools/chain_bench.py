"""What the keyed chain and the store cost: a record written (message row + chain entry +
event), a conversation loaded through the chain (every RCPT does one), `audit verify` per
record, and the store under concurrent writers (what 20 SMTP sessions ask of it: an alias
lookup, then the record and its outbox entry in one write, as relay.pipeline.intake does).
On a store in a temporary directory; synchronous=FULL, so the fsync of each commit counts.

    python -m tools.chain_bench [RECORDS] [--writers N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
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


def record(conv: conversations.Conversation, message_id: str, raw: bytes) -> records.Record:
    return records.Record(
        id=message_id, conversation_id=conv.id, received_at=utcnow(),
        direction="buyer_to_seller", disposition="delivered", reasons=(),
        peer="127.0.0.1", helo="client", mail_from="b@example.com",
        rcpt_to=(conv.seller_alias,), recipient="s@example.org",
        original_message_id=None, relay_message_id=None, raw=raw, delivered=raw)


@dataclass
class Statements:
    """What the store's connection executed (its trace): statements and COMMITs."""
    total: int = 0
    commits: int = 0

    def __call__(self, sql: str) -> None:
        self.total += 1
        if sql.lstrip().upper().startswith("COMMIT"):
            self.commits += 1


async def concurrent(count: int, writers: int, size: int) -> None:
    """`writers` coroutines, each: an alias lookup (a read), then a record + outbox entry
    (a write), until `count` messages are written. CPU is the whole process's (the event
    loop and aiosqlite's thread): what the store costs the relay per message."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = StoreSettings(path=Path(tmp) / "relay.db")
        store = await open_store(settings)
        conv, _ = await conversations.open_conversation(
            store, "relay.test", "112-1234567-1234567", "b@example.com", ["s@example.org"])
        local = conv.seller_alias.partition("@")[0]
        raw = b"From: b@example.com\r\nSubject: hi\r\n\r\n" + b"x" * size + b"\r\n"
        trace = Statements()
        async with store.read() as db:
            await db.set_trace_callback(trace)
        numbers = iter(range(count))

        async def session() -> None:
            for n in numbers:
                await conversations.find_alias(store, "relay.test", local)
                message_id = f"conc{n:012d}"
                async with store.write() as db:
                    await records.append(db, record(conv, message_id, raw))
                    now = time.time()
                    await outbox.enqueue(db, outbox.Job(
                        message_id=message_id, mail_from="bounces@relay.test",
                        rcpt="s@example.org", smtputf8=False, attempts=0, next_attempt_at=now,
                        expires_at=now + 86400, bounce=True))

        statements0, commits0 = trace.total, trace.commits
        cpu0, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(session() for _ in range(writers)))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        statements, commits = trace.total - statements0, trace.commits - commits0
        async with store.read() as db:
            await db.set_trace_callback(None)
        found = await audit(store, settings.log_path)
        assert found.ok, found.problems[:3]
        await store.close()
    print(f"{writers} concurrent writers, {count} messages of {len(raw) / 1024:.0f} KB (alias"
          " lookup, then record + outbox entry in one write):")
    print(f"  {count / wall:.0f} messages/s; store CPU {cpu / count * 1000:.2f} ms per message;"
          f" {commits / count:.3f} commits per message; {statements / count:.1f} statements"
          " (thread hops) per message")


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
    parser = argparse.ArgumentParser(prog="python -m tools.chain_bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("records", nargs="?", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=20,
                        help="concurrent writers of the last part (20, as the bench's sessions)")
    parser.add_argument("--size", type=int, default=2000,
                        help="body bytes of the concurrent writers' messages (2000)")
    parser.add_argument("--only-concurrent", action="store_true",
                        help="skip the sequential write, the lookup and the verify")
    args = parser.parse_args()
    if not args.only_concurrent:
        asyncio.run(run(args.records))
    asyncio.run(concurrent(args.records, args.writers, args.size))


if __name__ == "__main__":
    main()
