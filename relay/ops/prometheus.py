"""Prometheus metrics of the running relay (`/metrics`), in the process's default registry.

Labels are reason codes, directions and reply codes: a small fixed set, never an address.
The stage histograms have every message, wherever its stages ran (a worker process sends
its timings back with the outcome).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    pass

RECEIVED = Counter("relay_messages_received", "Messages recorded, by direction",
                   ["direction"])
REFUSED = Counter("relay_messages_refused",
                  "Messages refused (5xx) or deferred (4xx) after DATA, by direction and reason"
                  " code", ["direction", "reason"])
DELIVERED = Counter("relay_messages_delivered", "Messages delivered to the reader's server",
                    ["direction"])
REDACTIONS = Counter("relay_redactions", "Changes made to accepted messages, by reason code",
                     ["reason"])
SMTP_REPLIES = Counter("relay_smtp_replies", "SMTP replies sent, by listener and code",
                       ["listener", "code"])
DELIVERY_ATTEMPTS = Counter("relay_delivery_attempts", "Delivery attempts, by result",
                            ["result"])
QUEUE_DEPTH = Gauge("relay_queue_depth", "Messages waiting for delivery")
QUEUE_OLDEST = Gauge("relay_queue_oldest_age_seconds",
                     "Age of the oldest message waiting for delivery (0: none)")
STAGE_SECONDS = Histogram(
    "relay_stage_seconds", "Pipeline stage latency (wall time: waits for the event loop"
    " included)", ["stage"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
# CPU time of the stage's own code (relay.pipeline.order.OwnCPU): where the CPU goes.
STAGE_CPU_SECONDS = Histogram(
    "relay_stage_cpu_seconds", "CPU time a pipeline stage spent on a message (its own code;"
    " not its waits, nor the store's thread)", ["stage"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5))
# stage -> its children of the two stage histograms: labels() takes a lock and builds a key
# at every call, twice per stage and message (stage names are a small fixed set).
_STAGE_CHILDREN: dict[str, tuple[Histogram, Histogram]] = {}


def stage_timings(timings: list[tuple[str, float, float]]) -> None:
    """A message's (stage, wall seconds, CPU seconds) into relay_stage_seconds and
    relay_stage_cpu_seconds."""
    for stage, seconds, cpu in timings:
        children = _STAGE_CHILDREN.get(stage)
        if children is None:
            children = _STAGE_CHILDREN[stage] = (STAGE_SECONDS.labels(stage),
                                                 STAGE_CPU_SECONDS.labels(stage))
        children[0].observe(seconds)
        children[1].observe(cpu)


STORE_WRITE_SECONDS = Histogram(
    "relay_store_write_seconds", "Store write latency, its commit (fsync) included",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
# Group commit (relay.store.db): _count is the commits, _sum the writes they committed.
STORE_COMMIT_WRITES = Histogram(
    "relay_store_commit_writes", "Store writes committed together, per commit (fsync)",
    buckets=(1, 2, 4, 8, 16, 32, 64))


def recorded(direction: str, disposition: str, reasons: list[str],
             informational: frozenset[str]) -> None:
    RECEIVED.labels(direction).inc()
    if disposition in ("rejected", "deferred"):
        REFUSED.labels(direction, reasons[-1] if reasons else "none").inc()
    elif disposition == "delivered_redacted":
        for reason in reasons:
            if reason not in informational:
                REDACTIONS.labels(reason).inc()


def set_queue(count: int, oldest: str | None) -> None:
    """Queue gauges, set from the outbox when scraped (relay.store.outbox.depth)."""
    QUEUE_DEPTH.set(count)
    age = 0.0
    if oldest:
        age = max(0.0, (datetime.now(UTC) - datetime.fromisoformat(oldest)).total_seconds())
    QUEUE_OLDEST.set(age)
