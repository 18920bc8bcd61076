"""The `relay` command line, run as a real subprocess against a real store file."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
from conftest import BUYER, DOMAIN, SELLER, compose, make_config, open_conv, run_cli, send

ORDER = "112-1234567-1234567"
ALIAS_LOCAL = re.compile(r"^[a-z2-7]{21}$")


def write_config(tmp_path: Path, domain: str = "relay.test") -> Path:
    path = tmp_path / "cli.toml"
    path.write_text(
        f'domain = "{domain}"\n'
        f"[store]\npath = {json.dumps(str(tmp_path / 'relay.db'))}\n"
        f"[delivery]\nmaildir = {json.dumps(str(tmp_path / 'maildir'))}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cfg(tmp_path):
    return write_config(tmp_path)


def cli(cfg: Path, *args: str):
    return run_cli("--config", str(cfg), *args)


def ok_json(cfg: Path, *args: str):
    done = cli(cfg, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def open_json(cfg: Path, order: str = ORDER, buyer: str = "b@example.com",
              sellers: tuple[str, ...] = ("s@example.org", "s2@example.org")):
    args = ["conversations", "open", "--order", order, "--buyer", buyer]
    for seller in sellers:
        args += ["--seller", seller]
    return ok_json(cfg, *args)


def conversation_count(cfg: Path) -> int:
    return len(ok_json(cfg, "conversations", "list"))


def test_open_prints_conversation_json(cfg):
    out = open_json(cfg)
    assert out["created"] is True
    assert out["order_id"] == ORDER
    assert re.fullmatch(r"[a-z2-7]+", out["conversation_id"])
    aliases = []
    for key in ("buyer_alias", "seller_alias"):
        local, at, domain = out[key].partition("@")
        assert at and domain == "relay.test", out[key]
        assert ALIAS_LOCAL.match(local), out[key]
        aliases.append(local)
    assert aliases[0] != aliases[1]
    assert out["buyers"] == ["b@example.com"]
    assert out["sellers"] == ["s@example.org", "s2@example.org"]
    assert out["closed_at"] is None


def test_open_text_output(cfg):
    done = cli(cfg, "conversations", "open", "--order", ORDER, "--buyer", "b@example.com",
               "--seller", "s@example.org")
    assert done.returncode == 0, done.stderr
    out = open_json(cfg, sellers=("s@example.org",))
    assert f"conversation {out['conversation_id']} (created)" in done.stdout
    assert out["buyer_alias"] in done.stdout
    assert out["seller_alias"] in done.stdout


def test_open_again_returns_the_same_conversation(cfg):
    first = open_json(cfg)
    again = open_json(cfg)
    assert again["created"] is False
    for key in ("conversation_id", "buyer_alias", "seller_alias"):
        assert again[key] == first[key]
    # The identity is order + buyer + first seller, compared without case.
    shouted = open_json(cfg, buyer="B@EXAMPLE.COM", sellers=("S@example.org",))
    assert shouted["created"] is False
    assert shouted["conversation_id"] == first["conversation_id"]
    assert conversation_count(cfg) == 1


def test_open_adds_a_later_seller_address(cfg):
    first = open_json(cfg, sellers=("s@example.org",))
    again = open_json(cfg, sellers=("s@example.org", "s3@example.org"))
    assert again["conversation_id"] == first["conversation_id"]
    assert again["sellers"] == ["s@example.org", "s3@example.org"]


def test_different_order_gets_different_aliases(cfg):
    first = open_json(cfg)
    other = open_json(cfg, order="112-7654321-7654321")
    assert other["created"] is True
    assert other["conversation_id"] != first["conversation_id"]
    four = {first["buyer_alias"], first["seller_alias"], other["buyer_alias"],
            other["seller_alias"]}
    assert len(four) == 4
    assert conversation_count(cfg) == 2


@pytest.mark.parametrize(("args", "needle"), [
    (["--order", "112-123-1", "--buyer", "b@example.com", "--seller", "s@example.org"],
     "112-123-1"),
    (["--order", "1121234567-1234567", "--buyer", "b@example.com", "--seller", "s@example.org"],
     "order ID"),
    (["--order", ORDER, "--buyer", "not-an-address", "--seller", "s@example.org"],
     "not-an-address"),
    (["--order", ORDER, "--buyer", "b@example.com", "--seller", "s@@example.org"],
     "s@@example.org"),
    (["--order", ORDER, "--buyer", "b@example.com", "--seller", "b@example.com"],
     "share an address"),
])
def test_bad_input_exits_2_and_creates_nothing(cfg, args, needle):
    done = cli(cfg, "conversations", "open", *args, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("relay: ")
    assert needle in lines[0]
    assert "Traceback" not in done.stderr
    assert conversation_count(cfg) == 0


@pytest.mark.parametrize("address", ["shop@relay.example", "shop@RELAY.Example"])
def test_address_on_the_relay_domain_is_refused(tmp_path, address):
    # email-validator already refuses the special-use .test names, so the relay's own
    # check is reached only with an ordinary domain.
    cfg = write_config(tmp_path, "relay.example")
    for buyer, seller in ((address, "s@example.org"), ("b@example.com", address)):
        done = cli(cfg, "conversations", "open", "--order", ORDER, "--buyer", buyer,
                   "--seller", seller)
        assert done.returncode == 2
        assert "own domain" in done.stderr
        assert len(done.stderr.splitlines()) == 1, done.stderr
    assert conversation_count(cfg) == 0
    # A subdomain is another domain: accepted.
    assert open_json(cfg, buyer="b@shop.relay.example")["created"] is True


def test_list_text_and_json(cfg):
    done = cli(cfg, "conversations", "list")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no conversations"
    assert ok_json(cfg, "conversations", "list") == []

    first = open_json(cfg)
    second = open_json(cfg, order="112-7654321-7654321")
    listed = ok_json(cfg, "conversations", "list")
    assert {c["conversation_id"] for c in listed} == {first["conversation_id"],
                                                     second["conversation_id"]}
    for entry in listed:
        assert entry["message_count"] == 0
    text = cli(cfg, "conversations", "list").stdout
    assert f"{first['conversation_id']}  order {ORDER}  0 messages" in text
    assert f"{second['conversation_id']}  order 112-7654321-7654321  0 messages" in text


def test_show(cfg):
    conv = open_json(cfg)
    done = cli(cfg, "conversations", "show", conv["conversation_id"])
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert conv["buyer_alias"] in text
    assert conv["seller_alias"] in text
    assert "b@example.com" in text
    assert "s@example.org, s2@example.org" in text
    assert re.search(r"^messages\s+0$", text, re.MULTILINE), text
    shown = ok_json(cfg, "conversations", "show", conv["conversation_id"])
    assert shown["message_count"] == 0
    assert shown["buyer_alias"] == conv["buyer_alias"]


def test_show_unknown_id(cfg):
    open_json(cfg)
    done = cli(cfg, "conversations", "show", "nosuchconversation")
    assert done.returncode != 0
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert "no conversation 'nosuchconversation'" in done.stderr


def test_close(cfg):
    conv = open_json(cfg)
    done = cli(cfg, "conversations", "close", conv["conversation_id"])
    assert done.returncode == 0, done.stderr
    assert f"conversation {conv['conversation_id']} closed at" in done.stdout
    shown = ok_json(cfg, "conversations", "show", conv["conversation_id"])
    assert shown["closed_at"] is not None
    assert "closed" in cli(cfg, "conversations", "list").stdout
    # Closing again keeps the first closing time.
    assert cli(cfg, "conversations", "close", conv["conversation_id"]).returncode == 0
    assert ok_json(cfg, "conversations", "show",
                   conv["conversation_id"])["closed_at"] == shown["closed_at"]


def test_close_unknown_id(cfg):
    done = cli(cfg, "conversations", "close", "nosuchconversation")
    assert done.returncode != 0
    assert "no conversation 'nosuchconversation'" in done.stderr


def test_migrate_twice(cfg, tmp_path):
    first = cli(cfg, "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == ("applied: 0001_initial.sql, 0002_parties_append_only.sql,"
                                     " 0003_buyer_preferences.sql, 0004_seller_settings.sql,"
                                     " 0005_conversation_events.sql, 0006_message_marks.sql,"
                                     " 0007_sender_index.sql, 0008_authentication_results.sql,"
                                     " 0009_seller_credentials.sql, 0010_lookup_indexes.sql,"
                                     " 0011_covering_rate_index.sql,"
                                     " 0012_client_network_counts.sql, 0013_message_size.sql,"
                                     " 0014_chain.sql, 0015_web_sessions.sql,"
                                     " 0016_accepted_message_indexes.sql,"
                                     " 0017_message_bytes_uncompressed.sql,"
                                     " 0018_outbox_claims.sql")
    assert (tmp_path / "relay.db").exists()
    second = cli(cfg, "migrate")
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "store is up to date"


def test_audit_verify_on_empty_and_fresh_store(cfg):
    open_json(cfg)
    done = cli(cfg, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: 0 records")


async def acli(cfg: Path, *args: str):
    # Off the event loop, so the in-process relay keeps serving while the CLI runs.
    return await asyncio.to_thread(run_cli, "--config", str(cfg), *args)


async def wait_delivered(cfg: Path, count: int, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        done = await acli(cfg, "messages", "list", "--json")
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        delivered = [r for r in rows if r["delivery"] == "delivered"]
        if len(delivered) >= count or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.1)


async def test_messages_list_after_real_mail(relay_factory, capture, tmp_path):
    relay = await relay_factory(make_config(tmp_path, capture.port))
    cfg = write_config(tmp_path, DOMAIN)
    conv = await open_conv(relay)
    other = await open_conv(relay, order="112-7654321-7654321")

    assert (await send(relay.smtp_port, BUYER, conv.seller_alias,
                       compose(BUYER, conv.seller_alias)))[0] == 250
    assert (await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       compose(SELLER, conv.buyer_alias, subject="Re: Question")))[0] == 250
    code, _ = await send(relay.smtp_port, "stranger@evil.example", conv.seller_alias,
                         compose("stranger@evil.example", conv.seller_alias))
    assert code == 550
    assert (await send(relay.smtp_port, BUYER, other.seller_alias,
                       compose(BUYER, other.seller_alias)))[0] == 250
    await capture.wait_for(3)

    rows = await wait_delivered(cfg, 3)
    assert [r["conversation_id"] for r in rows] == [conv.id, conv.id, conv.id, other.id]
    assert [r["direction"] for r in rows] == [
        "buyer_to_seller", "seller_to_buyer", "buyer_to_seller", "buyer_to_seller"]
    assert [r["disposition"] for r in rows] == ["delivered", "delivered", "rejected",
                                                "delivered"]
    assert [r["delivery"] for r in rows] == ["delivered", "delivered", None, "delivered"]
    assert rows[2]["reasons"] == ["sender.unregistered"]
    assert all(r["size"] > 0 for r in rows)

    only = json.loads((await acli(cfg, "messages", "list", "--conversation", conv.id,
                                  "--json")).stdout)
    assert [r["id"] for r in only] == [r["id"] for r in rows[:3]]

    text = await acli(cfg, "messages", "list")
    assert text.returncode == 0, text.stderr
    header, *lines = text.stdout.splitlines()
    assert header.split()[:4] == ["received", "at", "message", "id"]
    assert len(lines) == 4
    assert rows[0]["id"] in lines[0] and "delivered" in lines[0]
    assert rows[2]["id"] in lines[2] and "sender.unregistered" in lines[2]

    none = await acli(cfg, "messages", "list", "--conversation", "nosuchconversation")
    assert none.stdout.strip() == "no messages"

    shown = json.loads((await acli(cfg, "conversations", "show", conv.id, "--json")).stdout)
    assert shown["message_count"] == 3
    assert shown["buyer_alias"] == conv.buyer_alias

    verify = await acli(cfg, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.startswith("ok: 4 records")


def test_config_may_follow_the_subcommand(cfg):
    conv = open_json(cfg)
    done = run_cli("conversations", "show", conv["conversation_id"], "--config", str(cfg))
    assert done.returncode == 0, done.stderr
    assert conv["seller_alias"] in done.stdout


def test_reopening_a_closed_conversation_says_so(cfg):
    conv = open_json(cfg)
    assert cli(cfg, "conversations", "close", conv["conversation_id"]).returncode == 0
    again = cli(cfg, "conversations", "open", "--order", ORDER, "--buyer", "b@example.com",
                "--seller", "s@example.org")
    assert again.returncode == 0
    assert "CLOSED at" in again.stdout


def test_anchor_past_the_end_is_named(cfg):
    done = cli(cfg, "audit", "verify", "--anchor", "5:" + "0" * 64)
    assert done.returncode == 1
    assert "past the end of this store (last record 0)" in done.stdout
    bad = cli(cfg, "audit", "verify", "--anchor", "nonsense")
    assert bad.returncode == 2 and "SEQ:SHA256" in bad.stderr
