"""The seller's contact response time: the 7, 30 and 90-day figures the marketplace grades
them on, and a chart of the late responses of each of the last 30 days."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from relay.marketplace import response_time as response_times
from relay.web.chart import chart
from relay.web.deps import Seller, Stored
from relay.web.errors import WebRoute
from relay.web.pages import render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
DAYS = 30


@router.get("/response-time")
async def response_time(request: Request, visitor: Seller, store: Stored) -> Response:
    seller = visitor.who.seller
    assert seller is not None
    now = datetime.now(UTC)
    windows, days = await response_times.report(store, seller, now, DAYS)
    return render(request, "response_time.html", windows=windows, days=days,
                  chart=chart(days), as_of=now.strftime("%Y-%m-%d %H:%M UTC"),
                  deadline_hours=int(response_times.DEADLINE.total_seconds() // 3600))
