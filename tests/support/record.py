"""The relay's record as the tests read it: through a running relay's store, from the store
file with sqlite3 (as another process would), or with `relay audit verify`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from conftest import DOMAIN, compose, run_cli, send

from relay.server import Relay


def queue_id(reply: str) -> str:
    """The record a 250 names: "2.0.0 queued as <id>"."""
    assert reply.startswith("2.0.0 queued as "), reply
    return reply.rsplit(" ", 1)[1]


async def accepted(port: int, sender: str, alias: str, subject: str) -> str:
    """Send one message that must be accepted; the id of its record."""
    code, reply = await send(port, sender, alias, compose(sender, alias, subject=subject))
    assert code == 250, reply
    return queue_id(reply)


# -- through a running relay ------------------------------------------------------------------


async def events(relay: Relay, message_id: str) -> list[tuple[str, str]]:
    """(kind, detail) of each delivery event of a message, oldest first."""
    assert relay.store is not None
    async with relay.store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT kind, detail FROM message_events WHERE message_id = ? ORDER BY seq",
            (message_id,))
    return [(r[0], r[1]) for r in rows]


async def assert_never_queued(relay: Relay, message_id: str) -> None:
    """Nothing of the message can be delivered: it was never queued (queueing writes a
    'queued' event, in the same transaction as the record, before the relay replies)."""
    found = await events(relay, message_id)
    assert "queued" not in [kind for kind, _ in found], (message_id, found)


async def wait_event(relay: Relay, message_id: str, kind: str,
                     timeout: float = 15.0) -> list[tuple[str, str]]:
    """Until the message has a `kind` event; all its events."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await events(relay, message_id)
        if any(k == kind for k, _ in found):
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} event for {message_id}: {await events(relay, message_id)}")


# -- the store file -----------------------------------------------------------------------------


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=10, isolation_level=None)


def query(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(connect(path)) as db:
        return db.execute(sql, params).fetchall()


async def wait_events(store: Path, ids: list[str], kind: str, timeout: float = 15.0) -> None:
    """Until every one of the messages `ids` has a `kind` event."""
    deadline = time.monotonic() + timeout
    marks = ",".join("?" * len(ids))
    while True:
        done = query(store, f"SELECT COUNT(DISTINCT message_id) FROM message_events"
                            f" WHERE kind = ? AND message_id IN ({marks})", (kind, *ids))[0][0]
        if done == len(ids):
            return
        assert time.monotonic() < deadline, f"only {done} of {len(ids)} reached {kind!r}"
        await asyncio.sleep(0.05)


def cli_config(tmp_path: Path, store: Path, url: str = "") -> Path:
    """A config for the CLI that names only the store (and where its keys are); `url`: the
    PostgreSQL store (store.url)."""
    path = tmp_path / "cli.toml"
    path.write_text(
        f'domain = "{DOMAIN}"\n[store]\npath = {json.dumps(str(store))}\n'
        f"url = {json.dumps(url)}\n"
        f"[delivery]\nmaildir = {json.dumps(str(tmp_path / 'maildir'))}\n",
        encoding="utf-8",
    )
    return path


async def audit(tmp_path: Path, store: Path, url: str = "") -> subprocess.CompletedProcess[str]:
    """`relay audit verify` on the store file (or the PostgreSQL store at `url`)."""
    # Off the event loop: an in-process relay keeps its store usable meanwhile.
    return await asyncio.to_thread(run_cli, "--config", str(cli_config(tmp_path, store, url)),
                                   "audit", "verify")


async def rows(relay: Relay, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """A query through the relay's own store (SQLite or PostgreSQL), as tuples."""
    assert relay.store is not None
    async with relay.store.read() as db:
        return [tuple(row) for row in await db.execute_fetchall(sql, params)]
