"""What happens between the end of DATA and the reply: parse, run the stages, record.

Every reader of the message (the prescan, the parser, the DKIM check) gets it with its line
ends normalized to CRLF (relay.message.line_ends); the record keeps the bytes as received.
The reply is 250 only after the record and its outbox entry are committed (fsynced) in one
write (relay.store.db: its transaction may be shared with other writes, group commit); a
refusal is recorded too, before the 5xx goes out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import TYPE_CHECKING

from relay import replies
from relay.config import Config
from relay.delivery import dsn_parse
from relay.delivery.bounce import notify_author
from relay.delivery.dkim_sign import dkim_signer
from relay.delivery.verp import Verp, load_key
from relay.errors import Reject, TempFail
from relay.marketplace import conversations
from relay.marketplace.message_center import automatic
from relay.message import line_ends
from relay.message.parsed import parse
from relay.ops import prometheus
from relay.ops.logs import event
from relay.pipeline import order, prescan
from relay.pipeline.lanes import BIG
from relay.pipeline.parcel import Disposition, Envelope, Outcome, Parcel, Stage
from relay.smtp import rate_limits
from relay.store import outbox, records
from relay.store.db import Store, utcnow

if TYPE_CHECKING:
    from relay.pipeline.workers import BigMessages

log = logging.getLogger("relay.pipeline.intake")
# A report is read up to here (the returned message after it is kept, not read), and at
# most this many recipient statuses of it are recorded.
REPORT_READ = 1_048_576
MAX_STATUSES = 20
# Reason codes that say what a message is, not that anything in it was changed.
INFORMATIONAL = frozenset({"critical", "review_request.sent", "auto_reply"})


def too_deep() -> Reject:
    """The stdlib parser recurses per nesting level; what exhausts the stack is refused for
    good. A fresh exception each time: a shared instance would grow its traceback per raise."""
    return Reject("mime.depth", "the message is nested too deeply to read")


def bare_line_break_in_header(raw: bytes) -> bool:
    """A CR or LF not part of a CRLF in the header section. Python's parser ends a line there,
    dkimpy does not: the two would read different From: lines, and a signature over one
    would vouch for the other. (After line_ends.normalized, only a bare CR is left to find.)"""
    end = raw.find(b"\r\n\r\n")
    head = (raw if end < 0 else raw[:end + 2]).replace(b"\r\n", b"")
    return b"\r" in head or b"\n" in head


class Intake:
    def __init__(
        self, config: Config, store: Store, stages: Sequence[Stage], on_queued: Callable[[], None],
        big: BigMessages | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.stages = stages
        self.on_queued = on_queued
        self.big = big  # where messages of BIG bytes or more are processed; None: here
        self.verp = Verp(load_key(config.delivery.bounce_key), config.domain,
                         config.delivery.bounce_lifetime)
        self.signer = dkim_signer(config)  # for the DSNs a remote bounce leads to

    @classmethod
    def for_config(cls, config: Config, store: Store, on_queued: Callable[[], None],
                   big: BigMessages | None = None) -> Intake:
        """An intake with the stages `config` asks for (relay.pipeline.order)."""
        return cls(config, store, order.build(config, store), on_queued, big)

    def apply(self, config: Config) -> None:
        """A reloaded config: new stages for new messages. Messages already in the pipeline
        finish with the stages they started with, closed after the shutdown grace."""
        retired = self.stages
        self.stages = order.build(config, self.store)
        self.config = config
        if self.big is not None:
            self.big = self.big.replaced(config)
        asyncio.get_running_loop().call_later(config.shutdown_grace, order.close, retired)

    def close(self) -> None:
        """Release what the stages hold beyond a message (the sender checks' DNS threads)."""
        order.close(self.stages)

    async def _parcel(
        self, envelope: Envelope, raw: bytes, message: EmailMessage, kind: str = "message"
    ) -> Parcel | None:
        local = envelope.rcpt_to[0].rpartition("@")[0].lower()
        hit = await conversations.find_alias(self.store, self.config.domain, local)
        if hit is None:
            return None
        reasons = [f"{kind}.sent"] if kind != "message" else []
        # RFC 3834 auto-replies are marked automatic (null-sender mail reaching the stages
        # is refused by authenticate, but is marked too: its refusal record says what it was).
        if raw and (automatic(message) or envelope.mail_from in ("", "<>")):
            reasons.append("auto_reply")
        return Parcel(
            id=conversations.new_token(10), received_at=utcnow(), envelope=envelope, raw=raw,
            message=message, conversation=hit.conversation, addressed=hit.role, kind=kind,
            reasons=reasons,
        )

    async def record_discarded(self, envelope: Envelope, reason: str, size: int = 0) -> None:
        """A message refused while its body was being discarded (too big, a line too long):
        recorded without the body the SMTP layer did not keep; its `size` bytes received
        count toward the client's refused bytes all the same."""
        parcel = await self._parcel(envelope, b"", EmailMessage())
        if parcel is not None:
            await self._record(parcel, Disposition.REJECTED, [reason], size=size)

    async def receive(self, envelope: Envelope, raw: bytes, kind: str = "message") -> str:
        """Returns the SMTP reply for this transaction. kind: "message", or what the relay's
        own commands send ("review_request"), which only they can set."""
        return (await self.receive_outcome(envelope, raw, kind)).reply

    async def receive_outcome(self, envelope: Envelope, raw: bytes,
                              kind: str = "message") -> Outcome:
        """receive(), with what became of the message (the API answers with it). Logs the
        transaction's one line: ids, codes and sizes, no address and no content."""
        start = time.perf_counter()
        outcome = await self._receive(envelope, raw, kind)
        parcel = outcome.parcel
        fields = {"id": parcel.id, "conversation": parcel.conversation.id,
                  "direction": parcel.direction} if parcel else {"id": "-"}
        event(log, "smtp.transaction", **fields, peer=envelope.peer, size=len(raw),
              reply=outcome.reply[:9].strip(),
              result="accepted" if outcome.queue else str(outcome.disposition),
              reasons=outcome.reasons,
              ms=round((time.perf_counter() - start) * 1000, 1))
        return outcome

    async def _receive(self, envelope: Envelope, raw: bytes, kind: str) -> Outcome:
        if self.big is not None and (self.big.every or len(raw) >= BIG):
            try:
                outcome = await self.big.process(envelope, raw, kind)
            except Exception:  # the worker process died, or its answer did not come back
                log.exception("big message worker failed; answering 451")
                parcel = await self._parcel(envelope, raw, EmailMessage(), kind)
                reasons = [*parcel.reasons, "internal_error"] if parcel else []
                if parcel is not None:
                    await self._record(parcel, Disposition.DEFERRED, reasons)
                return Outcome(parcel, Disposition.DEFERRED, reasons, replies.TEMPFAIL)
        else:
            outcome = await self.process(envelope, raw, kind)
        parcel = outcome.parcel
        if parcel is None:
            return outcome
        # The stages read the message normalized (and a worker does not send it back); the
        # record keeps it as received: its size and SHA-256 are those of what the client sent.
        parcel.raw = raw
        prometheus.stage_timings(parcel.timings)  # measured where the stages ran
        await self._record(parcel, outcome.disposition, outcome.reasons, queue=outcome.queue)
        if outcome.queue and not parcel.hold:
            self.on_queued()
        return outcome

    async def process(self, envelope: Envelope, raw: bytes, kind: str = "message") -> Outcome:
        """Parse and run the stages: what to record and answer. Reads the store, never
        writes it, so it may run in a worker process (relay.pipeline.workers). The parcel
        holds the message with its line ends normalized, as every stage reads it."""
        start, cpu_start = time.perf_counter(), time.thread_time()
        raw = line_ends.normalized(raw)
        smtp = self.config.smtp
        try:
            prescan.check(raw, smtp.max_header_size, smtp.max_mime_parts, smtp.max_mime_depth,
                          smtp.max_header_count)
            oversized = None
        except Reject as refusal:
            oversized = refusal  # not parsed: the record keeps the bytes
        unparsable: Reject | None = None
        try:
            message, unreadable = (EmailMessage() if oversized else parse(raw)), False
        except RecursionError:
            message, unreadable = EmailMessage(), True
        except (UnicodeError, LookupError, ValueError, TypeError):
            # The parser reads Content-Type parameters as it goes; one in a charset whose
            # codec always raises ('undefined') stops it. The sender's fault, not ours.
            message, unreadable = EmailMessage(), False
            unparsable = Reject("mime.malformed", "a MIME header cannot be read (a parameter's"
                                " charset or encoding is broken)")
        # Line ends, prescan and parse, as if a stage: the first entry of the timings.
        parsing = ("parse", time.perf_counter() - start, time.thread_time() - cpu_start)
        parcel = await self._parcel(envelope, raw, message, kind)
        if parcel is None:
            return Outcome(None, Disposition.NO_SUCH_ALIAS, [], replies.UNKNOWN_ALIAS)
        parcel.timings.append(parsing)
        try:
            if oversized is not None:
                raise oversized
            if unparsable is not None:
                raise unparsable
            if unreadable:
                raise too_deep()
            if bare_line_break_in_header(raw):
                raise Reject("mime.malformed", "a bare CR in the header section; header"
                             " lines end with CRLF (RFC 5322 2.2)")
            try:
                await order.run(self.stages, parcel)
            except RecursionError:  # e.g. a header of nested comments
                raise too_deep() from None
        except Reject as refusal:
            return Outcome(parcel, Disposition.REJECTED, [*parcel.reasons, refusal.code],
                           refusal.smtp_reply)
        except TempFail as failure:
            return Outcome(parcel, Disposition.DEFERRED, parcel.reasons, failure.smtp_reply)
        except Exception:
            # A bug, or the store failing mid-pipeline: 451, never 5xx. The attempt goes on
            # the record when the store still works, so a message that keeps failing is seen.
            log.exception("%s: pipeline failed; answering 451", parcel.id)
            return Outcome(parcel, Disposition.DEFERRED, [*parcel.reasons, "internal_error"],
                           replies.TEMPFAIL)
        changed = [r for r in parcel.reasons if r not in INFORMATIONAL]
        disposition = Disposition.DELIVERED_REDACTED if changed else Disposition.DELIVERED
        return Outcome(parcel, disposition, parcel.reasons, replies.queued(parcel.id), True)

    async def stop(self, grace: float) -> None:
        if self.big is not None:
            await self.big.stop(grace)

    async def receive_report(self, envelope: Envelope, raw: bytes, original_id: str) -> str:
        """Mail to a bounce address (its MAC checked at RCPT): recorded against the message
        it names; a failure report tells that message's author, anonymously. Anything else
        sent there (an auto-reply) is recorded and goes no further; never answered."""
        original = await records.get(self.store, original_id)
        if original is None:
            return replies.BAD_BOUNCE_ADDRESS
        try:
            # The report comes first; what follows is the returned message, which may be
            # big and is kept in the record, not read.
            message = parse(line_ends.normalized(raw[:REPORT_READ]))
            found = dsn_parse.statuses(message)[:MAX_STATUSES]
            auto = automatic(message)
        except RecursionError:
            found, auto = [], False
        failed = [s for s in found if s.action == "failed"]
        delayed = [s for s in found if s.action == "delayed"]
        reasons = ["bounce.report" if found else "bounce.other"] + (["auto_reply"] if auto else [])
        report_id = conversations.new_token(10)
        async with self.store.write() as db:
            await records.append(db, records.Record(
                id=report_id, conversation_id=original.conversation_id, received_at=utcnow(),
                direction="system", disposition=Disposition.DELIVERED, reasons=tuple(reasons),
                peer=envelope.peer, helo=envelope.helo, mail_from=envelope.mail_from,
                rcpt_to=envelope.rcpt_to, recipient=None, original_message_id=None,
                relay_message_id=None, raw=raw, delivered=None,
            ))
            for status in failed + delayed:
                kind = "remote_failed" if status.action == "failed" else "remote_delayed"
                await outbox.add_event(db, original.id, kind,
                                       f"{status.status} {status.diagnostic}"[:500])
            if failed:
                # Only the status code reaches the author: anyone who saw the bounce address
                # can send a "report", and its text would reach a real mailbox unchecked.
                status = failed[0].status
                await notify_author(db, self.config, self.signer, original, status,
                                    f"the receiving mail server reported status {status}")
        prometheus.recorded("system", Disposition.DELIVERED, reasons, INFORMATIONAL)
        if failed:
            self.on_queued()
        event(log, "smtp.report", id=report_id, original=original.id, peer=envelope.peer,
              statuses=[f"{s.action}:{s.status}" for s in found] or "not_a_dsn")
        return replies.queued(report_id)

    async def _record(
        self, parcel: Parcel, disposition: Disposition, reasons: list[str], queue: bool = False,
        size: int | None = None,
    ) -> None:
        """size: the bytes received, when the parcel does not hold them (discarded)."""
        record = records.Record(
            id=parcel.id, conversation_id=parcel.conversation.id,
            received_at=parcel.received_at, direction=parcel.direction,
            disposition=disposition, reasons=tuple(reasons), peer=parcel.envelope.peer,
            helo=parcel.envelope.helo, mail_from=parcel.envelope.mail_from,
            rcpt_to=parcel.envelope.rcpt_to, recipient=parcel.recipient if queue else None,
            original_message_id=parcel.original_message_id,
            relay_message_id=parcel.relay_message_id if queue else None,
            raw=parcel.raw, delivered=parcel.delivered if queue else None,
        )
        envelope = parcel.envelope
        refused_by = None
        if not disposition.accepted:
            record = records.trimmed(record, self.config.store.refused_body_keep,
                                     self.config.smtp.max_header_size)
            refused_by = rate_limits.refusal_client(envelope.peer, envelope.login)
        async with self.store.write() as db:
            await records.append(db, record)
            if refused_by is not None:  # rejected or deferred: not the sender's, the client's
                await rate_limits.count_refusal(
                    db, refused_by, parcel.received_at,
                    len(parcel.raw) if size is None else size, parcel.id)
            if parcel.auth_results:
                await records.add_authentication_results(db, parcel.id, parcel.auth_results)
            if queue and parcel.hold:
                await outbox.add_event(db, parcel.id, "held", "seller notifications are off")
            elif queue:
                now = time.time()
                await outbox.enqueue(db, outbox.Job(
                    message_id=parcel.id, mail_from=self.verp.address(parcel.id),
                    rcpt=parcel.recipient,
                    smtputf8=parcel.smtputf8_out, attempts=0, next_attempt_at=now,
                    expires_at=now + self.config.delivery.queue_lifetime, bounce=True,
                ))
        # Counted once committed, like the report and delivery counts: a failed write is a 451.
        prometheus.recorded(parcel.direction, disposition, reasons, INFORMATIONAL)
