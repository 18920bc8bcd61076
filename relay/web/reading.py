"""A recorded message as a page shows it: its subject and date, its text parts (first), its
HTML parts (each sanitized again here and shown in a sandboxed frame) and its files.

The parts are numbered in the order email's walk() gives them, so the page and the download
of part N read the same bytes the same way. Nothing here decides which bytes a visitor may
read (relay.web.routes.thread does)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

import nh3

from relay.message import line_ends

_PARSER = BytesParser(policy=policy.default)
_HEADERS = BytesParser(policy=policy.default)
# The HTML of a part, again through an allow-list (the relay sanitized it on the way in;
# this is the page's own line): no script, no style, no link targets, images only from the
# message itself (data: URLs). The frame's own policy loads nothing else either.
_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS) - {"a", "area", "map"},
    attributes={"*": {"title", "alt", "lang", "dir"}, "img": {"src", "width", "height"},
                "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
    attribute_filter=lambda tag, name, value: (
        value if (tag, name) != ("img", "src") or value.startswith("data:image/") else None),
    url_schemes={"data"}, strip_comments=True, link_rel=None)


# The frame's one style, allowed by its hash (the frame's policy has no other source).
FRAME_STYLE = ("body{font:15px/1.5 system-ui,sans-serif;color:#1b1b1b;margin:.5rem;"
               "overflow-wrap:anywhere}img{max-width:100%;height:auto}"
               "table{border-collapse:collapse;max-width:100%}")
FRAME_POLICY = ("default-src 'none'; img-src data:; style-src 'sha256-"
                + base64.b64encode(hashlib.sha256(FRAME_STYLE.encode()).digest()).decode()
                + "'; sandbox; frame-ancestors 'self'")


@dataclass
class File:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass
class Shown:
    subject: str = ""
    date: str = ""
    texts: list[str] = field(default_factory=list)
    html: list[int] = field(default_factory=list)  # part numbers of the HTML parts
    files: list[File] = field(default_factory=list)
    unreadable: bool = False


def _parse(raw: bytes) -> EmailMessage:
    message = _PARSER.parsebytes(line_ends.normalized(raw))
    assert isinstance(message, EmailMessage)
    return message


def _leaves(message: EmailMessage) -> list[Message]:
    return [p for p in message.walk() if not p.is_multipart()]


def _text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, AssertionError):  # an unknown charset, a bad encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except (ValueError, LookupError):
        name = None
    name = " ".join(str(name or "").split())[:200]
    return name or f"part-{index}"


def _is_file(part: Message) -> bool:
    kind = part.get_content_type()
    return part.get_content_disposition() == "attachment" or kind not in (
        "text/plain", "text/html")


def subject(head: bytes) -> str:
    """The Subject of a message's header section (its first bytes will do)."""
    try:
        headers = _HEADERS.parsebytes(line_ends.normalized(head), headersonly=True)
        return " ".join(str(headers.get("Subject", "")).split())
    except Exception:  # a header no reader can decode: the page lists it without
        return ""


def read(raw: bytes) -> Shown:
    try:
        message = _parse(raw)
        shown = Shown(subject=" ".join(str(message.get("Subject", "")).split()))
        with contextlib.suppress(TypeError, ValueError, IndexError):
            shown.date = parsedate_to_datetime(str(message.get("Date", ""))).isoformat(" ")
        for index, part in enumerate(_leaves(message)):
            if _is_file(part):
                shown.files.append(File(index, _filename(part, index), part.get_content_type(),
                                        len(_payload(part))))
            elif part.get_content_type() == "text/plain":
                shown.texts.append(_text(part).strip("\n"))
            else:
                shown.html.append(index)
        return shown
    except Exception:  # a message the parser cannot take apart: said so, not shown
        return Shown(unreadable=True)


def part(raw: bytes, index: int) -> tuple[Message, bytes] | None:
    """Part `index` and its decoded content; None: no such part."""
    try:
        leaves = _leaves(_parse(raw))
    except Exception:
        return None
    if not 0 <= index < len(leaves):
        return None
    return leaves[index], _payload(leaves[index])


def filename(raw: bytes, index: int) -> str:
    found = part(raw, index)
    return _filename(found[0], index) if found else f"part-{index}"


def html_document(raw: bytes, index: int) -> str | None:
    """Part `index` as a sanitized HTML document for the sandboxed frame; None: it is not an
    HTML part."""
    found = part(raw, index)
    if found is None or found[0].get_content_type() != "text/html" or _is_file(found[0]):
        return None
    cleaned = _CLEANER.clean(_text(found[0]))
    return ("<!doctype html><html><head><meta charset=\"utf-8\">"
            f"<style>{FRAME_STYLE}</style></head><body>{cleaned}</body></html>")
