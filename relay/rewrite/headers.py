"""Header scrub: keep only what a reader needs; everything else could leak a person or a host.

Dropped by omission: Received, Return-Path, Sender, Reply-To, X-*, DKIM-Signature, ARC-*,
Authentication-Results, List-*, User-Agent, X-Mailer, Cc, Bcc, ... Content-IDs are renamed
onto the relay domain (they often carry the sender's host) and cid: links follow them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import format_datetime

from relay.pipeline import Parcel
from relay.rewrite.text import edit_text_parts

MIME = {
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
    "content-language", "content-description",
}
PART_KEEP = MIME | {"content-id"}
# A forwarded message keeps only what a reader of it needs.
EMBEDDED_KEEP = MIME | {"subject", "date"}
# From, To, Reply-To are written anew by rewrite_addresses; threading headers by thread_map.
TOP_KEEP = MIME | {"subject", "date", "message-id", "in-reply-to", "references"}


def _utc_date(message: Message) -> str:
    try:
        header = message["Date"]
        when = header.datetime if header is not None else None
    except (AttributeError, ValueError, TypeError):
        when = None
    if when is None or when.tzinfo is None:
        when = datetime.now(UTC)
    # UTC hides the sender's time zone, which says where they are.
    return format_datetime(when.astimezone(UTC))


class SanitizeHeaders:
    name = "sanitize_headers"

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def _scrub(self, message: Message, keep: set[str], cids: dict[str, str]) -> None:
        for name in {k.lower() for k in message}:
            if name not in keep:
                del message[name]
        cid = message.get("Content-ID")
        if cid is not None:
            old = str(cid).strip().strip("<>")
            new = hashlib.sha256(old.encode("utf-8", "surrogateescape")).hexdigest()[:24]
            cids[old] = f"{new}@{self.domain}"
            del message["Content-ID"]
            message["Content-ID"] = f"<{cids[old]}>"
        if message.get_content_type() in ("message/rfc822", "message/global"):
            for inner in message.get_payload():
                if isinstance(inner, Message):
                    self._scrub(inner, EMBEDDED_KEEP, cids)
        elif message.is_multipart():
            for part in message.get_payload():
                self._scrub(part, PART_KEEP, cids)

    async def __call__(self, parcel: Parcel) -> None:
        message: EmailMessage = parcel.message
        date = _utc_date(message)
        cids: dict[str, str] = {}
        self._scrub(message, TOP_KEEP, cids)
        del message["Date"]
        message["Date"] = date
        if cids:
            def relink(text: str, subtype: str) -> str:
                if subtype != "html":
                    return text
                for old, new in cids.items():
                    text = text.replace(f"cid:{old}", f"cid:{new}")
                return text

            edit_text_parts(message, relink)
