"""Turns at the worker processes, shared fairly between senders.

A message's stages run in a worker process when it is big (relay.pipeline.workers); a worker
runs one message at a time, and a 20 MB one takes seconds. So messages wait for a turn, in
lanes by size (a 300 KB message never waits behind a 20 MB one) and, in a lane, in one queue
per client network, served round robin: a network that sends thirty uploads at once delays
another network's message by one turn, not thirty. A message's body is read into memory
only when its turn comes (it waits on disk, relay.pipeline.spool), so the queue costs no memory.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator

# A message this big or bigger has its stages run in a worker process (relay.pipeline.workers),
# and its body waits on disk (relay.pipeline.spool).
BIG = 256 * 1024  # bytes of raw message


class _Lane:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.free = slots
        # Client network -> its waiters, in arrival order; the network served last goes to
        # the end, so the first key is always the next to be served.
        self.queues: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    async def acquire(self, network: str) -> None:
        if self.free > 0 and not self.queues:
            self.free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.queues.setdefault(network, deque()).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the turn came as the client left: it passes on
            else:
                queue = self.queues.get(network)
                if queue is not None and waiter in queue:
                    queue.remove(waiter)
                    if not queue:
                        del self.queues[network]
            raise

    def release(self) -> None:
        while self.queues:
            network, queue = next(iter(self.queues.items()))
            waiter = queue.popleft()
            del self.queues[network]
            if queue:
                self.queues[network] = queue  # to the end of the round
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to it
                return
        self.free += 1

    @property
    def waiting(self) -> int:
        return sum(len(q) for q in self.queues.values())


class FairLanes:
    """`async with lanes.turn(lane, network)`: wait for a slot in `lane` (None: no wait)."""

    def __init__(self, slots: dict[str, int]) -> None:
        self._lanes = {name: _Lane(count) for name, count in slots.items()}

    @contextlib.asynccontextmanager
    async def turn(self, lane: str | None, network: str) -> AsyncIterator[None]:
        if lane is None:
            yield
            return
        chosen = self._lanes[lane]
        await chosen.acquire(network)
        try:
            yield
        finally:
            chosen.release()

    def running(self, lane: str) -> int:
        chosen = self._lanes[lane]
        return chosen.slots - chosen.free

    def waiting(self, lane: str) -> int:
        return self._lanes[lane].waiting
