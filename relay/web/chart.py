"""The response-time page's chart, drawn on the server as SVG: late responses per day (no
script, nothing remote; the CSS gives it its colours)."""

from __future__ import annotations

from dataclasses import dataclass

from relay.marketplace.response_time import Day

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 36, 28, 12, 28  # room for the axis labels (larger on a phone)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    received_y: float  # the top of the day's received messages (drawn behind)
    received_height: float
    label: str  # what a screen reader and a tooltip say
    tick: str | None  # the date under the bar, every few days


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    grid: list[tuple[float, int]]  # (y, value) of the horizontal lines
    baseline: float
    left: int
    right: int  # where the plot ends
    total_late: int


def _step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if top / step <= 5:
            return step
    return max(1, top // 5)


def chart(days: list[Day]) -> Chart:
    top = max([d.received for d in days] + [1])
    step = _step(top)
    top = -(-top // step) * step  # rounded up to a whole step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    baseline = TOP + plot_h
    bars = []
    for n, d in enumerate(days):
        late_h = plot_h * d.late / top
        got_h = plot_h * d.received / top
        when = d.day.strftime("%b %-d")
        bars.append(Bar(
            x=round(LEFT + n * slot + slot * 0.15, 1), y=round(baseline - late_h, 1),
            width=round(slot * 0.7, 1), height=round(late_h, 1),
            received_y=round(baseline - got_h, 1), received_height=round(got_h, 1),
            label=f"{when}: {d.late} late of {d.received} received",
            tick=when if (len(days) - 1 - n) % 7 == 0 else None))
    grid = [(round(baseline - plot_h * v / top, 1), v) for v in range(0, top + 1, step)]
    return Chart(WIDTH, HEIGHT, bars, grid, baseline, LEFT, WIDTH - RIGHT,
                 sum(d.late for d in days))
