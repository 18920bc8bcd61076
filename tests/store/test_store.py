"""The append-only, tamper-evident record, and queued mail that survives a kill -9."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import (
    BUYER,
    SELLER,
    SELLER2,
    Capture,
    compose,
    free_port,
    make_config,
    open_conv,
    run_cli,
    send,
    serve_config,
)
from support.record import (
    accepted,
    audit,
    cli_config,
    connect,
    query,
    rows,
    wait_event,
    wait_events,
)
from support.relay_process import serving

STRANGER = "stranger@evil.example"


# -- helpers --------------------------------------------------------------------------------


def chain_entry(store: Path, message_id: str) -> int:
    return query(store, "SELECT seq FROM chain WHERE tbl = 'messages' AND row_key = ?",
                 (json.dumps([message_id]),))[0][0]


async def conversation_traffic(relay, conv, capture) -> list[str]:
    """Three accepted messages in one conversation, both ways, all delivered."""
    port = relay.smtp_port
    ids = [
        await accepted(port, BUYER, conv.seller_alias, "one"),
        await accepted(port, SELLER, conv.buyer_alias, "two"),
        await accepted(port, BUYER, conv.seller_alias, "three"),
    ]
    await capture.wait_for(3)
    await wait_events(relay.config.store.path, ids, "delivered")
    return ids


@pytest.fixture
async def any_relay(backend, relay_factory, capture, tmp_path):
    """The relay on each backend in turn (SQLite, then PostgreSQL): the tests that read the
    store through the relay, not the SQLite file."""
    return await relay_factory(make_config(tmp_path, capture.port).replace(store=backend))


@pytest.fixture
async def any_conv(any_relay):
    return await open_conv(any_relay, sellers=(SELLER, SELLER2))


async def audit_of(relay, tmp_path):
    store = relay.config.store
    return await audit(tmp_path, store.path, store.url)


# -- append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize(("table", "key", "column", "value", "wording"), [
    ("messages", "id", "disposition", "rejected", "append-only"),
    ("messages", "id", "raw", b"forged", "append-only"),
    ("message_events", "seq", "kind", "failed", "append-only"),
    ("aliases", "local_part", "conversation_id", "elsewhere", "never reused"),
    ("parties", "rowid", "address", "mallory@evil.example", "parties are"),
])
async def test_record_tables_refuse_update_and_delete(relay, conv, capture, table, key, column,
                                                      value, wording):
    await conversation_traffic(relay, conv, capture)
    store = relay.config.store.path
    before = query(store, f"SELECT * FROM {table} ORDER BY rowid")
    assert len(before) >= 2
    (target,) = query(store, f"SELECT {key} FROM {table} ORDER BY rowid LIMIT 1 OFFSET 1")[0]
    with contextlib.closing(connect(store)) as db:
        with pytest.raises(sqlite3.DatabaseError) as update:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, target))
        assert wording in str(update.value)
        with pytest.raises(sqlite3.DatabaseError) as delete:
            db.execute(f"DELETE FROM {table} WHERE {key} = ?", (target,))
        assert wording in str(delete.value)
        with pytest.raises(sqlite3.DatabaseError):
            db.execute(f"DELETE FROM {table}")
    assert query(store, f"SELECT * FROM {table} ORDER BY rowid") == before


async def test_clean_store_verifies(any_relay, any_conv, capture, tmp_path):
    relay = any_relay
    ids = [await accepted(relay.smtp_port, BUYER, any_conv.seller_alias, "one"),
           await accepted(relay.smtp_port, SELLER, any_conv.buyer_alias, "two"),
           await accepted(relay.smtp_port, BUYER, any_conv.seller_alias, "three")]
    for mid in ids:
        await wait_event(relay, mid, "delivered")
    done = await audit_of(relay, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 3 records")


# -- tamper evidence ------------------------------------------------------------------------


@pytest.mark.parametrize(("column", "value"), [
    ("raw", b"From: someone else\r\n\r\nI never wrote this\r\n"),
    ("disposition", "rejected"),
    ("mail_from", "mallory@evil.example"),
])
async def test_altered_record_is_named(relay, conv, capture, tmp_path, column, value):
    ids = await conversation_traffic(relay, conv, capture)
    store = relay.config.store.path
    assert (await audit(tmp_path, store)).returncode == 0
    with contextlib.closing(connect(store)) as db:
        db.execute("DROP TRIGGER messages_no_update")
        db.execute(f"UPDATE messages SET {column} = ? WHERE id = ?", (value, ids[1]))
    done = await audit(tmp_path, store)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"BROKEN: record {ids[1]} ")
    assert "content does not match its hash" in lines[0]
    assert conv.id in lines[0]
    assert len(lines) == 1, done.stdout  # the records after it still link to its stored hash


async def test_removed_record_is_named_then_the_next_one_in_its_conversation(
        relay, conv, capture, tmp_path):
    other = await open_conv(relay, order="112-7654321-7654321")
    port = relay.smtp_port
    a1 = await accepted(port, BUYER, conv.seller_alias, "a1")
    await accepted(port, BUYER, other.seller_alias, "b1")
    a2 = await accepted(port, SELLER, conv.buyer_alias, "a2")
    await accepted(port, SELLER, other.buyer_alias, "b2")
    a3 = await accepted(port, BUYER, conv.seller_alias, "a3")
    await capture.wait_for(5)
    store = relay.config.store.path
    assert (await audit(tmp_path, store)).returncode == 0

    with contextlib.closing(connect(store)) as db:
        db.execute("DROP TRIGGER messages_no_delete")
        db.execute("DELETE FROM messages WHERE id = ?", (a2,))
    assert query(store, "SELECT COUNT(*) FROM messages")[0][0] == 4

    done = await audit(tmp_path, store)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    # The chain over the table names the removed record itself; then its conversation's
    # chain breaks at a3 (not b2, the next record in the store).
    assert lines[0] == f"BROKEN: record {a2}: chained at entry {chain_entry(store, a2)} but no" \
        " longer in the store: removed", done.stdout
    assert lines[1].startswith(f"also broken: record {a3} ")
    assert "previous-hash link does not match" in lines[1]
    assert len(lines) == 2, done.stdout
    assert a1 not in done.stdout


async def test_cut_off_newest_records_are_caught_by_an_earlier_anchor(relay, conv, capture,
                                                                      tmp_path):
    port = relay.smtp_port
    await accepted(port, BUYER, conv.seller_alias, "a1")
    await capture.wait_for(1)
    store = relay.config.store.path
    first = await audit(tmp_path, store)
    anchor = first.stdout.splitlines()[1].removeprefix("anchor: ")
    assert re.fullmatch(r"\d+:[0-9a-f]{64}", anchor), first.stdout
    await accepted(port, SELLER, conv.buyer_alias, "a2")
    await capture.wait_for(2)
    config = str(cli_config(tmp_path, store))
    later = await asyncio.to_thread(run_cli, "--config", config, "audit", "verify",
                                    "--anchor", anchor)
    assert later.returncode == 0, later.stdout  # newer records do not disturb an old anchor

    with contextlib.closing(connect(store)) as db:  # cut off both records
        db.execute("DROP TRIGGER messages_no_delete")
        db.execute("DROP TRIGGER message_events_no_delete")
        db.execute("DELETE FROM message_events")
        db.execute("DELETE FROM messages")
    plain = await audit(tmp_path, store)
    # The chain over every table has their entries: no anchor needed any more...
    assert plain.returncode == 1, plain.stdout
    assert plain.stdout.startswith("BROKEN: record "), plain.stdout
    assert "no longer in the store: removed" in plain.stdout.splitlines()[0]
    cut = await asyncio.to_thread(run_cli, "--config", config, "audit", "verify",
                                  "--anchor", anchor)
    assert cut.returncode == 1  # ...and an earlier one still says so
    assert cut.stdout.startswith(f"BROKEN: the store no longer matches anchor {anchor}")


# -- what the record holds ------------------------------------------------------------------


async def test_rejected_message_is_recorded_verbatim(any_relay, any_conv, capture, tmp_path):
    relay, conv = any_relay, any_conv
    data = compose(STRANGER, conv.seller_alias, subject="Totally legit")
    code, reply = await send(relay.smtp_port, STRANGER, conv.seller_alias, data)
    assert code == 550, reply
    assert "sender.unregistered" in reply
    found = await rows(relay, "SELECT id, conversation_id, direction, disposition, reasons,"
                              " mail_from, rcpt_to, recipient, raw, delivered FROM messages")
    assert len(found) == 1
    (mid, conv_id, direction, disposition, reasons, mail_from, rcpt_to, recipient, raw,
     delivered) = found[0]
    assert conv_id == conv.id
    assert direction == "buyer_to_seller"
    assert disposition == "rejected"
    assert json.loads(reasons) == ["sender.unregistered"]
    assert mail_from == STRANGER
    assert json.loads(rcpt_to) == [conv.seller_alias]
    assert raw == data
    assert recipient is None and delivered is None
    # Refused mail is never queued, and nothing reached the inbox.
    assert (await rows(relay, "SELECT COUNT(*) FROM outbox"))[0][0] == 0
    assert (await rows(relay, "SELECT COUNT(*) FROM message_events WHERE message_id = ?",
                       (mid,)))[0][0] == 0
    assert capture.messages == []
    done = await audit_of(relay, tmp_path)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("ok: 1 records")


async def test_every_accepted_message_has_its_event_trail(any_relay, any_conv, capture):
    relay, conv = any_relay, any_conv
    ids = [await accepted(relay.smtp_port, BUYER, conv.seller_alias, "one"),
           await accepted(relay.smtp_port, SELLER, conv.buyer_alias, "two"),
           await accepted(relay.smtp_port, BUYER, conv.seller_alias, "three"),
           await accepted(relay.smtp_port, SELLER2, conv.buyer_alias, "four")]
    await capture.wait_for(4)
    for mid in ids:
        await wait_event(relay, mid, "delivered")
    for mid in ids:
        kinds = [k for (k,) in await rows(
            relay, "SELECT kind FROM message_events WHERE message_id = ? ORDER BY seq", (mid,))]
        assert kinds == ["queued", "delivered"], (mid, kinds)
    dispositions = await rows(relay, "SELECT disposition, recipient IS NOT NULL,"
                                     " delivered IS NOT NULL FROM messages ORDER BY seq")
    assert dispositions == [("delivered", 1, 1)] * 4
    assert (await rows(relay, "SELECT COUNT(*) FROM outbox"))[0][0] == 0


# -- crash: kill -9 with mail queued, restart, everything arrives ---------------------------


async def test_queued_mail_survives_kill_9(tmp_path):
    store = tmp_path / "relay.db"
    port = free_port()
    config = serve_config(tmp_path, port, free_port())  # nobody listens there
    opened = await asyncio.to_thread(
        run_cli, "--config", str(config), "conversations", "open", "--order",
        "112-1234567-1234567", "--buyer", BUYER, "--seller", SELLER, "--json")
    assert opened.returncode == 0, opened.stderr
    seller_alias = json.loads(opened.stdout)["seller_alias"]

    subjects = [f"crash test message {n}" for n in range(1, 6)]
    capture = Capture()
    try:
        async with serving(config) as relay:
            for subject in subjects:
                await accepted(port, BUYER, seller_alias, subject)
            # Every one is queued, none can be delivered, and at least one attempt has failed.
            assert query(store, "SELECT COUNT(*) FROM outbox")[0][0] == 5
            deadline = time.monotonic() + 10
            while not query(store, "SELECT 1 FROM message_events WHERE kind = 'deferred'"):
                assert time.monotonic() < deadline, relay.log()
                await asyncio.sleep(0.05)
            assert await relay.kill() == -9  # SIGKILL: no shutdown code runs

        await capture.start()
        config = serve_config(tmp_path, port, capture.port)
        async with serving(config) as relay:
            await capture.wait_for(5, timeout=20)
            got = sorted(str(m.message["Subject"]) for m in capture.messages)
            assert got == subjects
            assert all(m.rcpt_tos == [SELLER] for m in capture.messages)
            # Graceful: in-flight deliveries settle before exit.
            assert await relay.terminate() == 0, relay.log()
    finally:
        await capture.stop()

    assert len(capture.messages) == 5  # nothing delivered twice
    assert query(store, "SELECT COUNT(*) FROM outbox")[0][0] == 0
    ids = [mid for (mid,) in query(store, "SELECT id FROM messages ORDER BY seq")]
    assert len(ids) == 5
    for mid in ids:
        kinds = [k for (k,) in query(
            store, "SELECT kind FROM message_events WHERE message_id = ? ORDER BY seq", (mid,))]
        assert kinds[0] == "queued" and kinds[-1] == "delivered", kinds
        assert set(kinds[1:-1]) <= {"deferred"}, kinds
    done = await asyncio.to_thread(run_cli, "--config", str(config), "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: 5 records")


async def test_conversation_identity_is_fixed_and_close_is_final(any_relay, any_conv):
    relay, conv = any_relay, any_conv
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        async with relay.store.write() as db:
            await db.execute("UPDATE conversations SET order_id = '999-9999999-9999999'")
    async with relay.store.write() as db:
        await db.execute("UPDATE conversations SET closed_at = 'now' WHERE id = ?", (conv.id,))
    with pytest.raises(sqlite3.DatabaseError, match="closed once"):
        async with relay.store.write() as db:
            await db.execute("UPDATE conversations SET closed_at = NULL WHERE id = ?",
                             (conv.id,))
    assert await rows(relay, "SELECT order_id, closed_at FROM conversations") == [
        (conv.order_id, "now")]


async def test_backup_while_the_relay_runs(relay, conv, capture, tmp_path):
    """`relay backup PATH`: a checked, self-contained copy taken while the relay serves; it
    refuses to overwrite, and the copy passes `audit verify` on its own."""
    for n in range(3):
        data = compose(BUYER, conv.seller_alias, body=f"Message {n}")
        assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    config = tmp_path / "backup.toml"
    config.write_text(f"[store]\npath = {json.dumps(str(relay.config.store.path))}\n",
                      encoding="utf-8")
    target = tmp_path / "copies" / "relay-backup.db"
    made = await asyncio.to_thread(run_cli, "--config", str(config), "backup", str(target))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("backed up 3 records to")
    assert not (tmp_path / "copies" / ".relay-backup.db.partial").exists()
    again = await asyncio.to_thread(run_cli, "--config", str(config), "backup", str(target))
    assert again.returncode == 2 and "exists" in again.stderr
    copy_config = tmp_path / "copy.toml"
    # The copy is chained with the relay's key (beside the relay's store, not the copy).
    copy_config.write_text(f"[store]\npath = {json.dumps(str(target))}\nchain_key ="
                           f" {json.dumps(str(tmp_path / 'chain.key'))}\n", encoding="utf-8")
    verified = await asyncio.to_thread(run_cli, "--config", str(copy_config), "audit", "verify")
    assert verified.returncode == 0 and verified.stdout.startswith("ok: 3 records"), verified
