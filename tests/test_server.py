"""`relay serve` as a real process: start-up errors, SIGTERM drains and exits 0."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

from conftest import BUYER, SELLER, compose, free_port, run_cli, send
from support.relay_process import RelayProcess, serving


def write_config(tmp_path: Path, smtp_port: int, smarthost_port: int) -> Path:
    path = tmp_path / "relay.toml"
    path.write_text(
        'domain = "relay.test"\nshutdown_grace = 5.0\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
        f'[store]\npath = "{tmp_path / "relay.db"}"\n'
        f'[delivery]\nmode = "smtp"\nsmtp_port = {smarthost_port}\nretry_initial = 0.2\n'
        "retry_max = 1.0\npoll_interval = 0.1\n"
        f'bounce_key = "{tmp_path / "bounce.key"}"\n'
        f'[dkim]\nkey = "{tmp_path / "dkim.pem"}"\n'
        '[api]\nport = 0\n'
        f'[submission]\nport = 0\ntls_cert = "{tmp_path / "cert.pem"}"\n'
        f'tls_key = "{tmp_path / "key.pem"}"\n'
    )
    return path


async def test_sigterm_drains_and_exits_zero(tmp_path, capture):
    port = free_port()
    config = write_config(tmp_path, port, capture.port)
    opened = run_cli("--config", str(config), "conversations", "open", "--order",
                     "112-1234567-1234567", "--buyer", BUYER, "--seller", SELLER, "--json")
    conv = json.loads(opened.stdout)
    async with serving(config) as relay:
        alias = conv["seller_alias"]
        code, _ = await send(port, BUYER, alias, compose(BUYER, alias))
        assert code == 250
        await capture.wait_for(1)
        # An idle client is connected while the relay is told to stop.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await reader.readline()).startswith(b"220 ")
        code = await relay.terminate()
        assert code == 0, relay.log()
        assert "relay stopped" in relay.log()
        assert await reader.read() == b""  # its connection was closed
        writer.close()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # no longer listening


async def test_port_in_use_is_one_clear_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        relay = RelayProcess(write_config(tmp_path, port, free_port()))
        relay.start()
        code = await relay.wait()
    assert code == 1
    last = relay.log().strip().splitlines()[-1]
    assert last.startswith(f"relay: cannot listen on 127.0.0.1:{port}"), last


async def test_stop_finishes_a_transaction_in_progress(relay, conv, capture):
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
    assert (await command(f"RCPT TO:<{conv.seller_alias}>".encode())).startswith(b"250")
    assert (await command(b"DATA")).startswith(b"354")
    data = compose(BUYER, conv.seller_alias)
    writer.write(data[:40])
    await writer.drain()
    stopping = asyncio.create_task(relay.stop())
    assert relay.server is not None
    for _ in range(1000):  # stop() closes the listener first, then waits
        if not relay.server.is_serving():
            break
        await asyncio.sleep(0.01)
    assert not relay.server.is_serving()
    assert not stopping.done()  # waiting for the open transaction
    writer.write(data[40:] + b".\r\n")
    await writer.drain()
    assert (await reader.readline()).startswith(b"250 2.0.0 queued as ")
    await asyncio.wait_for(stopping, 10)
    assert await reader.read() == b""  # then the relay hung up
    writer.close()
    # Accepted means on disk: delivered already, or queued for the next start.
    with sqlite3.connect(relay.config.store.path) as db:
        queued = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    assert len(capture.messages) + queued == 1


async def test_log_has_no_real_address_at_the_default_level(tmp_path, capture):
    port = free_port()
    config = write_config(tmp_path, port, capture.port)
    opened = run_cli("--config", str(config), "conversations", "open", "--order",
                     "112-1234567-1234567", "--buyer", BUYER, "--seller", SELLER, "--json")
    alias = json.loads(opened.stdout)["seller_alias"]
    async with serving(config) as relay:
        assert (await send(port, BUYER, alias, compose(BUYER, alias)))[0] == 250
        await capture.wait_for(1)
        await relay.terminate()
        err = relay.log()
    assert "accepted" in err and "delivered" in err  # it does log the transaction...
    assert BUYER.lower() not in err.lower() and SELLER.lower() not in err.lower()  # ...not who
