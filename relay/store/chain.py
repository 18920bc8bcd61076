"""The keyed hash chain over every append-only table: what makes the record tamper-evident.

Every row the relay adds to an append-only table gets an entry in `chain`, in the same
transaction: the table, the row's key, the SHA-256 of the row's columns (canonical JSON,
blobs by their own SHA-256), and a link, HMAC-SHA256 over the entry and the previous
entry's link, under a key kept outside the database (store.chain_key). Whoever can write
the database but lacks the key cannot add, change or remove a row, nor re-chain after an
edit, without the chain showing it at that row. Cutting off the newest entries keeps the
rest consistent: checkpoints (relay.store.checkpoints) catch that.

The relay reads the rows that decide where mail goes or who may write (parties, aliases,
closings, settings, credentials) through `chained()`, so a row slipped in past the relay
is ignored as well as reported by `relay audit verify`.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from relay.store import dialect
from relay.store.quick import Quick

log = logging.getLogger("relay.chain")
GENESIS = "0" * 64
PAGE = 200
_HEAD = Quick("SELECT seq, mac FROM chain ORDER BY seq DESC LIMIT 1")
_LINK = Quick("INSERT INTO chain (seq, tbl, row_key, digest, prev_mac, mac) VALUES (?,?,?,?,?,?)")
# Up to this many rows are checked against the chain by lookups run in place (quick.py).
QUICK_KEYS = 32


def _entries(count: int) -> str:
    """The chain entries of `count` rows of a table, by their keys (the UNIQUE index)."""
    sql = ("SELECT seq, row_key, digest, prev_mac, mac FROM chain WHERE tbl = ? AND"
           f" row_key IN ({', '.join('?' * count)})")
    return Quick(sql) if count <= QUICK_KEYS else sql


def _entries_of(tables: int, count: int) -> str:
    """The chain entries of a few rows of several tables (QUICK_KEYS at most)."""
    return Quick("SELECT seq, tbl, row_key, digest, prev_mac, mac FROM chain WHERE tbl IN"
                 f" ({', '.join('?' * tables)}) AND row_key IN ({', '.join('?' * count)})")


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]  # the columns that name a row (never its rowid: VACUUM renumbers)
    columns: tuple[str, ...]  # the columns the chain covers


MESSAGE_COLUMNS = (
    "seq", "id", "conversation_id", "received_at", "direction", "disposition", "reasons",
    "peer", "helo", "mail_from", "rcpt_to", "recipient", "original_message_id",
    "relay_message_id", "raw", "delivered", "prev_hash", "hash", "size", "sha256",
)
# Every append-only table, parents before children (the order old rows are adopted in).
# A column added to one of these later is covered only once it is listed here.
TABLES: dict[str, Table] = {t.name: t for t in (
    Table("conversations", ("id",), ("id", "order_id", "buyer_key", "seller_key", "created_at")),
    Table("aliases", ("local_part",), ("local_part", "conversation_id", "role", "created_at")),
    Table("parties", ("conversation_id", "role", "address_key"),
          ("conversation_id", "role", "address", "address_key", "position")),
    Table("conversation_closings", ("conversation_id",), ("conversation_id", "at")),
    Table("messages", ("id",), MESSAGE_COLUMNS),
    Table("authentication_results", ("message_id",), ("message_id", "value")),
    Table("message_events", ("seq",), ("seq", "message_id", "at", "kind", "detail")),
    Table("message_marks", ("seq",), ("seq", "message_id", "at", "kind")),
    Table("conversation_events", ("seq",), ("seq", "conversation_id", "at", "kind", "value")),
    Table("buyer_events", ("seq",), ("seq", "address_key", "at", "kind", "value")),
    Table("seller_events", ("seq",), ("seq", "address_key", "at", "kind", "value")),
    Table("seller_credentials", ("seq",), ("seq", "address_key", "at", "hash")),
)}

# The key of each open connection, and whom to tell of a new entry: the functions here get
# a connection, not the Store.
_BOUND: weakref.WeakKeyDictionary[
    aiosqlite.Connection, tuple[bytes, Callable[[int], None]]] = weakref.WeakKeyDictionary()


# The newest entry the open write transaction added, so the next link() needs no query.
# Good only while that transaction holds the write lock: the store forgets it at every
# COMMIT and ROLLBACK, also to a savepoint (relay.store.db), so a rolled-back write never
# leaves it naming an entry that is gone.
_HEADS: weakref.WeakKeyDictionary[aiosqlite.Connection, tuple[int, str]] = (
    weakref.WeakKeyDictionary())


def bind(conn: aiosqlite.Connection, secret: bytes, on_entry: Callable[[int], None]) -> None:
    """on_entry is told the seq of every entry added on `conn`."""
    _BOUND[conn] = (secret, on_entry)


def forget_head(conn: aiosqlite.Connection) -> None:
    _HEADS.pop(conn, None)


def secret_of(db: aiosqlite.Connection) -> bytes:
    try:
        return _BOUND[db][0]
    except KeyError:
        raise RuntimeError("the store was opened without its chain key") from None


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        data = bytes(value)
        return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return value


def row_key(table: Table, row: Mapping[str, Any]) -> str:
    return canonical([row[c] for c in table.key])


def row_digest(table: Table, row: Mapping[str, Any]) -> str:
    fields = {c: _plain(row[c]) for c in table.columns}
    return hashlib.sha256(f"{table.name}\n{canonical(fields)}".encode("ascii")).hexdigest()


def entry_mac(secret: bytes, seq: int, tbl: str, key: str, digest: str, prev: str) -> str:
    text = f"chain\n{seq}\n{tbl}\n{key}\n{digest}\n{prev}".encode("ascii")
    return hmac.new(secret, text, hashlib.sha256).hexdigest()


def describe(tbl: str, key: str) -> str:
    """A row as people read it: "parties abc/seller/x@example.com"."""
    try:
        values = json.loads(key)
        shown = "/".join(str(v) for v in values)
    except (ValueError, TypeError):
        shown = key
    return f"{'record' if tbl == 'messages' else tbl} {shown}"


async def head(db: aiosqlite.Connection) -> tuple[int, str]:
    """The newest entry's (seq, mac); (0, GENESIS) for an empty chain."""
    rows = await db.execute_fetchall(_HEAD)
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)


async def link(db: aiosqlite.Connection, tbl: str, key: str, digest: str) -> int:
    """Append one entry after the newest; call inside store.write(). Returns its seq."""
    # Outside a transaction (SQLite rolled it back after an error a caller caught) the
    # remembered head may be gone: ask the table.
    await dialect.lock_chain(db)
    known = _HEADS.get(db) if db.in_transaction else None
    last, prev = known if known is not None else await head(db)
    seq = last + 1
    mac = entry_mac(secret_of(db), seq, tbl, key, digest, prev)
    await db.execute(_LINK, (seq, tbl, key, digest, prev, mac))
    _HEADS[db] = (seq, mac)
    _BOUND[db][1](seq)
    return seq


# Rows this process began to add, per connection and table (counted before the INSERT, so
# also when it fails or is rolled back): what a reader that keeps what it read checks
# (relay.store.conversations.version).
_ADDED: weakref.WeakKeyDictionary[aiosqlite.Connection, dict[str, int]] = (
    weakref.WeakKeyDictionary())


def added(db: aiosqlite.Connection, table: str) -> int:
    return _ADDED.get(db, {}).get(table, 0)


async def insert(db: aiosqlite.Connection, table: str, values: Mapping[str, Any],
                 or_ignore: bool = False) -> int | None:
    """INSERT a row into an append-only table and chain it, in the caller's transaction
    (inside store.write()). Returns its rowid; None when OR IGNORE left it out."""
    spec = TABLES[table]
    counts = _ADDED.setdefault(db, {})
    counts[table] = counts.get(table, 0) + 1
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    verb = "INSERT OR IGNORE" if or_ignore else "INSERT"
    ignore = ""
    if dialect.is_postgresql(db):
        await dialect.lock_chain(db)  # its seq, if it has one, in chain order
        verb, ignore = "INSERT", " ON CONFLICT DO NOTHING" if or_ignore else ""
    # RETURNING: what is hashed is what is stored (its defaults, its seq, after the
    # columns' type affinity), as verify reads it back, without a second query.
    stored = await db.execute_fetchall(Quick(
        f"{verb} INTO {table} ({names}) VALUES ({marks}){ignore}"
        f" RETURNING rowid AS _rowid, {', '.join(spec.columns)}"), tuple(values.values()))
    if not stored:  # OR IGNORE left it out
        return None
    row = stored[0]
    await link(db, table, row_key(spec, row), row_digest(spec, row))
    return int(row["_rowid"])


async def chained(db: aiosqlite.Connection, table: str,
                  rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The rows that are in the chain as they are now, in their order. A row without an
    entry, with other content than its entry, or whose entry the key did not make, is left
    out (and logged): it was added or changed past the relay. Rows need every column the
    chain covers (SELECT *)."""
    return (await chained_sets(db, [(table, rows)]))[0]


async def chained_sets(db: aiosqlite.Connection,
                       sets: Sequence[tuple[str, Sequence[Mapping[str, Any]]]],
                       ) -> list[list[Mapping[str, Any]]]:
    """chained() for rows of several tables at once: a few rows' entries are read in one
    statement (a conversation's rows, looked up for every message)."""
    secret = secret_of(db)
    keyed = [(TABLES[table], [row_key(TABLES[table], r) for r in rows]) for table, rows in sets]
    entries: dict[tuple[str, str], Any] = {}
    tables = list(dict.fromkeys(spec.name for spec, keys in keyed if keys))
    wanted = list(dict.fromkeys(key for _, keys in keyed for key in keys))
    if len(tables) > 1 and len(wanted) <= QUICK_KEYS:
        for e in await db.execute_fetchall(_entries_of(len(tables), len(wanted)),
                                           (*tables, *wanted)):
            entries[(e[1], e[2])] = (e[0], e[2], e[3], e[4], e[5])
    else:
        for spec, keys in keyed:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                for e in await _entries_by_key(db, spec.name, part):
                    entries[(spec.name, e[1])] = e
    found = []
    for (spec, keys), (_, rows) in zip(keyed, sets, strict=True):
        out = []
        for row, key in zip(rows, keys, strict=True):
            if _holds(secret, spec, row, key, entries.get((spec.name, key))):
                out.append(row)
            else:
                log.error("ignoring %s: not in the chain as it is (changed or added past the"
                          " relay); run `relay audit verify`", describe(spec.name, key))
        found.append(out)
    return found


def _holds(secret: bytes, spec: Table, row: Mapping[str, Any], key: str, entry: Any) -> bool:
    """The row is its entry's, and the key made the entry."""
    if entry is None:
        return False
    if spec.name in _UNKEPT:
        return _check(secret, spec, row, key, tuple(entry))
    return _kept_check(secret, spec.name, key, tuple(row[c] for c in spec.columns),
                       tuple(entry))


def _check(secret: bytes, spec: Table, row: Mapping[str, Any], key: str,
           entry: tuple[Any, ...]) -> bool:
    seq, _, digest, prev, mac = entry
    return bool(digest == row_digest(spec, row) and hmac.compare_digest(
        mac, entry_mac(secret, seq, spec.name, key, digest, prev)))


# The check is a function of the row's columns, its entry and the key alone, so a row read
# again as it was (a conversation's, at every message) is not hashed again; a row or entry
# changed since is another key here and is checked afresh. Records are not kept: their bytes
# would be held, and hashing them is most of their check anyway.
_UNKEPT = frozenset({"messages"})


@functools.lru_cache(maxsize=4096)
def _kept_check(secret: bytes, table: str, key: str, values: tuple[Any, ...],
                entry: tuple[Any, ...]) -> bool:
    spec = TABLES[table]
    return _check(secret, spec, dict(zip(spec.columns, values, strict=True)), key, entry)


async def _entries_by_key(db: aiosqlite.Connection, table: str,
                          keys: list[str]) -> Sequence[Any]:
    if dialect.is_postgresql(db):
        # An index probe per key whatever the statistics say (OFFSET 0 keeps the lateral
        # subquery from becoming a join to plan): IN (…500 keys) without them was a scan
        # of every entry of the table's in the chain, 9 ms a batch at 2,000 conversations.
        return await db.execute_fetchall(
            "SELECT e.seq, e.row_key, e.digest, e.prev_mac, e.mac"
            " FROM unnest(?::text[]) AS k (key), LATERAL (SELECT * FROM chain c"
            "  WHERE c.tbl = ? AND c.row_key = k.key OFFSET 0) e", (keys, table))
    return await db.execute_fetchall(_entries(len(keys)), (table, *keys))


# -- adopting rows made before the chain --------------------------------------------------


async def _pages(db: aiosqlite.Connection, table: Table) -> AsyncIterator[list[Any]]:
    last = -(2**63)
    while True:
        rows = await db.execute_fetchall(
            f"SELECT rowid AS _rowid, {', '.join(table.columns)} FROM {table.name}"
            f" WHERE rowid > ? ORDER BY rowid LIMIT {PAGE}", (last,))
        if not rows:
            return
        yield list(rows)
        last = rows[-1]["_rowid"]


async def adopt(db: aiosqlite.Connection) -> int:
    """Chain every row made before the chain existed, once (the migration that made the
    chain left a mark). Returns how many; call inside store.write(). These entries say
    only what the rows held at adoption: the first checkpoint, written right after,
    anchors that."""
    if not await db.execute_fetchall("SELECT 1 FROM chain_adoption"):
        return 0
    count = 0
    for table in TABLES.values():
        async for page in _pages(db, table):
            for row in page:
                await link(db, table.name, row_key(table, row), row_digest(table, row))
                count += 1
    await db.execute("DELETE FROM chain_adoption")
    return count


# -- verifying everything ----------------------------------------------------------------


def first_differences(problems: list[Problem]) -> list[Problem]:
    """In chain order, one per row: the first is where the store first differs."""
    seen: set[str] = set()
    out = []
    for problem in sorted(problems, key=lambda p: (p.at, p.rank)):
        if problem.row not in seen:
            seen.add(problem.row)
            out.append(problem)
    return out


async def entry_of(store: Any, tbl: str, key: str) -> int | None:
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT seq FROM chain WHERE tbl = ? AND row_key = ?", (tbl, key))
    return int(rows[0][0]) if rows else None


@dataclass(frozen=True)
class Problem:
    at: int  # the chain entry where it shows (for "the first difference"); huge: no entry
    row: str  # the row it is about, as describe() puts it
    text: str
    label: str | None = None  # how to name the row, when more than describe() says
    rank: int = 1  # of two problems of one row at one entry, the lower is told

    def __str__(self) -> str:
        return f"{self.label or self.row}: {self.text}"


UNCHAINED = 2**62  # a row with no entry sorts after every entry


@dataclass
class Report:
    entries: int
    head: tuple[int, str]  # the newest entry's (seq, mac)
    problems: list[Problem]


async def verify(store: Any) -> Report:
    """Walk the chain, then every chained table against it, and the closings against the
    conversations. `store` is a relay.store.db.Store (read in pages, so a big store is never
    held in memory and the relay keeps running meanwhile)."""
    problems: list[Problem] = []
    entries, last = 0, (0, GENESIS)
    async with store.read() as db:
        secret = secret_of(db)
    after = 0
    while True:
        async with store.read() as db:
            rows = await db.execute_fetchall(
                "SELECT seq, tbl, row_key, digest, prev_mac, mac FROM chain WHERE seq > ?"
                f" ORDER BY seq LIMIT {PAGE * 5}", (after,))
        if not rows:
            break
        for seq, tbl, key, digest, prev, mac in rows:
            entries += 1
            what = describe(tbl, key)
            if seq != last[0] + 1 or prev != last[1]:
                problems.append(Problem(seq, what, (
                    f"chain entry {seq} does not follow entry {last[0]}: entries between"
                    " them were removed, or this one was put in")))
            elif not hmac.compare_digest(mac, entry_mac(secret, seq, tbl, key, digest, prev)):
                problems.append(Problem(seq, what, (
                    f"chain entry {seq} was not made with this store's chain key (forged or"
                    " altered)")))
            last = (seq, mac)
        after = rows[-1][0]
    for table in TABLES.values():
        problems += await _check_table(store, table)
    problems += await _check_closed_at(store)
    return Report(entries, last, problems)


async def _check_table(store: Any, table: Table) -> list[Problem]:
    problems: list[Problem] = []
    matched = 0
    last = -(2**63)
    while True:
        async with store.read() as db:
            rows = await db.execute_fetchall(
                f"SELECT rowid AS _rowid, {', '.join(table.columns)} FROM {table.name}"
                f" WHERE rowid > ? ORDER BY rowid LIMIT {PAGE}", (last,))
            if not rows:
                break
            keys = [row_key(table, r) for r in rows]
            found = {e[1]: e for e in await db.execute_fetchall(
                "SELECT seq, row_key, digest FROM chain WHERE tbl = ? AND row_key IN"
                f" ({', '.join('?' * len(keys))})", (table.name, *keys))}
        for row, key in zip(rows, keys, strict=True):
            entry = found.get(key)
            what = describe(table.name, key)
            if entry is None:
                problems.append(Problem(UNCHAINED, what, (
                    "not in the chain: added past the relay (or by one without this store's"
                    " chain key)")))
                continue
            matched += 1
            if entry[2] != row_digest(table, row):
                problems.append(Problem(entry[0], what, (
                    f"differs from what chain entry {entry[0]} recorded: altered")))
        last = rows[-1]["_rowid"]
    async with store.read() as db:
        (total,), = await db.execute_fetchall(
            "SELECT COUNT(*) FROM chain WHERE tbl = ?", (table.name,))
    if total > matched:  # some entry has lost its row: name each one
        problems += await _removed_rows(store, table)
    return problems


async def _removed_rows(store: Any, table: Table) -> list[Problem]:
    problems = []
    where = " AND ".join(f"{c} = ?" for c in table.key)
    after = 0
    while True:
        async with store.read() as db:
            entries = await db.execute_fetchall(
                "SELECT seq, row_key FROM chain WHERE tbl = ? AND seq > ? ORDER BY seq"
                f" LIMIT {PAGE}", (table.name, after))
            if not entries:
                return problems
            for seq, key in entries:
                try:
                    values = json.loads(key)
                except ValueError:
                    values = None
                there = isinstance(values, list) and len(values) == len(table.key) and bool(
                    await db.execute_fetchall(
                        f"SELECT 1 FROM {table.name} WHERE {where}", tuple(values)))
                if not there:
                    problems.append(Problem(seq, describe(table.name, key), (
                        f"chained at entry {seq} but no longer in the store: removed")))
        after = entries[-1][0]


async def _check_closed_at(store: Any) -> list[Problem]:
    """conversations.closed_at is a copy of the chained closing: a conversation closed or
    reopened by changing it is named (the relay itself goes by the closing)."""
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT c.id, c.closed_at, k.at, (SELECT seq FROM chain e WHERE e.tbl ="
            " 'conversations' AND e.row_key = json_array(c.id)) AS seq"
            " FROM conversations c LEFT JOIN conversation_closings k"
            " ON k.conversation_id = c.id WHERE c.closed_at IS NOT k.at")
    return [Problem(UNCHAINED if seq is None else seq,
                    describe("conversations", canonical([cid])),
                    f"closed_at is {closed!r} but its chained closing says {at!r}: changed"
                    " past the relay") for cid, closed, at, seq in rows]
