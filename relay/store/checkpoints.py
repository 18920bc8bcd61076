"""Checkpoints: the chain's length and newest link, signed, in an append-only log file.

The chain shows any row added, changed or removed in its midst, but not its newest entries
being cut off (what is left is a shorter, consistent chain). A checkpoint written earlier,
outside the database, does: `relay audit verify` checks the store against every checkpoint
in the log. Each line is HMAC-signed with the chain key, so a line cannot be made up or
edited without the key. The relay writes one every store.checkpoint_every new entries or
store.checkpoint_interval seconds after a change, and at shutdown; each is logged too
(event store.checkpoint), so a log shipped off the host holds them as well.

Several relays on one database (PostgreSQL) share the chain: each counts the chain's growth
(every relay's entries, by the seq of its own newest), not only its own entries, and writes
to its log, which may be one file for all (O_APPEND). The log stays outside the database on
purpose: kept in the database, it would be cut off with the entries it is there to vouch for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from relay.ops.logs import event
from relay.store import chain
from relay.store.db import Store, utcnow

log = logging.getLogger("relay.checkpoints")


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # the chain had this many entries...
    head: str  # ...and this was the newest one's mac
    at: str
    line: int  # in the log, from 1


def _sig(secret: bytes, seq: int, head: str, at: str) -> str:
    text = f"checkpoint\n{seq}\n{head}\n{at}".encode("ascii")
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def append(path: Path, secret: bytes, seq: int, head: str) -> None:
    """One line, appended and fsynced (O_APPEND: lines of two processes never mix)."""
    at = utcnow()
    text = json.dumps({"seq": seq, "head": head, "at": at, "sig": _sig(secret, seq, head, at)},
                      separators=(",", ":")) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, text.encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read(path: Path, secret: bytes) -> tuple[list[Checkpoint], list[str]]:
    """The log's checkpoints signed with `secret`, and a problem for every other line. No
    file: none yet."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return [], []
    found, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            item = json.loads(line)
            cp = Checkpoint(int(item["seq"]), str(item["head"]), str(item["at"]), number)
            good = hmac.compare_digest(str(item["sig"]), _sig(secret, cp.seq, cp.head, cp.at))
        except (ValueError, KeyError, TypeError):
            good = False
        if good:
            found.append(cp)
        else:
            bad.append(f"checkpoint log {path} line {number}: not signed with this store's"
                       " chain key (made up, edited or damaged)")
    return found, bad


async def check(store: Store, logged: tuple[list[Checkpoint], list[str]],
                head: tuple[int, str]) -> list[chain.Problem]:
    """Every checkpoint of the log (`read` before the chain was, so that a checkpoint
    another relay writes meanwhile is not taken for entries removed) against the chain, whose
    newest entry was `head`: the earliest one the chain no longer holds is named."""
    found, bad = logged
    problems = [chain.Problem(chain.UNCHAINED + 1, "checkpoint log", text) for text in bad]
    for cp in sorted(found, key=lambda c: c.seq):
        if cp.seq > head[0]:
            problems.append(chain.Problem(head[0] + 1, "chain", (
                f"the chain ends at entry {head[0]}, but the checkpoint of {cp.at} (log line"
                f" {cp.line}) covered {cp.seq} entries: entries {head[0] + 1} to {cp.seq} and"
                " their rows were removed")))
            break
        async with store.read() as db:
            rows = await db.execute_fetchall(
                "SELECT tbl, row_key, mac FROM chain WHERE seq = ?", (cp.seq,))
        if not rows or rows[0][2] != cp.head:
            what = chain.describe(rows[0][0], rows[0][1]) if rows else "chain"
            problems.append(chain.Problem(cp.seq, what, (
                f"chain entry {cp.seq} is not the one the checkpoint of {cp.at} (log line"
                f" {cp.line}) signed: the chain up to it was rewritten")))
            break
    return problems


def latest(path: Path, secret: bytes) -> Checkpoint | None:
    found, _ = read(path, secret)
    return max(found, key=lambda c: c.seq, default=None)


class Checkpointer:
    """Writes a checkpoint when the chain has grown by `every` entries or, after a change,
    every `interval` seconds; and once more at stop()."""

    def __init__(self, store: Store, path: Path, every: int, interval: float) -> None:
        self.store = store
        self.path = path
        self.every = every
        self.interval = interval
        self.last: tuple[int, str] | None = None  # the head last written (or found)
        self._mark = 0  # the chain's length at the last checkpoint written or asked for
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def prime(self) -> None:
        """Take the current head as written: only a change after this is checkpointed."""
        async with self.store.read() as db:
            self.last = await chain.head(db)
        self._mark = self.last[0]

    async def write(self) -> bool:
        """A checkpoint of the current head, if it moved since the last one."""
        assert self.store.secret is not None
        async with self.store.read() as db:
            now = await chain.head(db)
        if now[0] == 0 or now == self.last:
            return False
        await asyncio.to_thread(append, self.path, self.store.secret, *now)
        self.last = now
        self._mark = max(self._mark, now[0])
        event(log, "store.checkpoint", seq=now[0], head=now[1])
        return True

    def grew(self, count: int) -> None:
        """Called after a commit of this process added chain entries (rolled-back ones
        are not counted). The chain's growth since the last checkpoint counts, other
        relays' entries included (on one database): store.chain_seq is the chain's length at
        this commit."""
        newest = self.store.chain_seq
        if newest - self._mark >= self.every:
            self._mark = newest
            self._wake.set()

    def start(self) -> None:
        self.store.on_chain_entries = self.grew
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            try:
                await self.write()
            except Exception:  # the disk, the store busy: the next turn tries again
                log.exception("could not write a checkpoint to %s", self.path)

    async def stop(self) -> None:
        self.store.on_chain_entries = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await self.write()
        except Exception:
            log.exception("could not write the shutdown checkpoint to %s", self.path)
