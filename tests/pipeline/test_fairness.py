"""A slow client cannot stall others: while ten clients trickle 20 MB bodies, a small
message is accepted and delivered. Ordering is asserted, not time (the latency is printed)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import BUYER, SELLER, Capture, RelayFactory, compose, make_config, open_conv, send

from relay.config import Config, LimitsSettings, SMTPSettings
from relay.pipeline.lanes import BIG, FairLanes
from relay.store import records

UPLOADS = 10
SIZE = 20 * 1024 * 1024
CHUNK = 256 * 1024


async def trickle(port: int, sender: str, alias: str, started: asyncio.Event,
                  stop: asyncio.Event) -> int:
    """Begins DATA and sends a 20 MB body slowly until told to stop; returns bytes sent.
    It never ends the data: the relay must not record half a message."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(f"EHLO slow.example\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n"
                 .encode())
    while not (await reader.readline()).startswith(b"354"):
        pass
    head = compose(sender, alias, body="").rstrip(b"\r\n") + b"\r\n"
    writer.write(head)
    sent = len(head)
    line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
    chunk = line * (CHUNK // len(line))
    started.set()
    while sent < SIZE and not stop.is_set():
        writer.write(chunk)
        await writer.drain()
        sent += len(chunk)
        await asyncio.sleep(0.05)
    writer.transport.abort()  # gone mid-DATA, like a client whose line dropped
    return sent


async def test_slow_uploads_do_not_hold_up_a_small_message(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> None:
    cfg = make_config(tmp_path, capture.port)
    relay = await relay_factory(cfg.replace(
        smtp=SMTPSettings(host="127.0.0.1", port=0, max_message_size=25 * 1024 * 1024)))
    conv = await open_conv(relay)
    stop = asyncio.Event()
    starts = [asyncio.Event() for _ in range(UPLOADS)]
    uploads = [asyncio.create_task(trickle(relay.smtp_port, BUYER, conv.seller_alias, s, stop))
               for s in starts]
    await asyncio.wait_for(asyncio.gather(*(s.wait() for s in starts)), 30)
    await asyncio.sleep(0.3)  # all ten are mid-body now

    began = time.monotonic()
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                             compose(SELLER, conv.buyer_alias, body="It ships on Monday."))
    accepted = time.monotonic() - began
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    delivered = time.monotonic() - began
    assert b"It ships on Monday." in got.data
    assert not any(u.done() for u in uploads), "an upload ended before the small message"

    stop.set()
    sent = await asyncio.gather(*uploads)
    assert all(0 < n < SIZE for n in sent)  # each was still uploading
    print(f"\nsmall message during {UPLOADS} slow uploads: accepted in {accepted * 1000:.0f} ms,"
          f" delivered in {delivered * 1000:.0f} ms; uploads had sent"
          f" {sum(sent) / 2**20:.0f} MiB")
    # The abandoned bodies are neither recorded nor delivered, once the relay has let go of
    # their connections.
    deadline = time.monotonic() + 15
    while any(s.transport is not None for s in relay.sessions):
        assert time.monotonic() < deadline, "the relay still holds an upload's connection"
        await asyncio.sleep(0.02)
    assert len(await records.summaries(relay.store, conv.id)) == 1
    assert len(capture.messages) == 1


async def test_a_big_message_goes_through_the_worker_process(relay, conv, capture):
    """From BIG bytes on, the stages run in a worker process: the outcome is the same (the
    rules apply, the record is written by the relay), and the process ends with the relay."""
    filler = "The parcel was well packed and the item matches the photos. " * 5000
    body = f"Hello,\ncall me on +44 20 7946 0958 please.\n{filler}\n"
    data = compose(BUYER, conv.seller_alias, body=body)
    assert len(data) >= BIG
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias, data)
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    text = got.message.get_content()
    assert "7946" not in text and "[contact details removed]" in text, text[:300]
    record = await records.get(relay.store, reply.split()[-1])
    assert record is not None and record.raw == data, reply
    assert "contact.phone" in record.reasons, record.reasons
    pool = relay.handler.intake.big._pool
    assert pool is not None, "the message was processed in the event loop's process"
    workers = list(pool._processes.values())
    await relay.stop()
    assert workers, "no worker process was started"
    for process in workers:
        process.join(30)
        assert not process.is_alive(), f"the worker process {process.pid} outlived the relay"


async def test_with_smtp_workers_every_process_starts_with_the_relay(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> None:
    """smtp.workers = 2: both processes start with the relay, and again with a reloaded
    config, not one by one under the first messages (each takes seconds of CPU to start). A
    small message then goes through them with the rules applied; they end with the relay."""
    cfg = make_config(tmp_path, capture.port)
    relay = await relay_factory(cfg.replace(smtp=dataclasses.replace(cfg.smtp, workers=2)))
    assert relay.handler is not None
    big = relay.handler.intake.big
    assert big is not None and big.every
    pool = big._pool
    assert pool is not None, "no worker process started with the relay"
    started = dict(pool._processes)
    assert len(started) == 2, started
    conv = await open_conv(relay)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias, compose(
        BUYER, conv.seller_alias, body="Hello,\ncall me on +44 20 7946 0958 please.\n"))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    text = got.message.get_content()
    assert "7946" not in text and "[contact details removed]" in text, text
    assert big._pool is pool and dict(pool._processes) == started, "processes were replaced"

    applied = await relay.reload(relay.config.replace(
        limits=dataclasses.replace(relay.config.limits, sender_per_hour=999)))
    assert applied, "nothing was reloaded"
    fresh = relay.handler.intake.big
    assert fresh is not None and fresh is not big
    assert fresh._pool is not None and len(fresh._pool._processes) == 2, \
        "the reloaded config's processes did not start with it"
    processes = [*started.values(), *fresh._pool._processes.values()]
    await relay.stop()
    for process in processes:
        process.join(30)
        assert not process.is_alive(), f"the worker process {process.pid} outlived the relay"


# -- big messages, the spool, and the budget of bytes in flight -----------------------------


BIG_SIZE = 10 << 20  # seconds of processing; a 300 KB message takes a fraction of one


def big_config(tmp_path: Path, capture: Capture, **smtp: Any) -> Config:
    cfg = make_config(tmp_path, capture.port)
    return cfg.replace(
        smtp=dataclasses.replace(cfg.smtp, **{"max_message_size": 25 * 1024 * 1024, **smtp}),
        limits=LimitsSettings(sender_per_hour=10**6, conversation_per_hour=10**6))


def message_of(size: int, sender: str, alias: str, subject: str) -> bytes:
    """A message of about `size` bytes: lines of base64-like text, and lines that begin
    with a dot (which the client doubles and the relay must undouble, spooled or not)."""
    head = compose(sender, alias, subject=subject, body="").rstrip(b"\r\n") + b"\r\n\r\n"
    line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
    block = line * 99 + b".a line that begins with a dot\r\n"
    return head + block * max(1, size // len(block))


class Upload:
    """One SMTP transaction over a raw socket from `source`: the body is sent whole (or all
    but its end), and the DATA reply read in the background."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.reply: asyncio.Task[bytes] | None = None

    async def begin(self, sender: str, alias: str) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0))
        assert (await self.reader.readline()).startswith(b"220")
        for line in ("EHLO up.example", f"MAIL FROM:<{sender}>", f"RCPT TO:<{alias}>"):
            self.writer.write(line.encode() + b"\r\n")
            reply = await self.reader.readline()
            while reply[3:4] == b"-":
                reply = await self.reader.readline()
            assert reply.startswith(b"250"), reply
        self.writer.write(b"DATA\r\n")
        self.data_reply = await self.reader.readline()

    async def body(self, data: bytes, end: bool = True) -> None:
        assert self.data_reply.startswith(b"354"), self.data_reply
        stuffed = b"\r\n".join(b"." + x if x.startswith(b".") else x for x in data.split(b"\r\n"))
        self.writer.write(stuffed + (b".\r\n" if end else b""))
        await self.writer.drain()
        if end:
            self.reply = asyncio.create_task(self._reply())

    async def end(self) -> None:
        self.writer.write(b".\r\n")
        await self.writer.drain()
        self.reply = asyncio.create_task(self._reply())

    async def _reply(self) -> bytes:
        return await asyncio.wait_for(self.reader.readline(), 120)

    async def send(self, data: bytes, sender: str, alias: str) -> Upload:
        await self.begin(sender, alias)
        await self.body(data)
        return self

    def close(self) -> None:
        self.writer.close()


async def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


def queue_id(reply: bytes) -> str:
    assert reply.startswith(b"250 2.0.0 queued as "), reply
    return reply.split()[-1].decode()


@pytest.mark.slow
async def test_a_small_message_is_not_held_up_behind_big_slow_ones(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> None:
    """Two 10 MB messages (seconds of processing each) and then a 300 KB one, from three
    client networks: the 300 KB one is answered and recorded while the first 10 MB one is
    still being processed (it does not wait for a worker behind them). And smtp.timeout (2 s
    here) times the client, not the relay: the second 10 MB message waits for its turn
    longer than that and is answered and recorded all the same."""
    relay = await relay_factory(big_config(tmp_path, capture, timeout=2.0))
    assert relay.handler is not None
    conv = await open_conv(relay)
    uploads: list[Upload] = []
    try:
        first = Upload(relay.smtp_port, "127.0.0.2")
        uploads.append(await first.send(message_of(BIG_SIZE, BUYER, conv.seller_alias, "big 1"),
                                        BUYER, conv.seller_alias))
        await until(lambda: relay.handler.in_flight == 1, "the first big message is in")
        second = Upload(relay.smtp_port, "127.0.2.2")
        uploads.append(await second.send(message_of(BIG_SIZE, BUYER, conv.seller_alias,
                                                    "big 2"), BUYER, conv.seller_alias))
        await until(lambda: relay.handler.in_flight == 2, "the second big message is in")

        small = Upload(relay.smtp_port, "127.0.1.2")
        uploads.append(await small.send(message_of(300_000, SELLER, conv.buyer_alias, "small"),
                                        SELLER, conv.buyer_alias))
        assert small.reply is not None and first.reply is not None and second.reply is not None
        small_id = queue_id(await small.reply)
        assert not first.reply.done(), "the small message waited for the big one"
        assert await records.get(relay.store, small_id) is not None

        first_id, second_id = queue_id(await first.reply), queue_id(await second.reply)
        for message_id in (first_id, second_id):
            assert await records.get(relay.store, message_id) is not None
        got = await capture.wait_for(3, timeout=60)
        assert sorted(str(m.message["Subject"]) for m in got) == ["big 1", "big 2", "small"]
    finally:
        for upload in uploads:
            upload.close()


async def test_turns_go_round_robin_between_client_networks() -> None:
    """One lane with one slot: three waiting from one network and one from another; the
    other network's goes second, not fourth. A waiter that leaves gives its place up."""
    lanes = FairLanes({"big": 1})
    order: list[str] = []
    holding = asyncio.Event()

    async def job(name: str, network: str) -> None:
        async with lanes.turn("big", network):
            order.append(name)
            await holding.wait()

    first = asyncio.create_task(job("a1", "192.0.2.0/24"))
    await until(lambda: lanes.running("big") == 1, "the first job runs")
    waiting: list[asyncio.Task[None]] = []
    for name, network in [("a2", "192.0.2.0/24"), ("a3", "192.0.2.0/24"),
                          ("gone", "203.0.113.0/24"), ("b1", "198.51.100.0/24")]:
        waiting.append(asyncio.create_task(job(name, network)))
        await until(lambda: lanes.waiting("big") == len(waiting), f"{name} waits")
    waiting[2].cancel()
    await until(lambda: lanes.waiting("big") == 3, "the one that left is gone")
    holding.set()
    await asyncio.gather(first, *waiting[:2], waiting[3])
    assert order == ["a1", "a2", "b1", "a3"], order
    assert lanes.running("big") == 0 and lanes.waiting("big") == 0


def open_spool_files(directory: Path) -> list[str]:
    """Files in `directory` this process holds open (unnamed ones too: Linux shows them as
    "<directory>/#<inode> (deleted)")."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith(f"{directory}/"):
                found.append(target)
    return found


@pytest.mark.slow
async def test_a_big_body_waits_on_disk_and_comes_back_whole(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> None:
    """A 3 MB body goes to a file in the spool directory beside the store while it arrives;
    the relay takes other mail meanwhile; the record holds the message byte for byte (its
    dot-stuffing undone), and the file is gone after the reply."""
    relay = await relay_factory(big_config(tmp_path, capture))
    conv = await open_conv(relay)
    spool = tmp_path / "spool"
    data = message_of(3 << 20, BUYER, conv.seller_alias, "spooled")
    upload = Upload(relay.smtp_port, "127.0.0.2")
    await upload.begin(BUYER, conv.seller_alias)
    try:
        await upload.body(data, end=False)
        await until(lambda: len(open_spool_files(spool)) == 1, "a file in the spool directory")
        code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                                 compose(SELLER, conv.buyer_alias, body="It ships on Monday."))
        assert code == 250, reply
        await upload.end()
        assert upload.reply is not None
        record = await records.get(relay.store, queue_id(await upload.reply))
        assert record is not None and record.raw == data
        assert b"\r\n.a line that begins with a dot\r\n" in record.raw
        await until(lambda: not open_spool_files(spool), "the spool file closed")
        assert list(spool.iterdir()) == []
    finally:
        upload.close()


async def test_data_past_the_bytes_in_flight_budget_is_452(
        relay_factory: RelayFactory, capture: Capture, tmp_path: Path) -> None:
    """smtp.max_bytes_in_flight (1 MB here) over every connection: while one client is in
    the middle of a 900 KB body, another's 300 KB message is 452 4.3.1 (try again later);
    once the first is done, the retry goes through. Nothing is recorded for the refusal."""
    relay = await relay_factory(big_config(tmp_path, capture, max_message_size=1_000_000,
                                           max_bytes_in_flight=1_000_000))
    assert relay.handler is not None
    conv = await open_conv(relay)
    first = Upload(relay.smtp_port, "127.0.0.2")
    await first.begin(BUYER, conv.seller_alias)
    try:
        await first.body(message_of(900_000, BUYER, conv.seller_alias, "first"), end=False)
        await until(lambda: relay.handler.budget.used > 850_000, "the first body is in")
        late = message_of(300_000, SELLER, conv.buyer_alias, "late")
        code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias, late)
        assert (code, reply[:5]) == (452, "4.3.1"), (code, reply)

        await first.end()
        assert first.reply is not None
        queue_id(await first.reply)
        code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias, late)
        assert code == 250, reply
        assert len(await records.summaries(relay.store, conv.id)) == 2
        assert relay.handler.budget.used == 0
    finally:
        first.close()
