"""Where a message's CPU time goes in the pipeline, in-process: parse and every stage.

The bench's messages (tools/bench.py: 2 KB plain, 20 KB HTML, 1 MB PDF) go through what
runs for a message after DATA (relay.pipeline.intake.Intake.process: line ends, prescan,
parse, then the stages of relay.pipeline.order), with the default configuration, a
temporary store and DKIM key, no network. Prints the CPU time per message of each stage (its
own steps, relay.pipeline.order.OwnCPU), of the parse, and of the whole call (this thread;
and every thread, the store's included); --profile N adds cProfile's top N functions.
--record runs the record too (Intake.receive_outcome: the store write and its fsync).

--workers N runs the same messages through N worker processes instead (smtp.workers = N,
relay.pipeline.workers.BigMessages), --concurrency at a time, after every worker has started,
and then in this process: it prints the CPU per message of this process and of the workers,
and the hand-over's cost (the two together less the same messages run in this process). The
workers' start-up (imports, stages, store) is printed apart, not counted per message.

--dump FILE runs a fixed set of messages instead (the bench's, tests/data's, CPython's
test_email corpus where installed, and the policy corpus) with the clock, the random
tokens, MIME boundaries and the hash seed fixed, and writes each one's reply, reasons and
delivered bytes: two runs of the same code give the same file, so a diff of two dumps shows
what a change did to the output. Asserts nothing. With --workers N the same messages go
through N worker processes (the clock and tokens fixed there too): the dump is the same as
without, byte for byte, when the hand-over changes nothing.

    python -m tools.pipeline_profile [--kinds 2k,20k] [-n 300] [--rounds 3] [--profile 25]
    python -m tools.pipeline_profile --workers 2 [--concurrency 20] [--kinds 2k]
    python -m tools.pipeline_profile --dump before.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import hashlib
import json
import os
import pstats
import random
import re
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from relay.config import (
    Config,
    DeliverySettings,
    DKIMSettings,
    LimitsSettings,
    SMTPSettings,
    StoreSettings,
)
from relay.delivery.dkim_sign import generate
from relay.marketplace import conversations
from relay.pipeline.intake import Intake
from relay.pipeline.parcel import Envelope, Outcome
from relay.store.startup import open_store
from tools import bench

if TYPE_CHECKING:
    from relay.pipeline.workers import BigMessages

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = bench.DOMAIN
BUYER, SELLER = bench.BUYER, bench.SELLER


def config(work: Path, workers: int = 0) -> Config:
    """The defaults (every rule on, DKIM signing), a store and keys in `work`."""
    return Config(
        domain=DOMAIN,
        smtp=SMTPSettings(workers=workers),
        store=StoreSettings(path=work / "relay.db"),
        dkim=DKIMSettings(key=work / "dkim.pem"),
        delivery=DeliverySettings(maildir=work / "maildir", bounce_key=work / "bounce.key"),
        limits=LimitsSettings(sender_per_hour=10_000_000, conversation_per_hour=10_000_000),
    )


class Relay:
    """An intake on a temporary store, with conversations opened as needed."""

    def __init__(self, work: Path, key: Path | None = None, workers: int = 0) -> None:
        self.work = work
        self.key = key
        self.workers = workers
        self.convs: dict[str, conversations.Conversation] = {}

    async def __aenter__(self) -> Relay:
        cfg = config(self.work, self.workers)
        if self.key is not None:
            cfg.dkim.key.write_bytes(self.key.read_bytes())
        else:
            generate(cfg.dkim.key)
        self.store = await open_store(cfg.store)
        self.intake = Intake.for_config(cfg, self.store, on_queued=lambda: None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.intake.close()
        await self.store.close()

    async def conversation(self, buyer: str = BUYER) -> conversations.Conversation:
        if buyer not in self.convs:
            order = f"112-{len(self.convs):07d}-1234567"
            self.convs[buyer], _ = await conversations.open_conversation(
                self.store, DOMAIN, order, buyer, [SELLER])
        return self.convs[buyer]

    @staticmethod
    def envelope(sender: str, alias: str) -> Envelope:
        return Envelope(peer="127.0.0.1", helo="client.example", mail_from=sender,
                        rcpt_to=(alias,), smtputf8=False)


def bench_message(kind: bench.Kind, i: int, alias: str, sender: str = BUYER) -> bytes:
    """A message of the bench as the relay has it after DATA (dot-stuffing undone)."""
    return kind.header("profile", i, sender, alias) + re.sub(rb"(?m)^\.\.", b".", kind.content)


def kinds() -> dict[str, bench.Kind]:
    return {"2k": bench.plain_kind("2k", "2 KB plain", 2048), "20k": bench.html_kind(20480),
            "1m": bench.pdf_kind(1 << 20)}


# ---------------------------------------------------------------- CPU per stage


class Tally:
    def __init__(self) -> None:
        self.messages = 0
        self.stages: dict[str, float] = defaultdict(float)  # CPU seconds, all messages
        self.thread = 0.0  # the whole call, this thread
        self.process = 0.0  # the whole call, every thread of the process
        self.replies: dict[str, int] = defaultdict(int)

    def add(self, outcome: Outcome, thread: float, process: float) -> None:
        self.messages += 1
        self.thread += thread
        self.process += process
        self.replies[outcome.reply[:9]] += 1
        if outcome.parcel is not None:
            for stage, _, cpu in outcome.parcel.timings:
                self.stages[stage] += cpu

    def ms(self, seconds: float) -> float:
        return seconds / max(1, self.messages) * 1000


async def run_kind(relay: Relay, kind: bench.Kind, count: int, warmup: int, record: bool,
                   profiler: cProfile.Profile | None) -> Tally:
    conv = await relay.conversation()
    envelope = relay.envelope(BUYER, conv.seller_alias)
    messages = [bench_message(kind, i, conv.seller_alias) for i in range(warmup + count)]
    call = relay.intake.receive_outcome if record else relay.intake.process
    tally = Tally()
    for i, raw in enumerate(messages):
        measured = i >= warmup
        if measured and profiler is not None:
            profiler.enable()
        thread, process = time.thread_time(), time.process_time()
        outcome = await call(envelope, raw)
        thread, process = time.thread_time() - thread, time.process_time() - process
        if measured and profiler is not None:
            profiler.disable()
        if measured:
            tally.add(outcome, thread, process)
    return tally


def print_table(rounds: dict[str, list[Tally]], record: bool) -> None:
    """ms per message, each figure the lowest of the rounds (the machine's noise only adds)."""
    print(f"{'ms CPU per message':<22}" + "".join(f"{n:>12}" for n in rounds))
    stages: list[str] = []
    for tallies in rounds.values():
        stages += [s for s in tallies[0].stages if s not in stages]

    def row(label: str, value: Any) -> None:
        print(label + "".join(f"{min(value(t) for t in tallies):>12.3f}"
                              for tallies in rounds.values()))

    for stage in stages:
        row(f"  {stage:<20}", lambda t, stage=stage: t.ms(t.stages.get(stage, 0.0)))
    call = "receive_outcome" if record else "process"
    row(f"{'stages in all':<22}", lambda t: t.ms(sum(t.stages.values())))
    row(f"{call + '(), thread':<22}", lambda t: t.ms(t.thread))
    row(f"{call + '(), process':<22}", lambda t: t.ms(t.process))
    print(f"{'messages':<22}" + "".join(f"{len(ts)} x {ts[0].messages}".rjust(12)
                                        for ts in rounds.values()))
    print("replies: " + "; ".join(
        f"{n}: " + ", ".join(f"{r} x{c}" for r, c in ts[0].replies.items())
        for n, ts in rounds.items()))
    print("(each figure the lowest of the rounds; stages: the CPU time of each one's own code,"
          " relay_stage_cpu_seconds; thread: the whole call on this thread, the store's thread"
          " not counted; process: every thread)")


async def profile(args: argparse.Namespace) -> None:
    chosen = {k: v for k, v in kinds().items() if k in args.kinds}
    with tempfile.TemporaryDirectory() as tmp:
        async with Relay(Path(tmp)) as relay:
            tallies: dict[str, list[Tally]] = {}
            profilers: dict[str, cProfile.Profile] = {}
            for key, kind in chosen.items():
                count = args.n if key != "1m" else max(1, args.n // 20)
                profiler = cProfile.Profile() if args.profile else None
                tallies[kind.label] = [
                    await run_kind(relay, kind, count, args.warmup if r == 0 else 0,
                                   args.record, profiler) for r in range(args.rounds)]
                if profiler is not None:
                    profilers[kind.label] = profiler
    sizes = ", ".join(f"{k.label} ({k.size} bytes)" for k in chosen.values())
    slower = "; cProfile on (slower)" if args.profile else ""
    print(f"pipeline_profile: {sizes}; Python {sys.version.split()[0]}{slower}")
    print_table(tallies, args.record)
    for label, profiler in profilers.items():
        print(f"\ncProfile, {label}: top {args.profile} by {args.sort}")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(args.sort).print_stats(args.profile)


# ---------------------------------------------------------------- --workers: the hand-over


def worker_cpu(big: BigMessages) -> float:
    """CPU seconds of the worker processes so far (their every thread), from /proc."""
    pids = [p.pid for pool in (big._pool, big._huge) if pool is not None
            for p in pool._processes.values()]  # type: ignore[attr-defined]
    return sum(s[2] for pid in pids if (s := bench._stat(pid)) is not None) / bench.CLK_TCK


async def workers_ready(big: BigMessages, relay: Relay, envelope: Envelope, raw: bytes) -> float:
    """Messages until all the workers run, then until they are idle (their CPU time still for
    a second): their start-up is over. Returns their CPU time so far."""
    deadline = time.monotonic() + 300
    while True:
        await asyncio.gather(*(big.process(envelope, raw, "message")
                               for _ in range(2 * big.processes)))
        pool = big._pool
        if pool is not None and len(pool._processes) >= big.processes:  # type: ignore[attr-defined]
            break
        if time.monotonic() > deadline:
            raise SystemExit("the worker processes did not start")
    before = worker_cpu(big)
    while True:
        await asyncio.sleep(1)
        now = worker_cpu(big)
        if now == before:
            return now
        if time.monotonic() > deadline:
            raise SystemExit("the worker processes did not settle")
        before = now


async def hand_over(args: argparse.Namespace) -> None:
    from relay.pipeline.workers import BigMessages

    chosen = {k: v for k, v in kinds().items() if k in args.kinds}
    rows: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        async with Relay(Path(tmp), workers=args.workers) as relay:
            conv = await relay.conversation()
            envelope = relay.envelope(BUYER, conv.seller_alias)
            big = BigMessages(relay.intake.config)
            started = time.process_time()
            big.start()  # as the relay does
            start_up = await workers_ready(
                big, relay, envelope, bench_message(next(iter(chosen.values())), 0,
                                                    conv.seller_alias))
            parent_start = time.process_time() - started
            gate = asyncio.Semaphore(args.concurrency)
            try:
                for key, kind in chosen.items():
                    count = args.n if key != "1m" else max(1, args.n // 20)
                    messages = [bench_message(kind, i, conv.seller_alias) for i in range(count)]
                    for _ in range(args.rounds):
                        stages = 0.0

                        async def one(raw: bytes) -> None:
                            nonlocal stages
                            async with gate:
                                outcome = await big.process(envelope, raw, "message")
                            assert outcome.parcel is not None and outcome.queue, outcome.reply
                            stages += sum(cpu for _, _, cpu in outcome.parcel.timings)

                        workers0, parent0 = worker_cpu(big), time.process_time()
                        await asyncio.gather(*(one(raw) for raw in messages))
                        parent = time.process_time() - parent0
                        workers = worker_cpu(big) - workers0
                        inproc0 = time.process_time()
                        for raw in messages:
                            await relay.intake.process(envelope, raw)
                        inproc = time.process_time() - inproc0
                        rows.setdefault(kind.label, []).append({
                            "stages": stages / count, "parent": parent / count,
                            "workers": workers / count, "both": (parent + workers) / count,
                            "in-process": inproc / count,
                            "hand-over": (parent + workers - inproc) / count})
            finally:
                await big.stop(10)
    print(f"pipeline_profile --workers {args.workers}: --concurrency {args.concurrency}, Python"
          f" {sys.version.split()[0]}; start-up: {start_up:.2f} s CPU in the workers,"
          f" {parent_start:.2f} s here (with the first messages), not counted below")
    print(f"{'ms CPU per message':<30}" + "".join(f"{n:>12}" for n in rows))
    labels = {"stages": "stages in all (in a worker)", "parent": "this process",
              "workers": "the worker processes", "both": "both",
              "in-process": "the same, in this process", "hand-over": "hand-over (both - same)"}
    for field_, label in labels.items():
        print(f"  {label:<28}" + "".join(f"{min(r[field_] for r in rs) * 1000:>12.3f}"
                                         for rs in rows.values()))
    print(f"{'messages':<30}" + "".join(f"{len(rs)} x {args.n}".rjust(12) for rs in rows.values()))
    print("(each figure the lowest of the rounds; workers' CPU from /proc, 10 ms ticks)")


# ---------------------------------------------------------------- --dump


FIXED_TIME = 1_795_000_000.0  # 2026-11-18: the clock every dumped message sees


class _FixedDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> _FixedDatetime:  # type: ignore[override]
        return cls.fromtimestamp(FIXED_TIME, tz or UTC)


class _Tokens:
    """new_token stand-in: the k-th token of a case is the same in every run."""

    def __init__(self) -> None:
        self.case = "setup"
        self.count = 0

    def start(self, case: str) -> None:
        self.case, self.count = case, 0

    def __call__(self, nbytes: int) -> str:
        self.count += 1
        digest = hashlib.sha256(f"{self.case}/{self.count}".encode()).digest()[:nbytes]
        return base64.b32encode(digest).decode("ascii").rstrip("=").lower()  # as new_token


def fix_the_clock_and_tokens() -> _Tokens:
    """Time, tokens and boundaries as the same inputs in every run (a tool's patch: the relay
    itself reads the real clock and real randomness)."""
    from relay.delivery import dkim_sign
    from relay.stages import headers, mime, thread_map

    tokens = _Tokens()
    conversations.new_token = tokens  # type: ignore[assignment]
    thread_map.new_token = tokens  # type: ignore[assignment]
    dkim_sign.time = SimpleNamespace(time=lambda: FIXED_TIME)  # type: ignore[assignment]
    zipfile.time = SimpleNamespace(  # type: ignore[attr-defined]
        time=lambda: FIXED_TIME, localtime=time.localtime)  # Office files written anew
    mime.datetime = _FixedDatetime  # type: ignore[misc]
    headers.datetime = _FixedDatetime  # type: ignore[misc]
    return tokens


def cpython_corpus() -> Iterator[tuple[str, bytes]]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for base in (Path(sysconfig.get_paths()["stdlib"]), Path("/usr/lib") / version):
        data = base / "test" / "test_email" / "data"
        if data.is_dir():
            for path in sorted(data.iterdir()):
                if path.suffix.lower() in (".txt", ".eml", ".msg", ".mbox"):
                    yield f"cpython/{path.name}", path.read_bytes()
            return


def single_from(raw: bytes) -> str | None:
    try:
        head = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
        found = [a for _, a in getaddresses([str(v) for v in head.get_all("From", [])])]
    except Exception:
        return None
    return found[0] if len(found) == 1 and "@" in found[0] else None


def html_fixture(path: Path, alias: str) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = BUYER, alias, f"Order {bench.ORDER}"
    msg["Message-ID"] = f"<{path.stem}@buyer-mail.example>"
    msg.set_content("See the HTML part.\n")
    msg.add_alternative(path.read_text(encoding="utf-8"), subtype="html")
    return msg.as_bytes()


def with_message_id(data: bytes, case: str) -> bytes:
    """The policy report's messages carry a Message-ID from the clock: made fixed."""
    return re.sub(rb"(?m)^Message-ID: <[^>]*>", f"Message-ID: <{case}@example>".encode(),
                  data, count=1)


async def dump_cases(relay: Relay) -> Iterator[tuple[str, Envelope, bytes]]:
    from tools import policy_report

    cases: list[tuple[str, Envelope, bytes]] = []
    conv = await relay.conversation()
    for key, kind in kinds().items():
        cases.append((f"bench/{key}", relay.envelope(BUYER, conv.seller_alias),
                      bench_message(kind, 0, conv.seller_alias)))
    data = ROOT / "tests" / "data"
    for path in sorted(data.glob("*.eml")):
        raw = path.read_bytes()
        seller = raw.startswith(b"From: sally@")
        alias = conv.buyer_alias if seller else conv.seller_alias
        sender = SELLER if seller else "Bob.Buyer@buyer-mail.example"
        cases.append((f"data/{path.name}", relay.envelope(sender, alias),
                      raw.replace(b"%ALIAS%", alias.encode())))
    for path in sorted((data / "html").glob("*.html")):
        random.seed(path.name)
        cases.append((f"html/{path.name}", relay.envelope(BUYER, conv.seller_alias),
                      html_fixture(path, conv.seller_alias)))
    for name, raw in cpython_corpus():
        author = single_from(raw)
        try:
            other = await relay.conversation(author) if author else conv
        except Exception:  # e.g. a special-use domain: the relay refuses it as unregistered
            other = conv
        cases.append((name, relay.envelope(other.buyers[0], other.seller_alias), raw))
    for case_set in policy_report.in_sample_sets():
        everything = [*case_set.contacts, *case_set.benign]
        for i, case in enumerate(everything):
            direction = case.get("direction") or ("buyer_to_seller" if i % 2 else
                                                  "seller_to_buyer")
            sender, alias = ((SELLER, conv.buyer_alias) if direction == "seller_to_buyer"
                             else (BUYER, conv.seller_alias))
            random.seed(case["id"])
            raw = policy_report._message(sender, alias, case).as_bytes()
            cases.append((f"policy/{case['id']}", relay.envelope(sender, alias),
                          with_message_id(raw, case["id"])))
        for case in case_set.content:
            sender, alias = ((SELLER, conv.buyer_alias) if case["direction"] == "seller_to_buyer"
                             else (BUYER, conv.seller_alias))
            headers = dict(case.get("headers") or {})
            raw = policy_report.compose(sender, alias, case["subject"], case["text"],
                                        headers=headers)
            cases.append((f"policy/{case['id']}", relay.envelope(sender, alias),
                          with_message_id(raw, case["id"])))
    return iter(cases)


def case_key(envelope: Envelope, raw: bytes) -> str:
    """What names a dumped case in a worker process, which is handed only the message."""
    return hashlib.sha256(repr(envelope).encode() + raw).hexdigest()


def _dump_worker_start(config: Config, names: dict[str, str]) -> None:
    """A worker process of --dump --workers: the relay's own start (workers._start), with the
    clock, tokens and boundaries fixed as in this process, each case's by its name."""
    from relay.pipeline import workers

    tokens = fix_the_clock_and_tokens()
    workers._start(config)
    assert workers._state is not None
    intake = workers._state[1]
    process = intake.process

    async def named(envelope: Envelope, raw: bytes, kind: str = "message") -> Outcome:
        name = names[case_key(envelope, raw)]
        tokens.start(name)
        random.seed(name)
        return await process(envelope, raw, kind)

    intake.process = named  # type: ignore[method-assign]


async def dump(args: argparse.Namespace) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from relay.pipeline.workers import BigMessages

    tokens = fix_the_clock_and_tokens()
    with tempfile.TemporaryDirectory() as tmp:
        key = args.key
        if not key.exists():
            generate(key)
        async with Relay(Path(tmp), key, workers=args.workers) as relay:
            count = 0
            started = time.process_time()
            cases = list(await dump_cases(relay))
            big = None
            if args.workers:
                names = {case_key(e, r): n for n, e, r in cases}
                if len(names) < len(cases):
                    raise SystemExit("two cases with the same envelope and bytes")
                big = BigMessages(relay.intake.config)
                big._pool = ProcessPoolExecutor(
                    args.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_dump_worker_start, initargs=(relay.intake.config, names))
            try:
                with args.dump.open("w", encoding="utf-8") as out:
                    for name, envelope, raw in cases:
                        tokens.start(name)
                        random.seed(name)
                        if big is not None:
                            outcome = await big.process(envelope, raw, "message")
                        else:
                            outcome = await relay.intake.process(envelope, raw)
                        parcel = outcome.parcel
                        delivered = parcel.delivered if parcel and outcome.queue else None
                        row: dict[str, Any] = {
                            "case": name, "reply": outcome.reply,
                            "disposition": str(outcome.disposition),
                            "reasons": outcome.reasons,
                            "sha256": hashlib.sha256(delivered).hexdigest() if delivered
                            else None,
                        }
                        if delivered is not None and len(delivered) <= 65_536:
                            row["delivered"] = delivered.decode("utf-8", "surrogateescape")
                        out.write(json.dumps(row, ensure_ascii=True) + "\n")
                        count += 1
            finally:
                if big is not None:
                    await big.stop(10)
    where = f"through {args.workers} worker processes" if args.workers else "in this process"
    print(f"{count} messages dumped to {args.dump} {where}"
          f" ({time.process_time() - started:.1f} s CPU; DKIM key {key})")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tools.pipeline_profile",
                                description=__doc__.splitlines()[0])
    p.add_argument("--kinds", default="2k,20k", help="of 2k, 20k, 1m (default 2k,20k)")
    p.add_argument("-n", type=int, default=300, help="messages per kind (1m: n/20)")
    p.add_argument("--warmup", type=int, default=20, help="messages first, not counted")
    p.add_argument("--rounds", type=int, default=3,
                   help="rounds of n messages; each figure is the lowest round's (3)")
    p.add_argument("--record", action="store_true", help="record each message too")
    p.add_argument("--profile", type=int, metavar="N", help="cProfile's top N functions")
    p.add_argument("--sort", default="tottime", help="cProfile order (tottime, cumulative)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="through N worker processes: the hand-over's cost (see above)")
    p.add_argument("--concurrency", type=int, default=20,
                   help="--workers: messages in flight at once (20, the bench's sessions)")
    p.add_argument("--dump", type=Path, help="write every fixed message's outcome here")
    p.add_argument("--key", type=Path, default=Path(tempfile.gettempdir()) / "profile-dkim.pem",
                   help="the DKIM key of --dump (made when missing; the same one for two dumps"
                   " to compare)")
    args = p.parse_args(argv)
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if args.dump is not None:
        if os.environ.get("PYTHONHASHSEED") != "0":  # set iteration order the same every run
            os.execve(sys.executable, [sys.executable, "-m", "tools.pipeline_profile",
                                       *(sys.argv[1:] if argv is None else argv)],
                      {**os.environ, "PYTHONHASHSEED": "0"})
        asyncio.run(dump(args))
    elif args.workers:
        asyncio.run(hand_over(args))
    else:
        asyncio.run(profile(args))


if __name__ == "__main__":
    main()
