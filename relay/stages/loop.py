"""Loop guard: a message that has crossed too many hops is refused, not relayed again."""

from __future__ import annotations

from relay.errors import Reject
from relay.pipeline.parcel import Parcel


class LoopGuard:
    name = "loop_guard"

    def __init__(self, max_received: int) -> None:
        self.max_received = max_received

    async def __call__(self, parcel: Parcel) -> None:
        hops = len(parcel.message.get_all("Received") or [])
        parcel.hops = hops
        if hops > self.max_received:
            raise Reject(
                "loop", f"mail loop detected ({hops} Received headers)"
            )
