"""Delivery status notifications (RFC 3464) that name only aliases.

The remote server's diagnostic often quotes the real recipient address or its mail host,
so addresses, host names and IP addresses are removed from it before it is shown.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
import re
import time
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.utils import format_datetime
from typing import TYPE_CHECKING

from relay.marketplace import conversations
from relay.marketplace.conversations import Conversation, Role, new_token
from relay.store import outbox, records
from relay.store.db import Connection, utcnow
from relay.store.records import Record

if TYPE_CHECKING:
    from relay.config import Config
    from relay.delivery.dkim_sign import Signer

_ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
_IPV4 = re.compile(r"\[?\b\d{1,3}(?:\.\d{1,3}){3}\b\]?")
_IPV6 = re.compile(r"\[?\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b\]?", re.IGNORECASE)
_IPV6_LEADING = re.compile(r"(?<![\w:])::[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*(?![\w:])",
                           re.IGNORECASE)  # "::1", "::ffff:..." : no word boundary before
# Labels of any script: IDN hosts must go too.
_HOST = re.compile(r"\b(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}\b\.?")
_STATUS = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_MAX_INPUT = 4000  # shown: 300 characters; read: enough for a long multi-line reply
# Spellings of one character that servers (or someone who wants it through) use instead.
_ESCAPES = (
    (re.compile(r"=\?[\w-]+(?:\*[\w-]+)?\?[bq]\?[^?\s]*\?=", re.IGNORECASE), None),
    (re.compile(r"%([0-9a-f]{2})", re.IGNORECASE), 16),  # URL encoding
    (re.compile(r"=([0-9A-F]{2})"), 16),  # quoted-printable
    (re.compile(r"\\x([0-9a-f]{2})", re.IGNORECASE), 16),
)
_ENCODED = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")  # base64 (either alphabet) or hex
_AT = r"\s*(?:@|[(\[{<]\s*at\s*[)\]}>]|\bat\b)\s*"
_DOT = r"\s*(?:\.|[(\[{<]\s*dot\s*[)\]}>]|\bdot\b)\s*"
# A word in a person's name ("Sally Smith"): capitalised letters, next to another such word.
_NAME_WORD = re.compile(r"[^\W\d_][^\W\d_A-Z]+")


def _unescaped(text: str) -> str:
    """RFC 2047 words, %40, =40, \\x40 and &#64; as the characters they stand for: the
    diagnostic is shown as plain text, and the address must not pass in another spelling."""
    def word(match: re.Match[str]) -> str:
        try:
            return str(make_header(decode_header(match.group(0))))
        except (ValueError, LookupError, UnicodeDecodeError, HeaderParseError):
            return match.group(0)

    def char(match: re.Match[str]) -> str:
        value = chr(int(match.group(1), 16))
        return value if value.isprintable() and value.isascii() else match.group(0)

    for pattern, base in _ESCAPES:
        text = pattern.sub(word if base is None else char, text)
    return html.unescape(text)


def _decodings(token: str) -> list[bytes]:
    """What an opaque token may hold: hex, or base64 read from each of the four positions
    a 3-byte group can start at (the address may sit in the middle of a longer blob)."""
    found = []
    if len(token) % 2 == 0 and re.fullmatch(r"[0-9a-fA-F]+", token):
        found.append(bytes.fromhex(token))
    body = token.rstrip("=").replace("-", "+").replace("_", "/")
    for start in range(4):
        chunk = body[start:]
        chunk = chunk[:len(chunk) - len(chunk) % 4]
        with contextlib.suppress(binascii.Error, ValueError):
            found.append(base64.b64decode(chunk, validate=True))
    return found


def _spelled(piece: str) -> str:
    """A pattern for `piece` however it is spaced out: "s a l l y", "sally @ host . example",
    "sally at host dot example", "sally [at] host [dot] example"."""
    parts = [_AT if c == "@" else _DOT if c == "." else re.escape(c) for c in piece]
    return r"\s*".join(parts)


def _in_name(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is the first name of a person named in the text: capitalised
    letters only, and a capitalised word right after it ("Sally Smith"). "User Sally
    unknown" is a mailbox."""
    if not _NAME_WORD.fullmatch(text[start:end]) or not text[start].isupper():
        return False
    after = text[end + 1:].split(" ", 1)[0] if text[end:end + 1] == " " else ""
    return bool(_NAME_WORD.fullmatch(after)) and after[0].isupper()


def sanitize_diagnostic(text: str, hide: tuple[str, ...] = (),
                        smarthost: tuple[str, int] | None = None) -> str:
    """Keep the reply code and wording; drop anything naming a person's address or a host.

    `hide` are the reader's real addresses: servers also quote them in pieces
    ("sally... User unknown", "mailbox sally%seller-host disabled"), encoded (base64, hex,
    %40) or spaced out. `smarthost` (host, port) is the relay's own next hop, named in its
    connection errors ("Error connecting to localhost on port 2525").
    """
    text = " ".join(_unescaped(text[:_MAX_INPUT]).split())
    pieces: list[tuple[str, str]] = []
    for address in hide:
        local, _, domain = address.rpartition("@")
        label = domain.split(".")[0]  # "sally%seller-host" names the domain by its label
        pieces += [(address, "[address]"), (domain, "[host]"), (local, "[mailbox]"),
                   (label, "[host]")]
    wanted = [p.lower().encode("utf-8") for p, _ in pieces if len(p) >= 3]

    def opaque(match: re.Match[str]) -> str:
        decoded = [d.lower() for d in _decodings(match.group(0))]
        return "[address]" if any(w in d for w in wanted for d in decoded) else match.group(0)

    text = _ENCODED.sub(opaque, text)
    for piece, mark in pieces:
        if not piece:
            continue
        # Whole words only: a local part "al" is no reason to change "normal".
        pattern = re.compile(rf"(?<![^\W_]){_spelled(piece)}(?![^\W_])", re.IGNORECASE)
        text = pattern.sub(lambda m, mark=mark: m.group(0) if mark == "[mailbox]" and _in_name(
            m.string, m.start(), m.end()) else mark, text)
    if smarthost is not None:
        host, port = smarthost
        if host:
            text = re.sub(rf"(?<![^\W_]){re.escape(host)}(?![^\W_])", "[host]", text,
                          flags=re.IGNORECASE)
        text = re.sub(rf"(?<![\d.]){port}(?![\d.])", "[port]", text)
    text = re.sub(r"\b(port\s*:?\s*)\d{1,5}\b", r"\1[port]", text, flags=re.IGNORECASE)
    statuses = {m.group(0) for m in _STATUS.finditer(text)}
    text = _ADDRESS.sub("[address]", text)
    text = _IPV4.sub("[ip]", text)
    text = _IPV6_LEADING.sub("[ip]", text)
    text = _IPV6.sub(lambda m: m.group(0) if m.group(0) in statuses else "[ip]", text)
    text = _HOST.sub("[host]", text)
    return text[:300]


def _wrap(text: str) -> str:
    return "\r\n".join(text.splitlines())


def build_dsn(
    domain: str, conversation: Conversation, original: Record, reader_role: Role,
    status_code: str, diagnostic: str, smarthost: tuple[str, int] | None = None,
) -> tuple[str, bytes]:
    """Returns (relay Message-ID, DSN bytes) for `original`, to go to its author."""
    reader_alias = conversation.alias(reader_role)
    boundary = f"=_dsn_{new_token(10)}"
    message_id = f"<{new_token(15)}@{domain}>"
    now = format_datetime(datetime.now(UTC))
    arrival = format_datetime(datetime.fromisoformat(original.received_at))
    # The address it went to may be a seller's private notification address, not a party's.
    hide = conversation.addresses(reader_role) + ((original.recipient,) if original.recipient
                                                  else ())
    diagnostic = sanitize_diagnostic(diagnostic, hide, smarthost)
    status = status_code if _STATUS.fullmatch(status_code) and status_code[0] in "45" else "5.0.0"
    # Non-ASCII in the status fields needs RFC 6533's global-delivery-status.
    utf8 = not (reader_alias + diagnostic).isascii()
    human = (
        f"This is the mail relay at {domain}.\n\n"
        f"Your message to {reader_alias} (order {conversation.order_id}) could not be\n"
        f"delivered, and the relay has given up on it.\n\n"
        f"Reason: {diagnostic}\n"
    )
    status_part = (
        f"Reporting-MTA: dns; {domain}\n"
        f"X-Relay-Queue-ID: {original.id}\n"
        f"Arrival-Date: {arrival}\n"
        "\n"
        f"Final-Recipient: rfc822; {reader_alias}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic}\n"
    )
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{domain}>\n"
        f"To: <{original.mail_from}>\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        f"Date: {now}\n"
        f"Message-ID: {message_id}\n"
        "Auto-Submitted: auto-replied\n"
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n'
    )
    if original.original_message_id:
        head += f"In-Reply-To: {original.original_message_id}\n"
    body = (
        f"{head}\n"
        "This is a MIME-encapsulated message.\n\n"
        f"--{boundary}\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Description: Notification\n\n"
        f"{human}\n"
        f"--{boundary}\n"
        f"Content-Type: {'message/global-delivery-status' if utf8 else 'message/delivery-status'}\n"
        "Content-Description: Delivery report\n\n"
        f"{status_part}\n"
        f"--{boundary}--\n"
    )
    return message_id, (_wrap(body) + "\r\n").encode("utf-8")


async def notify_author(db: Connection, config: Config, signer: Signer | None,
                        record: Record, status_code: str, diagnostic: str) -> str | None:
    """Queue a DSN telling `record`'s author that it was not delivered, naming only aliases;
    returns its id. At most one per message: a remote bounce after our own is not news."""
    told = await outbox.has_event(db, record.id, "bounced")
    if told or not record.mail_from or record.direction == "system":
        return None
    conv = await conversations.load(db, record.conversation_id, config.domain)
    assert conv is not None
    reader: Role = "buyer" if record.direction.endswith("_buyer") else "seller"
    delivery = config.delivery
    smarthost = (delivery.smtp_host, delivery.smtp_port) if delivery.mode == "smtp" else None
    message_id, data = build_dsn(config.domain, conv, record, reader, status_code, diagnostic,
                                 smarthost)
    if signer is not None:
        data = signer.header(data) + data
    dsn_id = new_token(10)
    await records.append(db, records.Record(
        id=dsn_id, conversation_id=conv.id, received_at=utcnow(), direction="system",
        disposition="delivered", reasons=("bounce",), peer="local", helo=config.domain,
        mail_from="", rcpt_to=(record.mail_from,), recipient=record.mail_from,
        original_message_id=None, relay_message_id=message_id, raw=data, delivered=data,
    ))
    now = time.time()
    await outbox.enqueue(db, outbox.Job(
        message_id=dsn_id, mail_from="", rcpt=record.mail_from,
        smtputf8=not record.mail_from.isascii(), attempts=0, next_attempt_at=now,
        expires_at=now + config.delivery.queue_lifetime, bounce=False,
    ))
    await outbox.add_event(db, record.id, "bounced", dsn_id)
    return dsn_id
