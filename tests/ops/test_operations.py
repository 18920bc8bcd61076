"""Operating a running `relay serve` process: SIGHUP reload, JSON and text logs, the
`check-config` and `api token` commands, and SIGTERM with the HTTP API up."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    BUYER,
    ROOT,
    SELLER,
    SELLER2,
    compose,
    free_port,
    run_cli,
    send,
)
from support.api_relay import admin_token, api_relay_settings, start_api_relay
from support.ports import free_ports
from support.relay_process import RelayProcess, relay_toml

from relay.api import tokens as api_tokens

PHONE_BODY = "Please call me on +44 20 7946 0958 about the parcel.\n"
MARKER = "Quokkafjord"  # a word that appears only in message bodies and subjects
ORDER = "112-7654321-7654321"
# Over relay.pipeline.lanes.BIG: its stages run in the big-message worker process.
BIG_BODY = PHONE_BODY + "The parcel arrived and the box was a little wet at one corner.\n" * 4500


async def open_conversation(relay: RelayProcess, token: str, order: str = ORDER,
                            seller: str = SELLER) -> dict[str, Any]:
    async with relay.api(token) as client:
        reply = await client.post("/v1/conversations", json={
            "order_id": order, "buyer": BUYER, "sellers": [seller]})
    assert reply.status_code == 201, reply.text
    return reply.json()


async def status(relay: RelayProcess, token: str | None, path: str) -> int:
    async with relay.api(token) as client:
        return (await client.get(path)).status_code


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def cli_token(config: Path, *args: str) -> tuple[str, str]:
    """`relay api token ARGS`: (the token, the config entry it printed)."""
    done = run_cli("--config", str(config), "api", "token", *args)
    assert done.returncode == 0, done.stderr
    token = re.search(r"^token \(shown once[^)]*\): (rly_\S+)$", done.stdout, re.M)
    entry = re.search(r'^\s+"([^"]+ sha256:[0-9a-f]{64})"$', done.stdout, re.M)
    assert token and entry, done.stdout
    assert "[api] tokens" in done.stdout and "SIGHUP" in done.stdout
    assert token.group(1) not in entry.group(1)  # the config holds the hash only
    assert entry.group(1).endswith(api_tokens.digest(token.group(1)))
    return token.group(1), entry.group(1)


# -- 1 and 4: SIGHUP reload, and tokens from `relay api token` ------------------------------


@pytest.mark.slow
async def test_sighup_applies_rules_limits_and_tokens_and_keeps_the_port(
        tmp_path, capture, relay_processes):
    admin, admin_entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [admin_entry])
    conv = await open_conversation(relay, admin)
    other = await open_conversation(relay, admin, order="112-1111111-1111111", seller=SELLER2)
    third = await open_conversation(relay, admin, order="112-2222222-2222222")
    big = third["seller_alias"]
    alias = conv["seller_alias"]

    # Tokens made by the command, for this relay's config (its domain).
    new_admin, new_admin_entry = cli_token(relay.config, "admin")
    seller, seller_entry = cli_token(relay.config, "seller", SELLER)
    metrics, metrics_entry = cli_token(relay.config, "metrics")
    assert seller_entry.startswith(f"seller:{SELLER} sha256:")
    assert new_admin_entry.startswith("admin ") and metrics_entry.startswith("metrics ")
    for token in (new_admin, seller, metrics):
        assert await status(relay, token, "/v1/conversations") == 401
    assert await status(relay, metrics, "/metrics") == 401

    # Before: a phone number is redacted and the message delivered.
    code, reply = await send(relay.smtp_port, BUYER, alias, compose(BUYER, alias, body=PHONE_BODY))
    assert code == 250, reply
    delivered = (await capture.wait_for(1))[0].message.get_body(("plain",)).get_content()
    assert "7946" not in delivered
    big_message = compose(BUYER, big, body=BIG_BODY)
    assert len(big_message) > 256 * 1024
    code, reply = await send(relay.smtp_port, BUYER, big, big_message)
    assert code == 250, reply

    old_port = relay.smtp_port
    (new_port,) = free_ports(1, (old_port, relay.api_port, capture.port))
    changed = json.loads(json.dumps(relay.settings(), default=str))
    changed["rules"]["contact_phone"] = "reject"
    changed["limits"]["conversation_per_hour"] = 2
    changed["smtp"]["port"] = new_port
    changed["api"]["tokens"] = [admin_entry, new_admin_entry, seller_entry, metrics_entry]
    _, lines = await relay.reload(changed)

    applied = re.search(r"config reload: applied (.*)", lines)
    assert applied, lines
    assert set(applied.group(1).split(", ")) == {
        "api.tokens", "limits.conversation_per_hour", "rules.contact_phone"}
    assert "config reload: smtp.port changed; it takes effect at the next restart" in lines
    assert "refused" not in lines

    # After: the same kind of message is refused, on the port the relay had all along.
    assert listening(old_port) and not listening(new_port)
    code, reply = await send(old_port, BUYER, alias, compose(BUYER, alias, body=PHONE_BODY))
    assert code == 550 and "contact.phone" in reply, reply
    # Two accepted messages in this conversation's hour (the refused one counts for nothing
    # there): the new limit.
    code, reply = await send(old_port, BUYER, alias, compose(BUYER, alias))
    assert code == 250, reply
    code, reply = await send(old_port, BUYER, alias, compose(BUYER, alias))
    assert code == 450 and "2 messages an hour in one conversation" in reply, reply
    code, reply = await send(old_port, BUYER, big, big_message)  # the worker process too
    assert code == 550 and "contact.phone" in reply, reply

    # The tokens in the reloaded config work, each within its scope.
    async with relay.api(new_admin) as client:
        listed = await client.get("/v1/conversations")
    assert listed.status_code == 200
    assert {c["conversation_id"] for c in listed.json()} == {
        conv["conversation_id"], other["conversation_id"], third["conversation_id"]}
    async with relay.api(seller) as client:
        own = await client.get("/v1/conversations")
    assert own.status_code == 200
    assert {c["conversation_id"] for c in own.json()} == {  # not SELLER2's
        conv["conversation_id"], third["conversation_id"]}
    assert all(c["buyers"] is None for c in own.json())  # no buyer's real address
    assert await status(relay, metrics, "/metrics") == 200
    assert await status(relay, metrics, "/v1/conversations") == 403
    assert await status(relay, admin, "/v1/conversations") == 200

    # A broken file: every problem logged, nothing applied (it would turn the phone rule
    # off, lift the limit and drop the new tokens).
    broken = json.loads(json.dumps(changed))
    broken["rules"]["contact_phone"] = "off"
    broken["limits"]["conversation_per_hour"] = 50
    broken["api"]["tokens"] = [admin_entry, "admin sha256:not-hex"]
    broken["delivery"]["mode"] = "carrier-pigeon"
    broken["shutdown_grace"] = -1
    _, lines = await relay.reload(broken)
    refused = re.findall(r"config reload refused, nothing changed: (.*)", lines)
    assert len(refused) == 3, lines
    assert any(p.startswith("api.tokens:") for p in refused), refused
    assert any(p.startswith("delivery.mode:") for p in refused), refused
    assert any(p.startswith("shutdown_grace:") for p in refused), refused
    assert "applied" not in lines

    code, reply = await send(old_port, BUYER, other["seller_alias"],
                             compose(BUYER, other["seller_alias"], body=PHONE_BODY))
    assert code == 550 and "contact.phone" in reply, reply  # still "reject"
    code, reply = await send(old_port, BUYER, alias, compose(BUYER, alias))
    assert code == 450, reply  # still 2 an hour
    assert await status(relay, new_admin, "/v1/conversations") == 200  # still a token
    assert await status(relay, None, "/readyz") == 200
    relay.alive()
    assert len(await capture.wait_for(3)) == 3  # nothing refused was delivered
    # Its text, not the whole message: a Message-ID or a signature may hold "7946" by chance.
    assert "7946" not in capture.messages[1].message.get_body(("plain",)).get_content()

    # Taking a token out of the file revokes it at the next SIGHUP.
    changed["api"]["tokens"] = [admin_entry, seller_entry]
    _, lines = await relay.reload(changed)
    assert "config reload: applied api.tokens" in lines
    assert await status(relay, new_admin, "/v1/conversations") == 401
    assert await status(relay, metrics, "/metrics") == 401
    assert await status(relay, seller, "/v1/conversations") == 200
    assert listening(old_port) and not listening(new_port)


async def test_sighup_with_nothing_changed_applies_nothing(tmp_path, capture,
                                                           relay_processes):
    _, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry])
    _, lines = await relay.reload(relay.settings())
    assert "config reload: nothing to apply" in lines
    assert "restart" not in lines and "applied" not in lines


async def test_relay_reload_finds_the_serving_process_by_its_pid_file(tmp_path, capture,
                                                                       relay_processes):
    _, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry])
    pid_file = Path(relay.settings()["store"]["path"]).with_name("relay.pid")
    assert pid_file.read_text(encoding="ascii").strip() == str(relay.pid)
    mark = len(relay.log())
    done = run_cli("--config", str(relay.config), "reload")
    assert done.returncode == 0, done.stderr
    assert f"pid {relay.pid}" in done.stdout
    await relay.wait_log("SIGHUP: reading the configuration again", mark)
    await relay.reloaded(mark)
    assert await relay.terminate() == 0
    assert not pid_file.exists()  # a clean stop takes it away
    gone = run_cli("--config", str(relay.config), "reload")
    assert gone.returncode == 1
    assert "no relay is serving with this config" in gone.stderr


async def test_sighup_with_a_broken_template_applies_nothing(tmp_path, capture,
                                                             relay_processes):
    _, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry])
    (tmp_path / "templates" / "broken.toml").write_text('id = "broken"\n', encoding="utf-8")
    changed = json.loads(json.dumps(relay.settings(), default=str))
    changed["limits"]["conversation_per_hour"] = 1
    _, lines = await relay.reload(changed)
    assert "config reload refused, nothing changed: template " in lines, lines
    assert "applied" not in lines
    async with relay.api() as client:
        assert (await client.get("/readyz")).status_code == 200


async def test_sighup_applies_connections_per_ip(tmp_path, capture, relay_processes):
    _, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry])
    changed = json.loads(json.dumps(relay.settings(), default=str))
    changed["limits"]["connections_per_ip"] = 1
    _, lines = await relay.reload(changed)
    assert "config reload: applied limits.connections_per_ip" in lines
    first = await asyncio.open_connection("127.0.0.1", relay.smtp_port)
    second = await asyncio.open_connection("127.0.0.1", relay.smtp_port)
    try:
        assert (await first[0].readline()).startswith(b"220 ")
        greeting = await asyncio.wait_for(second[0].readline(), 5)
        assert greeting.startswith(b"421 4.7.0"), greeting  # one connection per client now
    finally:
        for _, writer in (first, second):
            writer.close()


async def test_sighup_from_debug_to_info_stops_logging_addresses(tmp_path, capture,
                                                                 relay_processes):
    admin, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry],
                              log_level="DEBUG")
    alias = (await open_conversation(relay, admin))["seller_alias"]
    changed = json.loads(json.dumps(relay.settings(), default=str))
    changed["log_level"] = "INFO"
    mark, lines = await relay.reload(changed)
    assert "config reload: applied log_level" in lines
    code, reply = await send(relay.smtp_port, BUYER, alias, compose(BUYER, alias))
    assert code == 250, reply
    queue_id = reply.rsplit(" ", 1)[1]
    await relay.wait_log(f"delivery.attempt id={queue_id}", mark)
    after = relay.log()[mark:]
    assert BUYER.lower() not in after.lower(), after


# -- 2: JSON and text logs ------------------------------------------------------------------


def events(lines: list[str], fmt: str, name: str) -> list[dict[str, Any]]:
    """The `name` events of a log, as dicts (text: the key=value pairs after the name)."""
    found = []
    for line in lines:
        if fmt == "json":
            record = json.loads(line)
            if record.get("event") == name:
                found.append(record)
        elif (at := line.find(f": {name} ")) >= 0:
            pairs = re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line[at:])
            found.append({k: json.loads(v) if v.startswith('"') else v for k, v in pairs})
    return found


@pytest.mark.parametrize("fmt", ["json", "text"])
async def test_log_lines_name_transactions_and_deliveries_not_people(tmp_path, capture,
                                                                     relay_processes, fmt):
    admin, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry],
                              log={"format": fmt}, rules={"contact_phone": "reject"})
    alias = (await open_conversation(relay, admin))["seller_alias"]
    subject = f"{MARKER} order question"
    code, reply = await send(relay.smtp_port, BUYER, alias, compose(
        BUYER, alias, subject=subject, body=f"Hello, {MARKER} is the colour I want.\n"))
    assert code == 250, reply
    accepted = reply.rsplit(" ", 1)[1]
    assert reply == f"2.0.0 queued as {accepted}"
    code, reply = await send(relay.smtp_port, BUYER, alias, compose(
        BUYER, alias, subject=subject, body=f"{MARKER}: {PHONE_BODY}"))
    assert code == 550, reply
    assert MARKER in (await capture.wait_for(1))[0].message["Subject"]
    async with relay.api(admin) as client:  # a path with an address in it
        assert (await client.get(f"/v1/buyers/{BUYER}")).status_code == 200
    await relay.wait_log("delivery.attempt")  # the only delivery
    assert await relay.terminate() == 0
    log = relay.log()
    lines = log.splitlines()
    assert len(lines) >= 6 and "relay stopped" in log

    if fmt == "json":
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all(isinstance(r, dict) and {"ts", "level", "logger"} <= r.keys()
                   for r in records)
    transactions = events(lines, fmt, "smtp.transaction")
    assert len(transactions) == 2, transactions  # one per transaction, nothing else
    with sqlite3.connect(tmp_path / "relay.db") as db:
        rejected = [r[0] for r in db.execute(
            "SELECT id FROM messages WHERE disposition = 'rejected'")]
    assert len(rejected) == 1
    by_id = {t["id"]: t for t in transactions}
    assert set(by_id) == {accepted, rejected[0]}
    assert by_id[accepted]["result"] == "accepted"
    assert str(by_id[accepted]["reply"]).startswith("250")
    assert by_id[rejected[0]]["result"] == "rejected"
    assert str(by_id[rejected[0]]["reply"]).startswith("550")
    assert "contact.phone" in str(by_id[rejected[0]]["reasons"])
    assert by_id[accepted]["conversation"] == by_id[rejected[0]]["conversation"]
    attempts = events(lines, fmt, "delivery.attempt")
    assert [(a["id"], a["result"]) for a in attempts] == [(accepted, "delivered")]
    requests = events(lines, fmt, "api.request")
    assert {"route": "/v1/buyers/{address}", "status": 200} in [
        {"route": r["route"], "status": int(r["status"])} for r in requests]

    lowered = log.lower()
    for secret in (BUYER, SELLER, MARKER):
        assert secret.lower() not in lowered, secret
    # Nor the refused message's phone number (whole: ids and times may hold "7946" by chance)
    assert "7946 0958" not in log and "79460958" not in log


# -- 3: check-config ------------------------------------------------------------------------


BAD_CONFIG = """\
domain = "Shop_Relay!.example"
colour = "blue"
templates = {templates}
[smtp]
port = 70000
[api]
tokens = ["admin sha256:abc", "root sha256:{zeros}"]
"""


def bad_config(tmp_path: Path) -> Path:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "broken.toml").write_text('id = "broken"\ntype = "info"\n', encoding="utf-8")
    (templates / "misnamed.toml").write_text(
        (ROOT / "relay/default_templates/shipping_delay.toml").read_text(encoding="utf-8"),
        encoding="utf-8")
    path = tmp_path / "bad.toml"
    path.write_text(BAD_CONFIG.format(templates=json.dumps(str(templates)), zeros="0" * 64),
                    encoding="utf-8")
    return path


CONFIG_PROBLEMS = [
    "colour: unknown setting",
    "domain: not a lower-case DNS name: 'shop_relay!.example'",
    "smtp.port: not a TCP port: 70000",
    "api.tokens: entry 1 is not 'admin|metrics|seller:ADDRESS sha256:<64 hex>'",
    "api.tokens: entry 2 is not 'admin|metrics|seller:ADDRESS sha256:<64 hex>'",
    "RELAY_SMTP_PROT: unknown setting (environment variable)",
]


def test_check_config_prints_every_problem(tmp_path):
    path = bad_config(tmp_path)
    done = run_cli("--config", str(path), "check-config", env={"RELAY_SMTP_PROT": "25"})
    assert done.returncode == 1, done
    problems = [line for line in done.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == len(CONFIG_PROBLEMS) + 2, done.stdout
    for expected in CONFIG_PROBLEMS:
        assert sum(p.startswith(f"problem: {expected}") for p in problems) == 1, expected
    assert any(f"template {tmp_path / 'templates' / 'broken.toml'}: KeyError" in p
               for p in problems), problems
    assert any(f"template {tmp_path / 'templates' / 'misnamed.toml'}: id must be 'misnamed'"
               in p for p in problems), problems
    assert "ok:" not in done.stdout
    assert "8 problems found" in done.stderr


def test_serve_with_the_bad_file_prints_every_problem_and_exits_2(tmp_path):
    done = run_cli("--config", str(bad_config(tmp_path)), "serve",
                   env={"RELAY_SMTP_PROT": "25"})
    assert done.returncode == 2, done
    errors = done.stderr.splitlines()
    for expected in CONFIG_PROBLEMS:
        assert sum(e.startswith(f"relay: config error: {expected}") for e in errors) == 1, (
            expected, errors)
    assert "HTTP API" not in done.stderr and "SMTP on" not in done.stderr


def test_broken_templates_stop_serve_and_check_config(tmp_path):
    """A valid file whose templates are broken: found at start, not at the first send."""
    _, entry = admin_token()
    config = api_relay_settings(tmp_path, *free_ports(2), 25, [entry])
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.toml").write_text('id = "broken"\n', encoding="utf-8")
    path = tmp_path / "relay.toml"
    path.write_text(relay_toml(config), encoding="utf-8")
    checked = run_cli("--config", str(path), "check-config")
    assert checked.returncode == 1, checked
    assert checked.stdout.startswith(f"problem: template {tmp_path / 'templates' / 'broken.toml'}")
    assert "1 problem found" in checked.stderr
    served = run_cli("--config", str(path), "serve")
    assert served.returncode == 2, served
    assert served.stderr.startswith("relay: config error: template "), served.stderr
    assert "SMTP on" not in served.stderr


def test_check_config_accepts_the_example_and_a_valid_file(tmp_path):
    example = run_cli("--config", "config/relay.example.toml", "check-config")
    assert example.returncode == 0, example
    assert example.stdout.startswith("ok: config/relay.example.toml (domain relay.localhost")
    assert "problem" not in example.stdout

    _, entry = admin_token()
    config = api_relay_settings(tmp_path, 2526, 8026, 25, [entry])
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "shipping_delay.toml").write_text(
        (ROOT / "relay/default_templates/shipping_delay.toml").read_text(encoding="utf-8"),
        encoding="utf-8")
    path = tmp_path / "relay.toml"
    path.write_text(relay_toml(config), encoding="utf-8")
    done = run_cli("--config", str(path), "check-config")
    assert done.returncode == 0, done
    (line,) = done.stdout.splitlines()
    assert re.fullmatch(rf"ok: {re.escape(str(path))} \(domain relay\.test, SMTP 127\.0\.0\.1:2526,"
                        r" API 127\.0\.0\.1:8026 with 1 tokens?, 1 templates?\)", line), line


def test_check_config_on_unreadable_toml_is_one_problem(tmp_path):
    path = tmp_path / "relay.toml"
    path.write_text('domain = "relay.test"\n[smtp\nport = 1\n', encoding="utf-8")
    done = run_cli("--config", str(path), "check-config")
    assert done.returncode == 1
    problems = done.stdout.splitlines()
    assert len(problems) == 1 and problems[0].startswith(f"problem: {path}: not valid TOML")


# -- 4: `relay api token` refusals ----------------------------------------------------------


@pytest.mark.parametrize(("args", "wording"), [
    (("seller",), "a seller token needs the seller's address: relay api token seller EMAIL"),
    (("admin", "x@y.z"), "an admin token is not for one seller; leave out 'x@y.z'"),
    (("metrics", SELLER), f"an metrics token is not for one seller; leave out {SELLER!r}"),
    (("seller", "not-an-address"), "'not-an-address' is not a valid e-mail address"),
    (("seller", "Someone@Relay.Example"), "is on the relay's own domain"),
    (("root",), "invalid choice: 'root'"),
])
def test_api_token_refuses_a_wrong_scope_or_address(tmp_path, args, wording):
    path = tmp_path / "relay.toml"
    path.write_text('domain = "relay.example"\n', encoding="utf-8")
    done = run_cli("--config", str(path), "api", "token", *args)
    assert done.returncode == 2, done
    assert wording in done.stderr, done.stderr
    assert "rly_" not in done.stdout and "sha256:" not in done.stdout


def test_api_tokens_are_new_each_time(tmp_path):
    path = tmp_path / "relay.toml"
    path.write_text('domain = "relay.test"\n', encoding="utf-8")
    first, second = cli_token(path, "admin"), cli_token(path, "admin")
    assert first[0] != second[0] and first[1] != second[1]
    assert len(first[0]) >= 40


# -- 5: SIGTERM with the API up -------------------------------------------------------------


async def test_sigterm_drains_with_the_api_up_and_exits_zero(tmp_path, capture,
                                                             relay_processes):
    admin, entry = admin_token()
    relay = await start_api_relay(tmp_path, relay_processes, capture.port, [entry])
    alias = (await open_conversation(relay, admin))["seller_alias"]
    async with relay.api() as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert all(ready.json()["checks"].values())

    # A transaction is half way through its DATA when the relay is told to stop.
    reader, writer = await asyncio.open_connection("127.0.0.1", relay.smtp_port)

    async def command(line: bytes) -> bytes:
        writer.write(line + b"\r\n")
        await writer.drain()
        while (reply := await reader.readline())[3:4] == b"-":
            pass
        return reply

    await reader.readline()
    await command(b"EHLO client.example")
    assert (await command(f"MAIL FROM:<{BUYER}>".encode())).startswith(b"250")
    assert (await command(f"RCPT TO:<{alias}>".encode())).startswith(b"250")
    assert (await command(b"DATA")).startswith(b"354")
    data = compose(BUYER, alias)
    writer.write(data[:40])
    await writer.drain()
    relay.send_signal(signal.SIGTERM)
    await relay.wait_log("shutting down")

    # Draining: not ready (the API still answers), no new SMTP connections.
    async with relay.api() as client:
        draining = await client.get("/readyz")
    assert draining.status_code == 503, draining.text
    assert draining.json()["checks"]["accepting"] is False
    assert not listening(relay.smtp_port)
    assert relay.returncode is None  # waiting for the open transaction

    writer.write(data[40:] + b".\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"250 2.0.0 queued as ")
    writer.close()
    grace = float(relay.settings()["shutdown_grace"])
    code = await relay.wait(grace + 5)
    assert code == 0, relay.log()
    assert "did not finish within" not in relay.log()  # the drain ended, not the grace
    assert "relay stopped" in relay.log()
    assert not listening(relay.api_port)
    with contextlib.closing(sqlite3.connect(tmp_path / "relay.db")) as db:
        queued = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert len(capture.messages) + queued == 1  # accepted means delivered or still queued


# -- unauthenticated SMTP off loopback --------------------------------------------------------

# (smtp.host, auth.inbound, warned): `none` is for trying the relay out on loopback; anywhere
# else it lets anyone who knows a buyer's address and the seller alias write as the buyer.
EXPOSURE = [
    ("127.0.0.1", "none", False),
    ("localhost", "none", False),
    ("0.0.0.0", "none", True),
    ("0.0.0.0", "dmarc", False),
    ("0.0.0.0", "spf-or-dkim", False),
]


def exposure_config(tmp_path: Path, host: str = "127.0.0.1", inbound: str = "none") -> Path:
    config = api_relay_settings(tmp_path, 2526, 8026, 25, [])
    config["smtp"]["host"] = host
    config["auth"] = {"inbound": inbound}
    (tmp_path / "templates").mkdir(exist_ok=True)
    path = tmp_path / "relay.toml"
    path.write_text(relay_toml(config), encoding="utf-8")
    return path


def exposure_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "auth.inbound" in line]


def assert_exposure_warning(lines: list[str], host: str) -> None:
    assert len(lines) == 1, lines
    (line,) = lines
    assert "WARNING" in line, line
    assert 'auth.inbound = "none"' in line and f"{host}:" in line, line
    assert "not authenticated" in line and "write as that party" in line, line


@pytest.mark.parametrize(("host", "inbound", "warned"), EXPOSURE)
def test_check_config_warns_about_unauthenticated_smtp_off_loopback(tmp_path, host, inbound,
                                                                   warned):
    done = run_cli("--config", str(exposure_config(tmp_path, host, inbound)), "check-config")
    assert done.returncode == 0, done  # allowed, but said
    assert done.stdout.startswith("ok: ") and len(done.stdout.splitlines()) == 1, done.stdout
    lines = exposure_lines(done.stderr)
    if warned:
        assert_exposure_warning(lines, host)
        assert lines[0].startswith("WARNING: "), lines
    else:
        assert lines == [], done.stderr


def test_check_config_warns_when_the_environment_opens_the_port(tmp_path):
    """The image sets RELAY_SMTP_HOST=0.0.0.0 over a file that says 127.0.0.1."""
    done = run_cli("--config", str(exposure_config(tmp_path)), "check-config",
                   env={"RELAY_SMTP_HOST": "0.0.0.0"})
    assert done.returncode == 0, done
    assert_exposure_warning(exposure_lines(done.stderr), "0.0.0.0")


@pytest.mark.parametrize(("host", "inbound", "warned"),
                         [e for e in EXPOSURE if e[0] != "localhost"])
async def test_serve_warns_about_unauthenticated_smtp_off_loopback(tmp_path, relay_processes,
                                                                   host,
                                                                   inbound, warned):
    relay = await start_api_relay(tmp_path, relay_processes, free_port(), [],
                              smtp={"host": host}, auth={"inbound": inbound})
    lines = exposure_lines(relay.log())
    if warned:
        assert_exposure_warning(lines, host)
        assert " WARNING relay.server: " in lines[0], lines
    else:
        assert lines == [], relay.log()
    assert await relay.terminate() == 0, relay.log()
