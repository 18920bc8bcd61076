"""What the stages share: the envelope, the parcel a message travels in, the Stage protocol.

Stages import this module; nothing here imports a stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from enum import StrEnum
from typing import Protocol

from relay.marketplace.conversations import Conversation, Role


@dataclass(frozen=True)
class Envelope:
    peer: str
    helo: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    smtputf8: bool
    login: str = ""  # the seller account that authenticated on the submission port


@dataclass
class Parcel:
    """One message on its way through the stages, with what they learned about it."""

    id: str
    received_at: str
    envelope: Envelope
    raw: bytes
    message: EmailMessage
    conversation: Conversation
    addressed: Role  # whose alias the mail was sent to: that party reads it
    reasons: list[str] = field(default_factory=list)
    original_message_id: str | None = None
    relay_message_id: str | None = None
    delivered: bytes | None = None  # the wire bytes, set by the last stage
    smtputf8_out: bool = False
    hops: int = 0  # Received lines it arrived with
    deliver_to: str | None = None  # the seller's notification address, when set
    hold: bool = False  # recorded and accepted, not e-mailed (seller notifications off)
    kind: str = "message"  # or "review_request": the marketplace's own, sent by `relay`
    auth_results: str | None = None  # SPF/DKIM/DMARC outcome, for the record only
    # Per stage run (and "parse" first): (name, wall seconds, CPU seconds of its own).
    timings: list[tuple[str, float, float]] = field(default_factory=list)
    # Files that are text by their bytes whatever type they declare (found by the attachment
    # check): the text rules read them as they read text parts; their type is left alone.
    text_files: list[Message] = field(default_factory=list)

    def note(self, code: str) -> None:
        """Record a reason code (once) for what a stage changed or found."""
        if code not in self.reasons:
            self.reasons.append(code)

    @property
    def author(self) -> Role:
        return "buyer" if self.addressed == "seller" else "seller"

    @property
    def direction(self) -> str:
        return f"{self.author}_to_{self.addressed}"

    @property
    def recipient(self) -> str:
        """The reader's real address: the first registered one, or the address a seller
        chose for buyer messages."""
        return self.deliver_to or self.conversation.addresses(self.addressed)[0]

    @property
    def author_alias(self) -> str:
        return self.conversation.alias(self.author)


class Stage(Protocol):
    name: str

    async def __call__(self, parcel: Parcel) -> None:
        """Change the parcel, or raise Reject / TempFail."""


class Disposition(StrEnum):
    """What became of a message: the record's disposition, and what the SMTP side, the API
    and the CLI switch on (never on the text of a reply)."""

    DELIVERED = "delivered"  # accepted as it came (queued, or held when notifications are off)
    DELIVERED_REDACTED = "delivered_redacted"  # accepted, changed by a rule
    REJECTED = "rejected"  # refused for good: 5xx
    DEFERRED = "deferred"  # refused for now: 4xx, the sender tries again
    NO_SUCH_ALIAS = "no_such_alias"  # nothing to record: no conversation has this alias

    @property
    def accepted(self) -> bool:
        return self in (Disposition.DELIVERED, Disposition.DELIVERED_REDACTED)


@dataclass
class Outcome:
    """The intake's answer for one message: the parcel (None: no such alias), what became of
    it, the reason codes, and the SMTP reply that says so."""

    parcel: Parcel | None
    disposition: Disposition
    reasons: list[str]
    reply: str
    queue: bool = False

