"""Attachments: judged by their bytes; refused (or stripped, per config) when not allowed.

GIFs are images the style rule strips (animated stickers, emoji art), so they leave before
the attachment rule counts; S/MIME signatures are gone already (strip_signatures).
"""

from __future__ import annotations

import re
from email.message import Message

from relay.config import RulesSettings
from relay.errors import Reject
from relay.pipeline import Parcel
from relay.rules.attachments import is_gif, judge

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


def is_attachment(part: Message) -> bool:
    """A leaf that is not the message's own text: a file, or an image shown inline."""
    if part.is_multipart() or part.get_content_maintype() == "message":
        return False
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    return part.get_content_maintype() != "text"


def shown_name(part: Message) -> str:
    """The file's name for the sender's error message: printable ASCII, and short."""
    name = _UNPRINTABLE.sub("?", part.get_filename() or "")[:60]
    return f'"{name}"' if name else f"an attachment ({part.get_content_type()})"


def _leaves(message: Message) -> list[tuple[Message, Message | None]]:
    """(part, its parent) for every attachment; iterative, like mime_structure."""
    found = []
    stack: list[tuple[Message, Message | None]] = [(message, None)]
    while stack:
        part, parent = stack.pop()
        if part.is_multipart():
            stack.extend((sub, part) for sub in reversed(part.get_payload())
                         if isinstance(sub, Message))
        elif is_attachment(part):
            found.append((part, parent))
    return found


def _as_text(part: Message, data: bytes) -> None:
    """Declare a file that is text by its bytes as text/plain, keeping its name."""
    try:
        data.decode("utf-8")
        charset = "utf-8"
    except UnicodeDecodeError:
        charset = "latin-1"
    name = part.get_param("name")
    part.set_type("text/plain")
    for param in [k for k, _ in (part.get_params() or [])[1:]]:
        part.del_param(param)
    part.set_param("charset", charset)
    if isinstance(name, str):
        part.set_param("name", name)


def _remove(part: Message, parent: Message | None) -> None:
    if parent is None:  # the whole message is the attachment: leave a note instead
        part.set_payload("[attachment removed]\n", "us-ascii")
        part.replace_header("Content-Type", "text/plain; charset=us-ascii")
        for header in ("Content-Disposition", "Content-Transfer-Encoding"):
            del part[header]
        return
    parent.set_payload([p for p in parent.get_payload() if p is not part])


class CheckAttachments:
    name = "check_attachments"

    def __init__(self, rules: RulesSettings) -> None:
        self.rules = rules

    def _refuse(self, parcel: Parcel, part: Message, parent: Message | None, code: str,
                why: str) -> None:
        action = self.rules.action(code)
        if action == "reject":
            raise Reject(code, f"{shown_name(part)} {why}")
        if action == "strip":
            _remove(part, parent)
            parcel.note(code)

    async def __call__(self, parcel: Parcel) -> None:
        kept: list[tuple[Message, Message | None, int]] = []
        for part, parent in _leaves(parcel.message):
            data = part.get_payload(decode=True) or b""
            if is_gif(data) and self.rules.style_emoji != "off":
                if self.rules.style_emoji == "reject":
                    raise Reject("style.emoji", f"{shown_name(part)} is a GIF image")
                _remove(part, parent)
                parcel.note("style.emoji")
                continue
            if self.rules.attachment == "off":
                continue
            verdict = judge(data, part.get_filename() or "", self.rules.attachment_types)
            if verdict.kind is None:
                self._refuse(parcel, part, parent, verdict.code, verdict.why)
                continue
            if verdict.kind == "text" and part.get_content_maintype() != "text":
                _as_text(part, data)  # so the text rules read it like any other text
            kept.append((part, parent, len(data)))
        # In message order: the first file past a limit is the one the sender hears about.
        limit = self.rules.attachment_max_count
        for part, parent, _ in kept[limit:]:
            self._refuse(parcel, part, parent, "attachment.count",
                         f"is one attachment too many (at most {limit} per message)")
        total = 0
        for part, parent, size in kept[:limit]:
            total += size
            if total > self.rules.attachment_max_total:
                self._refuse(parcel, part, parent, "attachment.size",
                             f"takes the attachments over {self.rules.attachment_max_total:,}"
                             " bytes in all")
                total -= size
