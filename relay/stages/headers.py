"""Header scrub: keep only what a reader needs; everything else could leak a person or a host.

Dropped by omission: Received, Return-Path, Sender, Reply-To, X-*, DKIM-Signature, ARC-*,
Authentication-Results, List-*, User-Agent, X-Mailer, Cc, Bcc, ... Kept headers are cleaned
too: Content-IDs (they often carry the sender's host) move onto the relay domain and cid:
links follow, multipart boundaries are drawn anew (Outlook derives them from the Message-ID),
MIME-Version loses its client comment, Content-Type and Content-Disposition keep only the
parameters a client uses (attachment dates and x- parameters go), Content-Language its comments.
Every field kept is written anew by the relay (relay.message.header_line), in one pass over
the fields: nothing a sender wrote reaches the wire as it came, and a message of many fields
costs time in proportion to their number.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import Parser
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import unquote

from relay.message.header_line import (
    FREE_TEXT,
    TOKEN,
    header_value,
    mime_value,
    params_of,
    reader_text,
    replace_all,
    set_value,
)
from relay.message.text_parts import edit_text_parts
from relay.pipeline.parcel import Parcel

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
SINGLE = {"subject", "date", "content-type", "content-transfer-encoding", "content-disposition",
          "content-description", "mime-version", "content-id", "auto-submitted",
          "content-language"}
_MIME_TYPE = re.compile(rf"{TOKEN.pattern}/{TOKEN.pattern}")
_CID_LINK = re.compile(r"cid:([^\"'\s<>()]+)", re.IGNORECASE)


def _date(message: Message) -> datetime | None:
    """message["Date"].datetime, without the header object: its parse (some 0.1 ms) reads
    the date with parsedate_to_datetime, then formats it and parses that text again."""
    for name, value in message.raw_items():
        if name.lower() == "date":
            if hasattr(value, "name"):  # a header object the relay stored
                return value.datetime  # type: ignore[no-any-return]
            text = value.replace("\r", "").replace("\n", "")  # as header_fetch_parse does
            if not text:
                return None
            try:
                return parsedate_to_datetime(text)
            except ValueError:  # the header object's datetime is None then
                return None
    return None


def _utc_date(message: Message) -> str:
    try:
        when = _date(message)
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


def _kept(message: Message, keep: set[str]) -> list[tuple[str, Any]]:
    """The fields in keep, in their order; of a SINGLE one only the first. One pass."""
    seen: set[str] = set()
    kept = []
    for name, value in message.raw_items():
        low = name.lower()
        if low in keep and not (low in SINGLE and low in seen):
            seen.add(low)
            kept.append((name, value))
    return kept


def _scrub_header_dump(text: str) -> str:
    """A text/rfc822-headers part is a header block: keep what a forwarded message keeps."""
    headers = Parser(policy=policy.compat32).parsestr(text, headersonly=True)
    kept = [(k, v) for k, v in headers.items() if k.lower() in EMBEDDED_KEEP]
    return "".join(f"{k}: {reader_text(v)}\n" for k, v in kept)


def _disposition(message: Message) -> str:
    first = (message.get_params(header="Content-Disposition") or [("attachment", "")])[0][0]
    first = first.strip().lower()
    return first if TOKEN.fullmatch(first) else "attachment"


class SanitizeHeaders:
    name = "sanitize_headers"

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def content_id(self, old: str) -> str:
        """The same ID for the header and every link to it: a digest on the relay domain."""
        digest = hashlib.sha256(old.encode("utf-8", "surrogateescape")).hexdigest()[:24]
        return f"{digest}@{self.domain}"

    def _made(self, message: Message, name: str, value: Any) -> str | None:
        """The value the relay writes for a kept field (None: drop it). Every one is made
        here, none kept as it came: the generator refolds a long raw line by parsing it
        again, which decodes what a sender encoded."""
        low = name.lower()
        if low in FREE_TEXT:
            return header_value(str(value), name)
        if low == "date":  # UTC hides the sender's time zone, which says where they are
            return _utc_date(message)
        if low == "mime-version":  # without the client comment
            return "1.0"
        if low == "content-id":
            return f"<{self.content_id(str(value).strip().strip('<>'))}>"
        if low == "auto-submitted":  # the keyword, without comments
            keyword = reader_text(str(value)).split(";")[0].split("(")[0].strip().lower()
            return keyword if TOKEN.fullmatch(keyword) else "auto-generated"
        if low == "content-language":  # "en (call me ...)": a comment is free text
            text = reader_text(str(value))
            return text if _LANGUAGES.fullmatch(text) else None
        if low == "content-transfer-encoding":
            text = reader_text(str(value)).lower()
            return text if TOKEN.fullmatch(text) else None
        if low == "content-type":
            return self._content_type(message)
        if low == "content-disposition":
            params = [(k, v) for k, v in params_of(message, name)
                      if k.lower() in KNOWN_PARAMS["Content-Disposition"]]
            return mime_value(_disposition(message), params)
        return None  # message-id, in-reply-to, references: thread_map writes them anew

    def _content_type(self, message: Message) -> str:
        kind = message.get_content_type()
        if not _MIME_TYPE.fullmatch(kind):  # "tëxt/plain": what the parser read it as
            kind = message.get_default_type()
        params = [(k, v) for k, v in params_of(message, "Content-Type")
                  if k.lower() in KNOWN_PARAMS["Content-Type"]]
        if message.get_content_maintype() == "multipart":
            # The generator draws the boundary anew (Outlook derives it from the Message-ID).
            params = [(k, v) for k, v in params if k.lower() != "boundary"]
            params = [(k, f"<{self.content_id(v.strip().strip('<>'))}>"
                       if k.lower() == "start" else v) for k, v in params]
        return mime_value(kind, params)

    def _scrub(self, message: Message, keep: set[str]) -> None:
        replace_all(message, _kept(message, keep))
        made = []
        for name, value in message.raw_items():
            low = name.lower()
            if low in ("message-id", "in-reply-to", "references"):
                made.append((name, value))
                continue
            new = self._made(message, name, value)
            if new is not None:
                made.append((name, new))
        replace_all(message, made)
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
        if "Date" not in message:
            set_value(message, "Date", _utc_date(message))
        self._scrub(message, TOP_KEEP)
        edit_text_parts(message, self._clean_text)
