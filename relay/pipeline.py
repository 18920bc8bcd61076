"""Parcel, Stage and the stage order: the one place that says what runs, in which order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Protocol

from relay.conversations import Conversation, Role

if TYPE_CHECKING:
    from relay.config import Config
    from relay.store.db import Store


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
    timings: list[tuple[str, float]] = field(default_factory=list)  # seconds per stage run

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


def build(config: Config, store: Store) -> Sequence[Stage]:
    """The stage order. Rules that decide come first; transforms that rewrite come after.

    The cheap registration and loop checks go before the DNS lookups of VerifySender.

    Signatures go before the attachment check (they are not attachments); the content rules
    read List-Unsubscribe and Precedence before the header scrub drops them; redaction comes
    after the address rewrite, so a party's own address becomes its alias, not a marker."""
    from relay.auth.inbound import Checker
    from relay.delivery.dkim_sign import dkim_signer
    from relay.policy.attachments import CheckAttachments
    from relay.policy.content import ProhibitedContent
    from relay.policy.loop import LoopGuard
    from relay.policy.notify import Notifications
    from relay.policy.optout import OptOut
    from relay.policy.route import Route
    from relay.policy.sender import Authenticate
    from relay.policy.sender_auth import VerifySender
    from relay.policy.structure import MimeStructure
    from relay.rewrite.addresses import RewriteAddresses
    from relay.rewrite.attachment_clean import CleanAttachments, RefuseCards
    from relay.rewrite.headers import SanitizeHeaders
    from relay.rewrite.mime import Encode
    from relay.rewrite.redact import Redact
    from relay.rewrite.signatures import StripSignatures
    from relay.rewrite.thread_map import ThreadMap

    auth = config.auth
    checker = None if auth.inbound == "none" else Checker(auth.resolvers, auth.dns_timeout)
    return (
        Route(),
        Authenticate(),
        LoopGuard(config.smtp.max_received_headers),
        VerifySender(auth.inbound, checker, config.domain, deadline=4 * auth.dns_timeout),
        MimeStructure(config.smtp.max_mime_depth, config.smtp.max_mime_parts,
                      config.smtp.max_header_count),
        OptOut(config.rules, store),
        Notifications(store),
        StripSignatures(),
        RefuseCards(config.rules),  # before the type check: a card has its own reason
        CheckAttachments(config.rules),
        CleanAttachments(config.rules, config.domain),  # opens only files judged safe
        ProhibitedContent(config.rules, store),
        SanitizeHeaders(config.domain),
        RewriteAddresses(),
        Redact(config.rules, config.domain),
        ThreadMap(store, config.domain),
        Encode(config.domain, dkim_signer(config)),
    )


async def run(stages: Sequence[Stage], parcel: Parcel) -> None:
    for stage in stages:
        start = time.perf_counter()
        try:
            await stage(parcel)
        finally:
            parcel.timings.append((stage.name, time.perf_counter() - start))


def close(stages: Sequence[Stage]) -> None:
    """Release what stages hold beyond a message (the sender checks' DNS threads)."""
    for stage in stages:
        release = getattr(stage, "close", None)
        if release is not None:
            release()
