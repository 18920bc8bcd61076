"""A buyer's preferences, by real address (admin only): opt-out, language, business flag."""

from fastapi import APIRouter

from relay.api import models
from relay.api.deps import Domain, Stored, Who, address_in, need
from relay.api.errors import APIError
from relay.errors import UsageError
from relay.marketplace import buyers
from relay.store.db import Store

router = APIRouter(prefix="/v1/buyers", tags=["buyers"])


async def buyer_out(store: Store, address: str) -> models.Buyer:
    events = await buyers.history(store, address)
    latest = {e.kind: e.value for e in events}
    return models.Buyer(
        address=address, opted_out=latest.get("optout") == "on",
        locale=latest.get("locale"), business=latest.get("business") == "on",
        events=[models.BuyerEvent(at=e.at, kind=e.kind, value=e.value) for e in events])


@router.get("/{address}", response_model=models.Buyer)
async def show_buyer(address: str, who: Who, store: Stored, domain: Domain) -> models.Buyer:
    """A buyer's opt-out, language and business flag, with their history."""
    need(who, "admin")
    return await buyer_out(store, address_in("address", address, domain))


@router.patch("/{address}", response_model=models.Buyer)
async def update_buyer(address: str, body: models.BuyerPatch, who: Who, store: Stored,
                       domain: Domain) -> models.Buyer:
    """Opt out of (or back in to) seller messages; set the language or business flag."""
    need(who, "admin")
    address = address_in("address", address, domain)
    if body.locale is not None:
        try:
            await buyers.record(store, address, domain, "locale", body.locale)
        except UsageError as exc:
            raise APIError(400, "invalid", str(exc), "locale") from None
    if body.opted_out is not None:
        await buyers.set_optout(store, address, domain, body.opted_out)
    if body.business is not None:
        await buyers.record(store, address, domain, "business",
                            "on" if body.business else "off")
    return await buyer_out(store, address)
