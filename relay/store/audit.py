"""`relay audit verify` (and the API's audit, and a backup's check): the conversations'
message chains, the keyed chain over every append-only table, and the checkpoint log, with
their problems merged into one list in chain order; the first is the first difference."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from relay.store import chain, checkpoints, records
from relay.store.db import Store


@dataclass(frozen=True)
class Findings:
    records: records.Audit
    chain: chain.Report
    checkpoint: checkpoints.Checkpoint | None  # the latest one in the log
    problems: list[chain.Problem]  # one per row, the first difference first

    @property
    def ok(self) -> bool:
        return not self.problems


async def audit(store: Store, log_path: Path, at_seq: int | None = None) -> Findings:
    assert store.secret is not None
    # The log first: a checkpoint written after the chain is read (by a relay still
    # running) could name entries this reading does not hold yet.
    logged = await asyncio.to_thread(checkpoints.read, log_path, store.secret)
    found = await records.verify(store, at_seq)
    report = await chain.verify(store)
    problems = list(report.problems)
    for broken in found.broken:
        key = chain.canonical([broken.message_id])
        at = await chain.entry_of(store, "messages", key)
        problems.append(chain.Problem(
            chain.UNCHAINED if at is None else at, chain.describe("messages", key),
            broken.problem, rank=0,
            label=f"record {broken.message_id} (seq {broken.seq}, conversation"
                  f" {broken.conversation_id})"))
    problems += await checkpoints.check(store, logged, report.head)
    latest = max(logged[0], key=lambda c: c.seq, default=None)
    return Findings(found, report, latest, chain.first_differences(problems))
