"""Quick statements (relay.store.quick): on the event loop's thread when that cannot block
it or reorder anything; otherwise on aiosqlite's thread. Which thread ran a statement is
told by an SQL function that returns the thread's id."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from relay.config import StoreSettings
from relay.store.db import Store
from relay.store.quick import QUICK_BYTES, Quick
from relay.store.startup import open_store


async def probed(path: Path) -> Store:
    store = await open_store(StoreSettings(path=path))
    async with store.read() as db:
        await db.create_function("thread_id", 0, threading.get_ident)
        await db.create_function("pause", 1, lambda s: time.sleep(s) or s)
    return store


async def ran_on(db: object, sql: str, *params: object) -> str:
    rows = await db.execute_fetchall(sql, params)  # type: ignore[attr-defined]
    return "loop" if rows[-1][0] == threading.get_ident() else "thread"


async def test_a_quick_select_runs_on_the_loop_and_an_unmarked_one_on_the_thread(
        tmp_path: Path) -> None:
    store = await probed(tmp_path / "relay.db")
    try:
        async with store.read() as db:
            assert await ran_on(db, Quick("SELECT thread_id()")) == "loop"
            assert await ran_on(db, "SELECT thread_id()") == "thread"
            # Big parameters: copied on the thread, even when marked.
            assert await ran_on(db, Quick("SELECT length(?), thread_id()"),
                                "x" * (QUICK_BYTES + 1)) == "thread"
    finally:
        await store.close()


async def test_in_the_write_transaction_a_quick_write_runs_on_the_loop(tmp_path: Path) -> None:
    store = await probed(tmp_path / "relay.db")
    try:
        async with store.write() as db:
            await db.execute("CREATE TEMP TABLE t (n INTEGER)")
            rows = await db.execute_fetchall(
                Quick("INSERT INTO t (n) VALUES (thread_id()) RETURNING n"))
            assert rows[0][0] == threading.get_ident()
        # Outside a transaction a write would commit (and fsync) where it runs: the thread.
        async with store.read() as db:
            rows = await db.execute_fetchall(
                Quick("INSERT INTO t (n) VALUES (thread_id()) RETURNING n"))
            assert rows[0][0] != threading.get_ident()
            assert (await db.execute_fetchall(Quick("SELECT COUNT(*) FROM t")))[0][0] == 2
    finally:
        await store.close()


async def test_a_quick_statement_waits_behind_one_still_running_on_the_thread(
        tmp_path: Path) -> None:
    """A reader cancelled while its statement runs on the thread hands its turn on at
    once; the next statement must not run beside it on the loop, but after it."""
    store = await probed(tmp_path / "relay.db")
    try:
        started = asyncio.Event()

        async def slow() -> None:
            async with store.read() as db:
                started.set()
                await db.execute_fetchall("SELECT pause(0.3)")

        task = asyncio.create_task(slow())
        await started.wait()
        await asyncio.sleep(0.05)  # its statement is on the thread now
        task.cancel()
        async with store.read() as db:
            assert await ran_on(db, Quick("SELECT thread_id()")) == "thread"
            # Once the thread is idle again, in place.
            assert await ran_on(db, Quick("SELECT thread_id()")) == "loop"
    finally:
        await store.close()


async def test_the_delivery_polls_run_in_place_and_read_a_few_rows_of_a_long_outbox(
        tmp_path: Path) -> None:
    """After every delivery the worker asks for the due jobs and for the next due time: with
    5,000 jobs queued, 50 of them in flight, both read about as many index entries as there
    are jobs in flight, and run on the loop's thread (Quick)."""
    import sqlite3

    from relay.store import outbox

    path = tmp_path / "relay.db"
    store = await open_store(StoreSettings(path=path))
    try:
        filler = sqlite3.connect(path)
        filler.execute("PRAGMA foreign_keys = OFF")  # jobs without their records
        filler.executemany(
            "INSERT INTO outbox (message_id, mail_from, rcpt, next_attempt_at, expires_at)"
            " VALUES (?, '', 'r@example.net', ?, 1e12)",
            ((f"m{i:05}", float(i)) for i in range(5000)))
        filler.commit()
        filler.close()
        busy = {f"m{i:05}" for i in range(50)}
        steps: list[str] = []
        async with store.read() as db:
            def count() -> int:
                steps.append("thread" if threading.get_ident() != loop_thread else "loop")
                return 0

            loop_thread = threading.get_ident()
            db._conn.set_progress_handler(count, 100)  # every 100 virtual machine steps
        jobs = await outbox.due(store, 1e9, 10, busy)
        assert [j.message_id for j in jobs] == [f"m{i:05}" for i in range(50, 60)]
        assert await outbox.next_due_at(store, busy) == 50.0
        # A scan of the outbox would be some 5,000 rows: hundreds of calls.
        assert 0 < len(steps) < 60, len(steps)
        assert set(steps) == {"loop"}
    finally:
        await store.close()
