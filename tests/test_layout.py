"""The code's layout: every SQL statement lives in relay/store/ (so a second backend is one
package to write). Outside it no module imports a database driver, runs a statement on a
connection, or holds SQL text."""

from __future__ import annotations

import ast
import re
from pathlib import Path

RELAY = Path(__file__).resolve().parents[1] / "relay"
STORE = RELAY / "store"
DRIVERS = {"aiosqlite", "sqlite3", "asyncpg", "psycopg"}
# Case-sensitive, so English ("select a template", "update the seller") does not count.
STATEMENT = re.compile(
    r"^\s*(SELECT|INSERT (OR \w+ )?INTO|REPLACE INTO|UPDATE \w+ SET|DELETE FROM"
    r"|CREATE (TABLE|INDEX|UNIQUE INDEX|TRIGGER|VIEW)|ALTER TABLE|DROP TABLE|PRAGMA \w+"
    r"|BEGIN( IMMEDIATE| EXCLUSIVE)?$)\b")
# A subquery or a fragment inside another string: "EXISTS (SELECT 1 FROM chain ...".
SUBQUERY = re.compile(r"\bSELECT\b.*\bFROM \w+", re.DOTALL)
RUN = {"execute", "execute_fetchall", "executemany", "executescript", "fetch", "fetchrow",
       "fetchval"}


def _modules() -> list[Path]:
    return sorted(p for p in RELAY.rglob("*.py") if STORE not in p.parents)


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    where = path.relative_to(RELAY.parent)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            names = []
        for name in names:
            if name.split(".")[0] in DRIVERS:
                found.append(f"{where}:{node.lineno}: imports {name}")
        # f-strings too: their literal parts are Constant nodes.
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and (STATEMENT.match(node.value) or SUBQUERY.search(node.value))):
            found.append(f"{where}:{node.lineno}: SQL {node.value.strip()[:60]!r}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in RUN):
            found.append(f"{where}:{node.lineno}: runs a statement (.{node.func.attr})")
    return found


def test_the_checks_see_sql() -> None:
    """What the layout test looks for, shown on samples (and English let through)."""
    sql = ["SELECT * FROM parties WHERE role = ?", "  INSERT INTO refusals (at) VALUES (?)",
           "INSERT OR IGNORE INTO parties", "UPDATE conversations SET closed_at = ?",
           "DELETE FROM outbox WHERE message_id = ?", "CREATE TABLE x (a)", "BEGIN IMMEDIATE",
           "EXISTS (SELECT 1 FROM chain l WHERE l.tbl = 'messages')"]
    english = ["select a template", "Select the seller's address", "UPDATE: the seller moved",
               "DELETE the draft?", "Insert into the form", "Create table", "Begin"]
    for text in sql:
        assert STATEMENT.match(text) or SUBQUERY.search(text), text
    for text in english:
        assert not (STATEMENT.match(text) or SUBQUERY.search(text)), text


def test_sql_lives_in_the_store_only() -> None:
    modules = _modules()
    assert len(modules) > 20  # the walk found the package
    found = [f for path in modules for f in _findings(path)]
    assert not found, "SQL outside relay/store/ (move it into a repository there):\n" + "\n".join(
        found)
