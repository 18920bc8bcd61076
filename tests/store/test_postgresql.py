"""The store on both backends (the `backend` fixture: SQLite, then a real PostgreSQL in a
database of the test's own): mail through the relay recorded, delivered and verified; the
chains linear under concurrent writers from two stores on one database; the record tables
append-only on PostgreSQL; and what start-up says about a bad or unreachable store.url."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
import time
import uuid
from pathlib import Path

import asyncpg
import pytest
from conftest import (
    BUYER,
    DOMAIN,
    ORDER,
    SELLER,
    compose,
    free_port,
    make_config,
    run_cli,
    send,
    serve_config,
)
from support import postgresql
from support.record import accepted, wait_event
from support.relay_process import serving

from relay.config import LimitsSettings, StoreSettings
from relay.marketplace import conversations
from relay.store import chain, checkpoints, limits, outbox, records
from relay.store.audit import audit
from relay.store.checkpoints import Checkpointer
from relay.store.db import Store, utcnow
from relay.store.dialect import translate
from relay.store.migrate import migrate
from relay.store.pg import PgStore
from relay.store.startup import open_store


def store_config(tmp_path: Path, settings: StoreSettings) -> Path:
    """A config for the CLI that names only the store."""
    path = tmp_path / "cli.toml"
    url = f"url = {json.dumps(settings.url)}\n" if settings.url else ""
    path.write_text(f'domain = "{DOMAIN}"\n[store]\npath = {json.dumps(str(settings.path))}\n'
                    f"{url}[delivery]\nmaildir = {json.dumps(str(tmp_path / 'maildir'))}\n",
                    encoding="utf-8")
    return path


async def verify_cli(tmp_path: Path, settings: StoreSettings) -> str:
    done = await asyncio.to_thread(run_cli, "--config", str(store_config(tmp_path, settings)),
                                   "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_mail_is_recorded_delivered_and_verifies(backend, relay_factory, capture,
                                                       tmp_path):
    relay = await relay_factory(make_config(tmp_path, capture.port).replace(store=backend))
    assert relay.store is not None
    conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER,
                                                    [SELLER])
    ids = [await accepted(relay.smtp_port, BUYER, conv.seller_alias, "one"),
           await accepted(relay.smtp_port, SELLER, conv.buyer_alias, "two"),
           await accepted(relay.smtp_port, BUYER, conv.seller_alias, "three")]
    assert len(await capture.wait_for(3)) == 3
    for message_id in ids:
        await wait_event(relay, message_id, "delivered")
    assert (await relay.readiness())["store_writable"]
    assert (await verify_cli(tmp_path, backend)).startswith("ok: 3 records")


def record(conversation_id: str, n: int) -> records.Record:
    raw = f"Subject: {n}\r\n\r\nmessage {n}\r\n".encode()
    return records.Record(
        id=uuid.uuid4().hex, conversation_id=conversation_id, received_at=utcnow(),
        direction="buyer_to_seller", disposition="delivered", reasons=(), peer="127.0.0.1",
        helo="test", mail_from=BUYER, rcpt_to=("x@relay.test",), recipient=SELLER,
        original_message_id=None, relay_message_id=None, raw=raw, delivered=raw)


async def test_concurrent_appends_from_two_stores_stay_linear(backend, tmp_path):
    """Two stores on one database (two relays): 40 records into one conversation at once."""
    first = await open_store(backend)
    second = await open_store(backend)
    try:
        conv, _ = await conversations.open_conversation(
            first, DOMAIN, "112-0000000-0000002", BUYER, [SELLER])

        async def append(store, n: int) -> None:
            async with store.write() as db:
                await records.append(db, record(conv.id, n))

        await asyncio.gather(*(append(first if n % 2 else second, n) for n in range(40)))
        found = await audit(first, backend.log_path)
        assert found.ok, [str(p) for p in found.problems]
        assert found.records.count == 40
        assert not found.records.broken
    finally:
        await first.close()
        await second.close()



async def test_checkpoints_count_every_relays_entries_and_verify(backend, tmp_path):
    """Two stores on one database (two relays), each with its checkpoint log: the one that
    adds few entries while the other adds many still writes a checkpoint once the chain has
    grown by checkpoint_every (counting only its own entries, it would not), and the store
    verifies against both logs (`relay audit verify` reads the first)."""
    first = await open_store(backend)
    second = await open_store(backend)
    logs = (backend.log_path, tmp_path / "second.checkpoints")
    marks = [Checkpointer(store, log, 10, 3600.0)
             for store, log in zip((first, second), logs, strict=True)]
    try:
        conv, _ = await conversations.open_conversation(
            first, DOMAIN, "112-0000000-0000003", BUYER, [SELLER])
        for mark in marks:
            await mark.prime()
            mark.start()

        async def append(store, n: int) -> None:
            async with store.write() as db:
                await records.append(db, record(conv.id, n))

        await append(first, 0)
        for n in range(1, 31):
            await append(second, n)
        await append(first, 31)  # its second entry, the chain's 32nd since the checkpoint
        async with first.read() as db:
            head = await chain.head(db)
        assert head[0] >= 32

        deadline = time.monotonic() + 15
        while not any(cp.seq >= head[0] for cp in checkpoints.read(logs[0], first.secret)[0]):
            assert time.monotonic() < deadline, "the first relay wrote no checkpoint of the head"
            await asyncio.sleep(0.05)
        for mark in marks:
            await mark.stop()
        for store, log in zip((first, second), logs, strict=True):
            found = await audit(store, log)
            assert found.ok, [str(p) for p in found.problems]
            assert found.checkpoint is not None and found.checkpoint.seq == head[0]
    finally:
        for mark in marks:
            await mark.stop()
        await first.close()
        await second.close()
    said = await verify_cli(tmp_path, backend)
    assert said.startswith("ok: 32 records"), said
    assert f"the latest checkpoint (entry {head[0]}," in said, said


async def test_counted_limits_on_both(backend):
    store = await open_store(backend)
    try:
        async with store.write() as db:
            for account in ("a", "a", "b"):
                await limits.add_login_failure(db, utcnow(), "192.0.2.0/24", account)
            for size in (10, 20, 30):
                await limits.add_refusal(db, "192.0.2.0/24", utcnow(), size, None)
        async with store.read() as db:
            assert await limits.login_failures(db, "192.0.2.0/24", "a", "2000") == (3, 2)
            assert await limits.refusals(db, "192.0.2.0/24", "2000", 2) == (2, 30)
            assert await limits.refusals(db, "192.0.2.0/24", "2000", 10) == (3, 60)
    finally:
        await store.close()


async def test_record_tables_refuse_change_on_postgresql(postgresql_url, tmp_path):
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
    store = await open_store(settings)
    try:
        conv, _ = await conversations.open_conversation(
            store, DOMAIN, "112-0000000-0000003", BUYER, [SELLER])
        async with store.write() as db:
            await records.append(db, record(conv.id, 1))
    finally:
        await store.close()
    # As the database's owner, past the relay: the triggers still refuse.
    db = await asyncpg.connect(postgresql_url)
    try:
        for table, change, wording in [
                ("messages", "UPDATE messages SET disposition = 'rejected'", "append-only"),
                ("messages", "DELETE FROM messages", "append-only"),
                ("chain", "UPDATE chain SET mac = mac", "append-only"),
                ("aliases", "DELETE FROM aliases", "never reused"),
                ("parties", "UPDATE parties SET address = 'mallory@evil.example'",
                 "append-only"),
                ("conversations", "DELETE FROM conversations", "never removed"),
                ("conversations", "UPDATE conversations SET order_id = 'x'", "append-only")]:
            with pytest.raises(asyncpg.IntegrityConstraintViolationError, match=wording):
                await db.execute(change)
            with pytest.raises(asyncpg.IntegrityConstraintViolationError):
                await db.execute(f"TRUNCATE {table} CASCADE")
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="closed once"):
            await db.execute("UPDATE conversations SET closed_at = 'x'")
            await db.execute("UPDATE conversations SET closed_at = 'y'")
    finally:
        await db.close()


async def test_migrate_on_postgresql(postgresql_url, tmp_path):
    config = store_config(tmp_path, StoreSettings(path=tmp_path / "relay.db",
                                                  url=postgresql_url))
    first = await asyncio.to_thread(run_cli, "--config", str(config), "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 0001_initial.sql"), first.stdout
    assert "0014_chain.sql" in first.stdout
    again = await asyncio.to_thread(run_cli, "--config", str(config), "migrate")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "store is up to date"


def _columns(definition: str) -> str:
    """An index's key, as "(a,lower(b))": the part after its table, without spaces."""
    return "".join(definition[definition.index("("):].split()).lower()


async def test_every_sqlite_index_is_on_postgresql_too(postgresql_url, tmp_path):
    """The migrations made on each: every index SQLite's create (by name) is on PostgreSQL
    with the same key, so no query is fast on one and scans a table on the other; and the
    message bytes are not compressed on PostgreSQL."""
    lite = await Store.open(tmp_path / "relay.db")
    try:
        await migrate(lite)
        async with lite.read() as db:
            rows = await db.execute_fetchall(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    finally:
        await lite.close()
    sqlite_indexes = {name: _columns(sql.split(" ON ", 1)[1]) for name, sql in rows}
    pg = await PgStore.connect(postgresql_url, 1)
    try:
        await migrate(pg)
        async with pg.read() as db:
            rows = await db.execute_fetchall(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            storage = {r[0]: r[1] for r in await db.execute_fetchall(
                "SELECT attname, attstorage::text FROM pg_attribute"
                " WHERE attrelid = 'messages'::regclass AND attname IN ('raw', 'delivered')")}
    finally:
        await pg.close()
    pg_indexes = {name: _columns(definition.split(" USING ", 1)[1]) for name, definition in rows}
    assert "messages_conversation_accepted" in sqlite_indexes
    assert {name: pg_indexes.get(name) for name in sqlite_indexes} == sqlite_indexes
    # A message's bytes EXTERNAL (0017): out of line, not compressed (as on SQLite)
    assert storage == {"raw": "e", "delivered": "e"}


@pytest.mark.parametrize(("url", "said"), [
    ("mysql://root@127.0.0.1/relay", "relay: config error: store.url: must start with postgresql://"),
    ("postgresql://postgres@127.0.0.1:5432/", "relay: config error: store.url: names no database"),
    ("postgresql://postgres:hunter2@127.0.0.1:{port}/relay",
     "relay: store.url: cannot connect to postgresql://postgres:***@127.0.0.1:{port}/relay"),
])
def test_bad_or_unreachable_store_url_exits_2_with_one_line(tmp_path, url, said):
    port = free_port()  # nothing listens there
    config = store_config(tmp_path, StoreSettings(path=tmp_path / "relay.db"))
    done = run_cli("--config", str(config), "migrate",
                   env={"RELAY_STORE_URL": url.format(port=port)})
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(said.format(port=port)), done.stderr
    assert "hunter2" not in done.stderr


def test_translation_to_postgresql():
    assert translate("SELECT 1 FROM t WHERE a = ? AND b LIKE '%?%' AND c IN (?, ?)") == (
        "SELECT 1 FROM t WHERE a = $1 AND b LIKE '%?%' AND c IN ($2, $3)")
    assert translate("SELECT value FROM json_each(?)") == (
        "SELECT value FROM json_array_elements_text($1::json)")
    assert translate("m.id IN (SELECT value FROM json_each(?)) AND seq NOT IN"
                     " (SELECT value FROM json_each(?))") == (
        "m.id = ANY(ARRAY(SELECT json_array_elements_text($1::json))) AND seq NOT IN"
        " (SELECT value FROM json_array_elements_text($2::json))")
    assert translate("l.row_key = json_array(m.id)") == (
        "l.row_key = (json_build_array(m.id)::text)")
    assert translate("WHERE c.closed_at IS NOT k.at AND x IS NOT NULL") == (
        "WHERE c.closed_at IS DISTINCT FROM k.at AND x IS NOT NULL")
    assert translate("WHERE id NOT IN ()") == "WHERE id NOT IN (SELECT NULL WHERE FALSE)"
    assert translate("ELSE x'' END, x'00ff'") == "ELSE '\\x'::bytea END, '\\x00ff'::bytea"
    assert translate("seq > ? AND +tbl = 'parties' AND a + b") == (
        "seq > $1 AND tbl = 'parties' AND a + b")


async def test_451_while_the_database_is_away_then_recovery(postgresql_url, relay_factory,
                                                             capture, tmp_path):
    """The server refuses the relay's connections (and drops those it has): the message gets
    451 4.3.0 and /readyz says the store is not writable; once it is back, mail flows again
    without a restart, and everything that got 250 is delivered and verifies."""
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
    relay = await relay_factory(make_config(tmp_path, capture.port).replace(store=settings))
    assert relay.store is not None
    conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER, [SELLER])
    before = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "before")
    # Delivered and recorded as such first: an outage between the inbox's 250 and that
    # record would have it delivered again (at least once, as with SQLite at a full disk).
    await wait_event(relay, before, "delivered")
    name = postgresql_url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(postgresql_url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                 compose(BUYER, conv.seller_alias, subject="away"))
        assert (code, reply[:5]) == (451, "4.3.0"), reply
        assert not (await relay.readiness())["store_writable"]
    finally:
        await admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await admin.close()
    after = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "after")
    for message_id in (before, after):
        await wait_event(relay, message_id, "delivered")
    assert len(await capture.wait_for(2)) == 2
    assert (await verify_cli(tmp_path, settings)).startswith("ok: 2 records")


async def test_a_relay_role_cannot_alter_the_record(postgresql_url, postgresql_server,
                                                    tmp_path):
    """The grants docs/operations.md gives: the relay works, and cannot change, remove,
    truncate or un-trigger the record."""
    owner = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
    await (await open_store(owner)).close()  # migrated by the owner
    role = f"relay_{uuid.uuid4().hex[:8]}"
    host, port = postgresql_server
    name = postgresql_url.rsplit("/", 1)[1]
    docs = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    grants = docs.split("CREATE ROLE relay LOGIN;", 1)[1].split("```", 1)[0]
    grants = f"CREATE ROLE relay LOGIN;{grants}".replace(" relay;", f" {role};").replace(
        "ROLE relay ", f"ROLE {role} ").replace("DATABASE relay ", f"DATABASE {name} ")
    db = await asyncpg.connect(postgresql_url)
    try:
        await db.execute(grants)
        store = await open_store(dataclasses.replace(
            owner, url=f"postgresql://{role}@{host}:{port}/{name}"))
        try:
            conv, _ = await conversations.open_conversation(store, DOMAIN, ORDER, BUYER,
                                                            [SELLER])
            async with store.write() as conn:
                await records.append(conn, record(conv.id, 1))
            await conversations.close(store, DOMAIN, conv.id)
            for change in ("UPDATE messages SET disposition = 'rejected'",
                           "DELETE FROM chain", "TRUNCATE messages",
                           "ALTER TABLE messages DISABLE TRIGGER ALL",
                           "DROP TRIGGER messages_no_change ON messages"):
                with pytest.raises(sqlite3.Error):
                    async with store.write() as conn:
                        await conn.execute(change)
            found = await audit(store, owner.log_path)
            assert found.ok, [str(p) for p in found.problems]
        finally:
            await store.close()
    finally:
        await db.execute(f"DROP OWNED BY {role}")  # its grants: then the role can go
        await db.close()
        admin = await asyncpg.connect(postgresql_url.rsplit("/", 1)[0] + "/postgres")
        await admin.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            f" WHERE usename = '{role}'")
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()


async def test_two_relays_on_one_database_deliver_each_message_once(
        postgresql_url, relay_factory, capture, tmp_path):
    """60 messages into one conversation at once, through two relays on one database: every
    one gets 250, each is delivered once (the outbox claimed with SKIP LOCKED), and the
    chains verify."""
    # A generous busy_timeout: this is about exactly-once, not latency, and on a loaded
    # machine 60 writers queued on one chain lock can wait longer than the default 5 s.
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url, busy_timeout=60.0)
    config = make_config(tmp_path, capture.port).replace(
        store=settings, limits=LimitsSettings(conversation_per_hour=100, sender_per_hour=100,
                                              connections_per_ip=100))
    relays = [await relay_factory(config), await relay_factory(config)]
    assert relays[0].store is not None
    conv, _ = await conversations.open_conversation(relays[0].store, DOMAIN, ORDER, BUYER,
                                                    [SELLER])
    ids = await asyncio.gather(*(
        accepted(relays[n % 2].smtp_port, BUYER, conv.seller_alias, f"message {n}")
        for n in range(60)))
    for message_id in ids:
        await wait_event(relays[0], message_id, "delivered")
    got = await capture.wait_for(60)
    subjects = [r.message["Subject"] for r in got]
    assert sorted(subjects) == sorted(f"message {n}" for n in range(60))
    async with relays[0].store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT message_id, COUNT(*) FROM message_events WHERE kind = 'delivered'"
            " GROUP BY message_id")
    assert len(rows) == 60 and {count for _, count in rows} == {1}
    assert (await verify_cli(tmp_path, settings)).startswith("ok: 60 records")


async def test_a_killed_relays_queue_is_delivered_by_another_once(
        postgresql_url, relay_factory, capture, tmp_path):
    """Relay A (`relay serve`) accepts 10 messages while its inbox is away, and is killed with
    SIGKILL; relay B on the same database delivers all 10 once A's lease ends, none twice."""
    port = free_port()
    config = serve_config(tmp_path, port, free_port(),  # nobody listens there
                          store={"url": postgresql_url}, delivery={"lease": 2.0})
    opened = await asyncio.to_thread(
        run_cli, "--config", str(config), "conversations", "open", "--order", ORDER,
        "--buyer", BUYER, "--seller", SELLER, "--json")
    assert opened.returncode == 0, opened.stderr
    alias = json.loads(opened.stdout)["seller_alias"]
    subjects = [f"kill test {n}" for n in range(10)]
    db = await asyncpg.connect(postgresql_url)
    try:
        async with serving(config) as relay:
            for subject in subjects:
                await accepted(port, BUYER, alias, subject)
            deadline = time.monotonic() + 15
            while await db.fetchval("SELECT COUNT(DISTINCT message_id) FROM message_events"
                                    " WHERE kind = 'deferred'") < 10:
                assert time.monotonic() < deadline, relay.log()
                await asyncio.sleep(0.05)
            assert await relay.kill() == -9
        settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
        other = await relay_factory(make_config(tmp_path, capture.port).replace(
            store=settings, delivery=dataclasses.replace(
                make_config(tmp_path, capture.port).delivery, lease=2.0)))
        ids = [r[0] for r in await db.fetch("SELECT id FROM messages ORDER BY seq")]
        for message_id in ids:
            await wait_event(other, message_id, "delivered")
        assert sorted(str(m.message["Subject"]) for m in await capture.wait_for(10)) == subjects
        counts = await db.fetch("SELECT message_id, COUNT(*) FROM message_events"
                                " WHERE kind = 'delivered' GROUP BY message_id")
        assert len(counts) == 10 and {c for _, c in counts} == {1}
        assert await db.fetchval("SELECT COUNT(*) FROM outbox") == 0
    finally:
        await db.close()
    assert (await verify_cli(tmp_path, settings)).startswith("ok: 10 records")


async def test_a_sqlite_store_is_copied_to_postgresql_and_verifies(
        postgresql_url, relay_factory, capture, tmp_path):
    """`relay store copy --to URL`: the record, chains and checkpoints verify on the copy, and
    a relay on it goes on where the SQLite one stopped."""
    sqlite = StoreSettings(path=tmp_path / "relay.db")
    first = await relay_factory(make_config(tmp_path, capture.port).replace(store=sqlite))
    assert first.store is not None
    conv, _ = await conversations.open_conversation(first.store, DOMAIN, ORDER, BUYER, [SELLER])
    ids = [await accepted(first.smtp_port, BUYER, conv.seller_alias, "one"),
           await accepted(first.smtp_port, SELLER, conv.buyer_alias, "two")]
    for message_id in ids:
        await wait_event(first, message_id, "delivered")
    await first.stop()
    config = store_config(tmp_path, sqlite)
    done = await asyncio.to_thread(run_cli, "--config", str(config), "store", "copy",
                                   "--to", postgresql_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every chain verifies" in done.stdout
    again = await asyncio.to_thread(run_cli, "--config", str(config), "store", "copy",
                                    "--to", postgresql_url)
    assert again.returncode == 2 and "holds a store already" in again.stderr, again.stderr

    copied = dataclasses.replace(sqlite, url=postgresql_url)
    assert (await verify_cli(tmp_path, copied)).startswith("ok: 2 records")
    second = await relay_factory(make_config(tmp_path, capture.port).replace(store=copied))
    three = await accepted(second.smtp_port, BUYER, conv.seller_alias, "three")
    await wait_event(second, three, "delivered")
    assert len(await capture.wait_for(3)) == 3
    assert (await verify_cli(tmp_path, copied)).startswith("ok: 3 records")


async def test_tampering_past_the_relay_is_named_on_postgresql(postgresql_url, relay_factory,
                                                              capture, tmp_path):
    """A superuser with the triggers off edits a record and cuts off the newest chain entry:
    `relay audit verify` names both, as on SQLite."""
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
    relay = await relay_factory(make_config(tmp_path, capture.port).replace(store=settings))
    assert relay.store is not None
    conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER, [SELLER])
    ids = [await accepted(relay.smtp_port, BUYER, conv.seller_alias, f"m{n}") for n in range(3)]
    for message_id in ids:
        await wait_event(relay, message_id, "delivered")
    await relay.stop()  # writes a checkpoint of the chain as it is
    db = await asyncpg.connect(postgresql_url)
    try:
        await db.execute("SET session_replication_role = replica")  # no triggers fire
        await db.execute("UPDATE messages SET raw = $1 WHERE id = $2", b"forged", ids[0])
        await db.execute("DELETE FROM chain WHERE seq = (SELECT MAX(seq) FROM chain)")
    finally:
        await db.close()
    done = await asyncio.to_thread(run_cli, "--config", str(store_config(tmp_path, settings)),
                                   "audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith(f"BROKEN: record {ids[0]}"), done.stdout
    assert "checkpoint" in done.stdout


async def test_hourly_limits_are_shared_by_relays_on_one_database(
        postgresql_url, relay_factory, capture, tmp_path):
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
    config = make_config(tmp_path, capture.port).replace(
        store=settings, limits=LimitsSettings(conversation_per_hour=4))
    relays = [await relay_factory(config), await relay_factory(config)]
    assert relays[0].store is not None
    conv, _ = await conversations.open_conversation(relays[0].store, DOMAIN, ORDER, BUYER,
                                                    [SELLER])
    for n in range(4):
        await accepted(relays[n % 2].smtp_port, BUYER, conv.seller_alias, f"m{n}")
    for relay in relays:  # the fifth, through either: over the conversation's hourly limit
        code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                 compose(BUYER, conv.seller_alias, subject="one too many"))
        assert code == 450, reply


async def test_postgresql_restarted_under_load(relay_factory, capture, tmp_path):
    """Four clients send while the server restarts: each message gets 250 or 451 4.3.0, the
    relay takes mail again by itself, and every message that got 250 is delivered and
    verifies. (On a cluster of the test's own: the shared server is not restarted.)"""
    with postgresql.private_cluster() as cluster, \
            postgresql.database(cluster.host, cluster.port) as url:
        settings = StoreSettings(path=tmp_path / "relay.db", url=url)
        relay = await relay_factory(make_config(tmp_path, capture.port).replace(
            store=settings, limits=LimitsSettings(conversation_per_hour=1000,
                                                  sender_per_hour=1000)))
        assert relay.store is not None
        conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER,
                                                        [SELLER])
        accepted_ids: dict[str, str] = {}
        replies: list[tuple[int, str]] = []
        restarted = asyncio.Event()

        async def client(n: int) -> None:
            for m in range(8):
                subject = f"client {n} message {m}"
                code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                         compose(BUYER, conv.seller_alias, subject=subject))
                replies.append((code, reply))
                if code == 250:
                    accepted_ids[subject] = reply.rsplit(" ", 1)[1]
                if m == 2:
                    await restarted.wait()

        async def restart() -> None:
            while len(replies) < 8:  # under load
                await asyncio.sleep(0.01)
            await asyncio.to_thread(cluster.restart)
            restarted.set()

        await asyncio.gather(restart(), *(client(n) for n in range(4)))
        assert all(code == 250 or (code, reply[:5]) == (451, "4.3.0")
                   for code, reply in replies), replies
        deadline = time.monotonic() + 30
        while True:  # back by itself
            code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                     compose(BUYER, conv.seller_alias, subject="after"))
            if code == 250:
                accepted_ids["after"] = reply.rsplit(" ", 1)[1]
                break
            assert time.monotonic() < deadline, reply
            await asyncio.sleep(0.2)
        for message_id in accepted_ids.values():
            await wait_event(relay, message_id, "delivered")
        got = {str(m.message["Subject"]) for m in capture.messages}
        assert set(accepted_ids) <= got
        # A COMMIT whose answer the restart cut off is a 451 whose record may be kept (and
        # delivered): the client sends again. At least once, never lost.
        verified = await verify_cli(tmp_path, settings)
        assert verified.startswith("ok: "), verified
        assert int(verified.split()[1]) >= len(accepted_ids)
        await relay.stop()


async def test_451_while_the_server_hangs_then_recovery(relay_factory, capture, tmp_path):
    """The server stops answering without closing anything (every process of it stopped, as a
    machine that hangs): a message gets 451 4.3.0 once store.command_timeout has passed, not
    a session that waits for ever, and /readyz says the store is not writable; once the
    server runs again, mail flows without a restart. (On a cluster of the test's own.)"""
    with postgresql.private_cluster() as cluster, \
            postgresql.database(cluster.host, cluster.port) as url:
        settings = StoreSettings(path=tmp_path / "relay.db", url=url, command_timeout=1.0,
                                 busy_timeout=1.0)
        relay = await relay_factory(make_config(tmp_path, capture.port).replace(store=settings))
        assert relay.store is not None
        conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER,
                                                        [SELLER])
        before = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "before")
        await wait_event(relay, before, "delivered")
        with cluster.hung():
            # send() gives up after 10 s: without the timeout the reply never comes
            code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                                     compose(BUYER, conv.seller_alias, subject="hung"))
            assert (code, reply[:5]) == (451, "4.3.0"), reply
            assert not (await relay.readiness())["store_writable"]
        after = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "after")
        await wait_event(relay, after, "delivered")
        assert [str(m.message["Subject"]) for m in capture.messages] == ["before", "after"]
        verified = await verify_cli(tmp_path, settings)
        assert verified.startswith("ok: 2 records"), verified
        await relay.stop()


async def test_a_relay_stopping_mid_delivery_leaves_the_job_to_another(
        postgresql_url, relay_factory, capture, tmp_path):
    """A delivery still hanging (the inbox never answers) when the relay's shutdown grace ends
    is released at once: another relay delivers it without waiting for the lease (900 s)."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the connection, never says a word
        writer.close()

    blackhole = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url)
        hanging = make_config(tmp_path, blackhole.sockets[0].getsockname()[1]).replace(
            store=settings, shutdown_grace=0.2)
        first = await relay_factory(hanging)
        assert first.store is not None
        conv, _ = await conversations.open_conversation(first.store, DOMAIN, ORDER, BUYER,
                                                        [SELLER])
        message_id = await accepted(first.smtp_port, BUYER, conv.seller_alias, "stuck")
        deadline = time.monotonic() + 10
        while message_id not in first.worker._in_flight:  # taken, and hanging
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        await first.stop()
        second = await relay_factory(make_config(tmp_path, capture.port).replace(
            store=settings))
        await wait_event(second, message_id, "delivered")
        assert [str(m.message["Subject"]) for m in await capture.wait_for(1)] == ["stuck"]
    finally:
        blackhole.close()


async def test_a_pool_busy_past_busy_timeout_refuses_one_write_not_the_next(postgresql_url,
                                                                            tmp_path):
    """Every pooled connection held longer than busy_timeout: that write fails (451 at the
    session), but the store is not taken for a server that went away: it stays writable and
    the next write, once a connection is free, goes through."""
    settings = StoreSettings(path=tmp_path / "relay.db", url=postgresql_url, pool_size=1,
                             busy_timeout=0.3)
    store = await open_store(settings)
    try:
        async with store.read() as held:  # the pool's only connection
            await held.execute_fetchall("SELECT 1")
            with pytest.raises(sqlite3.Error):
                async with store.write() as conn:
                    await conn.execute_fetchall("SELECT 1")
            assert await store.writable() is False  # its own connection is still held here
        assert await store.writable() is True
        conv, _ = await conversations.open_conversation(store, DOMAIN, ORDER, BUYER, [SELLER])
        assert conv.seller_alias.endswith("@" + DOMAIN)
    finally:
        await store.close()


async def test_a_claim_whose_answer_was_lost_is_taken_again_by_its_relay(postgresql_url,
                                                                          tmp_path):
    """A claim that committed on the server but whose answer never reached the relay (the
    server restarted mid-statement) is the relay's again at its next claim, not stuck until
    the lease ends; another relay still cannot take it, and a claim given back waits for its
    retry time."""
    store = await open_store(StoreSettings(path=tmp_path / "relay.db", url=postgresql_url))
    try:
        conv, _ = await conversations.open_conversation(store, DOMAIN, ORDER, BUYER, [SELLER])
        mail = record(conv.id, 1)
        now = time.time()
        async with store.write() as db:
            await records.append(db, mail)
            await outbox.enqueue(db, outbox.Job(
                message_id=mail.id, mail_from=f"bounces@{DOMAIN}", rcpt=SELLER,
                smtputf8=False, attempts=0, next_attempt_at=now, expires_at=now + 3600,
                bounce=True))
        claimed = await outbox.due(store, now, 10, (), 900.0, claimant="relay-a")
        assert [job.message_id for job in claimed] == [mail.id]
        # relay-a lost the answer: its in-flight set does not name the job.
        assert [job.message_id for job in await outbox.due(
            store, time.time(), 10, (), 900.0, claimant="relay-a")] == [mail.id]
        assert await outbox.due(store, time.time(), 10, (), 900.0, claimant="relay-b") == []
        assert await outbox.due(store, time.time(), 10, (mail.id,), 900.0,
                                claimant="relay-a") == []  # in flight: not twice
        await outbox.release(store, mail.id, time.time() + 60)
        assert await outbox.due(store, time.time(), 10, (), 900.0, claimant="relay-a") == []
    finally:
        await store.close()
