"""contact.email: e-mail addresses, also written to slip past a filter.

"sally@gmail.com", "sally at gmail dot com", "sally [at] gmail [dot] com", "sally(at)web(dot)de",
"sally arroba gmail punto com", "mailto:...". Full-width letters, zero-width characters and
HTML entities are undone by the view first. The relay's own addresses are on-platform.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

_AT_WORDS = r"at|ät|arroba|arobase|chez|klammeraffe|malpa|małpa|chiocciola|apenstaartje"
_DOT_WORDS = r"dot|punkt|point|punto|ponto|kropka|punt|dott"
_OPEN, _CLOSE = r"[(\[{<]", r"[)\]}>]"
# "@" itself, or an at-word in brackets, or an at-word between spaces or dashes.
_AT = (rf"(?:\s?@\s?|\s*{_OPEN}\s*(?:{_AT_WORDS}|@)\s*{_CLOSE}\s*"
       rf"|\s+(?:{_AT_WORDS})\s+|\s*-(?:{_AT_WORDS})-\s*)")
_DOT_SPELLED = (rf"(?:\s*{_OPEN}\s*(?:{_DOT_WORDS}|\.)\s*{_CLOSE}\s*"
                rf"|\s+(?:{_DOT_WORDS})\s+|\s*-(?:{_DOT_WORDS})-\s*)")
_DOT = rf"(?:\.|{_DOT_SPELLED})"
_WORD = r"[a-z0-9_%+\-]+"
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
# Spelled-out forms need a TLD people actually use: "at home. It" is no address.
_TLDS = (r"com|net|org|edu|gov|info|biz|de|fr|uk|es|it|nl|pl|be|ch|at|eu|us|ca|au|jp|in|io|"
         r"co|me|ru|cn|br|mx|se|dk|no|fi|pt|ie|nz|email|mail|online|shop|store|xyz|app|dev")

_PLAIN = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>{_WORD}(?:\.{_WORD})*)\s?@\s?"
    rf"(?P<domain>{_LABEL}(?:\s?\.\s?{_LABEL})*\s?\.\s?[a-z]{{2,24}})(?![a-z0-9\-])",
    re.IGNORECASE,
)
_SPELLED = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>{_WORD}(?:{_DOT}{_WORD})*){_AT}"
    # After a bare "." the TLD must be lower case: "at home.It broke" is a missing space.
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*(?:\.(?-i:{_TLDS})|{_DOT_SPELLED}(?:{_TLDS})))"
    r"(?![a-z0-9\-])",
    re.IGNORECASE,
)
_FILES = {"pdf", "png", "jpg", "jpeg", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
          "eml", "ics"}
# Letter by letter: "j o n a s . k @ w e b . d e".
_SPACED = re.compile(r"(?<!\S)(?:[a-z0-9._\-] ){2,}(?:@|\(at\)|\[at\]) (?:[a-z0-9\-] ?)+"
                     r"\. ?(?:[a-z] ?){1,5}[a-z](?![a-z0-9])", re.IGNORECASE)
_MAILTO = re.compile(r"mailto:(?!\u2591)[^\s<>\"']*", re.IGNORECASE)  # masked: own
_SPACES_AND_DOTS = re.compile(rf"\s+|{_DOT_SPELLED}", re.IGNORECASE)


class EmailRule:
    code = "contact.email"

    def __init__(self, own_domain: str) -> None:
        self.own_domain = own_domain.lower()

    def _own(self, domain: str) -> bool:
        domain = _SPACES_AND_DOTS.sub(".", domain).strip(".").lower()
        # An alias as a file name ("alias@relay.example.pdf") is still the alias.
        head, _, extension = domain.rpartition(".")
        return domain == self.own_domain or (head == self.own_domain and extension in _FILES)

    def own(self, text: str) -> Iterator[tuple[int, int]]:
        """The relay's own addresses: on-platform, never redacted."""
        return ((m.start(), m.end()) for m in _PLAIN.finditer(text)
                if self._own(m.group("domain")))

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        for pattern in (_PLAIN, _SPELLED):
            for m in pattern.finditer(text):
                if not self._own(m.group("domain")):
                    yield m.start(), m.end()
        for m in _SPACED.finditer(text):
            yield m.start(), m.end()
        for m in _MAILTO.finditer(text):
            if not self.own_mailto(m.group(0)):
                yield m.start(), m.end()

    def own_mailto(self, url: str) -> bool:
        """A mailto: link to one of the relay's addresses (and to nobody else besides)."""
        addresses = unquote(url.strip()[7:].split("?")[0]).split(",")
        return all("@" in a and self._own(a.rpartition("@")[2]) for a in addresses)
