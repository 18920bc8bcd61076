"""The keyed chain over every append-only table, and its checkpoints: a store rewritten with
sqlite3 (triggers dropped) is caught by `relay audit verify` (the real CLI) at its first
difference, and the relay itself does not go by rows slipped in past it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from conftest import BUYER, DOMAIN, SELLER, Capture, compose, make_config, open_conv, send
from support.record import accepted, audit, cli_config, connect, query, wait_events

from relay.auth.passwords import set_password
from relay.config import StoreSettings
from relay.marketplace import buyers, conversations, message_center, review_request, sellers
from relay.store import chain, records
from relay.store.startup import open_store

MALLORY = "mallory@evil.example"
STRANGER = "stranger@evil.example"
TRIGGERS = [
    "messages_no_update", "messages_no_delete", "message_events_no_update",
    "message_events_no_delete", "aliases_no_update", "aliases_no_delete", "parties_no_delete",
    "parties_no_update", "conversations_no_delete", "conversations_identity_fixed",
    "conversations_close_once", "buyer_events_no_update", "buyer_events_no_delete",
    "seller_events_no_update", "seller_events_no_delete", "conversation_events_no_update",
    "conversation_events_no_delete", "message_marks_no_update", "message_marks_no_delete",
    "seller_credentials_no_update", "seller_credentials_no_delete",
    "conversation_closings_no_update", "conversation_closings_no_delete",
    "chain_no_update", "chain_no_delete",
]


def tamper(store: Path, *statements: str | tuple[str, tuple]) -> None:
    """As someone with the database file and sqlite3: every trigger dropped first."""
    with contextlib.closing(connect(store)) as db:
        for trigger in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        for statement in statements:
            sql, params = statement if isinstance(statement, tuple) else (statement, ())
            db.execute(sql, params)


def entry(store: Path, tbl: str, *key: object) -> int:
    return query(store, "SELECT seq FROM chain WHERE tbl = ? AND row_key = ?",
                 (tbl, json.dumps(list(key))))[0][0]


class Traffic:
    """Every append-only table with rows, made by the relay; then the relay stopped (its
    shutdown checkpoint written)."""

    def __init__(self, store: Path, conv: conversations.Conversation,
                 closed: conversations.Conversation, ids: list[str], refused: str) -> None:
        self.store, self.conv, self.closed, self.ids, self.refused = (
            store, conv, closed, ids, refused)


@pytest.fixture
async def traffic(relay_factory, capture: Capture, tmp_path: Path) -> Traffic:
    relay = await relay_factory(make_config(tmp_path, capture.port))
    store, s = relay.config.store.path, relay.store
    assert s is not None
    conv = await open_conv(relay)
    closed = await open_conv(relay, order="112-7654321-7654321")
    port = relay.smtp_port
    ids = [await accepted(port, BUYER, conv.seller_alias, "one"),
           await accepted(port, SELLER, conv.buyer_alias, "two"),
           await accepted(port, BUYER, conv.seller_alias, "three")]
    code, _ = await send(port, STRANGER, conv.seller_alias, compose(STRANGER, conv.seller_alias))
    assert code == 550
    (refused,), = query(store, "SELECT id FROM messages WHERE disposition = 'rejected'")
    await capture.wait_for(3)
    await wait_events(store, ids, "delivered")
    await message_center.mark(s, ids[0], "read")
    await buyers.set_optout(s, BUYER, DOMAIN, True)
    await sellers.update(s, SELLER, DOMAIN, notify=True, notify_address="desk@shop.example")
    await review_request.set_delivered(s, conv, date(2026, 11, 20))
    await set_password(s, SELLER, DOMAIN, "correct horse battery staple")
    await conversations.close(s, DOMAIN, closed.id)
    await relay.stop()
    assert (tmp_path / "relay.db.checkpoints").exists()
    done = await audit(tmp_path, store)  # an untouched store after real traffic
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 4 records"), done.stdout
    assert "the latest checkpoint (entry" in done.stdout
    tables = {t for (t,) in query(store, "SELECT DISTINCT tbl FROM chain")}
    assert tables == {"conversations", "aliases", "parties", "messages", "message_events",
                      "message_marks", "buyer_events", "seller_events", "conversation_events",
                      "seller_credentials", "conversation_closings"}
    return Traffic(store, conv, closed, ids, refused)


async def first_line(tmp_path: Path, store: Path) -> str:
    done = await audit(tmp_path, store)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("BROKEN: "), done.stdout
    return done.stdout.splitlines()[0]


def rechain(store: Path, message_id: str, raw: bytes) -> None:
    """Edit a record and re-make its conversation's (unkeyed) hash chain from it on, as
    anyone can: SHA-256 needs no key."""
    with contextlib.closing(connect(store)) as db:
        db.row_factory = sqlite3.Row
        conv, seq = db.execute("SELECT conversation_id, seq FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
        rows = db.execute("SELECT * FROM messages WHERE conversation_id = ? AND seq >= ?"
                          " ORDER BY seq", (conv, seq)).fetchall()
        prev = rows[0]["prev_hash"]
    updates = []
    for n, row in enumerate(rows):
        record = records.from_row(row)
        if n == 0:
            record = records.replace(record, raw=raw, size=len(raw),
                                     sha256=hashlib.sha256(raw).hexdigest())
        digest = records.record_hash(record, prev)
        updates.append(("UPDATE messages SET raw = ?, size = ?, sha256 = ?, prev_hash = ?,"
                        " hash = ? WHERE id = ?",
                        (record.raw, record.size, record.sha256, prev, digest, record.id)))
        prev = digest
    tamper(store, *updates)


async def test_edited_and_rechained_record(traffic, tmp_path):
    forged = b"From: someone else\r\n\r\nI never wrote this\r\n"
    rechain(traffic.store, traffic.ids[1], forged)
    at = entry(traffic.store, "messages", traffic.ids[1])
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: record {traffic.ids[1]}: differs from what chain entry {at} recorded:"
        " altered")


async def test_deleted_newest_record(traffic, tmp_path):
    (newest,), = query(traffic.store, "SELECT id FROM messages ORDER BY seq DESC LIMIT 1")
    tamper(traffic.store, ("DELETE FROM messages WHERE id = ?", (newest,)))
    at = entry(traffic.store, "messages", newest)
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: record {newest}: chained at entry {at} but no longer in the store: removed")


async def test_cut_off_newest_entries_and_rows_are_caught_by_the_checkpoint(traffic, tmp_path):
    """Everything from the newest closing on, rows and chain entries: a shorter, consistent
    chain. Only the checkpoint written at shutdown shows it."""
    store = traffic.store
    (head,), = query(store, "SELECT MAX(seq) FROM chain")
    assert query(store, "SELECT tbl FROM chain WHERE seq = ?", (head,)) == [
        ("conversation_closings",)]
    tamper(store, ("DELETE FROM conversation_closings WHERE conversation_id = ?",
                   (traffic.closed.id,)),
           ("UPDATE conversations SET closed_at = NULL WHERE id = ?", (traffic.closed.id,)),
           ("DELETE FROM chain WHERE seq = ?", (head,)))
    line = await first_line(tmp_path, store)
    assert line.startswith(f"BROKEN: chain: the chain ends at entry {head - 1}, but the"
                           " checkpoint of "), line
    assert line.endswith(f"covered {head} entries: entries {head} to {head} and their rows"
                         " were removed"), line


async def test_deleted_conversation(traffic, tmp_path):
    tamper(traffic.store, ("DELETE FROM conversations WHERE id = ?", (traffic.conv.id,)))
    at = entry(traffic.store, "conversations", traffic.conv.id)
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: conversations {traffic.conv.id}: chained at entry {at} but no longer in the"
        " store: removed")


async def test_fabricated_seller_reply(traffic, tmp_path):
    """A reply the seller never sent, with its conversation's hash chain made right."""
    store = traffic.store
    with contextlib.closing(connect(store)) as db:
        db.row_factory = sqlite3.Row
        last = db.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq DESC"
                          " LIMIT 1", (traffic.conv.id,)).fetchone()
    raw = compose(SELLER, traffic.conv.buyer_alias, body="Yes, a full refund is on its way.")
    fake = records.replace(records.from_row(last), id="fabricatedreply1",
                           direction="seller_to_buyer", disposition="delivered",
                           reasons=(), mail_from=SELLER, raw=raw, delivered=raw,
                           size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    digest = records.record_hash(fake, last["hash"])
    tamper(store, ("INSERT INTO messages (id, conversation_id, received_at, direction,"
                   " disposition, reasons, peer, helo, mail_from, rcpt_to, raw, delivered,"
                   " prev_hash, hash, size, sha256) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (fake.id, fake.conversation_id, fake.received_at, fake.direction,
                    fake.disposition, "[]", fake.peer, fake.helo, fake.mail_from,
                    json.dumps(list(fake.rcpt_to)), raw, raw, last["hash"], digest, fake.size,
                    fake.sha256)))
    assert await first_line(tmp_path, store) == (
        "BROKEN: record fabricatedreply1: not in the chain: added past the relay (or by one"
        " without this store's chain key)")


async def test_party_at_position_minus_one(traffic, tmp_path):
    # No trigger stands in the way of an INSERT into parties.
    with contextlib.closing(connect(traffic.store)) as db:
        db.execute("INSERT INTO parties (conversation_id, role, address, address_key, position)"
                   " VALUES (?, 'seller', ?, ?, -1)", (traffic.conv.id, MALLORY, MALLORY))
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: parties {traffic.conv.id}/seller/{MALLORY}: not in the chain: added past the"
        " relay (or by one without this store's chain key)")


async def test_forged_chain_entry_needs_the_key(traffic, tmp_path):
    """Slipping in the party's chain entry too, linked right but with a MAC made without the
    key (SHA-256 of the same text), is named as forged."""
    store = traffic.store
    (head, mac), = query(store, "SELECT seq, mac FROM chain ORDER BY seq DESC LIMIT 1")
    row = {"conversation_id": traffic.conv.id, "role": "seller", "address": MALLORY,
           "address_key": MALLORY, "position": -1}
    key = json.dumps([traffic.conv.id, "seller", MALLORY])
    canonical = json.dumps(row, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"parties\n{canonical}".encode()).hexdigest()
    fake_mac = hashlib.sha256(f"{head + 1}{digest}{mac}".encode()).hexdigest()
    tamper(store, ("INSERT INTO parties (conversation_id, role, address, address_key, position)"
                   " VALUES (?, 'seller', ?, ?, -1)", (traffic.conv.id, MALLORY, MALLORY)),
           ("INSERT INTO chain VALUES (?, 'parties', ?, ?, ?, ?)",
            (head + 1, key, digest, mac, fake_mac)))
    assert await first_line(tmp_path, store) == (
        f"BROKEN: parties {traffic.conv.id}/seller/{MALLORY}: chain entry {head + 1} was not"
        " made with this store's chain key (forged or altered)")


@pytest.mark.parametrize(("table", "sql"), [
    ("message_events", "UPDATE message_events SET kind = 'failed' WHERE kind = 'delivered'"),
    ("buyer_events", "UPDATE buyer_events SET value = 'off' WHERE kind = 'optout'"),
    ("message_marks", "UPDATE message_marks SET kind = 'no_response_needed'"),
    ("seller_events", "UPDATE seller_events SET value = 'mallory@evil.example'"
                      " WHERE kind = 'notify_address'"),
    ("conversation_events", "UPDATE conversation_events SET value = '2026-01-01'"),
    ("seller_credentials", "UPDATE seller_credentials SET hash = ''"),
])
async def test_altered_event_rows(traffic, tmp_path, table, sql):
    before = query(traffic.store, f"SELECT * FROM {table} ORDER BY seq")
    tamper(traffic.store, sql)
    after = query(traffic.store, f"SELECT * FROM {table} ORDER BY seq")
    seq = next(a[0] for a, b in zip(after, before, strict=True) if a != b)
    at = entry(traffic.store, table, seq)
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: {table} {seq}: differs from what chain entry {at} recorded: altered")


@pytest.mark.parametrize(("table", "values"), [
    ("buyer_events", "(address_key, at, kind, value) VALUES ('x@example.com', 'now', 'optout',"
                     " 'on')"),
    ("message_marks", None),
    ("message_events", None),
])
async def test_added_event_rows(traffic, tmp_path, table, values):
    if values is None:  # about a real message
        columns = "(message_id, at, kind)" if table == "message_marks" else (
            "(message_id, at, kind, detail)")
        extra = "" if table == "message_marks" else ", ''"
        values = f"{columns} VALUES ('{traffic.ids[2]}', 'now', 'read'{extra})"
    tamper(traffic.store, f"INSERT INTO {table} {values}")
    (seq,), = query(traffic.store, f"SELECT MAX(seq) FROM {table}")
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: {table} {seq}: not in the chain: added past the relay (or by one without"
        " this store's chain key)")


@pytest.mark.parametrize("which", ["reopened", "closed"])
async def test_closing_changed(traffic, tmp_path, which):
    conv = traffic.closed if which == "reopened" else traffic.conv
    tamper(traffic.store, ("UPDATE conversations SET closed_at = ? WHERE id = ?",
                           (None if which == "reopened" else "2026-11-30", conv.id)))
    line = await first_line(tmp_path, traffic.store)
    assert line.startswith(f"BROKEN: conversations {conv.id}: closed_at is "), line
    assert "changed past the relay" in line


async def test_edited_checkpoint_log_line_is_named(traffic, tmp_path):
    log = tmp_path / "relay.db.checkpoints"
    lines = log.read_text().splitlines()
    item = json.loads(lines[-1])
    item["seq"] -= 1
    log.write_text("\n".join([*lines[:-1], json.dumps(item)]) + "\n")
    assert await first_line(tmp_path, traffic.store) == (
        f"BROKEN: checkpoint log: checkpoint log {log} line {len(lines)}: not signed with"
        " this store's chain key (made up, edited or damaged)")


async def test_verify_without_the_key_says_so(traffic, tmp_path):
    (tmp_path / "chain.key").rename(tmp_path / "elsewhere.key")
    done = await audit(tmp_path, traffic.store)
    assert done.returncode == 1
    assert "store.chain_key: no key at" in done.stderr
    assert not (tmp_path / "chain.key").exists()  # no new key made for a chained store


# -- what the relay reads ------------------------------------------------------------------


async def test_rows_slipped_in_are_not_read(relay_factory, capture, tmp_path):
    """A party at position -1, a notification address, a reopened conversation and a
    fabricated reply, all written past the relay while it runs: mail still goes to the
    registered seller, the closed conversation stays closed, the reply is not listed."""
    relay = await relay_factory(make_config(tmp_path, capture.port))
    store = relay.config.store.path
    assert relay.store is not None
    conv = await open_conv(relay)
    closed = await open_conv(relay, order="112-7654321-7654321")
    await conversations.close(relay.store, DOMAIN, closed.id)
    with contextlib.closing(connect(store)) as db:
        db.execute("INSERT INTO parties (conversation_id, role, address, address_key, position)"
                   " VALUES (?, 'seller', ?, ?, -1)", (conv.id, MALLORY, MALLORY))
        db.execute("INSERT INTO seller_events (address_key, at, kind, value) VALUES"
                   " (?, 'now', 'notify_address', ?)", (SELLER, MALLORY))
        db.execute("DROP TRIGGER conversations_close_once")
        db.execute("UPDATE conversations SET closed_at = NULL WHERE id = ?", (closed.id,))

    mid = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "to the seller")
    got = await capture.wait_for(1)
    assert got[0].rcpt_tos == [SELLER]
    assert query(store, "SELECT recipient FROM messages WHERE id = ?", (mid,)) == [(SELLER,)]
    code, reply = await send(relay.smtp_port, BUYER, closed.seller_alias,
                             compose(BUYER, closed.seller_alias))
    assert code == 550 and "5.1.1" in reply, reply
    loaded = await conversations.get(relay.store, DOMAIN, conv.id)
    assert loaded.sellers == (SELLER,)
    assert (await sellers.current(relay.store, SELLER)).notify_address is None

    # A fabricated reply: not listed, not counted as the seller's answer.
    with contextlib.closing(connect(store)) as db:
        db.execute("INSERT INTO messages (id, conversation_id, received_at, direction,"
                   " disposition, reasons, peer, helo, mail_from, rcpt_to, raw, prev_hash, hash)"
                   " SELECT 'fabricatedreply1', conversation_id, received_at, 'seller_to_buyer',"
                   " 'delivered', '[]', peer, helo, ?, rcpt_to, raw, hash, hash FROM messages"
                   " WHERE id = ?", (SELLER, mid))
    listed = await message_center.query(relay.store, message_center.Filters(seller=SELLER))
    assert [m["id"] for m in listed] == [mid]
    waiting = await message_center.query(relay.store, message_center.Filters(
        seller=SELLER, needs_response=True))
    assert [m["id"] for m in waiting] == [mid]


async def test_a_row_read_before_is_checked_again_once_changed(tmp_path):
    """A row once found in the chain is not hashed again while it reads the same
    (relay.store.chain keeps the check); changed past the relay afterwards, it is ignored
    from the next read on, and so is a forged entry to go with it."""
    store = await open_store(StoreSettings(path=tmp_path / "relay.db"))
    try:
        conv, _ = await conversations.open_conversation(
            store, DOMAIN, "112-1234567-1234567", BUYER, [SELLER])
        assert (await conversations.get(store, DOMAIN, conv.id)).sellers == (SELLER,)
        assert (await conversations.get(store, DOMAIN, conv.id)).sellers == (SELLER,)
        tamper(tmp_path / "relay.db",
               ("UPDATE parties SET address = ? WHERE conversation_id = ? AND role = 'seller'",
                (MALLORY, conv.id)))
        assert (await conversations.get(store, DOMAIN, conv.id)).sellers == ()
        # The entry's digest made to match the changed row, without the key for its link.
        async with store.read() as db:
            rows = await db.execute_fetchall(
                "SELECT * FROM parties WHERE conversation_id = ? AND role = 'seller'",
                (conv.id,))
            digest = chain.row_digest(chain.TABLES["parties"], rows[0])
        tamper(tmp_path / "relay.db",
               ("UPDATE chain SET digest = ? WHERE tbl = 'parties' AND row_key = ?",
                (digest, chain.row_key(chain.TABLES["parties"], rows[0]))))
        assert (await conversations.get(store, DOMAIN, conv.id)).sellers == ()
    finally:
        await store.close()


async def test_outbox_row_slipped_in_is_not_sent(relay_factory, capture, tmp_path):
    """The outbox is a work queue, not the record: a job for a fabricated message, or a
    real one sent elsewhere, is dropped, not sent (DKIM-signed) by the relay."""
    relay = await relay_factory(make_config(tmp_path, capture.port))
    store = relay.config.store.path
    conv = await open_conv(relay)
    mid = await accepted(relay.smtp_port, BUYER, conv.seller_alias, "first")
    await capture.wait_for(1)
    await wait_events(store, [mid], "delivered")
    with contextlib.closing(connect(store)) as db:
        db.execute("INSERT INTO messages (id, conversation_id, received_at, direction,"
                   " disposition, reasons, peer, helo, mail_from, rcpt_to, recipient, raw,"
                   " delivered, prev_hash, hash) SELECT 'fabricatedmessage', conversation_id,"
                   " received_at, direction, disposition, reasons, peer, helo, mail_from,"
                   " rcpt_to, ?, raw, delivered, hash, hash FROM messages WHERE id = ?",
                   (MALLORY, mid))
        for message_id in ("fabricatedmessage", mid):
            db.execute("INSERT INTO outbox (message_id, mail_from, rcpt, next_attempt_at,"
                       " expires_at) VALUES (?, '', ?, 0, 9e12)", (message_id, MALLORY))
    relay.worker.wake()
    deadline = asyncio.get_running_loop().time() + 15
    while query(store, "SELECT COUNT(*) FROM outbox")[0][0]:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert query(store, "SELECT kind, detail FROM message_events WHERE message_id = ?"
                        " ORDER BY seq", (mid,))[-1] == (
        "failed", "queued for another recipient than recorded")
    assert all(m.rcpt_tos == [SELLER] for m in capture.messages)
    assert len(capture.messages) == 1


# -- stores made before the chain ----------------------------------------------------------


async def test_a_store_from_before_the_chain_is_adopted_and_anchored(tmp_path):
    """Rows written by a relay without the chain (migrations up to 0011): the first start
    chains them and writes a checkpoint at once; a change after that is caught."""
    from conftest import run_cli

    from relay.store.db import Store
    from relay.store.migrate import MIGRATIONS_DIR, migrate

    old = tmp_path / "old-migrations"
    old.mkdir()
    for path in MIGRATIONS_DIR.glob("00*.sql"):
        if int(path.name[:4]) <= 11:
            (old / path.name).write_text(path.read_text())
    store_path = tmp_path / "relay.db"
    store = await Store.open(store_path)
    await migrate(store, old)
    await store.close()
    raw = compose(BUYER, "x@relay.test")
    record = records.Record(
        id="oldrecord0000001", conversation_id="oldconversation1", received_at="2026-01-01",
        direction="buyer_to_seller", disposition="delivered", reasons=(), peer="127.0.0.1",
        helo="client", mail_from=BUYER, rcpt_to=("x@relay.test",), recipient=SELLER,
        original_message_id=None, relay_message_id=None, raw=raw, delivered=raw)
    with contextlib.closing(connect(store_path)) as db:
        db.execute("INSERT INTO conversations VALUES ('oldconversation1',"
                   " '112-1234567-1234567', ?, ?, '2026-01-01', NULL)", (BUYER, SELLER))
        for role, local in (("buyer", "a" * 21), ("seller", "b" * 21)):
            db.execute("INSERT INTO aliases VALUES (?, 'oldconversation1', ?, '2026-01-01')",
                       (local, role))
        db.execute("INSERT INTO parties VALUES ('oldconversation1', 'buyer', ?, ?, 0)",
                   (BUYER, BUYER))
        db.execute("INSERT INTO parties VALUES ('oldconversation1', 'seller', ?, ?, 0)",
                   (SELLER, SELLER))
        db.execute("INSERT INTO messages (id, conversation_id, received_at, direction,"
                   " disposition, reasons, peer, helo, mail_from, rcpt_to, recipient, raw,"
                   " delivered, prev_hash, hash) VALUES (?,?,?,?,?,'[]',?,?,?,?,?,?,?,?,?)",
                   (record.id, record.conversation_id, record.received_at, record.direction,
                    record.disposition, record.peer, record.helo, record.mail_from,
                    json.dumps(list(record.rcpt_to)), record.recipient, raw, raw,
                    records.GENESIS, records.record_hash(record, records.GENESIS)))
    config = str(cli_config(tmp_path, store_path))
    done = await asyncio.to_thread(run_cli, "--config", config, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 1 records"), done.stdout
    assert "chained 6 rows made before the chain" in done.stderr
    assert "the latest checkpoint (entry 6," in done.stdout, done.stdout
    assert query(store_path, "SELECT COUNT(*) FROM chain_adoption") == [(0,)]
    tamper(store_path, "UPDATE parties SET address = 'mallory@evil.example' WHERE role ="
                       " 'seller'")
    line = await first_line(tmp_path, store_path)
    assert line.startswith(f"BROKEN: parties oldconversation1/seller/{SELLER}: differs"), line


async def test_checkpoints_are_written_every_n_entries(backend, relay_factory, capture,
                                                       tmp_path):
    config = make_config(tmp_path, capture.port)
    config = config.replace(store=StoreSettings(path=backend.path, url=backend.url,
                                                checkpoint_every=1, checkpoint_interval=3600.0))
    relay = await relay_factory(config)
    conv = await open_conv(relay)
    log = tmp_path / "relay.db.checkpoints"
    async with relay.store.read() as db:
        head, _ = await chain.head(db)
    deadline = asyncio.get_running_loop().time() + 15
    while not log.exists() or json.loads(log.read_text().splitlines()[-1])["seq"] < head:
        assert asyncio.get_running_loop().time() < deadline, "no checkpoint of the new head"
        await asyncio.sleep(0.05)
    assert conv.id
