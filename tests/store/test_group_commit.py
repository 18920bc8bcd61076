"""Group commit (relay.store.db): writes that come together share one transaction and one
COMMIT; each returns only after it. Through the relay (40 SMTP sessions at once), and on a
store of its own where a test decides which writes make up a batch: the first holds its
block open until the others wait for their turn, so they join its batch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import BUYER, DOMAIN, SELLER, compose, make_config, open_conv, send
from prometheus_client import REGISTRY
from support.disk import fill_up, make_room, small_file_system
from support.record import audit, connect, query, queue_id, wait_events

from relay.config import LimitsSettings, StoreSettings
from relay.marketplace import conversations
from relay.store import db as store_db
from relay.store import outbox, records
from relay.store.audit import audit as audit_store
from relay.store.db import CommitFailed, Store, utcnow
from relay.store.startup import open_store

SESSIONS = 40
DEADLINE = 60.0  # for a batch to end: a store that never hands the turn on fails, not hangs

# -- helpers --------------------------------------------------------------------------------


def commit_counts() -> tuple[float, float]:
    """(commits, writes they committed) so far in this process (relay_store_commit_writes)."""
    return (REGISTRY.get_sample_value("relay_store_commit_writes_count") or 0.0,
            REGISTRY.get_sample_value("relay_store_commit_writes_sum") or 0.0)


def commits_since(before: tuple[float, float]) -> tuple[float, float]:
    now = commit_counts()
    return now[0] - before[0], now[1] - before[1]


async def until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.005)


async def new_store(path: Path) -> tuple[Store, StoreSettings, conversations.Conversation]:
    settings = StoreSettings(path=path)
    store = await open_store(settings)
    conv, _ = await conversations.open_conversation(
        store, DOMAIN, "112-1234567-1234567", BUYER, [SELLER])
    return store, settings, conv


def record(conv: conversations.Conversation, message_id: str) -> records.Record:
    raw = compose(BUYER, conv.seller_alias, subject=message_id)
    return records.Record(
        id=message_id, conversation_id=conv.id, received_at=utcnow(),
        direction="buyer_to_seller", disposition="delivered", reasons=(), peer="127.0.0.1",
        helo="client.example", mail_from=BUYER, rcpt_to=(conv.seller_alias,),
        recipient=SELLER, original_message_id=None, relay_message_id=None, raw=raw,
        delivered=raw)


async def recorded_and_queued(db: store_db.Connection, conv: conversations.Conversation,
                              message_id: str) -> None:
    """What the intake writes for an accepted message: its record and its outbox entry."""
    await records.append(db, record(conv, message_id))
    now = time.time()
    await outbox.enqueue(db, outbox.Job(
        message_id=message_id, mail_from=f"bounces@{DOMAIN}", rcpt=SELLER, smtputf8=False,
        attempts=0, next_attempt_at=now, expires_at=now + 3600, bounce=True))


async def batch(store: Store, first: Callable[[store_db.Connection], Awaitable[None]],
                *others: Callable[[], Awaitable[object]]) -> list[object]:
    """`first` writes, then holds its block open until every one of `others` (started in
    this order) waits for its turn: they join its batch. Each one's result or exception."""
    inside = asyncio.Event()
    # Made on purpose: MAX_BATCH_SECONDS must not cut it, however slow the machine is (on a
    # loaded one, starting the others took longer than the 0.1 s a batch stays open).
    window, store_db.MAX_BATCH_SECONDS = store_db.MAX_BATCH_SECONDS, 3600.0

    async def holder() -> None:
        async with store.write() as db:
            await first(db)
            inside.set()
            await until(lambda: store.writers_waiting == len(others),
                        f"{len(others)} writers waiting")

    held = asyncio.create_task(holder())
    await inside.wait()
    tasks = [asyncio.create_task(other()) for other in others]
    try:
        return await asyncio.wait_for(asyncio.gather(held, *tasks, return_exceptions=True),
                                      DEADLINE)
    finally:
        store_db.MAX_BATCH_SECONDS = window


def ids(path: Path, table: str = "messages", column: str = "id") -> set[str]:
    return {row[0] for row in query(path, f"SELECT {column} FROM {table}")}


def chained(path: Path, message_id: str) -> list[int]:
    return [row[0] for row in query(
        path, "SELECT seq FROM chain WHERE tbl = 'messages' AND row_key = ?",
        (json.dumps([message_id]),))]


# -- through the relay ----------------------------------------------------------------------


async def test_messages_sent_at_once_share_commits_and_each_250_is_committed(
        relay_factory, capture, tmp_path):
    config = make_config(tmp_path, capture.port).replace(limits=LimitsSettings(
        sender_per_hour=10**6, conversation_per_hour=10**6, connections_per_ip=1000))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    store = config.store.path
    before = commit_counts()
    replies = await asyncio.gather(*(
        send(relay.smtp_port, BUYER, conv.seller_alias,
             compose(BUYER, conv.seller_alias, subject=f"at once {n}"))
        for n in range(SESSIONS)))
    commits, writes = commits_since(before)
    assert [code for code, _ in replies] == [250] * SESSIONS, replies
    accepted = [queue_id(reply) for _, reply in replies]
    # Each 250 came after its commit: another connection finds every record and its
    # outbox entry ('queued' event) at once.
    assert ids(store) == set(accepted)
    assert set(accepted) <= ids(store, "message_events", "message_id")
    await capture.wait_for(SESSIONS)
    await wait_events(store, accepted, "delivered")
    done = await audit(tmp_path, store)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(f"ok: {SESSIONS} records"), done.stdout
    # One commit per write would be commits == writes.
    print(f"\n{SESSIONS} sessions at once: {writes:.0f} writes in {commits:.0f} commits")
    assert writes >= SESSIONS
    assert commits < writes


async def test_a_message_whose_record_fails_leaves_the_others_of_its_batch(
        relay_factory, capture, tmp_path):
    """A record the store refuses (a trigger raises, as a constraint would) is a 451 with
    nothing of it stored; the messages around it are accepted and recorded whole."""
    config = make_config(tmp_path, capture.port).replace(limits=LimitsSettings(
        sender_per_hour=10**6, conversation_per_hour=10**6, connections_per_ip=1000))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    store = config.store.path
    with contextlib.closing(connect(store)) as db:
        db.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON messages"
                   " WHEN instr(NEW.raw, CAST('POISON' AS BLOB)) > 0"
                   " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
    poisoned = {5, 17, 30}
    before = commit_counts()
    replies = await asyncio.gather(*(
        send(relay.smtp_port, BUYER, conv.seller_alias, compose(
            BUYER, conv.seller_alias, subject=f"POISON {n}" if n in poisoned else f"fine {n}"))
        for n in range(SESSIONS)))
    commits, writes = commits_since(before)
    for n, (code, reply) in enumerate(replies):
        if n in poisoned:
            assert (code, reply[:5]) == (451, "4.3.0"), (n, code, reply)
        else:
            assert code == 250, (n, code, reply)
    accepted = [queue_id(reply) for n, (_, reply) in enumerate(replies) if n not in poisoned]
    assert ids(store) == set(accepted)  # no partial record of a poisoned one
    assert ids(store, "outbox", "message_id") | ids(
        store, "message_events", "message_id") <= set(accepted)
    await capture.wait_for(len(accepted))
    await wait_events(store, accepted, "delivered")
    assert sorted(str(m.message["Subject"]) for m in capture.messages) == sorted(
        f"fine {n}" for n in range(SESSIONS) if n not in poisoned)
    done = await audit(tmp_path, store)
    assert done.returncode == 0, done.stdout + done.stderr
    assert commits < writes


# -- batches made on purpose ------------------------------------------------------------------


async def test_a_write_that_fails_in_a_batch_is_rolled_back_alone(tmp_path):
    store, settings, conv = await new_store(tmp_path / "relay.db")
    told: list[int] = []
    store.on_chain_entries = told.append
    before = commit_counts()

    async def raises() -> None:
        async with store.write() as db:
            await recorded_and_queued(db, conv, "raises")
            raise RuntimeError("the block failed")

    async def constraint() -> None:
        async with store.write() as db:
            await recorded_and_queued(db, conv, "partial")
            await records.append(db, record(conv, "first"))  # taken in this batch: UNIQUE

    async def fine() -> None:
        async with store.write() as db:
            await recorded_and_queued(db, conv, "last")

    results = await batch(store, lambda db: recorded_and_queued(db, conv, "first"),
                          raises, constraint, fine)
    assert results[0] is None and results[3] is None, results
    assert isinstance(results[1], RuntimeError), results
    assert isinstance(results[2], sqlite3.IntegrityError), results
    assert commits_since(before) == (1, 2)  # one COMMIT for the two that ended well
    path = settings.path
    assert ids(path) == {"first", "last"}
    assert ids(path, "outbox", "message_id") == {"first", "last"}
    assert ids(path, "message_events", "message_id") == {"first", "last"}
    assert chained(path, "raises") == chained(path, "partial") == []
    assert told == [4]  # the checkpointer hears of committed chain entries only

    # The next entry follows the last committed one, not one rolled back.
    async with store.write() as db:
        await recorded_and_queued(db, conv, "after")
    found = await audit_store(store, settings.log_path)
    assert found.ok, found.problems
    seqs = [row[0] for row in query(path, "SELECT seq FROM chain ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))
    await store.close()


async def test_a_failed_commit_fails_every_write_of_its_batch(tmp_path):
    """The disk fills up while a batch is open: every block runs to its end, the COMMIT
    fails, and every write of the batch gets CommitFailed; none of them is stored."""
    with small_file_system(tmp_path / "fs") as mode:
        store, settings, conv = await new_store(tmp_path / "fs" / "relay.db")
        ended: list[str] = []
        filled = False
        before = commit_counts()

        async def first(db: store_db.Connection) -> None:
            await recorded_and_queued(db, conv, "first")
            ended.append("first")

        def writer(message_id: str) -> Callable[[], Awaitable[None]]:
            async def write() -> None:
                nonlocal filled
                async with store.write() as db:
                    if not filled:  # the first write of the others: all are in the batch
                        fill_up(mode, settings.path, os.getpid())
                        filled = True
                    await recorded_and_queued(db, conv, message_id)
                    ended.append(message_id)
            return write

        try:
            results = await batch(store, first, writer("second"), writer("third"))
        finally:
            make_room(mode, settings.path, os.getpid())
        assert ended == ["first", "second", "third"]  # no block failed: the COMMIT did
        assert all(isinstance(r, CommitFailed) for r in results), (mode, results)
        assert "3 writes" in str(results[0])
        assert commits_since(before) == (0, 0)
        assert ids(settings.path) == set()
        assert ids(settings.path, "outbox", "message_id") == set()

        # With room again, the same store writes and its chain verifies.
        async with store.write() as db:
            await recorded_and_queued(db, conv, "after")
        assert ids(settings.path) == {"after"}
        found = await audit_store(store, settings.log_path)
        assert found.ok, found.problems
        await store.close()


async def test_readers_wait_for_the_batch_and_a_full_batch_lets_them_in(tmp_path, monkeypatch):
    """A reader that asks while a batch is open reads after its COMMIT, never in the
    middle; writers behind it join the batch first, but only up to MAX_BATCH."""
    monkeypatch.setattr(store_db, "MAX_BATCH", 2)
    monkeypatch.setattr(store_db, "MAX_BATCH_SECONDS", 3600.0)  # cut by count, never by time
    store, _, conv = await new_store(tmp_path / "relay.db")
    order: list[object] = []
    store.on_chain_entries = lambda count: order.append("commit")

    async def first(db: store_db.Connection) -> None:
        await records.append(db, record(conv, "a"))
        order.append("a")

    async def reader() -> None:
        async with store.read() as db:
            rows = await db.execute_fetchall("SELECT id FROM messages ORDER BY seq")
        order.append(("read", [row[0] for row in rows]))

    def writer(message_id: str) -> Callable[[], Awaitable[None]]:
        async def write() -> None:
            async with store.write() as db:
                await records.append(db, record(conv, message_id))
                order.append(message_id)
        return write

    inside = asyncio.Event()

    async def holder() -> None:
        async with store.write() as db:
            await first(db)
            inside.set()
            await until(lambda: store.writers_waiting == 2, "2 writers waiting")

    held = asyncio.create_task(holder())
    await inside.wait()
    tasks = [asyncio.create_task(job()) for job in (reader, writer("b"), writer("c"))]
    await asyncio.wait_for(asyncio.gather(held, *tasks), DEADLINE)
    assert order == ["a", "b", "commit", ("read", ["a", "b"]), "c", "commit"]
    await store.close()


@pytest.mark.parametrize("failing", ["first", "second"])
async def test_the_first_or_a_later_write_of_a_batch_fails_alone(tmp_path, failing,
                                                                 monkeypatch):
    """The first write of a batch has no savepoint: when it fails, the transaction is
    rolled back, and the writes waiting behind it start a new one."""
    monkeypatch.setattr(store_db, "MAX_BATCH_SECONDS", 3600.0)  # the batch is made on purpose
    store, settings, conv = await new_store(tmp_path / "relay.db")
    before = commit_counts()

    async def first(db: store_db.Connection) -> None:
        await recorded_and_queued(db, conv, "first")

    async def second() -> None:
        async with store.write() as db:
            await recorded_and_queued(db, conv, "second")
            if failing == "second":
                raise RuntimeError("second failed")

    inside = asyncio.Event()

    async def holder() -> None:
        async with store.write() as db:
            await first(db)
            inside.set()
            await until(lambda: store.writers_waiting == 1, "1 writer waiting")
            if failing == "first":
                raise RuntimeError("first failed")

    held = asyncio.create_task(holder())
    await inside.wait()
    results = await asyncio.wait_for(asyncio.gather(
        held, asyncio.create_task(second()), return_exceptions=True), DEADLINE)
    kept = {"first", "second"} - {failing}
    assert [isinstance(r, RuntimeError) for r in results] == [
        failing == "first", failing == "second"], results
    assert ids(settings.path) == kept
    assert commits_since(before) == (1, 1)
    found = await audit_store(store, settings.log_path)
    assert found.ok, found.problems
    await store.close()
