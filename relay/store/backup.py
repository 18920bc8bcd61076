"""`relay backup PATH`: an online copy of the store through SQLite's backup API, taken in
one step so it is one consistent snapshot while the relay keeps writing (WAL), and checked
(integrity, every hash chain) before it is put in place."""

from __future__ import annotations

import os
from pathlib import Path

import aiosqlite

from relay.errors import UsageError
from relay.store import records
from relay.store.db import Store


async def backup(store: Store, target: Path) -> int:
    """Copy the store to `target` (which must not exist); returns the records copied."""
    if target.exists():
        raise UsageError(f"{target} exists; back up to a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        dest = await aiosqlite.connect(partial)
        try:
            async with store.read() as db:
                await db.backup(dest)  # pages=0: the whole database in one step
        finally:
            await dest.close()
        copy = await Store.open(partial)
        try:
            async with copy.read() as db:
                (check,), = await db.execute_fetchall("PRAGMA integrity_check")
                await db.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            audit = await records.verify(copy)
        finally:
            await copy.close()
        if check != "ok" or audit.broken:
            raise UsageError(f"the copy does not check out ({check}; {len(audit.broken)} broken"
                             " records); the store itself may be damaged: run `relay audit"
                             " verify`")
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)
    return audit.count
