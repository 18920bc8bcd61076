"""Storage faults (README "SMTP behaviour": store busy or locked, disk full -> `451 4.3.0`,
never a 5xx, never a 250): the store on a small file system that fills up under a real
`relay serve`, and a store whose write lock another process holds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from conftest import (
    BUYER,
    SELLER,
    Capture,
    compose,
    free_port,
    make_config,
    open_conv,
    run_cli,
    send,
    serve_config,
)
from support.disk import fill_up, make_room, small_file_system
from support.record import query, queue_id
from support.relay_process import serving

from relay.config import StoreSettings
from relay.store import db as store_db

MAX_MESSAGE = 200_000  # /readyz wants twice this free (disk_space)
SINK_BUSY = "451 4.3.0 inbox busy, try later"
STRANGER = "stranger@evil.example"  # not a party: refused (550), once the refusal is recorded


# -- helpers --------------------------------------------------------------------------------


def write_config(tmp_path: Path, store: Path, smtp_port: int, api_port: int,
                 sink_port: int) -> Path:
    """store.path on the small file system; maildir, keys and the log elsewhere. The messages
    are told apart by their Subjects, so the contact model, whose reading of a short Subject
    can change with each training ("after the room 1"), is off: this is about the store."""
    return serve_config(
        tmp_path, smtp_port, sink_port, smtp={"max_message_size": MAX_MESSAGE},
        store={"path": store}, api={"enabled": True, "port": api_port},
        limits={"sender_per_hour": 100000, "conversation_per_hour": 100000},
        rules={"contact_model": False})


async def readyz(api_port: int) -> tuple[int, dict[str, bool]]:
    async with httpx.AsyncClient(timeout=10) as client:
        got = await client.get(f"http://127.0.0.1:{api_port}/readyz")
    return got.status_code, got.json()["checks"]


def delivered_subjects(capture: Capture) -> list[str]:
    return [str(m.message["Subject"]) for m in capture.messages]


async def wait_subjects(capture: Capture, wanted: set[str], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not wanted <= set(delivered_subjects(capture)):
        assert time.monotonic() < deadline, (
            f"never delivered: {sorted(wanted - set(delivered_subjects(capture)))}")
        await asyncio.sleep(0.05)


def assert_temporary(code: int, reply: str) -> None:
    """451 4.3.x: the class the README promises for store faults; never 250, never 5xx."""
    assert code == 451 and reply.startswith("4.3."), (code, reply)


async def wait_all_delivered(store: Path, ids: list[str], timeout: float = 15.0) -> None:
    marks = ",".join("?" * len(ids))
    deadline = time.monotonic() + timeout
    while True:
        done = query(store, "SELECT COUNT(DISTINCT message_id) FROM message_events"
                            f" WHERE kind = 'delivered' AND message_id IN ({marks})", tuple(ids))
        queued = query(store, "SELECT COUNT(*) FROM outbox")[0][0]
        if done[0][0] == len(ids) and queued == 0:
            return
        assert time.monotonic() < deadline, f"{done[0][0]} of {len(ids)} delivered, {queued} queued"
        await asyncio.sleep(0.1)


# -- 1. disk full ---------------------------------------------------------------------------


async def test_a_full_disk_is_451_and_the_relay_recovers_by_itself(tmp_path, capture):
    """Mail queued before the disk fills is delivered while it is full; mail arriving while
    it is full gets 451 4.3.x; /readyz says 503; once there is room again the same process
    takes mail (250) and reports ready, and the record verifies."""
    began = time.monotonic()
    smtp_port, api_port = free_port(), free_port()
    with small_file_system(tmp_path / "fs") as mode:
        store = tmp_path / "fs" / "relay.db"
        config = write_config(tmp_path, store, smtp_port, api_port, capture.port)
        opened = await asyncio.to_thread(
            run_cli, "--config", str(config), "conversations", "open", "--order",
            "112-1234567-1234567", "--buyer", BUYER, "--seller", SELLER, "--json")
        assert opened.returncode == 0, opened.stderr
        alias = json.loads(opened.stdout)["seller_alias"]

        async def message(subject: str) -> tuple[int, str]:
            return await send(smtp_port, BUYER, alias, compose(
                BUYER, alias, subject=subject, body=f"Hello, when will it ship? {subject}\n"))

        async with serving(config) as relay:
            deadline = time.monotonic() + 10
            while (await _ready_or_none(api_port)) != 200:  # the API comes up after SMTP
                assert time.monotonic() < deadline, relay.log()
                await asyncio.sleep(0.1)

            # Queued before the fill; the inbox refuses them for now, so they wait.
            capture.data_reply = SINK_BUSY
            accepted: dict[str, str] = {}
            for n in range(3):
                code, reply = await message(f"before the fill {n}")
                assert code == 250, reply
                accepted[f"before the fill {n}"] = queue_id(reply)

            filled = fill_up(mode, store, relay.pid)
            full_at = time.monotonic()

            # A little room may be left in pages already allocated: send until the first
            # refusal (every 250 before it must be delivered later), then it must hold.
            refused: list[str] = []
            for n in range(20):
                subject = f"while full {n}"
                code, reply = await message(subject)
                if code == 250:
                    assert not refused, ("a 250 after a 451 while still full", reply)
                    accepted[subject] = queue_id(reply)
                    continue
                assert_temporary(code, reply)
                refused.append(subject)
                if len(refused) == 4:
                    break
            assert len(refused) == 4, f"no 451 after filling the disk ({mode}, {filled} bytes)"
            # A refusal must be on the record before its 5xx goes out: not now, so 451.
            code, reply = await send(smtp_port, STRANGER, alias, compose(
                STRANGER, alias, subject="stranger while full"))
            assert_temporary(code, reply)
            refused.append("stranger while full")
            relay.alive()

            status, checks = await readyz(api_port)
            assert status == 503, checks
            assert not checks["store_writable"] or not checks["disk_space"], checks
            if mode == "tmpfs":
                assert checks["disk_space"] is False, checks

            # Accepted before the fill: delivered while the disk is still full (the record
            # of it cannot be written yet, so it may arrive more than once).
            capture.data_reply = None
            await wait_subjects(capture, set(accepted))
            status, _ = await readyz(api_port)
            assert status == 503
            relay.alive()

            make_room(mode, store, relay.pid)
            room_at = time.monotonic()
            # Readiness comes back by itself: at the latest when FAILURE_HOLD has passed
            # since the last failed write, sooner when a write (the worker's) succeeds.
            while True:
                status, checks = await readyz(api_port)
                if status == 200:
                    break
                assert time.monotonic() - room_at < store_db.FAILURE_HOLD + 30, checks
                await asyncio.sleep(0.2)
            ready_after = time.monotonic() - room_at

            # No restart: the same process takes mail again within a few seconds.
            attempts = 0
            while True:
                attempts += 1
                code, reply = await message(f"after the room {attempts}")
                if code == 250:
                    accepted[f"after the room {attempts}"] = queue_id(reply)
                    break
                assert_temporary(code, reply)
                refused.append(f"after the room {attempts}")
                assert time.monotonic() - room_at < 30, reply  # never takes mail again
                await asyncio.sleep(0.2)
            served_after = time.monotonic() - room_at
            await wait_subjects(capture, set(accepted))
            await wait_all_delivered(store, list(accepted.values()))
            assert (await readyz(api_port))[0] == 200

            assert await relay.terminate() == 0, relay.log()[-3000:]

        # Nothing that got a 451 went anywhere, and nothing of it is queued.
        got = delivered_subjects(capture)
        assert not set(refused) & set(got), set(refused) & set(got)
        assert set(got) == set(accepted)
        rows = query(store, "SELECT id, disposition FROM messages ORDER BY seq")
        recorded = {mid for mid, disposition in rows if disposition != "deferred"}
        assert recorded == set(accepted.values()), rows
        done = await asyncio.to_thread(run_cli, "--config", str(config), "audit", "verify")
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"ok: {len(rows)} records"), done.stdout
    copies = len(got) - len(set(got))
    room = f"filler {filled} bytes" if mode == "tmpfs" else f"RLIMIT_FSIZE {filled} bytes"
    print(f"\ndisk full ({mode}, {room}): {len(accepted)} accepted, "
          f"{len(refused)} answered 451, {copies} extra copies delivered while the record "
          f"could not be written; full for {room_at - full_at:.1f} s; after room: ready in "
          f"{ready_after:.1f} s, 250 in {served_after:.1f} s ({attempts} attempts); "
          f"test {time.monotonic() - began:.1f} s")


async def _ready_or_none(api_port: int) -> int | None:
    try:
        return (await readyz(api_port))[0]
    except httpx.HTTPError:
        return None


# -- 2. locked database ---------------------------------------------------------------------

LOCKER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute(sys.argv[2])
print("locked", flush=True)
sys.stdin.read()
db.rollback()
"""


@contextlib.asynccontextmanager
async def write_lock(path: Path, begin: str = "BEGIN IMMEDIATE") -> AsyncIterator[None]:
    """Another process holds the store's write lock until the block ends."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path), begin, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 10) == b"locked\n"
        yield
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("begin", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
async def test_a_locked_store_is_451_and_nothing_accepted_is_lost(relay_factory, capture,
                                                                  tmp_path, monkeypatch,
                                                                  begin):
    hold = 3.0
    monkeypatch.setattr(store_db, "FAILURE_HOLD", hold)
    busy = 0.3
    path = tmp_path / "relay.db"
    config = make_config(tmp_path, capture.port).replace(
        store=StoreSettings(path=path, busy_timeout=busy))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    port, alias = relay.smtp_port, conv.seller_alias

    async def message(subject: str) -> tuple[int, str, float]:
        start = time.monotonic()
        code, reply = await send(port, BUYER, alias, compose(
            BUYER, alias, subject=subject, body=f"Hello, any news? {subject}\n"))
        return code, reply, time.monotonic() - start

    accepted: dict[str, str] = {}
    code, reply, _ = await message("before the lock")
    assert code == 250, reply
    accepted["before the lock"] = queue_id(reply)
    await wait_subjects(capture, {"before the lock"})
    capture.data_reply = SINK_BUSY  # this one stays queued into the lock
    code, reply, _ = await message("queued into the lock")
    assert code == 250, reply
    accepted["queued into the lock"] = queue_id(reply)

    refused: list[str] = []
    async with write_lock(path, begin):
        assert (await relay.readiness())["store_writable"] is False
        for n in range(3):
            subject = f"while locked {n}"
            code, reply, took = await message(subject)
            assert_temporary(code, reply)
            assert took >= busy * 0.9, took  # it waited busy_timeout for the lock first
            refused.append(subject)
        code, reply = await send(port, STRANGER, alias, compose(STRANGER, alias,
                                                                subject="stranger"))
        assert_temporary(code, reply)  # its refusal cannot be recorded: not a 550 yet
        # The queued message goes out meanwhile (reading needs no lock); recording it
        # does, so it stays queued and may be sent again.
        capture.data_reply = None
        await wait_subjects(capture, {"queued into the lock"})
        assert (await relay.readiness())["store_writable"] is False
    released = time.monotonic()

    # The lock is gone; readiness holds back for FAILURE_HOLD after the last failed write
    # unless a write succeeds first (the worker's, for the queued message).
    deadline = released + hold + 30  # never writable again
    while not (await relay.readiness())["store_writable"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)

    code, reply, _ = await message("after the lock")
    assert code == 250, reply
    accepted["after the lock"] = queue_id(reply)
    await wait_subjects(capture, set(accepted))
    await wait_all_delivered(path, list(accepted.values()))

    # With nothing queued, no write comes to end the hold early: readiness stays down for
    # FAILURE_HOLD after the last failed write, although the lock is gone, then comes back.
    async with write_lock(path, begin):
        code, reply, _ = await message("locked again")
        failed = time.monotonic()
        assert_temporary(code, reply)
        refused.append("locked again")
    assert (await relay.readiness())["store_writable"] is False
    while not (await relay.readiness())["store_writable"]:
        assert time.monotonic() - failed < hold + 30  # never writable again
        await asyncio.sleep(0.1)
    assert time.monotonic() - failed >= hold - 0.5  # not before the hold
    code, reply, _ = await message("after the hold")
    assert code == 250, reply
    accepted["after the hold"] = queue_id(reply)
    await wait_subjects(capture, set(accepted))
    await wait_all_delivered(path, list(accepted.values()))

    got = delivered_subjects(capture)
    assert set(got) == set(accepted)
    assert not set(refused) & set(got)
    for subject in ("before the lock", "after the lock", "after the hold"):
        assert got.count(subject) == 1, got
    rows = query(path, "SELECT id, disposition FROM messages ORDER BY seq")
    assert [mid for mid, _ in rows] == list(accepted.values()), rows  # 451s left no record
    for mid in accepted.values():
        kinds = [k for (k,) in query(path, "SELECT kind FROM message_events"
                                           " WHERE message_id = ? ORDER BY seq", (mid,))]
        assert kinds[0] == "queued" and kinds[-1] == "delivered", (mid, kinds)
        assert kinds.count("delivered") == 1, (mid, kinds)


async def test_a_too_big_message_is_not_refused_for_good_while_the_store_is_locked(
        relay_factory, capture, tmp_path):
    path = tmp_path / "relay.db"
    config = make_config(tmp_path, capture.port).replace(
        store=StoreSettings(path=path, busy_timeout=0.3))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    alias = conv.seller_alias
    big = compose(BUYER, alias, subject="too big", body="x" * 1_100_000)  # limit: 1 MB
    async with write_lock(path):
        code, reply = await send(relay.smtp_port, BUYER, alias, big)
    # What the relay could not record it must not refuse for good.
    assert (code, reply[:5]) == (451, "4.3.0"), (code, reply)
