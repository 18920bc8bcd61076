"""style.emoji: emoji and pictographs, stripped from text, HTML and the Subject.

Extended_Pictographic characters and emoji presentation sequences go whole: skin tones,
variation selectors, ZWJ families, flags (regional indicator pairs), tags and keycaps. The
three signs that are text by default (©, ®, ™) stay unless an emoji selector follows them.
"""

from __future__ import annotations

from collections.abc import Iterator

import regex

_MODIFIERS = r"(?:[\uFE0E\uFE0F\U0001F3FB-\U0001F3FF\U000E0020-\U000E007F\u20E3])*"
_PICTO = r"(?:\p{Extended_Pictographic}|\p{Emoji_Presentation})"
_EMOJI = regex.compile(
    rf"[0-9#*]\uFE0F?\u20E3"
    rf"|\p{{Regional_Indicator}}{{1,2}}"
    rf"|{_PICTO}{_MODIFIERS}(?:\u200D{_PICTO}{_MODIFIERS})*"
    r"|[\U0001F3FB-\U0001F3FF]"
)
_TEXT_SIGNS = frozenset("©®™")


class EmojiRule:
    code = "style.emoji"

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        if text.isascii():
            return
        for m in _EMOJI.finditer(text):
            if m.group(0) in _TEXT_SIGNS:
                continue
            yield m.start(), m.end()


def separators(text: str) -> str:
    """The text with each emoji replaced by spaces of the same length (a keycap keeps its
    digit): what the contact rules read, so an emoji between digits separates them."""
    def blank(m: regex.Match[str]) -> str:
        token = m.group(0)
        if token in _TEXT_SIGNS:
            return token
        if token[0] in "0123456789#*" and token.endswith("\u20e3"):
            return token[0] + " " * (len(token) - 1)
        return " " * len(token)

    return _EMOJI.sub(blank, text)
