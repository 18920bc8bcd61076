"""Conversations: one per order between a buyer and a seller, with an alias for each side."""

from fastapi import APIRouter, Response

from relay.api import models
from relay.api.deps import Domain, Stored, Who, address_in, conversation, need
from relay.api.errors import APIError
from relay.api.tokens import Principal
from relay.errors import UsageError
from relay.marketplace import conversations, review_request
from relay.store.db import Store

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


async def conversation_out(conv: conversations.Conversation, who: Principal,
                           store: Store) -> models.Conversation:
    count = await conversations.message_count(store, conv.id)
    return models.Conversation(
        conversation_id=conv.id, order_id=conv.order_id, buyer_alias=conv.buyer_alias,
        seller_alias=conv.seller_alias,
        buyers=list(conv.buyers) if who.scope == "admin" else None,
        sellers=list(conv.sellers), created_at=conv.created_at, closed_at=conv.closed_at,
        message_count=count)


@router.post("", status_code=201, response_model=models.OpenedConversation,
             responses={200: {"model": models.OpenedConversation,
                              "description": "It was open already (created: false)"}})
async def open_conversation(body: models.ConversationIn, who: Who, response: Response,
                            store: Stored, domain: Domain) -> models.OpenedConversation:
    """Open (or find) the conversation of an order between a buyer and a seller."""
    need(who, "admin")
    try:
        conversations.check_order_id(body.order_id)
    except UsageError as exc:
        raise APIError(400, "invalid", str(exc), "order_id") from None
    address_in("buyer", body.buyer, domain)
    for seller in body.sellers:
        address_in("sellers", seller, domain)
    if body.delivered_on is not None:
        review_request.not_in_future(body.delivered_on)  # before anything is written
    conv, created = await conversations.open_conversation(
        store, domain, body.order_id, body.buyer, body.sellers)
    if body.delivered_on is not None:
        await review_request.set_delivered(store, conv, body.delivered_on)
    response.status_code = 201 if created else 200
    out = await conversation_out(conv, who, store)
    return models.OpenedConversation(**out.model_dump(), created=created)


@router.get("", response_model=list[models.Conversation])
async def list_conversations(who: Who, store: Stored,
                             domain: Domain) -> list[models.Conversation]:
    """Every conversation (a seller token: its own)."""
    need(who, "admin", "seller")
    found = await conversations.list_all(store, domain, seller=who.seller)
    return [await conversation_out(c, who, store) for c in found if who.owns(c.sellers)]


@router.get("/{conversation_id}", response_model=models.Conversation)
async def show_conversation(conversation_id: str, who: Who, store: Stored,
                            domain: Domain) -> models.Conversation:
    conv = await conversation(who, conversation_id, store, domain)
    return await conversation_out(conv, who, store)


@router.post("/{conversation_id}/sellers", response_model=models.Conversation)
async def add_seller_address(conversation_id: str, body: models.SellerAddressIn, who: Who,
                             store: Stored, domain: Domain) -> models.Conversation:
    """Register one more address the seller may write from (the first receives mail)."""
    need(who, "admin")
    conv = await conversation(who, conversation_id, store, domain)
    address_in("address", body.address, domain)
    conv, _ = await conversations.open_conversation(
        store, domain, conv.order_id, conv.buyers[0], [conv.sellers[0], body.address])
    return await conversation_out(conv, who, store)


@router.put("/{conversation_id}/delivered", response_model=models.Conversation)
async def set_delivered(conversation_id: str, body: models.DeliveredIn, who: Who,
                        store: Stored, domain: Domain) -> models.Conversation:
    """The order's delivery date, which opens the review-request window."""
    need(who, "admin")
    conv = await conversation(who, conversation_id, store, domain)
    review_request.not_in_future(body.delivered_on)
    await review_request.set_delivered(store, conv, body.delivered_on)
    return await conversation_out(conv, who, store)


@router.post("/{conversation_id}/close", response_model=models.Conversation)
async def close_conversation(conversation_id: str, who: Who, store: Stored,
                             domain: Domain) -> models.Conversation:
    """Close it for good: its aliases refuse mail (550 5.1.1)."""
    need(who, "admin")
    await conversation(who, conversation_id, store, domain)
    return await conversation_out(
        await conversations.close(store, domain, conversation_id), who, store)
