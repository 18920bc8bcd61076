"""End-to-end benchmark: the relay as a real process, loaded over SMTP, delivering to a sink.

Each measurement starts a fresh relay (`python -m relay.cli --config X serve`, store and keys
in a temporary work directory, synchronous=FULL and DKIM signing as by default, delivery by
SMTP to a sink in another process, the relay's default rate limits) and opens conversations
through its API, as many as keep its load within those limits (20 accepted messages an hour in
a conversation, 200 from a sender): each message goes from a conversation's buyer to its
seller alias, the conversations in turn (Parties). A load generator in this process (raw
asyncio streams: EHLO once per session, then MAIL/RCPT/DATA per message) sends 2 KB plain,
20 KB HTML and 1 MB-attachment messages over 1, 20 and 100 sessions. The same load goes to a
do-nothing aiosmtpd server and to a private Postfix instance relaying to the same kind of
sink. Then the issue's targets: p99 accept latency at 100 msg/s offered, RSS with 10,000
messages queued, and whether a 25 MB upload stalls other sessions. The store section puts the
same rows on PostgreSQL, with one relay and with two relays on one database (a database of its
own per row, on the server at --pg-url, dropped after it), beside SQLite. It prints figures
and asserts nothing; a missed target does not change the exit status.

    make bench                  (or: python -m tools.bench [--quick] [--keep] [--help])

RELAY_* variables in the environment reach the relay (and are printed): e.g.
`RELAY_DELIVERY_CONCURRENCY=100 make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from relay.config import LimitsSettings, SMTPSettings

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = "relay.test"
ORDER = "112-1234567-1234567"
BUYER = "bob.buyer@buyer-mail.example"
SELLER = "sally@seller-host.example"
FAKE_ALIAS = "benchbenchbenchbench1@" + DOMAIN  # for the servers that are not the relay
SENTENCE = f"Hello, when will order {ORDER} ship? I would like to plan my week."
DATE = "Thu, 26 Nov 2026 10:00:00 +0000"
CLK_TCK = os.sysconf("SC_CLK_TCK")
STARTED = time.monotonic()


# Seconds of small load the big-message section opens conversations for (see Bench.big).
BIG_WINDOW = 300.0


class BenchError(Exception):
    """A step of the bench failed: printed, and the bench stops (cleaning up)."""


def out(line: str = "") -> None:
    print(line, flush=True)


def note(line: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f}s] {line}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- messages


def dot_stuff(data: bytes) -> bytes:
    return re.sub(rb"(?m)^\.", b"..", data)


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def sentences(chars: int) -> str:
    """Lines of the neutral sentence, about `chars` characters in all."""
    return (SENTENCE + "\n") * max(1, chars // (len(SENTENCE) + 2))


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    content: bytes  # MIME headers, blank line, body: CRLF line ends, dot-stuffed, ends in CRLF

    def header(self, tag: str, i: int, sender: str, to: str) -> bytes:
        return (f"From: Bob Buyer <{sender}>\r\nTo: {to}\r\nSubject: Order {ORDER}\r\n"
                f"Date: {DATE}\r\nMessage-ID: <{tag}.{i}@buyer-mail.example>\r\n"
                "MIME-Version: 1.0\r\n").encode()

    @property
    def size(self) -> int:
        return len(self.header("r00-2k", 1000, BUYER, FAKE_ALIAS)) + len(self.content)


HEADER_SIZE = 250  # about what Kind.header adds


def plain_kind(key: str, label: str, size: int) -> Kind:
    head = "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
    return Kind(key, label, dot_stuff(crlf(head + sentences(size - HEADER_SIZE - len(head)))))


def html_kind(size: int) -> Kind:
    text = "Hello,\n\n" + sentences(800)
    rows = "".join(
        f"<tr><td>{n}</td><td>Blue ceramic mug, 350 ml</td><td>{n % 3 + 1}</td>"
        "<td><b>Waiting for shipment</b></td></tr>\n" for n in range(1, 41))
    top = ("<html><head><meta charset=\"utf-8\"><title>Order</title></head><body>\n"
           f"<p>Hello,</p>\n<p><b>Order {ORDER}</b></p>\n"
           "<table border=\"1\" cellpadding=\"4\">\n"
           "<tr><th>Line</th><th>Item</th><th>Quantity</th><th>Status</th></tr>\n"
           f"{rows}</table>\n")
    end = "<p>Best regards,<br>Bob</p>\n</body></html>\n"

    def build(paragraphs: int) -> str:
        markup = top + f"<p>{SENTENCE}</p>\n" * paragraphs + end
        return ("Content-Type: multipart/alternative; boundary=\"bench-alt\"\n\n"
                "--bench-alt\nContent-Type: text/plain; charset=utf-8\n"
                f"Content-Transfer-Encoding: 7bit\n\n{text}\n"
                "--bench-alt\nContent-Type: text/html; charset=utf-8\n"
                f"Content-Transfer-Encoding: 7bit\n\n{markup}\n--bench-alt--\n")

    base = len(crlf(build(0)))
    per = len(SENTENCE) + 9
    return Kind("20k", "20 KB HTML", dot_stuff(crlf(build((size - HEADER_SIZE - base) // per))))


def pdf_file(size: int) -> bytes:
    """A well-formed one-page PDF of about `size` bytes whose page draws one image of random
    (JPEG-declared) data, so it does not compress, like a scanned invoice. A PDF its library
    cannot read is judged by its printable bytes, and random bytes hold address-like runs."""
    content = b"q 200 0 0 200 50 500 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    fixed = len(head) + sum(len(o) + 20 for o in objects) + 400
    image = random.Random(1).randbytes(max(size - fixed, 1))
    objects.append(b"<< /Type /XObject /Subtype /Image /Width 200 /Height 200 /ColorSpace "
                   b"/DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
                   % len(image) + image + b"\nendstream")
    out = bytearray(head)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_kind(attachment: int) -> Kind:
    """A text body and a PDF of `attachment` bytes (pdf_file), base64 in 76-character
    lines, as a mail client attaches it."""
    pdf = pdf_file(attachment)
    encoded = base64.encodebytes(pdf).decode()
    text = ("Content-Type: multipart/mixed; boundary=\"bench-mixed\"\n\n"
            "--bench-mixed\nContent-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: 7bit\n\n{sentences(600)}\n"
            "--bench-mixed\nContent-Type: application/pdf; name=\"invoice.pdf\"\n"
            "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
            f"Content-Transfer-Encoding: base64\n\n{encoded}\n--bench-mixed--\n")
    return Kind("1m", f"1 MB PDF ({attachment >> 10} KiB)", dot_stuff(crlf(text)))


# ---------------------------------------------------------------- SMTP client


class SMTPFailure(Exception):
    pass


@dataclass
class Sent:
    ok: bool
    reply: str
    start: float  # MAIL FROM written
    dot: float  # final "." written
    done: float  # reply to it read

    @property
    def latency(self) -> float:
        return self.done - self.dot


class Session:
    """One SMTP connection: EHLO at the start, then any number of transactions."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout: float) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout

    @classmethod
    async def open(cls, port: int, timeout: float) -> Session:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        session = cls(reader, writer, timeout)
        code, text = await session.reply()
        if code == 220:
            code, text = await session.command(b"EHLO bench-client.example\r\n")
        if code != 250:
            writer.close()
            raise SMTPFailure(f"session set-up refused: {text}")
        return session

    async def reply(self, timeout: float | None = None) -> tuple[int, str]:
        async with asyncio.timeout(timeout or self.timeout):
            while True:
                line = await self.reader.readline()
                if not line:
                    raise SMTPFailure("connection closed by the server")
                if line[3:4] != b"-":
                    break
        try:
            return int(line[:3]), line.decode("latin-1").strip()
        except ValueError:
            raise SMTPFailure(f"not an SMTP reply: {line[:80]!r}") from None

    async def command(self, line: bytes) -> tuple[int, str]:
        self.writer.write(line)
        return await self.reply()

    async def send(self, sender: str, rcpt: str, header: bytes, content: bytes,
                   timeout: float | None = None) -> Sent:
        start = time.monotonic()
        for line, expect in ((f"MAIL FROM:<{sender}>\r\n", 250), (f"RCPT TO:<{rcpt}>\r\n", 250),
                             ("DATA\r\n", 354)):
            code, text = await self.command(line.encode())
            if code != expect:
                await self.command(b"RSET\r\n")
                now = time.monotonic()
                return Sent(False, f"{line.split(':')[0].strip()}: {text}", start, now, now)
        writer = self.writer
        writer.write(header)
        writer.write(content)
        if len(content) > 1 << 18:
            await writer.drain()
        writer.write(b".\r\n")
        dot = time.monotonic()
        code, text = await self.reply(timeout)
        return Sent(code == 250, text, start, dot, time.monotonic())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.write(b"QUIT\r\n")
            await self.reply(5)
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.writer.wait_closed()


async def open_sessions(port: int, count: int, timeout: float) -> list[Session]:
    results = await asyncio.gather(*(Session.open(port, timeout) for _ in range(count)),
                                   return_exceptions=True)
    sessions = [r for r in results if isinstance(r, Session)]
    failed = [r for r in results if not isinstance(r, Session)]
    if failed:
        await close_sessions(sessions)
        raise BenchError(f"{len(failed)} of {count} sessions could not start: {failed[0]!r}")
    return sessions


async def close_sessions(sessions: list[Session]) -> None:
    await asyncio.gather(*(s.close() for s in sessions))


@dataclass
class Load:
    sent: list[Sent] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # sessions that failed, and why
    lags: list[float] = field(default_factory=list)  # open loop: due time -> picked up
    started: float = 0.0
    ended: float = 0.0

    @property
    def ok(self) -> int:
        return sum(s.ok for s in self.sent)

    @property
    def failed(self) -> int:
        return len(self.sent) - self.ok

    def latencies(self, keep: Callable[[Sent], bool] = lambda s: True) -> list[float]:
        return [s.latency for s in self.sent if s.ok and keep(s)]

    @property
    def accept_rate(self) -> float | None:
        took = max((s.done for s in self.sent if s.ok), default=0.0) - self.started
        return self.ok / took if self.ok and took > 0 else None

    def problems(self) -> str:
        refused = Counter(s.reply for s in self.sent if not s.ok)
        parts = [f"{n}x {text}" for text, n in refused.most_common(2)]
        parts += [f"session broke: {why}" for why in self.broken[:2]]
        return "; ".join(parts)


class Parties:
    """Who sends the load's messages, and to which alias: (buyer, seller alias) pairs taken
    in turn, message after message. The relay keeps its default rate limits (an hour's
    accepted messages: 20 in a conversation, 200 from a sender), so its load is spread over
    as many conversations, each with a buyer of its own, as keep every one within them: a
    relay's store is its own, so each pair gets at most `per_pair` messages in its life."""

    def __init__(self, pairs: list[tuple[str, str]], per_pair: int | None = None) -> None:
        assert pairs
        self.pairs = pairs
        self.per_pair = per_pair  # None: no limit (the servers that are not the relay)
        self.used = 0

    def next(self) -> tuple[str, str]:
        pair = self.pairs[self.used % len(self.pairs)]
        self.used += 1
        return pair

    def over(self) -> str | None:
        """Messages past the pairs' limits (each is refused, 450), or None."""
        if self.per_pair is None or self.used <= self.per_pair * len(self.pairs):
            return None
        return (f"{self.used} messages for {len(self.pairs)} conversations of"
                f" {self.per_pair}: past the relay's rate limits")


# The servers that are not the relay take any recipient: one sender, one address.
ANYONE = Parties([(BUYER, FAKE_ALIAS)])


async def _send(session: Session, load: Load, kind: Kind, parties: Parties, tag: str, i: int,
                timeout: float) -> bool:
    sender, alias = parties.next()
    try:
        load.sent.append(await session.send(sender, alias, kind.header(tag, i, sender, alias),
                                            kind.content, timeout))
        return True
    except (SMTPFailure, OSError, TimeoutError) as exc:
        load.broken.append(f"{type(exc).__name__}: {exc}")
        return False


async def closed_loop(sessions: list[Session], kind: Kind, parties: Parties, count: int,
                      tag: str, timeout: float) -> Load:
    """Every session sends its next message as soon as the last one is answered, until
    `count` messages have been sent."""
    load = Load()
    tickets = iter(range(count))

    async def run(session: Session) -> None:
        for i in tickets:
            if not await _send(session, load, kind, parties, tag, i, timeout):
                return

    load.started = time.monotonic()
    await asyncio.gather(*(run(s) for s in sessions))
    load.ended = time.monotonic()
    return load


async def open_loop(sessions: list[Session], kind: Kind, parties: Parties, rate: float,
                    tag: str, timeout: float, count: int | None = None,
                    stop: asyncio.Event | None = None, load: Load | None = None) -> Load:
    """Messages offered at `rate` per second whatever the replies (message i is due at
    start + i/rate), each taken by the next free session; until `count` were offered or
    `stop` is set. Results go to `load` as they come."""
    load = load if load is not None else Load()
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def dispatch() -> None:
        i = 0
        while (count is None or i < count) and not (stop is not None and stop.is_set()):
            due = load.started + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((i, due))
            i += 1
        for _ in sessions:
            queue.put_nowait(None)

    async def run(session: Session) -> None:
        while (item := await queue.get()) is not None:
            i, due = item
            load.lags.append(time.monotonic() - due)
            if not await _send(session, load, kind, parties, tag, i, timeout):
                return

    load.started = time.monotonic()
    await asyncio.gather(dispatch(), *(run(s) for s in sessions))
    load.ended = time.monotonic()
    return load


def percentile(values: list[float], q: float) -> float | None:
    """Nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * q // 100) - 1))]


# ---------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, CPU ticks: utime + stime + cutime + cstime) of a process."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), sum(int(v) for v in rest[11:15])


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (threads are counted in their process)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[1], []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process tree, with its reaped children's."""
    return sum(s[2] for p in process_tree(pid) if (s := _stat(p)) is not None) / CLK_TCK


def status_kb(pid: int, name: str) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return None


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in "ZX"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LIBC = ctypes.CDLL(None, use_errno=True)


def _die_with_bench() -> None:
    """In a child before exec: SIGTERM when the bench dies, even by SIGKILL."""
    _LIBC.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


def reap_orphans(managed: set[int]) -> None:
    """Postfix's daemons (and anything orphaned below the bench) come back to the bench, a
    child subreaper; collect the exited ones so none is left a zombie."""
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) not in managed:
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == me and stat[0] == "Z":
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(int(entry.name), os.WNOHANG)


async def run_command(argv: list[str], timeout: float, env: dict[str, str] | None = None,
                      ) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
        cwd=ROOT)
    try:
        async with asyncio.timeout(timeout):
            output, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"timed out after {timeout:.0f}s"
    return proc.returncode or 0, output.decode(errors="replace")


async def wait_port(port: int, timeout: float, proc: asyncio.subprocess.Process | None = None,
                    ) -> None:
    """Until something on the port sends an SMTP greeting."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with asyncio.timeout(2):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                greeting = await reader.readline()
            writer.write(b"QUIT\r\n")
            writer.close()
            if greeting.startswith(b"220"):
                return
        except (OSError, TimeoutError):
            pass
        if proc is not None and proc.returncode is not None:
            raise BenchError(f"the server on port {port} exited ({proc.returncode})")
        if time.monotonic() > deadline:
            raise BenchError(f"nothing answered on port {port} within {timeout:.0f}s")
        await asyncio.sleep(0.1)


class Processes:
    """Every process the bench starts; all killed (with their descendants) at the end."""

    def __init__(self) -> None:
        self.procs: list[asyncio.subprocess.Process] = []

    @property
    def managed(self) -> set[int]:
        return {p.pid for p in self.procs if p.returncode is None}

    async def start(self, argv: list[str], **kwargs: Any) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, start_new_session=True, preexec_fn=_die_with_bench, **kwargs)
        self.procs.append(proc)
        return proc

    async def stop(self, proc: asyncio.subprocess.Process, grace: float = 10.0) -> None:
        """SIGTERM; after `grace` seconds SIGKILL to the process and what it started."""
        tree = process_tree(proc.pid) if proc.returncode is None else []
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGCONT)  # in case it was paused
                proc.terminate()
            try:
                async with asyncio.timeout(grace):
                    await proc.wait()
            except TimeoutError:
                note(f"process {proc.pid} did not stop within {grace:.0f}s: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        for pid in tree[1:]:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    async def stop_all(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                await self.stop(proc, grace=5)


# ---------------------------------------------------------------- servers


class Sink:
    """The downstream SMTP server, a process of its own: Postfix's smtp-sink (-c prints a
    counter at every message) or tools.bench_sink (the same counter, with its own clock).
    Knows how many messages arrived, and when each count was reached."""

    def __init__(self, procs: Processes, which: str, log: Path) -> None:
        self.procs, self.which, self.log = procs, which, log
        self.port = 0
        self.proc: asyncio.subprocess.Process | None = None
        self.times: list[float] = []  # times[n - 1]: when the n-th message arrived
        self.changed = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return len(self.times)

    async def start(self) -> None:
        with self.log.open("wb") as log:
            await self._start({"stdout": asyncio.subprocess.PIPE, "stderr": log})

    async def _start(self, pipes: dict[str, Any]) -> None:
        if self.which == "smtp-sink":
            self.port = free_port()
            user = ["-u", "nobody"] if os.geteuid() == 0 else []
            self.proc = await self.procs.start(
                [smtp_sink_path() or "smtp-sink", "-c", "-4", *user, "-m", "1024",
                 f"127.0.0.1:{self.port}", "1024"], **pipes)
            self.reader = asyncio.create_task(self._read())
            await wait_port(self.port, 20, self.proc)
        else:
            self.proc = await self.procs.start(
                [sys.executable, "-m", "tools.bench_sink", "sink"], **pipes)
            assert self.proc.stdout is not None
            async with asyncio.timeout(30):
                line = await self.proc.stdout.readline()
            if not line.startswith(b"listening "):
                raise BenchError(f"the sink did not start: {line!r}")
            self.port = int(line.split()[1])
            self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        pending = b""
        while chunk := await self.proc.stdout.read(65536):
            now = time.monotonic()
            *records, pending = re.split(rb"[\r\n]", pending + chunk)
            for record in records:
                found = re.search(rb"mesg=(\d+)(?: t=([\d.]+))?", record)
                if found and int(found[1]) > len(self.times):
                    at = float(found[2]) if found[2] else now
                    self.times.extend([at] * (int(found[1]) - len(self.times)))
            self.changed.set()

    async def wait_for(self, count: int, timeout: float) -> float | None:
        """When the sink had `count` messages; None if not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.count < count:
            self.changed.clear()
            self.check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, 1.0)):
                    await self.changed.wait()
        return self.times[count - 1] if count > 0 else time.monotonic()

    def check_alive(self) -> None:
        """A sink that died makes every later figure wrong: stop the bench, saying why."""
        if self.proc is not None and self.proc.returncode is not None:
            code = self.proc.returncode
            how = (f"was killed by {signal.Signals(-code).name}, not by the bench" if code < 0
                   else f"exited with {code}")
            tail = self.log.read_text(errors="replace").strip()[-1500:] or "(nothing)"
            raise BenchError(f"the sink ({self.which}, pid {self.proc.pid}) {how} after"
                             f" {self.count} messages; every figure from here on would be"
                             f" wrong. Its stderr: {tail}")

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    async def stop(self) -> None:
        if self.proc is not None:
            await self.procs.stop(self.proc)
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


def smtp_sink_path() -> str | None:
    return shutil.which("smtp-sink") or next(
        (p for p in ("/usr/sbin/smtp-sink",) if os.access(p, os.X_OK)), None)


def postfix_path() -> str | None:
    return shutil.which("postfix") or next(
        (p for p in ("/usr/sbin/postfix",) if os.access(p, os.X_OK)), None)


class Relay:
    """A relay process with a store of its own in `directory`, delivering to `sink_port`; or,
    with `store_url`, on that PostgreSQL database (relays on one database share `chain_key`)."""

    def __init__(self, bench: Bench, name: str, sink_port: int, store_url: str = "",
                 chain_key: Path | None = None, **delivery: Any) -> None:
        self.bench = bench
        self.dir = bench.work / name
        self.dir.mkdir(parents=True)
        self.config = self.dir / "relay.toml"
        self.db = self.dir / "relay.db"
        self.store_url = store_url
        self.log = self.dir / "relay.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0
        self.api_port = 0  # /metrics, read for the per-stage CPU time
        self.token = "rly_" + secrets.token_urlsafe(32)
        self.admin = "rly_" + secrets.token_urlsafe(32)  # opens the load's conversations
        self.parties: Parties | None = None
        settings = {"mode": "smtp", "smtp_host": "127.0.0.1", "smtp_port": sink_port,
                    "smtp_starttls": "never", "concurrency": bench.args.concurrency,
                    "poll_interval": 0.2, "bounce_key": str(bench.work / "bounce.key"),
                    "maildir": str(self.dir / "maildir"), **delivery}
        lines = [
            f'domain = "{DOMAIN}"', f'templates = "{ROOT / "relay" / "default_templates"}"',
            "shutdown_grace = 10.0", "", "[smtp]", 'host = "127.0.0.1"', "port = 0",
            f"workers = {bench.args.workers}", "",
            "[store]", f'path = "{self.db}"',
            *([f'url = "{store_url}"'] if store_url else []),
            *([f'chain_key = "{chain_key}"'] if chain_key else []), "", "[delivery]",
            *(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"'
              for k, v in settings.items()),
            "", "[dkim]", f'key = "{bench.work / "dkim.pem"}"', "",
            "[submission]", "enabled = false", "",
            "[api]", 'host = "127.0.0.1"', "port = 0",
            f'tokens = ["metrics sha256:{hashlib.sha256(self.token.encode()).hexdigest()}",'
            f' "admin sha256:{hashlib.sha256(self.admin.encode()).hexdigest()}"]', "",
            # Every session comes from 127.0.0.1 (100 in a row of --sessions 100); the rate
            # limits are the relay's defaults (Parties).
            "[limits]", "connections_per_ip = 1000", ""]
        self.config.write_text("\n".join(lines), encoding="utf-8")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, messages: int = 0) -> None:
        """`relay serve`, listening; then conversations for `messages` messages (parties)."""
        cli = [sys.executable, "-m", "relay.cli", "--config", str(self.config)]
        with self.log.open("wb") as log:
            self.proc = await self.bench.procs.start([*cli, "serve"], stdout=log,
                                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.bench.args.start_timeout
        while True:
            text = self.log.read_text(errors="replace")
            found = re.search(r"SMTP on [\d.]+:(\d+)", text)
            api = re.search(r"HTTP API on http://[\d.]+:(\d+)", text)
            if found and api:
                self.port, self.api_port = int(found[1]), int(api[1])
                break
            if self.proc.returncode is not None or time.monotonic() > deadline:
                why = (f"exited with {self.proc.returncode}" if self.proc.returncode is not None
                       else f"not listening after {self.bench.args.start_timeout:.0f}s")
                tail = "\n".join(text.splitlines()[-30:])
                raise BenchError(f"the relay did not start ({why}); {self.log}:\n{tail}")
            await asyncio.sleep(0.05)
        if messages:
            self.parties = await self.open_conversations(messages)

    async def open_conversations(self, messages: int) -> Parties:
        """As many conversations as `messages` need within the default rate limits, each
        with a buyer of its own and the one seller, opened by POST /v1/conversations (before
        the load: their cost is not in its figures)."""
        limits = LimitsSettings()
        per = min(limits.conversation_per_hour, limits.sender_per_hour)
        count = max(1, -(-messages // per))

        def post() -> list[tuple[str, str]]:
            api = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=60)
            pairs = []
            try:
                for n in range(count):
                    buyer = f"bob.buyer{n}@buyer-mail.example"
                    api.request("POST", "/v1/conversations", json.dumps(
                        {"order_id": ORDER, "buyer": buyer, "sellers": [SELLER]}),
                        {"Authorization": f"Bearer {self.admin}",
                         "Content-Type": "application/json"})
                    response = api.getresponse()
                    body = response.read()
                    if response.status != 201:
                        raise BenchError(f"opening conversation {n}: {response.status}"
                                         f" {body[:500]!r}")
                    pairs.append((buyer, json.loads(body)["seller_alias"]))
            finally:
                api.close()
            return pairs

        return Parties(await asyncio.to_thread(post), per)

    async def stop(self) -> None:
        if self.proc is not None:
            await self.bench.procs.stop(self.proc, grace=40)
            if self.proc.returncode not in (0, None):
                note(f"relay {self.dir.name} exited with {self.proc.returncode}")

    async def metrics(self) -> str:
        def get() -> str:
            request = urllib.request.Request(f"http://127.0.0.1:{self.api_port}/metrics",
                                             headers={"Authorization": f"Bearer {self.token}"})
            with urllib.request.urlopen(request, timeout=30) as response:
                return str(response.read().decode())

        return await asyncio.to_thread(get)

    async def stage_cpu(self) -> dict[str, tuple[float, float]]:
        """relay_stage_cpu_seconds from /metrics: stage -> (messages, CPU seconds) so far."""
        found: dict[str, list[float]] = {}
        for what, stage, value in re.findall(
                r'^relay_stage_cpu_seconds_(count|sum)\{stage="([^"]+)"\} (\S+)$',
                await self.metrics(), re.M):
            found.setdefault(stage, [0.0, 0.0])[what == "sum"] = float(value)
        return {stage: (n, cpu) for stage, (n, cpu) in found.items()}

    async def store_commits(self) -> tuple[float, float] | None:
        """(commits, writes committed) so far, from relay_store_commit_writes (group commit);
        None where the relay does not have it."""
        found = dict(re.findall(r"(?m)^relay_store_commit_writes_(count|sum) (\S+)$",
                                await self.metrics()))
        return (float(found["count"]), float(found["sum"])) if len(found) == 2 else None

    def store(self) -> dict[str, int]:
        """Counts from the relay's store (read-only)."""
        if self.store_url:
            return pg_counts(self.store_url)
        with contextlib.closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True,
                                                timeout=30)) as db:
            counts = {f"msg.{d}": n for d, n in db.execute(
                "SELECT disposition, COUNT(*) FROM messages GROUP BY disposition")}
            counts |= {f"event.{k}": n for k, n in db.execute(
                "SELECT kind, COUNT(*) FROM message_events GROUP BY kind")}
            counts["messages"] = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            counts["outbox"] = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        return counts

    def check(self, answered_250: int, refused: int, delivered_at_sink: int | None) -> str:
        """The client's and the sink's counts against the store's: "ok", or what differs."""
        try:
            c = self.store()
        except (sqlite3.Error, BenchError) as exc:
            return f"store unreadable: {exc}"
        accepted = c.get("msg.delivered", 0) + c.get("msg.delivered_redacted", 0)
        problems = []
        if accepted != answered_250:
            problems.append(f"store has {accepted} accepted, client got {answered_250} x 250")
        if c["messages"] - accepted != refused:
            problems.append(f"store has {c['messages'] - accepted} refused/deferred, client"
                            f" saw {refused}")
        if c.get("msg.delivered_redacted"):
            problems.append(f"{c['msg.delivered_redacted']} redacted by the rules")
        if self.parties is not None and (over := self.parties.over()):
            problems.append(over)
        if delivered_at_sink is not None:
            if c.get("event.delivered", 0) != delivered_at_sink:
                problems.append(f"store has {c.get('event.delivered', 0)} delivered, sink got"
                                f" {delivered_at_sink}")
            if c["outbox"]:
                problems.append(f"{c['outbox']} still in the outbox")
        return "ok" if not problems else "; ".join(problems)


def psql(url: str, sql: str) -> list[list[str]]:
    """Rows of a statement, by psql (the bench's own process stays free of a driver loop)."""
    done = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BenchError(f"psql: {done.stderr.strip() or done.returncode}")
    return [line.split("|") for line in done.stdout.splitlines() if line]


def pg_counts(url: str) -> dict[str, int]:
    """Relay.store()'s counts from a PostgreSQL store."""
    counts = {f"msg.{d}": int(n) for d, n in psql(
        url, "SELECT disposition, COUNT(*) FROM messages GROUP BY disposition")}
    counts |= {f"event.{k}": int(n) for k, n in psql(
        url, "SELECT kind, COUNT(*) FROM message_events GROUP BY kind")}
    counts["messages"] = int(psql(url, "SELECT COUNT(*) FROM messages")[0][0])
    counts["outbox"] = int(psql(url, "SELECT COUNT(*) FROM outbox")[0][0])
    return counts


class Database:
    """A database of the bench's own on the PostgreSQL server at --pg-url, dropped after."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        base, _, _ = admin_url.rpartition("/")
        self.url = f"{base}/{name}"

    async def __aenter__(self) -> Database:
        await asyncio.to_thread(psql, self.admin_url, f"CREATE DATABASE {self.name}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(psql, self.admin_url,
                                f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def backend_cpu(self) -> float:
        """CPU seconds of the server's processes serving this database now (the server on
        this machine; elsewhere, or without /proc access, 0)."""
        pids = [int(row[0]) for row in psql(
            self.admin_url, f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.name}'")]
        return sum(stat[2] for pid in pids if (stat := _stat(pid)) is not None) / CLK_TCK


class Postfix:
    """A private Postfix instance: config, queue and data directories in the work directory,
    smtpd on a loopback port, relaying everything to the sink."""

    def __init__(self, bench: Bench, sink_port: int) -> None:
        self.bench = bench
        self.base = bench.work / "postfix"
        self.etc = self.base / "etc"
        self.queue = self.base / "queue"
        self.data = self.base / "data"
        self.maillog = self.base / "maillog"
        self.sink_port = sink_port
        self.port = free_port()
        self.pid = 0
        self.started = False

    def configure(self) -> None:
        for directory in (self.etc, self.queue, self.data):
            directory.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.data, "postfix", "postfix")
        for directory in (self.bench.work, self.base):  # mkdtemp makes 0700; postfix reads
            directory.chmod(0o755)
        (self.etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
myhostname = bench.localdomain
mydomain = localdomain
myorigin = $myhostname
mydestination =
local_recipient_maps =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{self.sink_port}
smtputf8_enable = no
maillog_file = {self.maillog}
maillog_file_prefixes = {self.base}
biff = no
message_size_limit = 52428800
smtpd_peername_lookup = no
default_process_limit = 250
default_destination_concurrency_limit = {self.bench.args.concurrency}
""")
        services = [
            f"127.0.0.1:{self.port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup", "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr", "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce", "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce", "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush", "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp", "relay unix - - n - - smtp",
            "showq unix n - n - - showq", "error unix - - n - - error",
            "retry unix - - n - - error", "discard unix - - n - - discard",
            "anvil unix - - n - 1 anvil", "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd"]
        (self.etc / "master.cf").write_text("\n".join(services) + "\n")

    async def start(self) -> None:
        self.configure()
        self.started = True
        code, output = await run_command([postfix_path() or "postfix", "-c", str(self.etc),
                                          "start"], timeout=60)
        if code != 0:
            log = self.maillog.read_text(errors="replace") if self.maillog.exists() else ""
            raise BenchError(f"postfix start failed ({code}):\n{output[-1500:]}{log[-1500:]}")
        await wait_port(self.port, 30)
        self.pid = int((self.queue / "pid" / "master.pid").read_text().split()[0])

    def sent(self) -> int:
        if not self.maillog.exists():
            return 0
        return self.maillog.read_text(errors="replace").count(" status=sent ")

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        tree = process_tree(self.pid) if self.pid and alive(self.pid) else []
        code, output = await run_command([postfix_path() or "postfix", "-c", str(self.etc),
                                          "stop"], timeout=60)
        if code != 0:
            note(f"postfix stop failed ({code}): {output.strip()[-300:]}")
        deadline = time.monotonic() + 20
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for pid in tree:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.2)
        reap_orphans(self.bench.procs.managed)


async def ensure_postfix() -> str | None:
    """None when Postfix can run here, else why not (installing it when root and absent)."""
    if os.geteuid() != 0:
        return "a private Postfix instance needs root"
    if postfix_path():
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    note("Postfix is not installed: apt-get install -y postfix")
    code, output = await run_command(["apt-get", "install", "-y", "postfix"], 900, env)
    if code != 0:
        await run_command(["apt-get", "update"], 600, env)
        code, output = await run_command(["apt-get", "install", "-y", "postfix"], 900, env)
    if code != 0 or not postfix_path():
        last = output.strip().splitlines()[-1:] or ["no output"]
        return f"not installed, and apt-get install postfix failed ({code}): {last[0]}"
    return None


# ---------------------------------------------------------------- measurements


@dataclass
class Cell:
    target: str
    kind: Kind
    sessions: int
    count: int
    load: Load
    warm_ok: int = 0
    delivered: int | None = None  # at the sink during the measured load; None: no delivery
    delivered_at: float | None = None  # when the sink had them all
    cpu: float | None = None  # seconds, the server's process tree, over the measured load
    rss_kb: int | None = None
    children_kb: int | None = None
    bench_cpu: float = 0.0  # seconds this process spent generating the load
    check: str = "-"
    # The relay's relay_stage_cpu_seconds over the load: stage -> (messages, CPU seconds).
    stage_cpu: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The relay's store over the load and its delivery: (commits, writes committed), from
    # relay_store_commit_writes; None: not measured.
    store_commits: tuple[float, float] | None = None
    # PostgreSQL: CPU seconds of the database server's processes for this store (not in the
    # relay's process tree), over the same window; None: not measured.
    db_cpu: float | None = None

    @property
    def deliver_rate(self) -> float | None:
        if self.delivered_at is None or not self.load.ok:
            return None
        return self.load.ok / (self.delivered_at - self.load.started)

    def cpu_per_message(self) -> float | None:
        return self.cpu / self.load.ok if self.cpu is not None and self.load.ok else None



def row_figures(cell: Cell, notes: list[str]) -> tuple[list[float], float | None, str, str]:
    """A row's accept latencies, CPU per message, check (long ones as a note) and delivered
    column."""
    short = cell.check if len(cell.check) <= 12 else f"see note {len(notes) + 1}"
    if short != cell.check:
        notes.append(cell.check)
    deliv = fmt_rate(cell.deliver_rate) if cell.delivered is not None else "-"
    if cell.delivered is not None and cell.delivered_at is None:
        deliv = f"{cell.delivered}/{cell.load.ok}!"
    return cell.load.latencies(), cell.cpu_per_message(), short, deliv
class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.procs = Processes()
        self.sink: Sink | None = None
        self.runs = 0
        self.kinds = {
            "2k": plain_kind("2k", "2 KB plain", 2048),
            "20k": html_kind(20480),
            "1m": pdf_kind(1 << 20),
        }
        self.counts = {"2k": args.n_2k, "20k": args.n_20k, "1m": args.n_1m}
        # The kinds the preflight and the matrices send (--kinds); the other sections pick
        # their own.
        self.chosen = [self.kinds[key] for key in args.kinds]
        self.cells: dict[tuple[str, str, int], Cell] = {}
        self.postfix_skipped = ""
        self.postfix: Postfix | None = None
        self.extra: dict[str, Any] = {}

    def tag(self) -> str:
        self.runs += 1
        return f"bench{os.getpid()}-r{self.runs:02d}"

    def name(self, what: str) -> str:
        return f"{self.runs:02d}-{what}"

    # -- one load against one running server

    async def measure(self, target: str, port: int | tuple[int, ...],
                      pid: int | tuple[int, ...] | None, parties: Parties, kind: Kind,
                      sessions: int, count: int, sink: Sink | None,
                      stages: Callable[[], Awaitable[dict[str, tuple[float, float]]]] | None
                      = None,
                      store: Callable[[], Awaitable[tuple[float, float] | None]] | None
                      = None, db_cpu: Callable[[], float] | None = None) -> Cell:
        """stages: reads the relay's per-stage CPU counters, before and after the load (each
        read outside the CPU window, which it would add to); store: its commit counters.
        Several ports (relays on one database): the sessions go round them, and the CPU is
        every pid's tree's; db_cpu: the database server's CPU seconds for the store."""
        args = self.args
        tag = self.tag()
        ports = port if isinstance(port, tuple) else (port,)
        pids = pid if isinstance(pid, tuple) else (pid,) if pid else ()
        conns = [conn for n, each in enumerate(ports)
                 for conn in await open_sessions(each, len(range(n, sessions, len(ports))),
                                                 args.reply_timeout)]
        try:
            base = sink.count if sink is not None else 0
            warm = Load()
            for i in range(args.warmup):
                await _send(conns[0], warm, kind, parties, tag + "w", i, args.reply_timeout)
            if sink is not None:  # the warm-up messages are delivered before the clock starts
                await sink.wait_for(base + warm.ok, args.deliver_timeout)
                base = sink.count
            stages0 = await stages() if stages is not None else {}
            store0 = await store() if store is not None else None
            db0 = await asyncio.to_thread(db_cpu) if db_cpu is not None else None
            cpu0 = sum(cpu_seconds(p) for p in pids) if pids else None
            bench0 = time.process_time()
            load = await closed_loop(conns, kind, parties, count, tag, args.reply_timeout)
            bench_cpu = time.process_time() - bench0
            cell = Cell(target, kind, sessions, count, load, warm.ok, bench_cpu=bench_cpu)
            if sink is not None:
                cell.delivered_at = await sink.wait_for(base + load.ok, args.deliver_timeout)
                cell.delivered = sink.count - base
            if pids:
                cell.cpu = sum(cpu_seconds(p) for p in pids) - (cpu0 or 0.0)
            if db_cpu is not None and db0 is not None:
                cell.db_cpu = await asyncio.to_thread(db_cpu) - db0
            if stages is not None:
                cell.stage_cpu = {
                    stage: (n - stages0.get(stage, (0.0, 0.0))[0],
                            cpu - stages0.get(stage, (0.0, 0.0))[1])
                    for stage, (n, cpu) in (await stages()).items()}
            store1 = await store() if store is not None else None
            if store0 is not None and store1 is not None:
                cell.store_commits = (store1[0] - store0[0], store1[1] - store0[1])
        finally:
            await close_sessions(conns)
        if warm.failed or warm.broken:
            cell.check = f"warm-up: {warm.problems()}"
        self.cells[(target, kind.key, sessions)] = cell
        return cell

    async def relay_cell(self, kind: Kind, sessions: int, count: int) -> Cell:
        assert self.sink is not None
        self.tag()
        relay = Relay(self, self.name(f"relay-{kind.key}-x{sessions}"), self.sink.port)
        try:
            await relay.start(self.args.warmup + count)
            assert relay.parties is not None
            before = self.sink.count
            cell = await self.measure("relay", relay.port, relay.pid, relay.parties, kind,
                                      sessions, count, self.sink, relay.stage_cpu,
                                      relay.store_commits)
            cell.rss_kb = status_kb(relay.pid, "VmHWM")
            cell.children_kb = sum(status_kb(p, "VmHWM") or 0
                                   for p in process_tree(relay.pid)[1:]) or None
            at_sink = self.sink.count - before
        finally:
            await relay.stop()
        check = relay.check(cell.warm_ok + cell.load.ok, cell.load.failed, at_sink)
        cell.check = check if cell.check == "-" else f"{cell.check}; {check}"
        return cell

    # -- sections

    async def harness(self) -> None:
        assert self.sink is not None
        args = self.args
        out("HARNESS")
        out(f"  sink: {self.sink.which} on 127.0.0.1:{self.sink.port} ("
            + ("Postfix's smtp-sink -c" if self.sink.which == "smtp-sink" else
               "tools/bench_sink.py, a process of its own")
            + "; the same sink behind the relay and behind Postfix)")
        before = self.sink.count
        cell = await self.measure("sink", self.sink.port, self.sink.proc.pid if self.sink.proc
                                  else None, ANYONE, self.kinds["2k"], 20, args.n_sink, None)
        arrived = await self.sink.wait_for(before + cell.warm_ok + cell.load.ok, 30)
        rate = cell.load.accept_rate or 0.0
        counted = self.sink.count - before
        verdict = "enough" if rate >= 2000 else "BELOW the 2000 msg/s the bench needs"
        out(f"  load generator -> sink, 2 KB, 20 sessions, {cell.load.ok} messages:"
            f" {rate:.0f} msg/s ({verdict}); p99 {fmt_ms(percentile(cell.load.latencies(), 99))}"
            f" ms; sink counted {counted} of {cell.warm_ok + cell.load.ok}"
            f"{'' if arrived is not None else ' (NOT ALL)'}")
        per = cell.cpu_per_message()
        out(f"  generator CPU {cell.bench_cpu / max(1, cell.load.ok) * 1000:.3f} ms/msg,"
            f" sink CPU {fmt(per * 1000 if per is not None else None, 3)} ms/msg"
            " (the generator shares the machine's cores with the server under test)")

    async def preflight(self) -> None:
        """One message of each kind through a relay: 250, at the sink, recorded unchanged.
        Anything else makes every figure after it meaningless: the bench stops."""
        assert self.sink is not None
        self.tag()
        relay = Relay(self, self.name("relay-preflight"), self.sink.port)
        try:
            await relay.start(len(self.chosen))
            assert relay.parties is not None
            before = self.sink.count
            session = (await open_sessions(relay.port, 1, self.args.reply_timeout))[0]
            load = Load()
            try:
                for kind in self.chosen:
                    await _send(session, load, kind, relay.parties, "preflight", 0,
                                self.args.reply_timeout)
            finally:
                await session.close()
            await self.sink.wait_for(before + load.ok, 60)
            at_sink = self.sink.count - before
        finally:
            await relay.stop()
        check = relay.check(load.ok, load.failed, at_sink)
        replies = ", ".join(f"{k.key}: {s.reply[:9]}" for k, s in zip(self.chosen,
                                                                       load.sent, strict=False))
        out(f"PREFLIGHT: one of each through a relay: {replies}; {at_sink} at the sink;"
            f" store check: {check}")
        if load.ok != len(self.chosen) or check != "ok":
            tail = "\n".join(relay.log.read_text(errors="replace").splitlines()[-15:])
            raise BenchError(f"preflight failed: {load.problems() or check}; the relay's log"
                             f" ends:\n{tail}")

    async def matrix(self, target: str, runner: Callable[[Kind, int, int], Any]) -> None:
        for kind in self.chosen:
            for sessions in self.args.sessions:
                count = max(self.counts[kind.key], sessions)
                note(f"{target}: {kind.label}, {sessions} sessions, {count} messages")
                await runner(kind, sessions, count)

    async def relay_matrix(self) -> None:
        await self.matrix("relay", self.relay_cell)
        self.print_matrix("RELAY (fresh relay process per row)", "relay")
        self.print_stage_cpu()

    async def pg_cell(self, kind: Kind, sessions: int, count: int, instances: int) -> Cell:
        """The relay's row on PostgreSQL: `instances` relays on one new database, the sessions
        split between them, both delivering to the sink."""
        assert self.sink is not None
        self.tag()
        name = self.name(f"pg{instances}-{kind.key}-x{sessions}")
        async with Database(self.args.pg_url, f"relay_bench_{os.getpid()}_{self.runs:02d}") as db:
            relays = [Relay(self, f"{name}-{n}", self.sink.port, store_url=db.url,
                            chain_key=self.work / f"{name}-chain.key")  # one key for both
                      for n in range(instances)]
            try:
                for relay in relays:  # one after the other: the first migrates
                    await relay.start()
                parties = relays[0].parties = await relays[0].open_conversations(
                    self.args.warmup + count)  # on the database both relays share
                before = self.sink.count
                cell = await self.measure(
                    f"postgresql x{instances}", tuple(r.port for r in relays),
                    tuple(r.pid for r in relays), parties, kind, sessions, count,
                    self.sink, db_cpu=db.backend_cpu)
                cell.rss_kb = status_kb(relays[0].pid, "VmHWM")
                at_sink = self.sink.count - before
            finally:
                for relay in relays:
                    await relay.stop()
            check = await asyncio.to_thread(relays[0].check, cell.warm_ok + cell.load.ok,
                                            cell.load.failed, at_sink)
        cell.check = check if cell.check == "-" else f"{cell.check}; {check}"
        return cell

    async def postgresql_matrix(self) -> None:
        """The relay's rows on PostgreSQL with one and with two relays, beside SQLite's (the
        relay section's rows, or run here when it did not run)."""
        try:
            version = (await asyncio.to_thread(psql, self.args.pg_url, "SHOW server_version"))
        except (BenchError, OSError, subprocess.SubprocessError) as exc:
            out(f"STORES: PostgreSQL skipped (no server at {self.args.pg_url}: {exc})")
            out()
            return
        for kind in self.chosen:
            for sessions in self.args.sessions:
                count = max(self.counts[kind.key], sessions)
                if ("relay", kind.key, sessions) not in self.cells:
                    note(f"store: SQLite, {kind.label}, {sessions} sessions, {count} messages")
                    await self.relay_cell(kind, sessions, count)
                for instances in (1, 2):
                    note(f"store: PostgreSQL x{instances}, {kind.label}, {sessions} sessions,"
                         f" {count} messages")
                    await self.pg_cell(kind, sessions, count, instances)
        self.print_stores(version[0][0])

    def print_stores(self, version: str) -> None:
        server = self.args.pg_url.rsplit("@", 1)[-1].rsplit("/", 1)[0]
        out(f"STORES: the relay on SQLite, and on PostgreSQL {version} ({server}) with one"
            " relay and with"
            " two relays on one database (the sessions split between them); a fresh store and"
            " relay processes per row")
        out(f"  {'message':<22}{'sess':>5}  {'store':<15}{'msgs':>6}{'acc/s':>9}{'deliv/s':>9}"
            f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'relay CPU':>10}{'db CPU':>8}  check")
        notes = []
        for kind in self.chosen:
            for sessions in self.args.sessions:
                for target, label in (("relay", "SQLite"), ("postgresql x1", "PostgreSQL x1"),
                                      ("postgresql x2", "PostgreSQL x2")):
                    cell = self.cells.get((target, kind.key, sessions))
                    if cell is None:
                        continue
                    lat, per, short, deliv = row_figures(cell, notes)
                    db = (cell.db_cpu / cell.load.ok * 1000
                          if cell.db_cpu is not None and cell.load.ok else None)
                    out(f"  {kind.label:<22}{sessions:>5}  {label:<15}{cell.load.ok:>6}"
                        f"{fmt_rate(cell.load.accept_rate):>9}{deliv:>9}"
                        f"{fmt_ms(percentile(lat, 50)):>8}{fmt_ms(percentile(lat, 99)):>8}"
                        f"{fmt_ms(max(lat, default=None)):>8}"
                        f"{fmt(per * 1000 if per is not None else None, 2):>10}"
                        f"{fmt(db, 2):>8}  {short}")
        for i, text in enumerate(notes, 1):
            out(f"  note {i}: {text}")
        out("  (CPU: ms per message; relay: the relay processes' trees; db: the PostgreSQL"
            " server's processes for the store, when it runs on this machine; SQLite's work is"
            " in the relay's)")
        out()

    async def aiosmtpd_matrix(self) -> None:
        with (self.work / "aiosmtpd.log").open("wb") as log:
            proc = await self.procs.start(
                [sys.executable, "-m", "tools.bench_sink", "aiosmtpd"],
                stdout=asyncio.subprocess.PIPE, stderr=log)
        try:
            assert proc.stdout is not None
            async with asyncio.timeout(30):
                line = await proc.stdout.readline()
            if not line.startswith(b"listening "):
                raise BenchError(f"aiosmtpd did not start: {line!r}")
            port = int(line.split()[1])

            async def run(kind: Kind, sessions: int, count: int) -> None:
                cell = await self.measure("aiosmtpd", port, proc.pid, ANYONE, kind,
                                          sessions, count, None)
                cell.rss_kb = status_kb(proc.pid, "VmHWM")
                if cell.load.failed or cell.load.broken:
                    cell.check = cell.load.problems()
                else:
                    cell.check = "ok"

            await self.matrix("aiosmtpd", run)
        finally:
            await self.procs.stop(proc)
        self.print_matrix("AIOSMTPD do-nothing server (answers 250, discards; one process for"
                          " all rows)", "aiosmtpd")

    async def postfix_matrix(self) -> None:
        assert self.sink is not None
        why = "--no-postfix" if self.args.no_postfix else await ensure_postfix()
        if why:
            self.postfix_skipped = why
            out(f"POSTFIX: skipped ({why})")
            out()
            return
        postfix = self.postfix = Postfix(self, self.sink.port)
        sink = self.sink
        try:
            try:
                await postfix.start()
            except BenchError as exc:
                self.postfix_skipped = f"could not start it: {exc}"
                out(f"POSTFIX: skipped ({self.postfix_skipped})")
                out()
                return
            postconf = str(Path(postfix_path() or "/usr/sbin/postfix").with_name("postconf"))
            code, version = await run_command([postconf, "-h", "mail_version"], 30)

            async def run(kind: Kind, sessions: int, count: int) -> None:
                sent0, sink0 = postfix.sent(), sink.count
                cell = await self.measure("postfix", postfix.port, postfix.pid, ANYONE,
                                          kind, sessions, count, sink)
                expected = cell.warm_ok + cell.load.ok
                deadline = time.monotonic() + 10  # the maillog line comes after the sink's 250
                while postfix.sent() - sent0 < expected and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                sent, at_sink = postfix.sent() - sent0, sink.count - sink0
                problems = [cell.load.problems()] if cell.load.failed or cell.load.broken else []
                if sent != expected or at_sink != expected:
                    problems.append(f"{expected} accepted, maillog {sent} sent, sink {at_sink}")
                cell.check = "; ".join(problems) or "ok"

            await self.matrix("postfix", run)
        finally:
            await postfix.stop()
        self.print_matrix(
            f"POSTFIX {version.strip() if code == 0 else ''} (private instance, queue on disk,"
            f" relayhost = the sink, destination concurrency {self.args.concurrency};"
            " CPU: all its processes)", "postfix")

    def print_matrix(self, title: str, target: str) -> None:
        out(title)
        out(f"  {'message':<22}{'sess':>5}{'msgs':>6}{'acc/s':>9}{'deliv/s':>9}"
            f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}{'CPU ms/msg':>11}"
            f"{'RSS MB':>8}{'wkr MB':>8}  check")
        notes = []
        for kind in self.chosen:
            for sessions in self.args.sessions:
                cell = self.cells.get((target, kind.key, sessions))
                if cell is None:
                    continue
                lat, per, short, deliv = row_figures(cell, notes)
                out(f"  {kind.label:<22}{sessions:>5}{cell.load.ok:>6}"
                    f"{fmt_rate(cell.load.accept_rate):>9}{deliv:>9}"
                    f"{fmt_ms(percentile(lat, 50)):>8}{fmt_ms(percentile(lat, 95)):>8}"
                    f"{fmt_ms(percentile(lat, 99)):>8}{fmt_ms(max(lat, default=None)):>8}"
                    f"{fmt(per * 1000 if per is not None else None, 2):>11}"
                    f"{fmt(kb_mb(cell.rss_kb), 1):>8}{fmt(kb_mb(cell.children_kb), 1):>8}"
                    f"  {short}")
        for i, text in enumerate(notes, 1):
            out(f"  note {i}: {text}")
        for (where, key, sessions), cell in self.cells.items():
            if where == target and cell.store_commits is not None and cell.load.ok:
                commits, writes = cell.store_commits
                out(f"  store, {self.kinds[key].label} x{sessions}: {commits:.0f} commits for"
                    f" {cell.load.ok} messages ({commits / cell.load.ok:.2f} per message, intake"
                    f" and delivery writes), {writes / max(commits, 1):.1f} writes per commit")
        out()

    def print_stage_cpu(self) -> None:
        """Per stage, the CPU time of its own code per message (relay_stage_cpu_seconds, read
        from /metrics before and after each row), against the relay's whole CPU per message."""
        cells = [(f"{kind.key} x{sessions}", cell) for kind in self.chosen
                 for sessions in self.args.sessions
                 if (cell := self.cells.get(("relay", kind.key, sessions))) is not None
                 and cell.stage_cpu.get("parse", (0.0, 0.0))[0]]
        if not cells:
            return
        out("RELAY CPU PER STAGE (ms per message: CPU time of each stage's own code, where it"
            " ran; waits for the event loop, the store or DNS not counted)")
        out(f"  {'stage':<20}" + "".join(f"{name:>11}" for name, _ in cells))
        stages: list[str] = []
        for _, cell in cells:
            stages += [stage for stage in cell.stage_cpu if stage not in stages]
        stages.sort(key=lambda stage: stage != "parse")  # the parse first, then as listed

        def row(label: str, ms: Callable[[Cell], float | None]) -> None:
            out(f"  {label:<20}" + "".join(f"{fmt(ms(cell), 3):>11}" for _, cell in cells))

        def staged(cell: Cell, stage: str | None = None) -> float:
            """ms per message (a message: one parse) in one stage, or in all of them."""
            cpu = sum(c for name, (_, c) in cell.stage_cpu.items() if stage in (None, name))
            return cpu / cell.stage_cpu["parse"][0] * 1000

        def whole(cell: Cell) -> float | None:
            per = cell.cpu_per_message()
            return per * 1000 if per is not None else None

        for stage in stages:
            row(stage, lambda cell, stage=stage: staged(cell, stage))
        row("stages in all", staged)
        row("whole relay", whole)
        row("rest", lambda cell: (w - staged(cell)) if (w := whole(cell)) is not None else None)
        out("  (whole relay: the process tree's CPU over the load and its delivery, as above;"
            " rest: SMTP, the record, the store's thread, delivery, the hand-over to workers)")
        out()

    def print_ratios(self) -> None:
        out("RATIOS relay/Postfix and relay/aiosmtpd (above 1: the relay is faster)")
        out(f"  {'message':<22}{'sess':>5}{'acc/Postfix':>13}{'deliv/Postfix':>15}"
            f"{'acc/aiosmtpd':>14}")
        for kind in self.chosen:
            for sessions in self.args.sessions:
                relay = self.cells.get(("relay", kind.key, sessions))
                postfix = self.cells.get(("postfix", kind.key, sessions))
                aio = self.cells.get(("aiosmtpd", kind.key, sessions))
                if relay is None:
                    continue
                out(f"  {kind.label:<22}{sessions:>5}"
                    f"{ratio(relay.load.accept_rate, postfix and postfix.load.accept_rate):>13}"
                    f"{ratio(relay.deliver_rate, postfix and postfix.deliver_rate):>15}"
                    f"{ratio(relay.load.accept_rate, aio and aio.load.accept_rate):>14}")
        if self.postfix_skipped:
            out(f"  (Postfix skipped: {self.postfix_skipped})")
        out()

    async def latency(self) -> None:
        """p99 accept latency at a fixed offered rate (open loop)."""
        assert self.sink is not None
        args = self.args
        kind = self.kinds["2k"]
        self.tag()
        relay = Relay(self, self.name("relay-latency"), self.sink.port)
        note(f"latency: {args.latency_count} x 2 KB at {args.latency_rate:g} msg/s offered,"
             f" {args.latency_sessions} sessions")
        try:
            await relay.start(args.warmup + args.latency_count)
            parties = relay.parties
            assert parties is not None
            before = self.sink.count
            conns = await open_sessions(relay.port, args.latency_sessions, args.reply_timeout)
            try:
                warm = Load()
                for i in range(args.warmup):
                    await _send(conns[0], warm, kind, parties, "warm", i, args.reply_timeout)
                await self.sink.wait_for(before + warm.ok, 60)
                cpu0 = cpu_seconds(relay.pid)
                load = await open_loop(conns, kind, parties, args.latency_rate,
                                       self.tag(), args.reply_timeout, count=args.latency_count)
                cpu = cpu_seconds(relay.pid) - cpu0
            finally:
                await close_sessions(conns)
            delivered = await self.sink.wait_for(before + warm.ok + load.ok,
                                                 args.deliver_timeout)
            rss = status_kb(relay.pid, "VmHWM")
            at_sink = self.sink.count - before
        finally:
            await relay.stop()
        lat = load.latencies()
        dispatched = max((s.start for s in load.sent), default=load.started) - load.started
        offered = (len(load.sent) - 1) / dispatched if dispatched > 0 else 0.0
        self.extra["latency"] = (load, percentile(lat, 99))
        out(f"OPEN LOOP: 2 KB at {args.latency_rate:g} msg/s offered over"
            f" {args.latency_sessions} sessions, {len(load.sent)} messages")
        out(f"  sent at {offered:.1f} msg/s; {load.ok} answered 250, {load.failed} refused,"
            f" {len(load.broken)} sessions broke; delivered"
            f" {'all' if delivered is not None else f'{at_sink - warm.ok} (NOT ALL)'}")
        out(f"  DATA-end -> 250: p50 {fmt_ms(percentile(lat, 50))}  p95"
            f" {fmt_ms(percentile(lat, 95))}  p99 {fmt_ms(percentile(lat, 99))}  max"
            f" {fmt_ms(max(lat, default=None))} ms")
        out(f"  waited for a free session: max {fmt_ms(max(load.lags, default=None))} ms"
            " (above 0: the relay fell behind the offered rate)")
        out(f"  relay CPU {cpu / max(1, load.ok) * 1000:.2f} ms/msg, peak RSS"
            f" {fmt(kb_mb(rss), 1)} MB; check: "
            f"{relay.check(warm.ok + load.ok, load.failed, at_sink)}")
        out()

    async def queue(self) -> None:
        """RSS with many messages queued: the sink stopped (SIGSTOP: it takes connections
        and never answers), N messages accepted, then the sink resumed and the queue drained."""
        args = self.args
        kind = self.kinds["2k"]
        sink = Sink(self.procs, self.sink.which if self.sink else "own",
                    self.work / "sink-queue.log")
        self.tag()
        await sink.start()
        # smtp_timeout: deliveries in flight to the stopped sink wait instead of failing
        # and being retried later, so the queue is the queue and the drain is not a backoff.
        relay = Relay(self, self.name("relay-queue"), sink.port, smtp_timeout=1800.0)
        note(f"queue: {args.queue_count} x 2 KB with the sink stopped")
        samples: list[int] = []
        try:
            await relay.start(args.warmup + args.queue_count)
            parties = relay.parties
            assert parties is not None
            conns = await open_sessions(relay.port, args.queue_sessions, args.reply_timeout)
            try:
                warm = Load()
                for i in range(args.warmup):
                    await _send(conns[0], warm, kind, parties, "warm", i, args.reply_timeout)
                await sink.wait_for(warm.ok, 60)
                deadline = time.monotonic() + 60  # the sink counts at ".", before its 250
                while relay.store()["outbox"] and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                sink.pause()
                stop = asyncio.Event()

                async def sample() -> None:
                    while not stop.is_set():
                        samples.append(status_kb(relay.pid, "VmRSS") or 0)
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(0.5):
                                await stop.wait()

                sampler = asyncio.create_task(sample())
                load = await closed_loop(conns, kind, parties, args.queue_count,
                                         self.tag(), args.reply_timeout)
                await asyncio.sleep(1.0)
                stop.set()
                await sampler
            finally:
                await close_sessions(conns)
            rss_now = status_kb(relay.pid, "VmRSS")
            hwm = status_kb(relay.pid, "VmHWM")
            counts = relay.store()
            db_bytes = sum(p.stat().st_size for p in relay.dir.glob("relay.db*"))
            note("queue: sink resumed, draining")
            resumed = time.monotonic()
            sink.resume()
            drained = await sink.wait_for(warm.ok + load.ok, args.drain_timeout)
            hwm_after = status_kb(relay.pid, "VmHWM")
            at_sink = sink.count
        finally:
            if sink.proc is not None and sink.proc.returncode is None:
                sink.resume()  # a paused sink would hold the relay's shutdown
            await relay.stop()
            await sink.stop()
        self.extra["queue"] = (load, hwm, counts["outbox"])
        out(f"QUEUE: {load.ok} x 2 KB accepted over {args.queue_sessions} sessions"
            f" ({fmt_rate(load.accept_rate)} msg/s) while the sink was stopped (SIGSTOP: it"
            " takes connections and never answers; delivery.smtp_timeout 1800 s for this run,"
            " so deliveries wait instead of failing into the retry backoff)")
        out(f"  queue depth (SELECT COUNT(*) FROM outbox): {counts['outbox']};"
            f" store files {db_bytes / 1e6:.1f} MB")
        out(f"  relay VmRSS {fmt(kb_mb(rss_now), 1)} MB with the queue full, VmHWM"
            f" {fmt(kb_mb(hwm), 1)} MB; sampled RSS every 0.5 s: max"
            f" {fmt(kb_mb(max(samples, default=None)), 1)} MB")
        took = f"{drained - resumed:.1f} s" if drained is not None else (
            f"NOT within {args.drain_timeout:.0f} s ({at_sink - warm.ok} of {load.ok})")
        out(f"  sink resumed: queue drained in {took}"
            f"{f' ({load.ok / (drained - resumed):.0f} msg/s)' if drained else ''};"
            f" VmHWM after the drain {fmt(kb_mb(hwm_after), 1)} MB")
        out(f"  check: {relay.check(warm.ok + load.ok, load.failed, at_sink)}")
        out()

    async def big(self) -> None:
        """Small messages at a steady rate from other sessions, without and then during a big
        upload; their latency by the phase of the big message they fell in."""
        assert self.sink is not None
        args = self.args
        small = self.kinds["2k"]
        big = plain_kind("big", f"{args.big_mb} MB text", int(args.big_mb * 1_000_000))
        self.tag()
        relay = Relay(self, self.name("relay-big"), self.sink.port)
        note(f"big: {big.size / 1e6:.1f} MB upload against {args.big_sessions} small sessions")
        # The small load goes on until the big message is delivered: conversations for
        # BIG_WINDOW seconds of it (past that, small messages are refused: reported).
        baseline_count = int(args.big_rate * args.big_baseline)
        try:
            await relay.start(args.warmup + 1 + baseline_count
                              + int(args.big_rate * BIG_WINDOW) + 1)
            parties = relay.parties
            assert parties is not None
            before = self.sink.count
            conns = await open_sessions(relay.port, args.big_sessions + 1, args.reply_timeout)
            uploader, smalls = conns[0], conns[1:]
            try:
                warm = Load()  # the big-message worker process starts at the first one
                for i in range(args.warmup):
                    await _send(smalls[0], warm, small, parties, "warm", i,
                                args.reply_timeout)
                await _send(uploader, warm, self.kinds["1m"], parties, "warm", 99,
                            args.reply_timeout)
                await self.sink.wait_for(before + warm.ok, 120)
                baseline = await open_loop(smalls, small, parties, args.big_rate,
                                           self.tag(), args.reply_timeout, count=baseline_count)
                await self.sink.wait_for(before + warm.ok + baseline.ok, 120)
                stop = asyncio.Event()
                during = Load()
                during_task = asyncio.create_task(open_loop(
                    smalls, small, parties, args.big_rate, self.tag(), args.reply_timeout,
                    stop=stop, load=during))
                await asyncio.sleep(1.0)
                big_load = Load(started=time.monotonic())
                await _send(uploader, big_load, big, parties, self.tag(), 0,
                            args.big_timeout)
                # Its delivery runs on the relay's event loop too: the small load goes on
                # until everything accepted so far, the big message included, is at the sink.
                big_delivered = None
                deadline = time.monotonic() + args.deliver_timeout
                while big_load.ok and time.monotonic() < deadline:
                    accepted = before + warm.ok + baseline.ok + during.ok + 1
                    if self.sink.count >= accepted:
                        big_delivered = self.sink.times[accepted - 1]
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(1.0)
                stop.set()
                await during_task
            finally:
                await close_sessions(conns)
            await self.sink.wait_for(
                before + warm.ok + baseline.ok + during.ok + big_load.ok, args.deliver_timeout)
            at_sink = self.sink.count - before
        finally:
            await relay.stop()
        self.report_big(big, big_load, baseline, during, big_delivered,
                        relay.check(warm.ok + baseline.ok + during.ok + big_load.ok,
                                    warm.failed + baseline.failed + during.failed
                                    + big_load.failed, at_sink))

    def report_big(self, big: Kind, big_load: Load, baseline: Load, during: Load,
                   big_delivered: float | None, check: str) -> None:
        args = self.args
        out(f"BIG MESSAGE: one {big.size / 1e6:.1f} MB message ({big.label}, lines of"
            f" {len(SENTENCE) + 2} octets) on one session; {args.big_sessions} other sessions"
            f" send 2 KB messages at {args.big_rate:g} msg/s in all")
        if not big_load.sent:
            out(f"  the big message was not answered: {big_load.problems()}")
            self.extra["big"] = None
            return
        sent = big_load.sent[0]
        end = big_delivered if big_delivered is not None else sent.done

        def overlapping(a: float, b: float) -> Callable[[Sent], bool]:
            return lambda s: s.dot < b and s.done > a  # waiting for its reply within [a, b)

        phases = [("without a big message", baseline, overlapping(0.0, float("inf"))),
                  ("while it uploads", during, overlapping(sent.start, sent.dot)),
                  ("while it is processed", during, overlapping(sent.dot, sent.done)),
                  ("while it is delivered", during, overlapping(sent.done, end)),
                  ("during it (all three)", during, overlapping(sent.start, end))]
        delivery = (f"delivered {end - sent.done:.2f} s after its 250" if big_delivered
                    else "NOT delivered in time")
        out(f"  big message: {sent.reply[:40]!r}; upload {sent.dot - sent.start:.2f} s,"
            f" DATA-end -> reply {sent.latency:.2f} s, {delivery}")
        out(f"  {'small messages':<28}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
        stats = {}
        for name, load, keep in phases:
            lat = load.latencies(keep)
            stats[name] = lat
            out(f"  {name:<28}{len(lat):>5}{fmt_ms(percentile(lat, 50)):>9}"
                f"{fmt_ms(percentile(lat, 99)):>9}{fmt_ms(max(lat, default=None)):>9}")
        refused = baseline.failed + during.failed
        out(f"  small messages refused: {refused}; sessions broken:"
            f" {len(baseline.broken) + len(during.broken)}; check: {check}")
        out("  stall criterion (target 4): every small message answered 250 and none slower"
            " than 1000 ms while the big one is uploaded, processed and delivered")
        out()
        self.extra["big"] = (sent, stats["without a big message"],
                             stats["during it (all three)"],
                             refused + len(baseline.broken) + len(during.broken))

    def print_targets(self) -> None:
        out("TARGETS")
        rows = []
        relay = self.cells.get(("relay", "2k", 20))
        postfix = self.cells.get(("postfix", "2k", 20))
        if relay is None or postfix is None or not postfix.deliver_rate:
            why = self.postfix_skipped or "not measured"
            rows.append(("(1) 20 sessions, 2 KB: delivered/s >= 1.0 x Postfix", "n/a", why))
        else:
            r = (relay.deliver_rate or 0.0) / postfix.deliver_rate
            rows.append(("(1) 20 sessions, 2 KB: delivered/s >= 1.0 x Postfix",
                         "met" if r >= 1.0 else "missed",
                         f"relay {fmt_rate(relay.deliver_rate)}/s, Postfix"
                         f" {fmt_rate(postfix.deliver_rate)}/s: {r:.2f} x"))
        latency = self.extra.get("latency")
        if latency is None or latency[1] is None:
            rows.append(("(2) p99 accept latency < 50 ms at 100 msg/s", "n/a", "not measured"))
        else:
            p99 = latency[1] * 1000
            rows.append((f"(2) p99 accept latency < 50 ms at {self.args.latency_rate:g} msg/s",
                         "met" if p99 < 50 and not latency[0].failed else "missed",
                         f"p99 {p99:.1f} ms over {latency[0].ok} messages"
                         f"{f', {latency[0].failed} refused' if latency[0].failed else ''}"))
        queue = self.extra.get("queue")
        if queue is None or queue[1] is None:
            rows.append(("(3) RSS < 200 MB with 10,000 queued", "n/a", "not measured"))
        else:
            _load, hwm, depth = queue
            mb = hwm / 1024
            partial = "" if depth >= 10_000 else f" (only {depth} queued: not the target's 10,000)"
            rows.append(("(3) RSS < 200 MB with 10,000 queued",
                         ("met" if mb < 200 else "missed") + ("?" if partial else ""),
                         f"VmHWM {mb:.1f} MB with {depth} queued{partial}"))
        big = self.extra.get("big")
        if not big:
            rows.append(("(4) a 25 MB message does not stall others", "n/a", "not measured"))
        else:
            sent, base, during, _troubles = big
            worst = max(during, default=0.0) * 1000
            base_p99 = percentile(base, 99) or 0.0
            during_p99 = percentile(during, 99) or 0.0
            ratio_p99 = during_p99 / base_p99 if base_p99 else float("inf")
            ratio_max = worst / (max(base, default=0.0) * 1000 or float("nan"))
            met = sent.ok and during and worst < 1000 and not big[3]
            rows.append((f"(4) a {self.args.big_mb:g} MB message does not stall others",
                         "met" if met else "missed",
                         f"max small latency during it {worst:.0f} ms ({ratio_max:.1f} x"
                         f" baseline max), p99 {during_p99 * 1000:.0f} ms ({ratio_p99:.1f} x"
                         f" baseline p99){f', {big[3]} small refused/broken' if big[3] else ''}"))
        for what, verdict, figures in rows:
            out(f"  {what:<56}{verdict:<8}{figures}")
        out()


def fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def fmt_rate(rate: float | None) -> str:
    if rate is None:
        return "-"
    return f"{rate:.1f}" if rate < 100 else f"{rate:.0f}"


def kb_mb(kb: int | None) -> float | None:
    return None if kb is None else kb / 1024


def ratio(a: float | None, b: float | None) -> str:
    return "-" if not a or not b else f"{a / b:.2f}"


def machine(work: Path) -> Iterator[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    yield f"  CPU:     {model[1] if model else platform.processor() or platform.machine()}"
    yield (f"  cores:   {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable by the bench);"
           f" load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    meminfo = Path("/proc/meminfo").read_text()
    total = re.search(r"MemTotal:\s+(\d+)", meminfo)
    if total:
        yield f"  memory:  {int(total[1]) / 1024 / 1024:.1f} GiB"
    yield (f"  Python:  {platform.python_implementation()} {platform.python_version()},"
           f" SQLite {sqlite3.sqlite_version}")
    yield f"  kernel:  {platform.system()} {platform.release()} {platform.machine()}"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        df = subprocess.run(["df", "-hT", str(work)], capture_output=True, text=True,
                            timeout=10).stdout.strip().splitlines()
        yield f"  disk:    {' '.join(df[-1].split()) if df else '?'} (df -hT of the work dir)"
    yield f"  date:    {datetime.now().astimezone().isoformat(timespec='seconds')}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a short run: fewer messages everywhere (figures are noisier)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--only",
                   default="harness,relay,postgresql,aiosmtpd,postfix,latency,queue,big",
                   help="sections to run (default: all)")
    p.add_argument("--sink", choices=("own", "smtp-sink", "auto"), default="own",
                   help="tools/bench_sink.py (own, the default: it stamps each arrival with its"
                   " own clock), Postfix's smtp-sink -c, or smtp-sink when installed (auto)")
    p.add_argument("--no-postfix", action="store_true", help="skip the Postfix comparison")
    p.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="a PostgreSQL database the bench can create and drop databases from,"
                   " for the store section's rows (skipped where none answers)")
    p.add_argument("--sessions", default="1,20,100", help="concurrent sessions per row")
    p.add_argument("--kinds", default="2k,20k,1m",
                   help="message kinds of the preflight and the matrices (2k, 20k, 1m)")
    p.add_argument("--n-2k", type=int, help="2 KB messages per row (default 1000)")
    p.add_argument("--n-20k", type=int, help="20 KB messages per row (default 500)")
    p.add_argument("--n-1m", type=int, help="1 MB messages per row (default 60)")
    p.add_argument("--n-sink", type=int, help="messages for the sink's own capacity (5000)")
    p.add_argument("--warmup", type=int, default=3,
                   help="messages sent before each measured load, not counted (3)")
    # The relay's own default: the targets are for the configuration a new user gets.
    p.add_argument("--workers", type=int, default=SMTPSettings().workers,
                   help="the relay's smtp.workers (default: the relay's default, 0: the stages"
                   " run in the relay's own process; N: in N worker processes)")
    p.add_argument("--concurrency", type=int, default=50,
                   help="relay delivery.concurrency, and Postfix's destination concurrency")
    p.add_argument("--latency-rate", type=float, default=100.0, help="offered msg/s (100)")
    p.add_argument("--latency-count", type=int, help="open-loop messages (1500)")
    p.add_argument("--latency-sessions", type=int, default=20)
    p.add_argument("--queue-count", type=int, help="messages queued (10000)")
    p.add_argument("--queue-sessions", type=int, default=20)
    p.add_argument("--drain-timeout", type=float, default=300.0)
    p.add_argument("--big-mb", type=float, default=25.0, help="size of the big message (25)")
    p.add_argument("--big-sessions", type=int, default=10)
    p.add_argument("--big-rate", type=float, default=20.0,
                   help="small messages per second beside the big one (20)")
    p.add_argument("--big-baseline", type=float, help="seconds of small load without it (10)")
    p.add_argument("--big-timeout", type=float, default=1200.0)
    p.add_argument("--reply-timeout", type=float, default=120.0)
    p.add_argument("--deliver-timeout", type=float, default=300.0)
    p.add_argument("--start-timeout", type=float, default=60.0)
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {"n_2k": (1000, 200), "n_20k": (500, 100), "n_1m": (60, 20),
                "n_sink": (5000, 2000), "latency_count": (1500, 300),
                "queue_count": (10_000, 2000), "big_baseline": (10.0, 4.0)}
    for name, (full, short) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    args.sessions = [int(s) for s in args.sessions.split(",") if s.strip()]
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not args.kinds or not set(args.kinds) <= {"2k", "20k", "1m"}:
        p.error("--kinds: a comma-separated choice of 2k, 20k, 1m")
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    return args


async def run(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    bench = Bench(args, work)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        out(f"RELAY BENCH{' (--quick)' if args.quick else ''}: work directory {work}")
        out("MACHINE")
        for line in machine(work):
            out(line)
        overrides = sorted(k for k in os.environ if k.startswith("RELAY_"))
        out(f"  relay config: store + DKIM key in the work dir, synchronous=FULL, DKIM on,"
            f" delivery smtp (concurrency {args.concurrency}, poll 0.2 s), default rate limits"
            f" (each relay's load spread over conversations of"
            f" {LimitsSettings().conversation_per_hour} messages, a buyer each),"
            f" smtp.workers {args.workers};"
            f" RELAY_* overrides: {', '.join(overrides) or 'none'}")
        out("  messages: " + "; ".join(f"{k.label} = {k.size} bytes"
                                       for k in bench.kinds.values()))
        out("  acc/s: 250s / (first MAIL of the load -> last 250), sessions connected and EHLO'd"
            f" before, {args.warmup} warm-up messages not counted; deliv/s: the same messages"
            " / (first MAIL -> the sink has them all); latency: final '.' written -> 250 read"
            " (nearest rank); CPU: utime+stime of the server's process tree (threads, child"
            " processes, reaped children) over the load and its delivery / messages; RSS:"
            " VmHWM of the relay process, wkr: of its child processes (big-message worker);"
            " msgs: at least one per session")
        out()
        which = args.sink
        if which == "auto":
            which = "smtp-sink" if smtp_sink_path() else "own"
        bench.sink = Sink(bench.procs, which, work / "sink.log")
        await bench.sink.start()
        sections = [("relay", bench.relay_matrix), ("postgresql", bench.postgresql_matrix),
                    ("aiosmtpd", bench.aiosmtpd_matrix), ("postfix", bench.postfix_matrix),
                    ("latency", bench.latency), ("queue", bench.queue), ("big", bench.big)]
        if "harness" in args.only:
            await bench.harness()
        if {"relay", "postgresql", "latency", "queue", "big"} & args.only:
            await bench.preflight()
        out()
        for name, section in sections:
            if name in args.only:
                await section()
        if {"relay", "postfix", "aiosmtpd"} & args.only:
            bench.print_ratios()
        bench.print_targets()
        out(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())};"
            f" run time {time.monotonic() - STARTED:.0f} s")
    finally:
        if bench.postfix is not None:
            await bench.postfix.stop()
        if bench.sink is not None:
            await bench.sink.stop()
        await bench.procs.stop_all()
        reap_orphans(bench.procs.managed)
        if args.keep:
            out(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with contextlib.suppress(Exception):
        _LIBC.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: see reap_orphans
    try:
        asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench interrupted; every process it started is stopped", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
