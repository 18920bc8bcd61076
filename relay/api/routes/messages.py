"""The message center: every message of the conversations a token may see, newest first, with
the bytes as received and as delivered, and marks (read, no response needed)."""

from datetime import UTC, datetime
from typing import Annotated, Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, Depends, Query, Request, Response

from relay.api import models
from relay.api.deps import Domain, Stored, Who, address_in, conversation, need, own_seller
from relay.api.errors import APIError, not_found
from relay.api.tokens import Principal
from relay.marketplace import message_center
from relay.store import records
from relay.store.db import Store

router = APIRouter(prefix="/v1/messages", tags=["messages"])
_RFC822: dict[int | str, dict[str, Any]] = {200: {"content": {"message/rfc822": {}}}}


def cursors(request: Request) -> Fernet:
    # Cursors are sealed: a seller learns nothing from them (they hold the store's sequence
    # number, which counts the whole marketplace's mail). Valid until the relay restarts.
    return request.app.state.cursors


@router.get("", response_model=models.MessagePage)
async def list_messages(
    who: Who,
    store: Stored,
    domain: Domain,
    sealer: Annotated[Fernet, Depends(cursors)],
    seller: Annotated[str | None, Query(max_length=320)] = None,
    conversation_id: Annotated[str | None, Query(alias="conversation", max_length=64)] = None,
    unread: bool = False, sent: bool = False, received: bool = False,
    needs_response: bool = False, business_buyers: bool = False,
    since: Annotated[datetime | None, Query(description="ISO time, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO time, exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="next_cursor of the page before")] = None,
) -> models.MessagePage:
    """The message center, newest first, a page at a time."""
    need(who, "admin", "seller")
    if sent and (received or needs_response):
        raise APIError(400, "invalid", "sent lists the seller's messages; it cannot go"
                       " with received or needs_response", "sent")
    if who.scope == "seller":
        if seller is not None:
            own_seller(who, seller, domain)
        seller = who.seller
    elif seller is not None:
        seller = address_in("seller", seller, domain)
    filters = message_center.Filters(
        seller=seller, conversation=conversation_id, unread=unread, sent=sent,
        received=received, needs_response=needs_response, business_buyers=business_buyers,
        since=_iso(since, "since"), until=_iso(until, "until"),
        parties_only=who.scope == "seller")
    before = None
    if cursor:
        try:
            before = int(sealer.decrypt(cursor.encode("ascii")))
        except (InvalidToken, ValueError, UnicodeEncodeError):
            raise APIError(400, "invalid", "cursor: not one this relay handed out (or it"
                           " restarted since)", "cursor") from None
    rows, next_seq = await message_center.page(store, filters, limit, before)
    sealed = None if next_seq is None else sealer.encrypt(str(next_seq).encode()).decode()
    return models.MessagePage(messages=[message_out(r, who) for r in rows],
                              next_cursor=sealed)


async def message(who: Principal, message_id: str, store: Store) -> dict[str, Any]:
    need(who, "admin", "seller")
    rows = await message_center.query(store, message_center.Filters(
        message=message_id, seller=who.seller, parties_only=who.scope == "seller"))
    if not rows:
        raise not_found("message")
    return rows[0]


def message_out(row: dict[str, Any], who: Principal) -> models.Message:
    # A seller is told the size of what it can read: the received size of a buyer's
    # message would give away the length of the buyer's address.
    row = dict(row)
    delivered_size = row.pop("delivered_size")
    if who.scope == "seller" and row["direction"] == "buyer_to_seller":
        row["size"] = delivered_size or 0
    return models.Message(**row)


@router.get("/{message_id}", response_model=models.Message)
async def show_message(message_id: str, who: Who, store: Stored) -> models.Message:
    return message_out(await message(who, message_id, store), who)


@router.get("/{message_id}/received", response_class=Response, responses=_RFC822)
async def received_bytes(message_id: str, who: Who, store: Stored, domain: Domain) -> Response:
    """The message as it arrived. A refused message is recorded in part (its header
    section and the start of its body): then the Record-Truncated, Record-Size and
    Record-SHA256 headers say so and describe the whole. A seller token: only the
    seller's own messages (a buyer's holds the buyer's real address)."""
    row = await message(who, message_id, store)
    record = await records.get(store, message_id)
    assert record is not None
    if who.scope == "seller":
        # Seller-to-buyer by direction is not enough: a buyer who wrote to their own
        # alias is recorded so (and refused); only mail from a seller address is theirs.
        conv = await conversation(who, row["conversation_id"], store, domain)
        if row["direction"] != "seller_to_buyer" or not conv.is_registered(
                "seller", record.mail_from):
            raise not_found("received copy of this message")
    headers = {}
    if record.truncated:
        # A refused message is recorded in part: the bytes kept, and what the whole was.
        headers = {"Record-Truncated": f"kept {len(record.raw)} of {record.size} bytes",
                   "Record-Size": str(record.size),
                   "Record-SHA256": str(record.sha256)}
    return Response(record.raw, media_type="message/rfc822", headers=headers)


@router.get("/{message_id}/delivered", response_class=Response, responses=_RFC822)
async def delivered_bytes(message_id: str, who: Who, store: Stored) -> Response:
    """The message as delivered (404: refused, nothing delivered). A seller token: only
    what was delivered to the seller."""
    row = await message(who, message_id, store)
    if who.scope == "seller" and row["direction"] != "buyer_to_seller":
        raise not_found("delivered copy of this message")
    record = await records.get(store, message_id)
    if record is None or record.delivered is None:
        raise not_found("delivered copy of this message")
    return Response(record.delivered, media_type="message/rfc822")


@router.post("/{message_id}/marks", response_model=models.Message)
async def mark(message_id: str, body: models.MarkIn, who: Who,
               store: Stored) -> models.Message:
    """Mark read, or no response needed (marks are added, never removed)."""
    await message(who, message_id, store)
    await message_center.mark(store, message_id, body.mark)
    return message_out(await message(who, message_id, store), who)


def _iso(when: datetime | None, field: str) -> str | None:
    if when is None:
        return None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).isoformat(
            timespec="microseconds")
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise APIError(400, "invalid", f"{field}: out of range", field) from None
