"""The delivery worker: takes due jobs from the outbox, sends, records every attempt.

A job leaves the outbox only in the same transaction that records its final event, so a
crash at any moment leaves it queued: delivery is at least once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

from relay.config import Config
from relay.delivery.bounce import notify_author
from relay.delivery.dkim_sign import dkim_signer
from relay.delivery.transport import Result, Transport
from relay.ops import prometheus
from relay.ops.logs import event
from relay.store import outbox, records
from relay.store.db import Connection, Store

log = logging.getLogger("relay.delivery")


def backoff(config: Config, attempts: int) -> float:
    """Delay before retry number `attempts` (1 = first retry)."""
    d = config.delivery
    return min(d.retry_max, d.retry_initial * d.retry_factor ** max(0, attempts - 1))


class Worker:
    def __init__(self, config: Config, store: Store, transport: Transport) -> None:
        self.config = config
        self.store = store
        self.transport = transport
        self._wake = asyncio.Event()
        self._stopping = False
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        # Jobs whose last attempt failed inside the relay (store busy, a bug): held back in
        # memory, with backoff, since the store may be what is failing. message id ->
        # (failures, monotonic time until which it waits).
        self._held: dict[str, tuple[int, float]] = {}
        self._task: asyncio.Task[None] | None = None
        # PostgreSQL: the mark this relay puts on the jobs it claims (a new one each start):
        # a held job is taken again by it, and no other, while its lease lasts.
        self._claimant = secrets.token_hex(8)
        self.signer = dkim_signer(config)  # DSNs are signed like every delivered message

    def wake(self) -> None:
        self._wake.set()

    @property
    def alive(self) -> bool:
        """The delivery loop is running (for /readyz)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-worker")

    async def stop(self, grace: float) -> None:
        """Take no new jobs; let the ones in flight finish within `grace` seconds."""
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task
        pending = dict(self._in_flight)
        if pending:
            _, late = await asyncio.wait(pending.values(), timeout=grace)
            for task in late:  # still queued in the store: retried after restart
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            # PostgreSQL: due now for the other relays on the database, not after the lease.
            for message_id in [m for m, task in pending.items() if task in late]:
                with contextlib.suppress(Exception):
                    await outbox.release(self.store, message_id, time.time())
        close = getattr(self.transport, "close", None)
        if close is not None:
            await close()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._fill()
                wait = await self._idle_time()
            except Exception:
                log.exception("delivery loop error; retrying shortly")
                wait = 1.0
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _busy(self) -> set[str]:
        """Jobs not to take now: in flight, or held back after an internal error."""
        now = time.monotonic()
        return self._in_flight.keys() | {k for k, (_, t) in self._held.items() if t > now}

    async def _fill(self) -> None:
        room = self.config.delivery.concurrency - len(self._in_flight)
        if room <= 0:
            return
        now, busy, lease = time.time(), self._busy(), self.config.delivery.lease
        for job in await outbox.due(self.store, now, room, busy, lease, self._claimant):
            task = asyncio.create_task(self._attempt(job))
            self._in_flight[job.message_id] = task
            task.add_done_callback(lambda _t, mid=job.message_id: self._done(mid))

    def _done(self, message_id: str) -> None:
        self._in_flight.pop(message_id, None)
        self._wake.set()

    async def _idle_time(self) -> float:
        # In-flight and held jobs are past due too; counting them would spin the loop.
        poll = self.config.delivery.poll_interval
        if len(self._in_flight) >= self.config.delivery.concurrency:
            return poll  # a finishing delivery wakes the loop
        now = time.monotonic()
        waits = [poll] + [until - now for _, until in self._held.values() if until > now]
        next_at = await outbox.next_due_at(self.store, self._busy())
        if next_at is not None:
            waits.append(next_at - time.time())
        return max(0.0, min(waits))

    async def _attempt(self, job: outbox.Job) -> None:
        try:
            # Only what the chain holds goes out, and only to its recorded recipient: the
            # outbox is a work queue anyone with the database could add to or redirect.
            record = await records.get(self.store, job.message_id, chained=True)
            problem = ("not in the chain as it is" if record is None
                       else "no delivered bytes" if record.delivered is None
                       else "queued for another recipient than recorded"
                       if job.rcpt != record.recipient else None)
            if problem is not None:
                log.error("%s: %s; dropping from queue", job.message_id, problem)
                there = record is not None or await records.get(self.store, job.message_id)
                async with self.store.write() as db:
                    if there:  # an event needs its message row
                        await outbox.add_event(db, job.message_id, "failed", problem)
                    await outbox.remove(db, job.message_id)
                return
            start = time.perf_counter()
            result = await self.transport.send(job.mail_from, job.rcpt, record.delivered,
                                               job.smtputf8)
            await self._settle(job, record, result, time.perf_counter() - start)
            self._held.pop(job.message_id, None)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Store busy or a bug: the job stays queued and is tried again after a backoff
            # (it may have been sent already: delivery is at least once, never a tight loop).
            failures = self._held.get(job.message_id, (0, 0.0))[0] + 1
            wait = backoff(self.config, failures)
            self._held[job.message_id] = (failures, time.monotonic() + wait)
            log.exception("%s: delivery attempt failed internally (%d)", job.message_id, failures)
            # Due again at its retry time, for any relay on the database. The store may be
            # what fails: then the job is still this relay's claim, taken again after `wait`.
            with contextlib.suppress(Exception):
                await outbox.release(self.store, job.message_id, time.time() + wait)

    async def _settle(self, job: outbox.Job, record: records.Record, result: Result,
                      took: float) -> None:
        attempts = job.attempts + 1
        now = time.time()
        expired = now >= job.expires_at
        # The line names the message and the outcome; the remote text (which may quote the
        # recipient's address) stays in the record.
        line = {"id": job.message_id, "attempt": attempts, "status": result.status_code or "-",
                "ms": round(took * 1000, 1)}
        extra: dict[str, object] = {}
        async with self.store.write() as db:
            if result.status == "delivered":
                outcome = "delivered"
                await outbox.add_event(db, job.message_id, "delivered", result.detail)
                await outbox.remove(db, job.message_id)
            elif result.status == "deferred" and not expired:
                outcome = "deferred"
                at = now + backoff(self.config, attempts)
                await outbox.add_event(db, job.message_id, "deferred", result.detail)
                await outbox.reschedule(db, job.message_id, attempts, at)
                extra["retry_in"] = round(at - now)
            else:
                outcome = "failed" if result.status == "failed" else "expired"
                why = result.detail if result.status == "failed" else f"gave up: {result.detail}"
                await outbox.add_event(db, job.message_id, "failed", why)
                await outbox.remove(db, job.message_id)
                if job.bounce and record.mail_from:
                    await self._bounce(db, record, job, result)
        # Counted and logged once committed: a failed commit is an internal failure.
        self._count("failed" if outcome == "expired" else outcome, record)
        event(log, "delivery.attempt", **line, result=outcome, **extra)

    @staticmethod
    def _count(result: str, record: records.Record) -> None:
        prometheus.DELIVERY_ATTEMPTS.labels(result).inc()
        if result == "delivered":
            prometheus.DELIVERED.labels(record.direction).inc()

    async def _bounce(self, db: Connection, record: records.Record, job: outbox.Job,
                      result: Result) -> None:
        code = result.status_code if result.status == "failed" else "4.4.7"
        await notify_author(db, self.config, self.signer, record, code, result.detail)
