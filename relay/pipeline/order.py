"""The stage order: the one place that says what runs, in which order.

Stages import relay.pipeline.parcel; this module imports the stages; only the intake
imports this module."""

from __future__ import annotations

import time
from collections.abc import Coroutine, Generator, Sequence
from typing import TYPE_CHECKING, Any

from relay.pipeline.parcel import Parcel, Stage

if TYPE_CHECKING:
    from relay.config import Config
    from relay.store.db import Store


def build(config: Config, store: Store) -> Sequence[Stage]:
    """The stage order. Rules that decide come first; transforms that rewrite come after.

    The cheap registration and loop checks go before the DNS lookups of VerifySender.

    Signatures go before the attachment check (they are not attachments); the content rules
    read List-Unsubscribe and Precedence before the header scrub drops them; redaction comes
    after the address rewrite, so a party's own address becomes its alias, not a marker."""
    from relay.auth.inbound import Checker
    from relay.delivery.dkim_sign import dkim_signer
    from relay.stages.addresses import RewriteAddresses
    from relay.stages.attachment_clean import CleanAttachments, RefuseCards
    from relay.stages.attachments import CheckAttachments
    from relay.stages.content import ProhibitedContent
    from relay.stages.headers import SanitizeHeaders
    from relay.stages.loop import LoopGuard
    from relay.stages.mime import Encode
    from relay.stages.notify import Notifications
    from relay.stages.optout import OptOut
    from relay.stages.redact import Redact
    from relay.stages.route import Route
    from relay.stages.sender import Authenticate
    from relay.stages.sender_auth import VerifySender
    from relay.stages.signatures import StripSignatures
    from relay.stages.structure import MimeStructure
    from relay.stages.thread_map import ThreadMap

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


class OwnCPU:
    """Awaits a coroutine and adds up this thread's CPU time while the coroutine itself runs,
    step by step: not while it waits (for the store, DNS, a worker), when the event loop runs
    other messages' stages. Wall time counts those; this does not."""

    __slots__ = ("coro", "cpu")

    def __init__(self, coro: Coroutine[Any, Any, None]) -> None:
        self.coro = coro
        self.cpu = 0.0

    def __await__(self) -> Generator[Any, Any, None]:
        steps = self.coro.__await__()
        step, arg = steps.send, None
        clock = time.thread_time
        while True:
            start = clock()
            try:
                waiting_on = step(arg)
            except StopIteration as done:
                self.cpu += clock() - start
                return done.value  # type: ignore[no-any-return]
            except BaseException:
                self.cpu += clock() - start
                raise
            self.cpu += clock() - start
            try:
                arg, step = (yield waiting_on), steps.send
            except BaseException as thrown:  # a cancellation, or close()
                arg, step = thrown, steps.throw


async def run(stages: Sequence[Stage], parcel: Parcel) -> None:
    for stage in stages:
        start = time.perf_counter()
        timed = OwnCPU(stage(parcel))
        try:
            await timed
        finally:
            parcel.timings.append((stage.name, time.perf_counter() - start, timed.cpu))


def close(stages: Sequence[Stage]) -> None:
    """Release what stages hold beyond a message (the sender checks' DNS threads)."""
    for stage in stages:
        release = getattr(stage, "close", None)
        if release is not None:
            release()
