"""A normalized view of a text, for matching, that maps back to the text as written.

Obfuscations hide contact details from a plain pattern: full-width letters (NFKC undoes
them), zero-width and other invisible format characters (dropped), HTML entities typed into
plain text (decoded). The rules match on the view; a redaction is applied to the original,
so text around it stays exactly as the author wrote it ("m²" does not become "m2").
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

# What the view changes: an entity, one non-ASCII character, a defanged dot ("[.]") or
# scheme ("hxxps"), or a word written letter by letter ("j o n a s"). ASCII runs map 1:1.
_SPECIAL = re.compile(
    # Letter by letter first, so that full-width letters (full-width "k e n") join up too.
    r"(?<![^\s:\uff1a(\uff08\[「『\"'])(?:[A-Za-z0-9._@/\-\uff0e\uff10-\uff19\uff21-\uff3a"
    r"\uff41-\uff5a][ \u3000]){3,}[A-Za-z0-9._@/\-\uff0e\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
    r"(?![^\s)\uff09:\uff1a,、。])"
    # An entity, whole (possessive: "&notify" is not "&not" and "ify"), unless a query's "="
    # follows: "&region=" is a link's parameter, not "®ion=".
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31}+)(?:;|(?!=))|[^\x00-\x7f]"
    r"|\s?[\[({]\.[\])}]\s?|\bhxxp"
    # "s-t-e-f-f-i", "b_r_u_n_o": one character at a time, joined by dashes or underscores
    r"|(?<![\w\-])(?:[A-Za-z0-9.@]-){4,}[A-Za-z0-9.@](?![\w\-])"
    r"|(?<![\w])(?:[A-Za-z0-9.@]_){2,}[A-Za-z0-9.@](?![\w])"
)
# Letters that show as nothing, and dots of other scripts (NFKC keeps "。" as it is).
_INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u2800\u180e")
_DOTS = frozenset("\u3002\uff61\u2024\u2027\u00b7\u0701\u0702\u06d4\u2e31\ufe52\u30fb\uff65\u318d")
# Cyrillic and Greek letters that look Latin: "gm\u0430il" is still gmail.
_LOOKALIKES = dict(zip("аеорсухіјѕԁһӏкмтвнοαρτνεικΑΒΕΗΙΚΜΝΟΡΤΧΥΖАВЕКМНОРСТХ",
                       "aeopcyxijsdhlkmtbhoaptvetkABEHIKMNOPTXYZABEKMHOPCTX", strict=True))
_DEFANGED = re.compile(r"\s?[\[({]\.[\])}]\s?")
_FOLD = str.maketrans(_LOOKALIKES)


def folded(words: str) -> str:
    """Words of other scripts (or a pattern of them) as the view shows them: "трек" is
    "tpek" there, the look-alike letters read as Latin ones."""
    return words.translate(_FOLD)
# In ASCII text, what each of _SPECIAL's forms cannot do without: an entity's "&", a
# defanged "[." "(." "{.", "hxxp", letters joined by dashes or underscores ("-x-", "_x_"),
# letters spaced out (" x y "). Each starts with a character of its own: found fast.
_CHANGES_ASCII = ("&", "[.", "(.", "{.", "hxxp")
_JOINED = (re.compile(r"-[A-Za-z0-9.@]-"), re.compile(r"_[A-Za-z0-9.@]_"))
_SPACED_OUT = re.compile(r" [A-Za-z0-9._@/\-] [A-Za-z0-9._@/\-] ")


def _may_change_ascii(text: str) -> bool:
    return any(s in text for s in _CHANGES_ASCII) or any(
        p.search(text) for p in _JOINED) or bool(_SPACED_OUT.search(text))


def _normal(token: str) -> str:
    if len(token) > 4 and token[1] in " \u3000" and token[-2] in " \u3000":  # letter by letter
        return unicodedata.normalize("NFKC", token.replace(" ", "").replace("\u3000", ""))
    if len(token) > 4 and token[1] in "-_" and token[-2] in "-_":
        return token[::2]  # joined letter by letter
    if _DEFANGED.fullmatch(token):
        return "."
    if token.lower() == "hxxp":
        return "http"
    if token.startswith("&"):
        if not token.endswith(";") and not token.startswith("&#") \
                and token[1:] not in html.entities.html5:
            return token  # "&notify": no entity, only a legacy one's prefix
        decoded = html.unescape(token)
        if decoded == token:
            return token
        token = decoded
    if unicodedata.category(token[0]) == "Cf" or token in _INVISIBLE:
        return ""  # zero-width, bidi marks, fillers: they hide nothing
    if token in _DOTS:
        return "."
    if token in _LOOKALIKES:
        return _LOOKALIKES[token]
    if token == "\u00a0":
        return " "
    return unicodedata.normalize("NFKC", token)


@dataclass(frozen=True)
class View:
    original: str
    text: str
    # Pieces where the view differs: (view start, view end, original start, original end).
    _starts: tuple[int, ...]
    _pieces: tuple[tuple[int, int, int, int], ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind view[start:end]; a partly covered piece is covered whole."""
        return self._position(start, end=False), self._position(end, end=True)

    def _position(self, at: int, end: bool) -> int:
        i = bisect_right(self._starts, at) - 1
        if i < 0:
            return at
        v_start, v_end, o_start, o_end = self._pieces[i]
        if at == v_start and (end or v_start == v_end):
            return o_end if end and v_start == v_end else o_start
        if at < v_end:  # inside a changed piece
            return o_end if end else o_start
        return o_end + (at - v_end)


def view(text: str) -> View:
    if text.isascii() and not (_may_change_ascii(text) and _SPECIAL.search(text)):
        return View(text, text, (), ())
    out: list[str] = []
    starts: list[int] = []
    pieces: list[tuple[int, int, int, int]] = []
    length = 0
    last = 0
    for match in _SPECIAL.finditer(text):
        token = match.group(0)
        normal = _normal(token)
        if normal == token:
            continue
        out.append(text[last:match.start()])
        length += match.start() - last
        starts.append(length)
        pieces.append((length, length + len(normal), match.start(), match.end()))
        out.append(normal)
        length += len(normal)
        last = match.end()
    out.append(text[last:])
    return View(text, "".join(out), tuple(starts), tuple(pieces))
