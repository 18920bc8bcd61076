"""What a text rule found, and how a redaction is applied to the text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

CONTACT_MARKER = "[contact details removed]"
LINK_MARKER = "[link removed]"
# When findings overlap, the span is reported under the first of these.
PRIORITY = ("contact.email", "contact.social", "contact.phone", "contact.address",
            "link.external", "style.emoji")


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    code: str


def marker(code: str) -> str:
    if code == "style.emoji":
        return ""  # stripped, not marked: nothing was said
    return LINK_MARKER if code.startswith("link.") else CONTACT_MARKER


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping or touching findings become one, under the most specific code."""
    merged: list[Finding] = []
    for f in sorted(findings):
        if merged and f.start <= merged[-1].end and f.code != "style.emoji" \
                and merged[-1].code != "style.emoji":
            last = merged[-1]
            code = min(last.code, f.code, key=PRIORITY.index)
            merged[-1] = Finding(last.start, max(last.end, f.end), code)
        else:
            merged.append(f)
    return merged


def apply(text: str, findings: list[Finding]) -> str:
    """Replace each (merged, ordered) finding with its marker."""
    out: list[str] = []
    last = 0
    for f in findings:
        if f.start < last:  # an emoji inside a redacted span is gone with it
            continue
        out.append(text[last:f.start])
        out.append(marker(f.code))
        last = f.end
    out.append(text[last:])
    return "".join(out)
