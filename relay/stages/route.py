"""Route: the addressed alias must still be open (it may have closed since RCPT)."""

from __future__ import annotations

from relay.errors import Reject
from relay.pipeline.parcel import Parcel


class Route:
    name = "route"

    async def __call__(self, parcel: Parcel) -> None:
        if parcel.conversation.closed_at is not None:
            raise Reject("alias.closed", "this conversation is closed")
