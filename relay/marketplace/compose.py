"""Messages the relay's own commands send as a party (templates, the review request):
built here, then through the same intake and stages as mail that arrives over SMTP."""

from __future__ import annotations

import asyncio
import mimetypes
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from string import Template

from relay.config import Config
from relay.errors import UsageError
from relay.marketplace import buyers, review_request, templates
from relay.marketplace.conversations import Conversation
from relay.pipeline.intake import Intake
from relay.pipeline.parcel import Envelope, Outcome
from relay.smtp import rate_limits
from relay.store.db import Store


class TooBig(UsageError):
    """The message would be over smtp.max_message_size."""


class RateLimited(Exception):
    """The sender's or the conversation's hourly limit is reached: try again later."""


def read_files(paths: list[Path]) -> list[tuple[str, bytes]]:
    """`--attach` files as (name, content)."""
    files = []
    for path in paths:
        try:
            files.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise UsageError(f"--attach {path}: {exc.strerror or exc}") from None
    return files


def seller_message(conv: Conversation, subject: str, body: str,
                   attachments: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    sender = conv.addresses("seller")[0]
    msg = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))
    msg["From"] = sender
    msg["To"] = conv.buyer_alias
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="relay-cli.invalid")
    msg.set_content(body)
    for name, data in attachments:
        if (not name or len(f"x{name}x".splitlines()) > 1 or not name.isprintable()
                or "=?" in name):
            raise UsageError(f"attachment {name!r}: the file name may not be empty or hold"
                             " control characters, line breaks or encoded words (=?)",
                             field="attachments")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    utf8 = not sender.isascii()
    # Unfolded: the stdlib would fold "Subject: [Important] ..." before the bracket.
    wire = (policy.SMTPUTF8 if utf8 else policy.SMTP).clone(max_line_length=998)
    return sender, msg.as_bytes(policy=wire)


async def template_message(store: Store, conv: Conversation, template: templates.Template,
                           values: dict[str, str],
                           files: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    """A template rendered in the buyer's language, as the seller's message (`relay send`
    and the API's send)."""
    locale = await buyers.latest(store, conv.addresses("buyer")[0], "locale")
    text = templates.render(template, locale, conv.order_id, values)
    return seller_message(conv, text.subject, text.body, files)


def review_request_message(conv: Conversation) -> tuple[str, bytes]:
    """The marketplace's fixed review request, as the seller's message."""
    fill = {"order_id": conv.order_id}
    return seller_message(conv, Template(review_request.SUBJECT).substitute(fill),
                          Template(review_request.BODY).substitute(fill), [])


async def submit(config: Config, store: Store, conv: Conversation, sender: str, raw: bytes,
                 kind: str = "message", intake: Intake | None = None) -> Outcome:
    """Through the pipeline as the seller: what became of it, with the SMTP reply it would
    have had. Without the running relay's `intake` (the CLI), its delivery worker sends it
    on at its next poll."""
    if intake is None:
        intake = Intake.for_config(config, store, on_queued=lambda: None)
    # The operator's command stands for the seller, like a login on the submission port:
    # there is no sending server whose SPF or DKIM could be checked.
    envelope = Envelope(peer="local", helo="relay-cli", mail_from=sender,
                        rcpt_to=(conv.buyer_alias,), smtputf8=not sender.isascii(),
                        login=sender)
    return await intake.receive_outcome(envelope, raw, kind=kind)


async def send(config: Config, store: Store, lock: asyncio.Lock, conv: Conversation,
               sender: str, raw: bytes, kind: str = "message",
               intake: Intake | None = None) -> Outcome:
    """What the API and the web message center send as a party: the size limit, the hourly
    rate limits (checked and recorded under `lock`, so concurrent sends cannot all pass one
    count), then submit()."""
    limit = config.smtp.max_message_size
    if len(raw) > limit:
        raise TooBig(f"the message would be {len(raw)} bytes; the relay takes at most {limit}",
                     field="attachments")
    async with lock:
        over = await rate_limits.exceeded(store, config.limits, conv.id, sender)
        if over:
            raise RateLimited(f"rate limit: {over}; try again later")
        return await submit(config, store, conv, sender, raw, kind=kind, intake=intake)
