"""Seller notifications: buyer messages go to the seller's chosen address, or are held.

Held means recorded and counted as awaiting a reply, but not e-mailed (the seller turned
buyer-message notifications off and reads them elsewhere).
"""

from __future__ import annotations

from relay.marketplace import sellers
from relay.pipeline.parcel import Parcel
from relay.store.db import Store


class Notifications:
    name = "notifications"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def __call__(self, parcel: Parcel) -> None:
        if parcel.author != "buyer":
            return
        settings = await sellers.current(self.store, parcel.conversation.addresses("seller")[0])
        if settings.notify_address:
            parcel.deliver_to = settings.notify_address
        parcel.hold = not settings.notify
