"""Opening the store the way every command and the relay do: its chain key (made on first
start), migrations, the one-time adoption of rows made before the chain, and a check of the
latest checkpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from relay import keyfile
from relay.config import StoreSettings
from relay.errors import StartupError
from relay.ops.logs import event
from relay.store import chain, checkpoints
from relay.store.db import Store
from relay.store.migrate import migrate

log = logging.getLogger("relay.store")


def _has_chain(path: Path) -> bool:
    """Whether the store at `path` already has chain entries (made with some key)."""
    if not path.exists():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            return bool(db.execute("SELECT 1 FROM chain LIMIT 1").fetchall())
        except sqlite3.OperationalError:  # no chain table yet
            return False


async def load_secret(settings: StoreSettings, make: bool = True,
                      announce: bool = False) -> bytes:
    """The chain key. make=False (checking a store, e.g. a copy): a missing key is an error
    when the store has a chain already; a new key could only say every entry is forged."""
    path = settings.key_path
    try:
        return keyfile.read(path, "store.chain_key")
    except FileNotFoundError:
        # (A PostgreSQL store is not looked at: the key is made, and verify says every
        # entry was not made with it.)
        if (not make and not settings.url
                and await asyncio.to_thread(_has_chain, settings.path)):
            raise StartupError(
                f"store.chain_key: no key at {path}, and {settings.path} was chained with one;"
                " set store.chain_key to the key of the relay this store (or copy) came"
                " from") from None
    return keyfile.load_or_make(path, "store.chain_key", "chain key", announce)


async def prepare(store: Store, settings: StoreSettings) -> list[str]:
    """Migrate; chain the rows made before the chain (once), and checkpoint them at once;
    warn when the store no longer holds the latest checkpoint. Returns the migrations
    applied."""
    applied = await migrate(store)
    async with store.write() as db:
        adopted = await chain.adopt(db)
    if adopted:
        log.warning("chained %d rows made before the chain (as they are now); the checkpoint"
                    " written now anchors them", adopted)
        await checkpoints.Checkpointer(store, settings.log_path, 1, 1.0).write()
    await _check_latest(store, settings)
    return applied


async def _check_latest(store: Store, settings: StoreSettings) -> None:
    assert store.secret is not None
    cp = await asyncio.to_thread(checkpoints.latest, settings.log_path, store.secret)
    if cp is None:
        return
    async with store.read() as db:
        rows = await db.execute_fetchall("SELECT mac FROM chain WHERE seq = ?", (cp.seq,))
    if not rows or rows[0][0] != cp.head:
        event(log, "store.checkpoint_mismatch", logging.ERROR, seq=cp.seq, at=cp.at,
              action="run relay audit verify: the record was changed outside the relay")


async def connect(settings: StoreSettings, secret: bytes | None,
                  pool_size: int | None = None) -> Store:
    """The store the settings name: PostgreSQL at store.url, else SQLite at store.path (not
    migrated: see open_store). StoreUnavailable: the database server does not answer."""
    if settings.url:
        from relay.store.pg import PgStore

        return await PgStore.connect(settings.url, pool_size or settings.pool_size,
                                     settings.busy_timeout, secret, settings.command_timeout)
    return await Store.open(settings.path, settings.busy_timeout, secret)


async def open_store(settings: StoreSettings, make_key: bool = True) -> Store:
    """The store, with its chain key, migrated and adopted."""
    secret = await load_secret(settings, make_key)
    store = await connect(settings, secret)
    try:
        await prepare(store, settings)
    except BaseException:
        await store.close()
        raise
    return store
