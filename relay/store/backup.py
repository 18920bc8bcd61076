"""`relay backup PATH`: an online copy of the store through SQLite's backup API, taken in
one step so it is one consistent snapshot while the relay keeps writing (WAL), and checked
(integrity, every hash chain) before it is put in place. The copy gets a checkpoint log of
its own (PATH.checkpoints: where a config naming PATH as the store looks by default)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiosqlite

from relay.errors import UsageError
from relay.store import checkpoints
from relay.store.audit import audit
from relay.store.db import Store


def copy_log(target: Path) -> Path:
    return target.with_name(target.name + ".checkpoints")


async def backup(store: Store, target: Path) -> int:
    """Copy the store to `target` (which must not exist); returns the records copied."""
    if getattr(store, "url", None):
        raise UsageError("the store is PostgreSQL (store.url): back it up with pg_dump, see"
                         " docs/operations.md")
    if target.exists():
        raise UsageError(f"{target} exists; back up to a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    log = copy_log(target)
    log.unlink(missing_ok=True)  # from an earlier copy of that name, since removed
    try:
        dest = await aiosqlite.connect(partial)
        try:
            async with store.read() as db:
                await db.backup(dest)  # pages=0: the whole database in one step
        finally:
            await dest.close()
        copy = await Store.open(partial, secret=store.secret)
        try:
            async with copy.read() as db:
                (check,), = await db.execute_fetchall("PRAGMA integrity_check")
                await db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            found = await audit(copy, log)
            if check == "ok" and found.ok:
                await checkpoints.Checkpointer(copy, log, 1, 1.0).write()
        finally:
            await copy.close()
        if check != "ok" or not found.ok:
            first = f"; first: {found.problems[0]}" if found.problems else ""
            raise UsageError(f"the copy does not check out ({check}; {len(found.problems)}"
                             f" problems{first}); the store itself may be damaged: run `relay"
                             " audit verify`")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.rename(target)
    except BaseException:
        await asyncio.to_thread(log.unlink, True)
        raise
    finally:
        partial.unlink(missing_ok=True)
    return found.records.count
