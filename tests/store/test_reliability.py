"""Reliability: kill -9 under load, a downstream outage and its backoff, and every kind of
answer a downstream server gives (README "Delivery", DESIGN §3: retries with backoff, a DSN
when the relay gives up, 250 only for what is on disk, at least once)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from conftest import (
    BUYER,
    SELLER,
    Received,
    compose,
    free_port,
    make_config,
    open_conv,
    run_cli,
    send,
    serve_config,
)
from support.record import query, queue_id, wait_event
from support.relay_process import serving

from relay.store import outbox

TOKEN = re.compile(rb"load-\d{6}")


# -- a downstream server with a script ----------------------------------------------------


@dataclass
class Sink:
    """The real inbox, in a thread of its own (aiosmtpd Controller). It takes in every
    message and answers 250, except where `script` says otherwise: per stage (CONNECT, MAIL,
    RCPT, DATA) a list of answers used up one per connection/transaction; at DATA, "drop"
    closes the connection after the message arrived without answering, "hang" never
    answers."""

    messages: list[Received] = field(default_factory=list)  # every message that arrived
    script: dict[str, list[str]] = field(default_factory=dict)
    answered: list[tuple[str, str]] = field(default_factory=list)  # scripted answers given
    lock: threading.Lock = field(default_factory=threading.Lock)

    def scripted(self, stage: str) -> str | None:
        with self.lock:
            queue = self.script.get(stage)
            if not queue:
                return None
            reply = queue.pop(0)
            self.answered.append((stage, reply))
            return reply

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        reply = self.scripted("MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        reply = self.scripted("RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        got = Received(str(envelope.mail_from), list(envelope.rcpt_tos),
                       bytes(envelope.original_content or b""), bool(envelope.smtp_utf8))
        reply = self.scripted("DATA")
        if reply and reply[0] in "45":
            return reply
        with self.lock:
            self.messages.append(got)
        if reply == "drop":
            assert server.transport is not None
            server.transport.abort()  # gone before the reply; connection_lost cancels us
        if reply in ("drop", "hang"):
            await asyncio.sleep(60)
        return "250 2.0.0 OK captured"


class SinkSMTP(SMTP):
    async def _handle_client(self) -> None:
        greeting = self.event_handler.scripted("CONNECT")
        if greeting:  # e.g. 421 at the greeting: say it, then hang up
            await self.push(greeting)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class SinkController(Controller):
    def factory(self) -> SMTP:
        return SinkSMTP(self.handler, **self.SMTP_kwargs)


@contextlib.contextmanager
def running(sink: Sink, port: int):
    controller = SinkController(sink, hostname="127.0.0.1", port=port, ready_timeout=20,
                                server_hostname="inbox.test", decode_data=False)
    controller.start()  # its self-test connection comes before any script is set
    try:
        yield controller
    finally:
        controller.stop()


def subject(message: Received) -> str:
    return str(message.message["Subject"])


# -- record helpers -----------------------------------------------------------------------


async def trail(relay, message_id: str) -> list[tuple[str, datetime, str]]:
    async with relay.store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT kind, at, detail FROM message_events WHERE message_id = ? ORDER BY seq",
            (message_id,))
    return [(r[0], datetime.fromisoformat(r[1]), r[2]) for r in rows]


async def outbox_size(relay) -> int:
    """Messages in the outbox: a delivery event and the job's removal are one transaction,
    so with none there no attempt can follow."""
    async with relay.store.read() as db:
        return (await outbox.depth(db))[0]


async def kinds(relay, message_id: str) -> list[str]:
    return [k for k, _, _ in await trail(relay, message_id)]


async def accepted(relay, sender: str, alias: str, subj: str, body: str) -> str:
    code, reply = await send(relay.smtp_port, sender, alias,
                             compose(sender, alias, subject=subj, body=body))
    assert code == 250, reply
    return queue_id(reply)


# -- 1. kill -9 under load ----------------------------------------------------------------

SEED = 20261127
KILLS = 3
CLIENTS = 4


def write_config(tmp_path: Path, smtp_port: int, sink_port: int) -> Path:
    return serve_config(tmp_path, smtp_port, sink_port, limits={
        "sender_per_hour": 1000000, "conversation_per_hour": 1000000})


@dataclass
class Outcome:
    kind: str  # accepted, refused (a 4xx/5xx at DATA), lost (no DATA reply), not_sent
    code: int | None = None
    text: str = ""


async def submit(port: int, sender: str, alias: str, data: bytes) -> Outcome:
    """One transaction on a fresh connection; what the client could tell of its fate."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=10, start_tls=False)
    stage = "connect"
    try:
        await client.connect()
        stage = "mail"
        await client.ehlo(hostname="client.example")
        await client.mail(sender)
        await client.rcpt(alias)
        stage = "data"
        reply = await client.data(data)
        return Outcome("accepted", reply.code, reply.message)
    except aiosmtplib.SMTPResponseException as exc:
        return Outcome("refused" if stage == "data" else "not_sent", exc.code, exc.message)
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        return Outcome("lost" if stage == "data" else "not_sent", None, repr(exc))
    finally:
        client.close()


async def open_cli(config: Path, order: str) -> dict:
    opened = await asyncio.to_thread(
        run_cli, "--config", str(config), "conversations", "open", "--order", order,
        "--buyer", BUYER, "--seller", SELLER, "--json")
    assert opened.returncode == 0, opened.stderr
    return json.loads(opened.stdout)


@pytest.mark.slow
async def test_kill_9_under_load_loses_no_accepted_message(tmp_path):
    rng = random.Random(SEED)
    store = tmp_path / "relay.db"
    port = free_port()
    sink = Sink()
    with running(sink, free_port()) as controller:
        config = write_config(tmp_path, port, controller.port)
        convs = [await open_cli(config, order) for order in
                 ("112-1000001-1000001", "112-2000002-2000002")]
        streams = [(BUYER, c["seller_alias"]) for c in convs] + [
            (SELLER, c["buyer_alias"]) for c in convs]
        outcomes: dict[str, Outcome] = {}
        numbers = itertools.count(1)
        done = asyncio.Event()

        promotions: set[str] = set()  # every 5th seller message: refused by the rules

        async def client(n: int) -> None:
            while not done.is_set():
                number = next(numbers)
                token = f"load-{number:06d}"
                sender, alias = streams[(n + number) % len(streams)]
                if sender == SELLER and number % 5 == 0:
                    promotions.add(token)
                    body = (f"Hello, use the coupon code SAVE20 for 20% off your next order,"
                            f" {token}.\n")
                else:
                    body = ("Hello, when will my order ship? Reference " if sender == BUYER
                            else "Hello, which colour would you prefer for ") + token + "?\n"
                data = compose(sender, alias, subject=f"Order question {token}", body=body,
                               message_id=f"<{token}.{n}@{sender.split('@')[1]}>")
                outcome = await submit(port, sender, alias, data)
                outcomes[token] = outcome
                if outcome.kind in ("not_sent", "lost"):
                    await asyncio.sleep(0.05)  # the relay is down or restarting

        def count(kind: str) -> int:
            return sum(o.kind == kind for o in outcomes.values())

        clients: list[asyncio.Task] = []
        per_epoch: list[int] = []
        async with serving(config) as relay:
            try:
                clients = [asyncio.create_task(client(n)) for n in range(CLIENTS)]
                for _ in range(KILLS):
                    before = count("accepted")
                    await asyncio.sleep(rng.uniform(1.0, 2.0))
                    # SIGKILL, at a random moment of sending and delivering
                    assert await relay.kill() == -9
                    per_epoch.append(count("accepted") - before)
                    relay.start()
                    await relay.wait_listening(timeout=30)
                before = count("accepted")
                await asyncio.sleep(1.0)
                done.set()
                await asyncio.gather(*clients)
                per_epoch.append(count("accepted") - before)

                # Let the queue drain: every 250 reaches the inbox, the outbox empties.
                wanted = {t for t, o in outcomes.items() if o.kind == "accepted"}
                deadline = time.monotonic() + 30
                while True:
                    arrived = {m.group(0).decode() for r in sink.snapshot()
                               if (m := TOKEN.search(r.data))}
                    queued = query(store, "SELECT COUNT(*) FROM outbox")[0][0]
                    if wanted <= arrived and queued == 0:
                        break
                    assert time.monotonic() < deadline, (
                        f"{len(wanted - arrived)} accepted messages never arrived, {queued}"
                        f" queued: {sorted(wanted - arrived)[:10]}\n{relay.log()[-3000:]}")
                    await asyncio.sleep(0.1)
                # After three crashes, a graceful stop still works.
                assert await relay.terminate() == 0, relay.log()[-3000:]
            finally:
                done.set()
                for task in clients:
                    task.cancel()
                await asyncio.gather(*clients, return_exceptions=True)
        received = sink.snapshot()

    # Traffic went on in every epoch: the kills landed under load.
    assert all(n > 0 for n in per_epoch), per_epoch
    accepted_ok = {t: o for t, o in outcomes.items() if o.kind == "accepted"}
    refused = {t: o for t, o in outcomes.items() if o.kind == "refused"}
    lost = {t for t, o in outcomes.items() if o.kind == "lost"}
    assert all(o.code == 250 for o in accepted_ok.values())
    assert len(accepted_ok) >= 40, Counter(o.kind for o in outcomes.values())

    copies = Counter(m.group(0).decode() for r in received if (m := TOKEN.search(r.data)))
    assert all(TOKEN.search(r.data) for r in received), "a message without its token"
    # Every 250 arrived (at least once); no explicit refusal did.
    assert set(accepted_ok) <= set(copies)
    assert not set(refused) & set(copies), {t: refused[t] for t in set(refused) & set(copies)}
    assert set(copies) <= set(accepted_ok) | lost  # nothing came from nowhere

    # The record: each message once, each 250 with its id, everything queued delivered.
    rows = query(store, "SELECT id, raw, disposition, relay_message_id FROM messages")
    assert len(rows) == len({r[0] for r in rows})
    recorded = Counter(TOKEN.search(r[1]).group(0).decode() for r in rows)
    assert max(recorded.values()) == 1, [t for t, n in recorded.items() if n > 1]
    by_token = {TOKEN.search(r[1]).group(0).decode(): r for r in rows}
    events: dict[str, list[str]] = {}
    for mid, kind in query(store, "SELECT message_id, kind FROM message_events ORDER BY seq"):
        events.setdefault(mid, []).append(kind)
    for token, outcome in accepted_ok.items():
        mid, _, disposition, _ = by_token[token]
        assert outcome.text.endswith(f"queued as {mid}"), (token, outcome.text, mid)
        assert disposition == "delivered", (token, disposition)
    for mid, trail_ in events.items():
        assert trail_[0] == "queued" and trail_[-1] == "delivered", (mid, trail_)
        assert set(trail_[1:-1]) <= {"deferred"}, (mid, trail_)  # nothing failed or bounced
    assert {r[0] for r in rows if r[2] != "rejected"} == set(events)  # accepted = queued
    by_relay_mid = {r[3]: r[0] for r in rows if r[3]}
    for message in received:
        mid = by_relay_mid[message.message["Message-ID"]]
        assert "delivered" in events[mid], mid
    # Explicit refusals: no promotion got a 250, every 5xx is a promotion's 550 and on the
    # record (a refusal is recorded before the 5xx goes out); none was queued.
    assert not promotions & set(accepted_ok)
    assert refused, "no explicit refusal happened under load"
    for token, outcome in refused.items():
        assert outcome.code is not None and outcome.code >= 400, (token, outcome)
        if outcome.code >= 500:
            assert token in promotions and outcome.code == 550, (token, outcome)
            mid, _, disposition, _ = by_token[token]
            assert disposition == "rejected", (token, disposition)
            assert "content.promotion" in json.loads(query(
                store, "SELECT reasons FROM messages WHERE id = ?", (mid,))[0][0])
        if token in by_token:
            assert by_token[token][0] not in events, (token, outcome)
    assert query(store, "SELECT COUNT(*) FROM outbox")[0][0] == 0

    done_audit = await asyncio.to_thread(run_cli, "--config", str(config), "audit", "verify")
    assert done_audit.returncode == 0, done_audit.stdout + done_audit.stderr
    assert done_audit.stdout.startswith(f"ok: {len(rows)} records"), done_audit.stdout

    duplicates = sum(n - 1 for n in copies.values())
    lost_arrived = len(lost & set(copies))
    print(f"\nkill -9 x{KILLS} (seed {SEED}): {len(outcomes)} sent, {len(accepted_ok)} got 250,"
          f" {len(refused)} refused, {len(lost)} lost their reply ({lost_arrived} of those"
          f" delivered anyway), {len(rows)} recorded, {duplicates} duplicate deliveries;"
          f" accepted per epoch {per_epoch}")


# -- 2. downstream outage: backoff as configured, then everything arrives ------------------

BACKOFF = {"retry_initial": 0.3, "retry_factor": 2.0, "retry_max": 1.2, "poll_interval": 0.1}
EARLY = 0.1  # the deferral is timed a little after its retry was scheduled


def expected_gap(attempt: int) -> float:
    """The delay after the `attempt`-th failed attempt (README "Delivery")."""
    return min(BACKOFF["retry_max"],
               BACKOFF["retry_initial"] * BACKOFF["retry_factor"] ** (attempt - 1))


@pytest.mark.slow
async def test_downstream_outage_backs_off_as_configured_then_delivers(relay_factory,
                                                                       tmp_path):
    port = free_port()  # the inbox is down: nothing listens here
    relay = await relay_factory(make_config(tmp_path, port, **BACKOFF))
    conv = await open_conv(relay)
    ids = [
        await accepted(relay, BUYER, conv.seller_alias, f"outage {n}",
                       "Hello, when will my order ship?\n") if n % 2 == 0 else
        await accepted(relay, SELLER, conv.buyer_alias, f"outage {n}",
                       "Hello, which size would you like?\n")
        for n in range(4)
    ]
    # Five attempts each fail (0.3 + 0.6 + 1.2 + 1.2 s of backoff between them).
    deadline = time.monotonic() + 20
    while min([(await kinds(relay, mid)).count("deferred") for mid in ids]) < 5:
        assert time.monotonic() < deadline, [await kinds(relay, mid) for mid in ids]
        await asyncio.sleep(0.05)
    for mid in ids:
        assert "delivered" not in await kinds(relay, mid)
    # The schedule the relay wrote with its last deferral: attempt n, due when.
    jobs = {job.message_id: job for job in await outbox.due(relay.store, math.inf, 10, ())}
    scheduled = {mid: (jobs[mid].attempts, jobs[mid].next_attempt_at) for mid in ids}

    sink = Sink()
    with running(sink, port):
        up = datetime.now().astimezone()
        for mid in ids:
            await wait_event(relay, mid, "delivered")
        got = sink.snapshot()
    # Connection refused is no doubt about delivery: exactly one copy each.
    assert sorted(subject(m) for m in got) == [f"outage {n}" for n in range(4)]
    assert sorted(m.rcpt_tos[0] for m in got) == sorted([SELLER, BUYER] * 2)

    for mid in ids:
        found = await trail(relay, mid)
        assert (found[0][0], found[-1][0]) == ("queued", "delivered")
        deferred = [(at, detail) for k, at, detail in found if k == "deferred"]
        assert all(detail for _, detail in deferred)  # the reason is on the record
        gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(deferred)]
        for attempt, gap in enumerate(gaps, start=1):  # no retry before its backoff...
            assert gap >= expected_gap(attempt) - EARLY, (mid, attempt, gaps)
        # ...and each is scheduled no later than it (in the record, not measured): the
        # deferral is written a moment after the relay took the time it adds the backoff to.
        attempts, due = scheduled[mid]
        deferred_at = deferred[attempts - 1][0].timestamp()
        assert 0 < due - deferred_at <= expected_gap(attempts) + 0.001, (mid, attempts, due)
        print(f"\n{mid}: gaps between attempts {[round(g, 2) for g in gaps]} s; delivered"
              f" {(found[-1][1] - up).total_seconds():.2f} s after the inbox came back")
    assert await outbox_size(relay) == 0


# -- 3. what a downstream server can answer ------------------------------------------------
# Covered in test_delivery.py already: 4xx at DATA (retried, delivered), 550 at RCPT (DSN),
# connection refused (retried). Here: the rest.

QUESTION = "Hello, when will my order ship?\n"


@pytest.mark.parametrize(("stage", "reply"), [
    ("CONNECT", "421 4.3.2 Service not available, closing transmission channel"),
    ("MAIL", "451 4.3.0 Temporary local problem, try later"),
    ("RCPT", "450 4.2.1 Mailbox busy, try again later"),
])
async def test_temporary_refusal_is_retried_then_delivered(backend, relay_factory, tmp_path,
                                                           stage, reply):
    sink = Sink()
    with running(sink, free_port()) as controller:
        relay = await relay_factory(make_config(tmp_path, controller.port)
                                    .replace(store=backend))
        conv = await open_conv(relay)
        sink.script[stage] = [reply]
        mid = await accepted(relay, BUYER, conv.seller_alias, f"temporary {stage}", QUESTION)
        await wait_event(relay, mid, "delivered")
        assert await outbox_size(relay) == 0  # nothing more can happen after it
        found = await trail(relay, mid)
        got = sink.snapshot()
    assert sink.answered == [(stage, reply)]
    assert [k for k, _, _ in found] == ["queued", "deferred", "delivered"]
    (_, deferred_at, detail), (_, delivered_at, _) = found[1:]
    assert detail.startswith(reply[:9]), detail
    # Not tried again at once: after retry_initial (0.2 s in make_config).
    assert (delivered_at - deferred_at).total_seconds() >= 0.2 - EARLY
    assert [subject(m) for m in got] == [f"temporary {stage}"]  # once; no DSN to anyone
    assert got[0].rcpt_tos == [SELLER]


@pytest.mark.parametrize("failure", ["drop", "hang"])
async def test_lost_data_reply_is_retried_at_least_once(backend, relay_factory, tmp_path,
                                                        failure):
    """The message arrived but its DATA reply did not (connection dropped, or no answer
    within smtp_timeout): the relay cannot know, so it tries again. Two copies arrive."""
    sink = Sink()
    with running(sink, free_port()) as controller:
        relay = await relay_factory(make_config(tmp_path, controller.port, smtp_timeout=1.0)
                                    .replace(store=backend))
        conv = await open_conv(relay)
        sink.script["DATA"] = [failure]
        mid = await accepted(relay, BUYER, conv.seller_alias, f"lost reply {failure}",
                             QUESTION)
        await wait_event(relay, mid, "delivered")
        assert await outbox_size(relay) == 0
        found = await trail(relay, mid)
        got = sink.snapshot()
    assert [k for k, _, _ in found] == ["queued", "deferred", "delivered"]
    detail = found[1][2]
    assert ("Disconnected" if failure == "drop" else "Timeout") in detail, detail
    assert [subject(m) for m in got] == [f"lost reply {failure}"] * 2
    assert got[0].message["Message-ID"] == got[1].message["Message-ID"]  # the same message
    assert got[0].data == got[1].data


@pytest.mark.parametrize(("stage", "reply", "status"), [
    ("CONNECT", "554 5.3.2 No SMTP service here", "5.3.2"),
    ("MAIL", "550 5.7.1 Sender address rejected: policy", "5.7.1"),
    ("DATA", "554 5.6.0 Message for sally@seller-host.example refused by"
             " mx.seller-host.example [198.51.100.7]", "5.6.0"),
])
async def test_permanent_refusal_fails_at_once_and_tells_the_author(backend, relay_factory,
                                                                    tmp_path, stage, reply,
                                                                    status):
    sink = Sink()
    with running(sink, free_port()) as controller:
        relay = await relay_factory(make_config(tmp_path, controller.port)
                                    .replace(store=backend))
        conv = await open_conv(relay)
        sink.script[stage] = [reply]  # the original is refused; the DSN after it is taken
        mid = await accepted(relay, BUYER, conv.seller_alias, f"permanent {stage}", QUESTION)
        found = await wait_event(relay, mid, "bounced")
        dsn_id = found[-1][1]
        await wait_event(relay, dsn_id, "delivered")
        assert await outbox_size(relay) == 0  # no retry of the original can follow
        assert await kinds(relay, mid) == ["queued", "failed", "bounced"]
        got = sink.snapshot()
    assert sink.answered == [(stage, reply)]
    failed = (await trail(relay, mid))[1][2]
    assert failed.startswith(reply[:3]), failed
    (dsn,) = got  # the original never arrived; the DSN did, once
    assert dsn.mail_from == "<>" and dsn.rcpt_tos == [BUYER]
    text = dsn.data.decode()
    assert dsn.message.get_content_type() == "multipart/report"
    assert f"Status: {status}" in text and "Action: failed" in text
    assert f"Final-Recipient: rfc822; {conv.seller_alias}" in text
    for leak in (SELLER, "seller-host", "198.51.100.7"):
        assert leak not in text, leak
    async with relay.store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT id, direction FROM messages WHERE conversation_id = ? ORDER BY seq",
            (conv.id,))
        assert (await db.execute_fetchall("SELECT COUNT(*) FROM outbox"))[0][0] == 0
    assert [tuple(r) for r in rows] == [(mid, "buyer_to_seller"), (dsn_id, "system")]
