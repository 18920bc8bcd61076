"""The stage runner's timings: CPU time counts a stage's own code, not the other messages the
event loop runs while the stage waits (relay.pipeline.order.OwnCPU)."""

from __future__ import annotations

import asyncio
import time

import pytest

from relay.errors import Reject
from relay.pipeline import order

SPIN = 0.2  # seconds of this thread's CPU another task burns while the stage waits


def spin(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_cpu_time_leaves_out_what_runs_while_the_stage_waits():
    started = asyncio.Event()
    released = asyncio.Event()

    async def stage() -> str:
        started.set()
        await released.wait()  # meanwhile the event loop runs the other task
        return "done"

    async def other() -> None:
        await started.wait()
        spin(SPIN)
        released.set()

    timed = order.OwnCPU(stage())
    busy = asyncio.create_task(other())
    wall = time.perf_counter()
    assert await timed == "done"
    wall = time.perf_counter() - wall
    await busy
    assert wall >= SPIN  # wall time counts the other task's work...
    assert timed.cpu < SPIN / 2  # ...the stage's CPU time does not


async def test_cpu_time_counts_the_stage_s_own_work_in_every_step():
    async def stage() -> None:
        spin(SPIN / 2)
        await asyncio.sleep(0)
        spin(SPIN / 2)

    timed = order.OwnCPU(stage())
    await timed
    assert timed.cpu >= SPIN


async def test_a_refusal_and_a_cancellation_pass_through():
    async def refuses() -> None:
        await asyncio.sleep(0)
        raise Reject("x.y", "no")

    timed = order.OwnCPU(refuses())
    with pytest.raises(Reject):
        await timed
    assert timed.cpu > 0

    entered, cleaned = asyncio.Event(), asyncio.Event()

    async def waits() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    async def run() -> None:
        await order.OwnCPU(waits())

    task = asyncio.create_task(run())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()  # the cancellation reached the stage's own code


class _Named:
    def __init__(self, name: str, refuse: bool = False) -> None:
        self.name = name
        self.refuse = refuse

    async def __call__(self, parcel: object) -> None:
        if self.refuse:
            raise Reject("x.y", "no")


async def test_run_records_wall_and_cpu_time_per_stage_in_order_up_to_a_refusal():
    class Parcel:
        def __init__(self) -> None:
            self.timings: list[tuple[str, float, float]] = []

    parcel = Parcel()
    stages = [_Named("a"), _Named("b", refuse=True), _Named("c")]
    with pytest.raises(Reject):
        await order.run(stages, parcel)  # type: ignore[arg-type]
    assert [name for name, _, _ in parcel.timings] == ["a", "b"]
    assert all(wall >= 0 and cpu >= 0 for _, wall, cpu in parcel.timings)
