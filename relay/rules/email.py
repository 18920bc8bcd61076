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
# In spelled-out forms a hyphen is either inside a word or part of "-dot-"/"-at-", never
# both: the engine then has one way to read "a-dot-a-dot-...", not exponentially many.
_NOT_SEPARATOR = rf"-(?!(?:{_AT_WORDS}|{_DOT_WORDS})-)"
_WORD_S = rf"[a-z0-9_%+]++(?:{_NOT_SEPARATOR}[a-z0-9_%+]++)*+"
_LABEL_S = rf"[a-z0-9]++(?:{_NOT_SEPARATOR}[a-z0-9]++)*+"
# Spelled-out forms need a TLD people actually use: "at home. It" is no address.
_TLDS = (r"com|net|org|edu|gov|info|biz|de|fr|uk|es|it|nl|pl|be|ch|at|eu|us|ca|au|jp|in|io|"
         r"co|me|ru|cn|br|mx|se|dk|no|fi|pt|ie|nz|email|mail|online|shop|store|xyz|app|dev")

_TLDS_NO_WORDS = (r"com|net|org|edu|gov|info|biz|de|fr|uk|es|nl|pl|ch|eu|ca|au|jp|ru|cn|br|mx|se|"
                  r"dk|fi|pt|ie|nz|io|fm|email|online|shop|store|xyz|app|dev")
_PLAIN = re.compile(
    rf"(?<![a-z0-9._%+\-])(?P<local>{_WORD}(?:\.{_WORD}){{0,10}})\s?@\s?"
    rf"(?P<domain>{_LABEL}(?:\s?\.\s?{_LABEL}){{0,8}}\s?\.\s?[a-z]{{2,24}})(?![a-z0-9\-])",
    re.IGNORECASE,
)
_SPELLED = re.compile(
    # Bounded repeats: a run of "x dot x dot ..." must not cost quadratic time.
    rf"(?<![a-z0-9._%+\-])(?P<local>{_WORD_S}(?:{_DOT}{_WORD_S}){{0,6}}){_AT}"
    # After a bare "." the TLD must be lower case: "at home.It broke" is a missing space;
    # a spaced " . " only before a TLD that is no word; after "(dot)" any TLD will do.
    rf"(?P<domain>(?!www\.){_LABEL_S}(?:(?:{_DOT}|\s\.\s?){_LABEL_S}){{0,6}}"
    rf"(?:\.(?-i:{_TLDS})|\s\.\s?(?-i:{_TLDS_NO_WORDS})|{_DOT_SPELLED}[a-z]{{2,6}}))"
    r"(?![a-z0-9\-/])",  # "me at t.me/sally" is a link, not an address
    re.IGNORECASE,
)
_FILES = {"pdf", "png", "jpg", "jpeg", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
          "eml", "ics"}
# Described in words: "saoirse.quill, then the at sign, then gmail.com".
_DESCRIBED = re.compile(
    r"(?<![\w.+\-])[\w.+\-]{3,64}+[\s,;:]+(?:(?:and\s+)?then\s+|followed\s+by\s+)?(?:the\s+|an?\s+)?"
    r"(?:at[\s-]?sign|at[\s-]?symbol|@[\s-]?sign|at\s+character|klammeraffe|arroba|arobase)"
    r"[\s,;:]+(?:(?:and\s+)?then\s+|followed\s+by\s+)?(?:the\s+domain\s+)?"
    r"[\w\-]+(?:\s?\.\s?[\w\-]+){1,6}",
    re.IGNORECASE,
)
_MAILTO = re.compile(r"mailto:(?!\u2591)[^\s<>\"']*", re.IGNORECASE)  # masked: own
# Cheap test for text where no spelled-out address can be: no dot-word, no ".tld".
_MAY_SPELL = re.compile(rf"\b(?:{_DOT_WORDS})\b|\.\s?(?:{_TLDS})\b|{_OPEN}\s*\.\s*{_CLOSE}",
                        re.IGNORECASE)
_SPACES_AND_DOTS = re.compile(rf"\s+|{_DOT_SPELLED}", re.IGNORECASE)


def _file_extension(domain: str) -> int:
    """Length of a file extension glued to an address ("bob@mail.example.pdf"), or 0."""
    head, _, extension = domain.rpartition(".")
    return len(extension) + 1 if extension.lower() in _FILES and "." in head else 0


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
        patterns = [_PLAIN] if "@" in text else []
        if _MAY_SPELL.search(text):
            patterns.append(_SPELLED)
        for pattern in patterns:
            for m in pattern.finditer(text):
                if not self._own(m.group("domain")):
                    yield m.start(), m.end() - _file_extension(m.group("domain"))
        for m in _DESCRIBED.finditer(text):
            yield m.start(), m.end()
        for m in _MAILTO.finditer(text):
            if not self.own_mailto(m.group(0)):
                yield m.start(), m.end()

    def own_mailto(self, url: str) -> bool:
        """A mailto: link to one of the relay's addresses (and to nobody else besides)."""
        addresses = unquote(url.strip()[7:].split("?")[0]).split(",")
        return all("@" in a and self._own(a.rpartition("@")[2]) for a in addresses)
