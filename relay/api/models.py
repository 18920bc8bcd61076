"""Request and response bodies of the HTTP API: the OpenAPI document is generated from them."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from relay.marketplace.response_time import Window  # a dataclass; pydantic takes it as it is

ADDRESS = Field(min_length=3, max_length=320, examples=["seller@shop.example"])


class Error(BaseModel):
    code: str = Field(examples=["contact.email"])
    message: str
    field: str | None = None


class ConversationIn(BaseModel):
    order_id: str = Field(min_length=1, max_length=128, examples=["ORDER-1001"])
    buyer: str = ADDRESS
    sellers: list[str] = Field(min_length=1, max_length=20)
    delivered_on: date | None = None


class Conversation(BaseModel):
    conversation_id: str
    order_id: str
    buyer_alias: str
    seller_alias: str
    buyers: list[str] | None = Field(
        description="The buyer's real address; only for admin tokens")
    sellers: list[str]
    created_at: str
    closed_at: str | None
    message_count: int


class OpenedConversation(Conversation):
    created: bool = Field(description="Whether open made it (201) or found it open (200)")


class SellerAddressIn(BaseModel):
    address: str = ADDRESS


class DeliveredIn(BaseModel):
    delivered_on: date


class BuyerEvent(BaseModel):
    at: str
    kind: str
    value: str


class Buyer(BaseModel):
    address: str
    opted_out: bool
    locale: str | None
    business: bool
    events: list[BuyerEvent]


class BuyerPatch(BaseModel):
    opted_out: bool | None = None
    locale: str | None = Field(None, min_length=2, max_length=35, examples=["de-DE"])
    business: bool | None = None


class SellerSettings(BaseModel):
    seller: str
    notify: bool
    notify_address: str | None


class SellerSettingsPatch(BaseModel):
    notify: bool | None = None
    notify_address: str | None = Field(
        None, max_length=320, description='"" goes back to the first registered address')


class Message(BaseModel):
    id: str
    conversation_id: str
    order_id: str
    received_at: str
    direction: Literal["buyer_to_seller", "seller_to_buyer", "system"]
    disposition: Literal["delivered", "delivered_redacted", "rejected", "deferred"]
    reasons: list[str]
    relay_message_id: str | None
    size: int
    truncated: bool = Field(False, description="The record keeps only the start of this"
                            " (refused) message: its header section and the first"
                            " store.refused_body_keep bytes of its body")
    delivery: str | None
    read: bool
    no_response_needed: bool


class MessagePage(BaseModel):
    messages: list[Message]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page")


class MarkIn(BaseModel):
    mark: Literal["read", "no_response_needed"]


class Attachment(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_base64: str


class SendIn(BaseModel):
    template: str = Field(min_length=1, max_length=100)
    variables: dict[str, str] = {}
    attachments: list[Attachment] = Field([], max_length=20)


class Sent(BaseModel):
    message_id: str
    disposition: Literal["delivered", "delivered_redacted"]
    reasons: list[str]
    reply: str


class ResponseTime(BaseModel):
    seller: str
    as_of: str
    windows: list[Window]


class BrokenRecord(BaseModel):
    seq: int
    message_id: str
    conversation_id: str
    problem: str


class Audit(BaseModel):
    ok: bool
    records: int
    anchor: str
    anchor_matches: bool | None = None
    broken: list[BrokenRecord]
    problems: list[str] = Field(default_factory=list, description=(
        "Every difference the chain over the append-only tables and the checkpoint log"
        " show, the first difference first"))


class Template(BaseModel):
    id: str
    type: str
    critical: bool
    attachments: bool
    languages: list[str]
    variables: list[str]


class Health(BaseModel):
    status: str
    checks: dict[str, bool] = {}
