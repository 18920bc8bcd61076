"""Health for load balancers and orchestrators (no token), and Prometheus metrics."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from relay.api import models
from relay.api.deps import Running, Stored, Who, need
from relay.ops import prometheus as relay_metrics  # `prometheus` is the endpoint's name
from relay.store import outbox

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=models.Health)
async def healthz() -> models.Health:
    """The process is up (no token needed)."""
    return models.Health(status="ok")


@router.get("/readyz", response_model=models.Health, responses={503: {"model": models.Health}})
async def readyz(response: Response, relay: Running) -> models.Health:
    """Store writable, listeners up, delivery worker alive (no token needed)."""
    checks = await relay.readiness()
    ready = all(checks.values())
    response.status_code = 200 if ready else 503
    return models.Health(status="ready" if ready else "not ready", checks=checks)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
async def prometheus(who: Who, store: Stored) -> Response:
    """Prometheus metrics (token of scope metrics or admin)."""
    need(who, "admin", "metrics")
    async with store.read() as db:
        relay_metrics.set_queue(*await outbox.depth(db))
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
