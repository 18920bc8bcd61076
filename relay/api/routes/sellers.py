"""A seller's settings and response time, by address (a seller token: only its own)."""

from datetime import UTC, datetime

from fastapi import APIRouter

from relay.api import models
from relay.api.deps import Domain, Stored, Who, own_seller
from relay.api.errors import APIError
from relay.errors import UsageError
from relay.marketplace import response_time as response_times  # `response_time`: the endpoint
from relay.marketplace import sellers

router = APIRouter(prefix="/v1/sellers", tags=["sellers"])


@router.get("/{address}/settings", response_model=models.SellerSettings)
async def seller_settings(address: str, who: Who, store: Stored,
                          domain: Domain) -> models.SellerSettings:
    address = own_seller(who, address, domain)
    found = await sellers.current(store, address)
    return models.SellerSettings(seller=address, notify=found.notify,
                                 notify_address=found.notify_address)


@router.patch("/{address}/settings", response_model=models.SellerSettings)
async def update_seller_settings(address: str, body: models.SellerSettingsPatch, who: Who,
                                 store: Stored, domain: Domain) -> models.SellerSettings:
    """Whether buyer messages are e-mailed, and to which address."""
    address = own_seller(who, address, domain)
    try:
        found = await sellers.update(store, address, domain, body.notify, body.notify_address)
    except UsageError as exc:
        raise APIError(400, "invalid", str(exc), "notify_address") from None
    return models.SellerSettings(seller=address, notify=found.notify,
                                 notify_address=found.notify_address)


@router.get("/{address}/response-time", response_model=models.ResponseTime)
async def response_time(address: str, who: Who, store: Stored,
                        domain: Domain) -> models.ResponseTime:
    """The marketplace's contact response time over 7, 30 and 90 days."""
    address = own_seller(who, address, domain)
    now = datetime.now(UTC)
    windows = await response_times.response_time(store, address, now)
    return models.ResponseTime(seller=address, as_of=now.isoformat(), windows=windows)
