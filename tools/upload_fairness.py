"""Whether big uploads hold up a small message: a relay (in this process, delivering to a
local sink), ten clients in another process each sending a 20 MB body as fast as loopback
goes, and a small message every half second meanwhile. Prints the small message's latency
while the uploads arrive and while they are processed, the event loop's stalls, the
uploads' replies and the relay's peak memory (RSS, its own and its worker processes').

    make upload-fairness       (or: python -m tools.upload_fairness [UPLOADS] [MB])

With --rss, the memory row: UPLOADS (60) uploads of MB (24) at once, until every upload is
in (taken, or refused 452 past smtp.max_bytes_in_flight) and two have been processed
(processing one message of 24 MB takes ~15 s here; sixty would take a quarter of an hour),
then the peak RSS:

    python -m tools.upload_fairness --rss [UPLOADS] [MB] [MAX_BYTES_IN_FLIGHT]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiosmtplib
from aiosmtpd.smtp import SMTP

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
from relay.marketplace import conversations
from relay.server import Relay

BUYER, SELLER = "bob@buyer.example", "sally@seller.example"

UPLOADER = r"""
import socket, sys, threading
def say(line):  # one write per line: threads must not interleave them
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
port, sender, alias, count, size = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]]
line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
body = line * (size // len(line))
def upload(i):
    s = socket.create_connection(("127.0.0.1", int(port)))
    f = s.makefile("rb")
    f.readline()
    s.sendall(f"EHLO up\r\nMAIL FROM:<{sender}>\r\nRCPT TO:<{alias}>\r\nDATA\r\n".encode())
    while (line := f.readline())[:1] == b"2":
        pass
    if not line.startswith(b"354"):  # DATA refused (452 past the bytes in flight)
        say("sent")
        say("answered " + (line[:3].decode() or "---"))
        return
    s.sendall(f"From: {sender}\r\nTo: {alias}\r\nSubject: big {i}\r\n\r\n".encode() + body
              + b".\r\n")
    say("sent")
    reply = f.readline()
    say("answered " + (reply[:3].decode() or "---"))
def guarded(i):
    try:
        upload(i)
    except OSError as exc:
        say("sent")
        say("answered " + type(exc).__name__)
threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
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


def _rss_kib(pid: int | str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class Memory:
    """The peak RSS of this process (the relay) and of its worker processes together, one
    sample every 50 ms; `skip`: child processes that are not the relay's (the uploader)."""

    def __init__(self) -> None:
        self.skip: set[int] = set()
        self.relay = self.workers = self.total = 0

    async def watch(self) -> None:
        while True:
            relay = _rss_kib("self")
            workers = 0
            for pid in _children(os.getpid()):
                if pid not in self.skip:
                    with contextlib.suppress(OSError):  # it has just ended
                        workers += _rss_kib(pid)
            self.relay = max(self.relay, relay)
            self.workers = max(self.workers, workers)
            self.total = max(self.total, relay + workers)
            await asyncio.sleep(0.05)

    def show(self) -> None:
        print(f"  peak RSS: relay process {self.relay / 1024:.0f} MB, worker processes"
              f" {self.workers / 1024:.0f} MB, together {self.total / 1024:.0f} MB")


async def run(uploads: int, megabytes: int, rss_only: bool = False,
              in_flight: int | None = None) -> None:
    tmp = Path(tempfile.mkdtemp())
    loop = asyncio.get_running_loop()
    sink = await loop.create_server(lambda: SMTP(Sink()), "127.0.0.1", 0)
    smtp = SMTPSettings(port=0, max_message_size=(megabytes + 5) << 20)
    if in_flight is not None:
        smtp = SMTPSettings(port=0, max_message_size=smtp.max_message_size,
                            max_bytes_in_flight=in_flight)
    config = Config(
        domain="relay.test", smtp=smtp,
        store=StoreSettings(path=tmp / "relay.db"), dkim=DKIMSettings(key=tmp / "dkim.pem"),
        delivery=DeliverySettings(mode="smtp", smtp_port=sink.sockets[0].getsockname()[1],
                                  bounce_key=tmp / "bounce.key", smtp_starttls="never"),
        # One client address and network for every upload: no per-client cap in the way.
        limits=LimitsSettings(conversation_per_hour=10**6, sender_per_hour=10**6,
                              connections_per_ip=10**4, connections_per_network=10**4),
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
    memory = Memory()
    sampler = asyncio.create_task(memory.watch())
    uploader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UPLOADER, str(relay.smtp_port), BUYER, conv.seller_alias,
        str(uploads), str(megabytes << 20), stdout=asyncio.subprocess.PIPE)
    memory.skip.add(uploader.pid)
    assert uploader.stdout is not None
    sent = answered = 0
    replies: Counter[str] = Counter()
    during_upload: list[float] = []
    during_processing: list[float] = []

    async def count() -> None:
        nonlocal sent, answered
        async for line in uploader.stdout:  # type: ignore[union-attr]
            sent += line.startswith(b"sent")
            if line.startswith(b"answered"):
                answered += 1
                replies[line.split()[1].decode()] += 1

    counter = asyncio.create_task(count())
    started = time.monotonic()
    if rss_only:
        # Every upload in: answered (a 452, or processed) or waiting for its turn.
        assert relay.handler is not None
        handler = relay.handler
        processed = min(2, uploads)
        tick = 0
        while sent < uploads or handler.in_flight + answered < uploads \
                or replies["250"] < processed:
            await asyncio.sleep(0.1)
            tick += 1
            if tick % 100 == 0:  # a long run says where it is
                print(f"  {time.monotonic() - started:.0f} s: {sent} sent, replies"
                      f" {dict(replies)}, {handler.in_flight} waiting or processed,"
                      f" {handler.budget.used >> 20} MiB in flight", file=sys.stderr)
        took = time.monotonic() - started
        waiting = handler.in_flight
        sampler.cancel()
        watcher.cancel()
        with contextlib.suppress(ProcessLookupError):  # it may have ended
            uploader.kill()
        await uploader.wait()
        await counter
        print(f"{uploads} uploads of {megabytes} MB at once (another process, full loopback"
              f" speed), smtp.max_bytes_in_flight {config.smtp.max_bytes_in_flight >> 20} MiB:"
              f" after {took:.1f} s all are in; replies {dict(sorted(replies.items()))},"
              f" {waiting} waiting for their turn (abandoned)")
        memory.show()
        await relay.stop()
        sink.close()
        return
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
    sampler.cancel()
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
    print(f"  upload replies: {dict(sorted(replies.items()))}")
    memory.show()


def main() -> None:
    args = sys.argv[1:]
    rss_only = "--rss" in args
    args = [a for a in args if a != "--rss"]
    uploads = int(args[0]) if args else (60 if rss_only else 10)
    megabytes = int(args[1]) if len(args) > 1 else (24 if rss_only else 20)
    in_flight = int(args[2]) if len(args) > 2 else None
    asyncio.run(run(uploads, megabytes, rss_only, in_flight))


if __name__ == "__main__":
    main()
