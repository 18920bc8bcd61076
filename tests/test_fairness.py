"""A slow client cannot stall others: while ten clients trickle 20 MB bodies, a small
message is accepted and delivered. Ordering is asserted, not time (the latency is printed)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from conftest import BUYER, SELLER, Capture, RelayFactory, compose, make_config, open_conv, send

from relay.big_messages import BIG
from relay.config import SMTPSettings
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
    # The abandoned bodies are neither recorded nor delivered.
    await asyncio.sleep(0.2)
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
