"""Whose turn it is on the store's one connection (relay.store.db).

One holder at a time, in the order they asked; but a holder that ends its turn inside an
open write batch hands it to the next waiting writer only (it joins the batch), so nobody
else ever uses the connection while a transaction of others is uncommitted.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Turns:
    def __init__(self) -> None:
        self._held = False
        self._waiting: deque[tuple[bool, asyncio.Future[None]]] = deque()  # (writer, turn)
        # Called when a turn handed to a waiter finds it cancelled: the holder's code that
        # chooses who goes next (relay.store.db.Store._pass_turn).
        self.on_abandoned: Callable[[], None] = self.give

    @property
    def writers_waiting(self) -> int:
        return sum(1 for writer, turn in self._waiting if writer and not turn.done())

    async def take(self, writer: bool) -> None:
        if not self._held:  # then nobody waits (give() frees the turn only when nobody does)
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        entry = (writer, turn)
        self._waiting.append(entry)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed over, then cancelled: pass it on
                self.on_abandoned()
            else:
                self._waiting.remove(entry)
            raise

    def give(self, writers_only: bool = False) -> bool:
        """End the holder's turn: hand it to the first waiter (writers_only: the first
        waiting writer). False when there is none: the turn is free (writers_only: it stays
        with the holder)."""
        for entry in self._waiting:
            writer, turn = entry
            if turn.done() or (writers_only and not writer):
                continue
            self._waiting.remove(entry)
            turn.set_result(None)
            return True
        if not writers_only:
            self._held = False
        return False
