"""The audit: every conversation's hash chain recomputed, as `relay audit verify` does."""

from typing import Annotated

from fastapi import APIRouter, Query

from relay.api import models
from relay.api.deps import Running, Stored, Who, need
from relay.store.audit import audit as audit_store  # `audit` is the endpoint's name

router = APIRouter(tags=["audit"])


@router.get("/v1/audit", response_model=models.Audit)
async def audit(
    who: Who,
    relay: Running,
    store: Stored,
    anchor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}:[0-9a-f]{64}$",
                                        description="An anchor printed earlier")] = None,
) -> models.Audit:
    """Recompute every conversation's hash chain (and compare an earlier anchor)."""
    need(who, "admin")
    at_seq = int(anchor.partition(":")[0]) if anchor else None
    found = await audit_store(store, relay.config.store.log_path, at_seq)
    matches = None if anchor is None else found.records.anchor_at == anchor
    return models.Audit(
        ok=found.ok and matches is not False, records=found.records.count,
        anchor=found.records.anchor, anchor_matches=matches,
        broken=[models.BrokenRecord(**b.__dict__) for b in found.records.broken],
        problems=[str(p) for p in found.problems])
