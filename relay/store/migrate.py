"""Migrations: numbered SQL files in relay/migrations/ (package data), each applied once,
atomically."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from relay.errors import StartupError
from relay.store.db import Store, utcnow

MIGRATIONS_DIR = Path(str(resources.files("relay") / "migrations"))
# The same versions in PostgreSQL's dialect (a store at store.url).
POSTGRESQL_DIR = MIGRATIONS_DIR / "postgresql"
# pg_advisory_lock key while migrating: relays starting together migrate one at a time.
MIGRATE_LOCK = 0x6D696772617465  # "migrate"
MIGRATION_TIMEOUT = 24 * 3600.0  # seconds; a PostgreSQL migration is not cut short

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


async def migrate(store: Store, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; returns the names applied. No migration files at all is a
    broken installation, never "up to date": a store without tables would refuse every
    message."""
    if getattr(store, "url", None):  # relay.store.pg.PgStore
        return await _migrate_postgresql(store, POSTGRESQL_DIR if directory == MIGRATIONS_DIR
                                         else directory)
    if not available(directory):
        raise StartupError(f"no migrations in {directory}: the relay is installed without its"
                           " package data (relay/migrations/*.sql)")
    async with store.read() as db:
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await db.execute_fetchall("SELECT version FROM schema_migrations")
        done = {row[0] for row in rows}
        applied = []
        for version, path in available(directory):
            if version in done:
                continue
            name = path.name.replace("'", "''")
            # One script, one transaction: a failing migration leaves nothing behind.
            script = (
                "BEGIN IMMEDIATE;\n" + path.read_text(encoding="utf-8") + "\n"
                f"INSERT INTO schema_migrations VALUES ({version}, '{name}', '{utcnow()}');\n"
                "COMMIT;"
            )
            try:
                await db.executescript(script)
            except Exception:
                if db.in_transaction:
                    await db.rollback()
                raise
            applied.append(path.name)
        return applied


async def _migrate_postgresql(store: Store, directory: Path) -> list[str]:
    """As on SQLite: each pending file and its schema_migrations row in one transaction."""
    if not available(directory):
        raise StartupError(f"no migrations in {directory}: the relay is installed without its"
                           " package data (relay/migrations/postgresql/*.sql)")
    applied = []
    async with store.read() as db:
        conn = db.raw  # the scripts go as they are (many statements, $$-quoted bodies)
        await conn.execute("SET lock_timeout = 0")  # wait for a relay migrating already
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK, timeout=MIGRATION_TIMEOUT)
        try:
            # Only when missing: a relay role without CREATE (docs/operations.md) starts
            # on a database its owner migrated.
            if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
                await conn.execute(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
            done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, path in available(directory):
                if version in done:
                    continue
                async with conn.transaction():
                    # not store.command_timeout: an index on a big table takes its time
                    await conn.execute(path.read_text(encoding="utf-8"), timeout=MIGRATION_TIMEOUT)
                    await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                                       version, path.name, utcnow())
                applied.append(path.name)
        except Exception as exc:
            raise StartupError(f"migrating the PostgreSQL store failed at"
                               f" {(applied and 'the one after ' + applied[-1]) or 'the first'}:"
                               f" {exc}") from exc
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK)
    return applied
