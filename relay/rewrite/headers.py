"""Header scrub: keep only what a reader needs; everything else could leak a person or a host.

Dropped by omission: Received, Return-Path, Sender, Reply-To, X-*, DKIM-Signature, ARC-*,
Authentication-Results, List-*, User-Agent, X-Mailer, Cc, Bcc, ... Kept headers are cleaned
too: Content-IDs (they often carry the sender's host) move onto the relay domain and cid:
links follow, multipart boundaries are drawn anew (Outlook derives them from the Message-ID),
MIME-Version loses its client comment, Content-Type and Content-Disposition keep only the
parameters a client uses (attachment dates and x- parameters go), Content-Language its comments.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import Parser
from email.utils import collapse_rfc2231_value, format_datetime
from urllib.parse import unquote

from relay.pipeline import Parcel
from relay.rewrite.text import decoded_header, edit_text_parts, one_line

MIME = {
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
    "content-language", "content-description",
}
PART_KEEP = MIME | {"content-id"}
# A forwarded message keeps only what a reader of it needs.
EMBEDDED_KEEP = MIME | {"subject", "date"}
# From, To, Reply-To are written anew by rewrite_addresses; threading headers by thread_map.
# Auto-Submitted stays so that two auto-responders do not answer each other through the relay.
TOP_KEEP = MIME | {"subject", "date", "message-id", "in-reply-to", "references", "auto-submitted"}
SINGLE = ("subject", "date", "content-type", "content-transfer-encoding", "content-disposition",
          "content-description", "mime-version", "content-id", "auto-submitted")
_CID_LINK = re.compile(r"cid:([^\"'\s<>()]+)", re.IGNORECASE)


def _utc_date(message: Message) -> str:
    try:
        header = message["Date"]
        when = header.datetime if header is not None else None
    except (AttributeError, ValueError, TypeError):
        when = None
    if when is None or when.tzinfo is None:
        when = datetime.now(UTC)
    try:
        # UTC hides the sender's time zone, which says where they are.
        return format_datetime(when.astimezone(UTC))
    except OverflowError:  # "31 Dec 9999 23:59 -0100" is past datetime's range in UTC
        return format_datetime(datetime.now(UTC))


# Parameters a reader's client uses; others ("x-contact=...") and comments are free text.
KNOWN_PARAMS = {
    "Content-Type": {"charset", "name", "format", "delsp", "method", "type", "start",
                     "start-info", "protocol", "micalg", "report-type", "reply-type",
                     "boundary", "differences"},
    "Content-Disposition": {"filename", "size"},
}
_LANGUAGES = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*(?:\s*,\s*[A-Za-z]{1,8}"
                        r"(?:-[A-Za-z0-9]{1,8})*)*")


def _known_params_only(message: Message, header: str, allowed: set[str]) -> None:
    if message.get(header) is None:
        return
    params = message.get_params(header=header) or []
    if not params:
        return
    kept = [(k, v) for k, v in params[1:] if k.lower() in allowed]
    if len(kept) == len(params) - 1 and "(" not in str(message[header]):
        return  # nothing to drop: leave the header as it came
    del message[header]
    message[header] = params[0][0]
    for key, value in kept:
        text = collapse_rfc2231_value(value) if isinstance(value, tuple) else value
        message.set_param(key, text, header=header)


def _only_first(message: Message, name: str) -> None:
    values = message.get_all(name)
    if values and len(values) > 1:
        del message[name]
        message[name] = values[0]


def _scrub_header_dump(text: str) -> str:
    """A text/rfc822-headers part is a header block: keep what a forwarded message keeps."""
    headers = Parser(policy=policy.compat32).parsestr(text, headersonly=True)
    kept = [(k, v) for k, v in headers.items() if k.lower() in EMBEDDED_KEEP]
    return "".join(f"{k}: {v}\n" for k, v in kept)


# Characters str.splitlines() ends a line at, besides CR and LF: the stdlib writes a header
# value holding one as two lines, so text after it would become a header of its own.
_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _no_line_breaks(message: Message) -> None:
    """Each kept header with such a character, raw or inside an encoded word, written again
    on one line with spaces in their place."""
    broken: dict[str, list[str]] = {}
    for name, raw in message.raw_items():
        value = raw if isinstance(raw, str) else str(raw)
        decoded = decoded_header(message, name, value) if "=?" in value else value
        broken.setdefault(name.lower(), []).append(decoded)
    for name, values in broken.items():
        if any(_BREAKS.search(v) for v in values):
            del message[name]
            for value in values:
                message[name] = one_line(value)  # splitlines() ends lines at _BREAKS too


class SanitizeHeaders:
    name = "sanitize_headers"

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def content_id(self, old: str) -> str:
        """The same ID for the header and every link to it: a digest on the relay domain."""
        digest = hashlib.sha256(old.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        return f"{digest}@{self.domain}"

    def _scrub(self, message: Message, keep: set[str]) -> None:
        for name in {k.lower() for k in message}:
            if name not in keep:
                del message[name]
        _no_line_breaks(message)
        for name in SINGLE:
            _only_first(message, name)
        if message.get("Date") is not None:  # forwarded messages' dates too
            message.replace_header("Date", _utc_date(message))
        if message.get("Auto-Submitted") is not None:  # the keyword, without comments
            keyword = str(message["Auto-Submitted"]).split(";")[0].split("(")[0].strip()
            message.replace_header("Auto-Submitted", keyword.lower() or "auto-generated")
        if message.get("MIME-Version") is not None:
            message.replace_header("MIME-Version", "1.0")
        cid = message.get("Content-ID")
        if cid is not None:
            old = str(cid).strip().strip('<>')
            message.replace_header("Content-ID", f"<{self.content_id(old)}>")
        for header, allowed in KNOWN_PARAMS.items():
            _known_params_only(message, header, allowed)
        language = message.get("Content-Language")
        if language is not None and not _LANGUAGES.fullmatch(str(language).strip()):
            del message["Content-Language"]  # "en (call me ...)": a comment is free text
        if message.get_content_maintype() == "multipart":
            message.del_param("boundary", header="Content-Type")  # the generator draws anew
            start = message.get_param("start")
            if isinstance(start, str):
                message.set_param("start", f"<{self.content_id(start.strip().strip('<>'))}>")
        if message.get_content_type() in ("message/rfc822", "message/global"):
            for inner in message.get_payload():
                if isinstance(inner, Message):
                    self._scrub(inner, EMBEDDED_KEEP)
        elif message.is_multipart():
            for part in message.get_payload():
                self._scrub(part, PART_KEEP)

    def _clean_text(self, text: str, subtype: str) -> str:
        if subtype == "rfc822-headers":
            return _scrub_header_dump(text)
        if subtype != "html":
            return text
        return _CID_LINK.sub(lambda m: f"cid:{self.content_id(unquote(m.group(1)))}", text)

    async def __call__(self, parcel: Parcel) -> None:
        message: EmailMessage = parcel.message
        if message.get("Date") is None:
            message["Date"] = _utc_date(message)
        self._scrub(message, TOP_KEEP)
        edit_text_parts(message, self._clean_text)
