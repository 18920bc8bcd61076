"""Migrations: numbered SQL files in relay/migrations/ (package data), each applied once,
atomically."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from relay.errors import StartupError
from relay.store.db import Store, utcnow

MIGRATIONS_DIR = Path(str(resources.files("relay") / "migrations"))
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
