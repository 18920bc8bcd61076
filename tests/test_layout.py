"""The code's layout: imports point one way (no circles), and every SQL statement lives in
relay/store/ (so a second backend is one package to write): outside it no module imports a
database driver, runs a statement on a connection, or holds SQL text."""

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


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The relay modules `path` imports at run time (imports only for type checkers are
    left out: they never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    found.add(full)
                elif node.module in modules:
                    found.add(node.module)
    return found


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other in a loop (strongly connected, Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return circles


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _circles(graph) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_imports_point_one_way() -> None:
    """No two relay modules import each other, directly or round a loop (the stages import
    relay.pipeline.parcel; relay.pipeline.order imports the stages)."""
    paths = {}
    for path in RELAY.rglob("*.py"):
        parts = path.relative_to(RELAY.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        paths[name] = path
    modules = set(paths)
    graph = {name: _imports(path, modules) for name, path in paths.items()}
    assert "relay.pipeline.parcel" in graph["relay.stages.redact"]  # the walk sees imports
    assert _circles(graph) == []
    # The stage order is the intake's: nothing else builds or runs the stages.
    assert {m for m, found in graph.items() if "relay.pipeline.order" in found} == {
        "relay.pipeline.intake"}
    stages = [m for m in graph if m.startswith("relay.stages.")]
    assert len(stages) > 10
    for stage in stages:  # a stage knows the parcel, not the pipeline around it
        assert not graph[stage] & {"relay.pipeline.order", "relay.pipeline.intake"}, stage
