"""Whether big uploads hold up a small message: a relay (in this process, delivering to a
local sink), ten clients in another process each sending a 20 MB body as fast as loopback
goes, and a small message every half second meanwhile. Prints the small message's latency
while the uploads arrive and while they are processed, and the event loop's stalls.

    make upload-fairness       (or: python -m tools.upload_fairness [UPLOADS] [MB])
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP

from relay import conversations
from relay.config import (
    APISettings,
    Config,
    DeliverySettings,
    DKIMSettings,
    LimitsSettings,
    SMTPSettings,
    StoreSettings,
    SubmissionSettings,
)
from relay.server import Relay

BUYER, SELLER = "bob@buyer.example", "sally@seller.example"

UPLOADER = r"""
import socket, sys, threading
port, sender, alias, count, size = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]]
line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
body = line * (size // len(line))
def upload(i):
    s = socket.create_connection(("127.0.0.1", int(port)))
    f = s.makefile("rb")
    f.readline()
    s.sendall(f"EHLO up\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n".encode())
    while not f.readline().startswith(b"354"):
        pass
    s.sendall(f"From: {sender}\r\nTo: {alias}\r\nSubject: big {i}\r\n\r\n".encode() + body
              + b".\r\n")
    print("sent", flush=True)
    f.readline()
    print("answered", flush=True)
threads = [threading.Thread(target=upload, args=(i,)) for i in range(count)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


class Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


def small(sender: str, to: str) -> bytes:
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: When does it ship?\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
            f"Message-ID: <{time.time_ns()}@seller.example>\r\n\r\nIt ships on Monday.\r\n"
            ).encode()


async def run(uploads: int, megabytes: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    loop = asyncio.get_running_loop()
    sink = await loop.create_server(lambda: SMTP(Sink()), "127.0.0.1", 0)
    config = Config(
        domain="relay.test", smtp=SMTPSettings(port=0, max_message_size=(megabytes + 5) << 20),
        store=StoreSettings(path=tmp / "relay.db"), dkim=DKIMSettings(key=tmp / "dkim.pem"),
        delivery=DeliverySettings(mode="smtp", smtp_port=sink.sockets[0].getsockname()[1],
                                  bounce_key=tmp / "bounce.key", smtp_starttls="never"),
        limits=LimitsSettings(conversation_per_hour=10**6, sender_per_hour=10**6),
        submission=SubmissionSettings(enabled=False), api=APISettings(enabled=False),
    )
    relay = Relay(config)
    await relay.start()
    assert relay.store is not None
    conv, _ = await conversations.open_conversation(
        relay.store, config.domain, "112-1234567-1234567", BUYER, [SELLER])
    stalls: list[float] = []

    async def watch() -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            if now - last > 0.1:
                stalls.append(now - last)
            last = now

    watcher = asyncio.create_task(watch())
    uploader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPLOADER, str(relay.smtp_port), BUYER, conv.seller_alias,
        str(uploads), str(megabytes << 20), stdout=asyncio.subprocess.PIPE)
    assert uploader.stdout is not None
    sent = answered = 0
    during_upload: list[float] = []
    during_processing: list[float] = []

    async def count() -> None:
        nonlocal sent, answered
        async for line in uploader.stdout:  # type: ignore[union-attr]
            sent += line.startswith(b"sent")
            answered += line.startswith(b"answered")

    counter = asyncio.create_task(count())
    started = time.monotonic()
    while answered < uploads:
        await asyncio.sleep(0.5)
        phase = during_upload if sent < uploads else during_processing
        began = time.monotonic()
        await aiosmtplib.send(small(SELLER, conv.buyer_alias), sender=SELLER,
                              recipients=[conv.buyer_alias], hostname="127.0.0.1",
                              port=relay.smtp_port, start_tls=False, timeout=120)
        phase.append(time.monotonic() - began)
    total = time.monotonic() - started
    await counter
    watcher.cancel()
    await relay.stop()
    sink.close()

    def show(name: str, values: list[float]) -> None:
        if values:
            median = statistics.median(values) * 1000
            print(f"  {name:<32} {len(values):3d} sent, median {median:6.0f} ms,"
                  f" max {max(values) * 1000:6.0f} ms")

    print(f"{uploads} uploads of {megabytes} MB (another process, full loopback speed), a small"
          f" message every 0.5 s; all {uploads} answered after {total:.1f} s")
    show("small message while uploading", during_upload)
    show("small message while processing", during_processing)
    print(f"  event loop stalls over 100 ms: {len(stalls)}, longest"
          f" {max(stalls, default=0) * 1000:.0f} ms")


def main() -> None:
    uploads = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    megabytes = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    asyncio.run(run(uploads, megabytes))


if __name__ == "__main__":
    main()
