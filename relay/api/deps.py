"""What the API's endpoints share: who is asking (the token Guard checked), the scope checks,
the running relay with its store, and the lookups that answer 404 for what a token may not see.

The relay is request.app.state.relay (set by create_app). The scope checks are plain calls,
not dependencies: an endpoint makes them after FastAPI has validated the request, so a
malformed request is 400 whatever the token's scope.
"""

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from relay.api.errors import APIError, not_found
from relay.api.tokens import Principal
from relay.errors import UsageError
from relay.marketplace import conversations
from relay.store.db import Store

if TYPE_CHECKING:
    from relay.server import Relay  # relay.server imports the API: no import at run time

_bearer = HTTPBearer(auto_error=False, description="A token from `relay api token`")
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def principal(
    request: Request,
    # Declares the bearer scheme in the OpenAPI document; Guard has checked the token.
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    found = getattr(request.state, "principal", None)
    if not isinstance(found, Principal):
        raise APIError(401, "unauthorized", "a valid bearer token is required",
                       headers=_UNAUTHORIZED)
    return found


def running(request: Request) -> "Relay":
    return request.app.state.relay


def store(relay: Annotated["Relay", Depends(running)]) -> Store:
    assert relay.store is not None
    return relay.store


def domain(relay: Annotated["Relay", Depends(running)]) -> str:
    return relay.config.domain


Who = Annotated[Principal, Depends(principal)]
Running = Annotated["Relay", Depends(running)]
Stored = Annotated[Store, Depends(store)]
Domain = Annotated[str, Depends(domain)]


def need(who: Principal, *scopes: str) -> None:
    if who.scope not in scopes:
        raise APIError(403, "forbidden", f"this needs a token of scope {' or '.join(scopes)}")


def address_in(field: str, address: str, domain: str) -> str:
    try:
        return conversations.normalize_address(address, domain)
    except UsageError as exc:
        raise APIError(400, "invalid", str(exc), field) from None


def own_seller(who: Principal, address: str, domain: str) -> str:
    """The seller's address, normalized; 404 for a seller token that is not this seller's."""
    need(who, "admin", "seller")
    normalized = address_in("address", address, domain)
    if who.scope == "seller" and (who.seller is None or conversations.address_key(
            who.seller) != conversations.address_key(normalized)):
        raise not_found("seller")
    return normalized


async def conversation(who: Principal, conv_id: str, store: Store,
                       domain: str) -> conversations.Conversation:
    need(who, "admin", "seller")
    try:
        conv = await conversations.get(store, domain, conv_id)
    except UsageError:
        raise not_found("conversation") from None
    if not who.owns(conv.sellers):
        raise not_found("conversation")  # another seller's: as if it did not exist
    return conv
