"""Attachments: judged by their bytes; refused (or stripped, per config) when not allowed.

GIFs are images the style rule strips (animated stickers, emoji art), so they leave before
the attachment rule counts; S/MIME signatures are gone already (strip_signatures).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from functools import partial
from urllib.parse import unquote

from relay.config import RulesSettings
from relay.message.header_line import reader_text
from relay.message.payload import decoded
from relay.pipeline.decide import act
from relay.pipeline.parcel import Parcel
from relay.rules.attachments import is_gif, judge
from relay.rules.ooxml import Limits

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")
# One parameter of a raw Content-Type / Content-Disposition value: key=token or key="quoted".
_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_SECTION = re.compile(r"(name|filename)\*(\d+)(\*?)")
_NAME_KEYS = ("name", "filename")


def _decoded_word(value: str) -> str:
    """A name sent as RFC 2047 encoded words, as a reader is shown it: decoded fully (nested
    words too), a malformed word left as written, never an exception."""
    return reader_text(value) if "=?" in value else value


def _extended(value: str, charset: str | None = None) -> str:
    """An RFC 2231 extended value: charset'language'percent-encoded (the first section
    carries the charset, later ones are only percent-encoded)."""
    if charset is None:
        charset, _, rest = value.partition("'")
        _, _, value = rest.partition("'")
    try:
        return unquote(value, encoding=charset or "us-ascii", errors="replace")
    except LookupError:
        return unquote(value, encoding="latin-1")


def _names_in(value: str) -> list[str]:
    """Every file name a raw header value gives, as each kind of client would read it: plain
    name=/filename= (every one, when repeated), the RFC 2231 name*= and name*0*=... forms."""
    # Bytes that were no UTF-8 arrive as lone surrogates, which no codec takes back.
    value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    value = re.sub(r"\r?\n[ \t]", " ", value)
    names: list[str] = []
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for key, raw in _PARAM.findall(value):
        key = key.lower()
        text = raw.strip()
        if text.startswith('"'):
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        if key in _NAME_KEYS:
            names.append(_decoded_word(text))
        elif key.endswith("*") and key[:-1] in _NAME_KEYS:
            names.append(_extended(text))
        elif (section := _SECTION.fullmatch(key)) is not None:
            pieces = sections.setdefault(section.group(1), {})
            pieces.setdefault(int(section.group(2)), (text, bool(section.group(3))))
    for pieces in sections.values():
        charset = None
        joined = ""
        for number in sorted(pieces):
            text, extended = pieces[number]
            if extended and number == 0 and text.count("'") >= 2:
                charset, _, rest = text.partition("'")
                text = rest.partition("'")[2]
            joined += _extended(text, charset or "us-ascii") if extended else text
        names.append(joined)
    return names


def part_names(part: Message) -> list[str]:
    """Every name the part gives its file, in header order, each once. A client may show
    any of them (Outlook goes by Content-Type name, others by the filename), so each must
    pass."""
    found: list[str] = []
    for header, value in part.raw_items():
        if header.lower() in ("content-type", "content-disposition"):
            found += _names_in(str(value))
    found += [n for n in (part.get_filename(), part.get_param("name")) if isinstance(n, str)]
    names: list[str] = []
    for name in found:
        name = name.strip()
        if name and name not in names:
            names.append(name)
    return names


def is_attachment(part: Message) -> bool:
    """A leaf that is not the message's own text: a file, or an image shown inline."""
    if part.is_multipart() or part.get_content_maintype() == "message":
        return False
    if part.get_content_disposition() == "attachment" or part_names(part):
        return True
    return part.get_content_maintype() != "text"


def _quoted(name: str) -> str:
    return '"' + _UNPRINTABLE.sub("?", name)[:60] + '"'


def shown_name(part: Message) -> str:
    """The file's name for the sender's error message: printable ASCII, and short."""
    name = part.get_filename() or next(iter(part_names(part)), "")
    return _quoted(name) if name else f"an attachment ({part.get_content_type()})"


def leaves(message: Message, keep: Callable[[Message], bool] = is_attachment,
           ) -> list[tuple[Message, Message | None]]:
    """(part, its parent) for every leaf part `keep` takes (default: the attachments), in
    order; iterative, like mime_structure."""
    found = []
    stack: list[tuple[Message, Message | None]] = [(message, None)]
    while stack:
        part, parent = stack.pop()
        if part.is_multipart():
            stack.extend((sub, part) for sub in reversed(part.get_payload())
                         if isinstance(sub, Message))
        elif keep(part):
            found.append((part, parent))
    return found


def remove(part: Message, parent: Message | None) -> None:
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
        self.limits = Limits(rules.attachment_max_ratio, rules.attachment_max_unpacked)

    def _refuse(self, parcel: Parcel, part: Message, parent: Message | None, code: str,
                why: str, name: str = "") -> None:
        act(parcel, self.rules, code, f"{_quoted(name) if name else shown_name(part)} {why}",
            strip=partial(remove, part, parent))

    async def __call__(self, parcel: Parcel) -> None:
        kept: list[tuple[Message, Message | None, int]] = []
        for part, parent in leaves(parcel.message):
            data = decoded(part)
            if is_gif(data) and self.rules.style_emoji != "off":
                act(parcel, self.rules, "style.emoji", f"{shown_name(part)} is a GIF image",
                    strip=partial(remove, part, parent))
                continue
            if self.rules.attachment == "off":
                continue
            verdict = judge(data, part_names(part), self.rules.attachment_types, self.limits)
            if verdict.kind is None:
                self._refuse(parcel, part, parent, verdict.code, verdict.why, verdict.name)
                continue
            if verdict.kind == "text" and part.get_content_maintype() != "text":
                parcel.text_files.append(part)  # the text rules read it; its type stays
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
