"""link.external: only https links to allowed hosts survive.

Allowed: the relay's domain, the marketplace's, the carriers' tracking sites (config), and
their subdomains. Removed: http and other schemes (data:, javascript:, ftp:), other hosts,
bare "www." hosts and bare domains ("sallyshop.com/deals", "bit.ly/3xYz"), links with user
info ("https://ups.com@evil.example/") or an unusual port.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from relay.rules.needs import Gated, Gates

# A full stop may end the sentence right before the link ("…2345。https://…" in CJK text,
# which the view reads as "2345.https://").
_SCHEMED = Gated(re.compile(
    r"(?<![a-z0-9+\-])(?:(?:https?|ftps?|sftp|file|ws|wss)://|(?:https?|ftp):/*|https?//"
    r"|(?<![:/\w])//(?=[a-z0-9\-]+\.[a-z])"
    r"|data:(?=[a-z]+/|[,;])|(?:javascript|vbscript|jar|intent|itms-services):(?=\S))"
    r"[^\s<>\"'`]*",
    re.IGNORECASE,
))
_TLDS = (
    "com|net|org|info|biz|io|co|de|uk|fr|es|it|nl|pl|be|ch|at|eu|us|ca|au|jp|in|ru|cn|br|mx|"
    "se|dk|no|fi|pt|ie|nz|me|ly|gl|gd|tv|cc|to|ws|shop|store|online|site|xyz|app|dev|link|"
    "page|club|top|live|world|email|click|website|space|tech|blog|gg|so|su|ai|sh|vip|one|art|"
    "cz|sk|hu|ro|gr|tr|ua|il|za|ar|cl|pe|kr|tw|hk|sg|my|th|vn|id|ph|lt|lv|ee|si|hr|rs|bg|lu|"
    "is|ae|sa|eg|ng|ke|ma|pk|bd|lk|np|nu|la|fm|am|ly|im|je|gg|tk|ml|ga|cf|gq|icu|buzz|today|"
    # More countries' domains (not "al", "et", "do", "by": Latin and English words after a dot)
    "gle|ge|uz|kz|az|mn|kg|tj|ir|iq|jo|lb|qa|kw|om|bh|gh|tz|ug|rw|sn|ci|cm|dz|tn|mk|ba|md|"
    "ec|bo|py|uy|ve|gt|cr|hn|cu|pr|mu|mt|cy|af|mm|kh|mo|bz|tt|jm|zw|zm|na|bw|mz|ao"
)
# Bare hosts; the TLD in lower case, so "broken.It arrived" (a missing space) stays: a text
# without a "." before a lower-case letter has none.
_BARE = Gated(re.compile(
    r"(?<![a-z0-9@.\-_/:])(?:www\.)?(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+"
    rf"(?-i:{_TLDS})(?![a-z0-9\-_@])(?::[0-9]{{1,5}})?(?:[/?#][^\s<>\"'`]*)?",
    re.IGNORECASE,
), re.compile(r"\.[a-z]"))
_WWW = Gated(re.compile(r"(?<![a-z0-9.\-_/:@])www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)*[^\s<>\"'`]*",
                        re.IGNORECASE))
# Spelled out: "mycandles dot com slash winter".
_SPELLED = Gated(re.compile(
    r"(?<![a-z0-9\-])[a-z0-9][a-z0-9\-]*+(?:\s+dot\s+[a-z0-9\-]+){0,4}\s+dot\s+(?:com|net|org|shop|store|de|"
    r"co\s+dot\s+uk|uk|fr|es|it|nl|io|me|co|info|biz)\b(?:\s+slash\s+[a-z0-9\-_]+){0,6}",
    re.IGNORECASE,
))
# Spaced out: "www . houtatelier . nl", "t . me / brightforge".
_SPACED = Gated(re.compile(
    r"(?<![a-z0-9\-.])(?:www|[a-z0-9][a-z0-9\-]*+)(?:\s?\.\s?[a-z0-9\-]+){0,4}\s\.\s?"
    r"(?-i:com|net|org|de|nl|fr|uk|es|shop|store|io|info|biz|eu|ch|pl|me|ly)\b"
    r"(?:\s?/\s?[\w\-.]+){0,6}",
    re.IGNORECASE,
))
_TRAILING = ".,;:!?'\")]}>*"
_GATES = Gates(_SCHEMED, _BARE, _WWW, _SPELLED, _SPACED)


def _trim(url: str) -> str:
    """Sentence punctuation after a link is not part of it; a closing bracket is when the
    link opened one (Wikipedia-style paths)."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


class LinkRule:
    code = "link.external"

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.allowed = frozenset(h.lower().rstrip(".") for h in allowed_hosts if h)

    def host_allowed(self, host: str) -> bool:
        """The host or one of its parent domains is listed: a set lookup per label, since
        the default list holds hundreds of carriers."""
        labels = host.lower().rstrip(".").split(".")
        return any(".".join(labels[i:]) in self.allowed for i in range(len(labels)))

    def allowed_url(self, url: str) -> bool:
        """An https URL to an allowed host, with no user info and the default port."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            return False
        if parts.scheme.lower() != "https" or parts.username is not None or "\\" in url:
            return False
        return port in (None, 443) and self.host_allowed(parts.hostname or "")

    def _bare_allowed(self, text: str) -> bool:
        """A bare mention of an allowed site ("ups.com", "posten.no/sporing") leads nowhere
        else, as its https link would not. A port or user info makes it another site."""
        host = re.split(r"[/?#]", text, maxsplit=1)[0]
        return ":" not in host and "@" not in host and self.host_allowed(host)

    def _links(self, text: str) -> Iterator[tuple[int, int, bool]]:
        """Every link: its span and whether it may stay."""
        _GATES.ask(text)
        taken: list[tuple[int, int]] = []
        for m in _SCHEMED.finditer(text) if ":" in text or "//" in text else ():
            url = _trim(m.group(0))
            taken.append((m.start(), m.start() + len(url)))
            yield m.start(), m.start() + len(url), self.allowed_url(url)
        if "dot" in text.lower():
            for m in _SPELLED.finditer(text):
                yield m.start(), m.end(), False
        if " ." in text:
            for m in _SPACED.finditer(text):
                yield m.start(), m.end(), False
        for pattern in (_WWW, _BARE):
            for m in pattern.finditer(text):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                bare = _trim(m.group(0))
                taken.append((m.start(), m.start() + len(bare)))
                yield m.start(), m.start() + len(bare), self._bare_allowed(bare)

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        return ((s, e) for s, e, ok in self._links(text) if not ok)

    def allowed_spans(self, text: str) -> Iterator[tuple[int, int]]:
        return ((s, e) for s, e, ok in self._links(text) if ok)
