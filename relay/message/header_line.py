"""The one place that writes the header values the relay keeps.

A header value a sender wrote can hold line breaks in disguise: an RFC 2047 encoded word
that decodes to CRLF, or to another encoded word that does (the stdlib decodes one level each
time a value is stored, and before 3.11.10/3.12.5 its generator wrote a decoded CRLF raw),
RFC 2231 parameters (filename*=utf-8''%0D%0A...), and characters str.splitlines() ends a line
at (VT, FF, NEL, U+2028...). So the relay never hands a sender's text to the stdlib to store:
it decodes the text fully (reader_text), and writes the header itself, as ASCII lines of its
own making (header_value, mime_value) stored verbatim (Message.set_raw semantics), which the
generator writes as they are whatever the Python patch level.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterable
from email.message import Message
from email.utils import collapse_rfc2231_value

# Headers whose value is free text (RFC 5322 unstructured): the ones a sender's words reach.
FREE_TEXT = ("subject", "content-description")

# Every control character (C0, DEL, C1 with NEL), the Unicode line and paragraph
# separators, and lone surrogates: in a header value each is either a line break to some
# reader or unwritable.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# An RFC 2047 encoded word at least as leniently as the stdlib's parser takes one: anywhere
# in the text (also inside quoted strings and words), any charset. No "?" in the text (the
# stdlib's split would not take one either), which also keeps the search linear.
_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?([^?]*)\?=")
# Adjacent encoded words: the whitespace between them is not part of the text (RFC 2047 6.2).
_RUN = re.compile(rf"{_WORD.pattern}(?:\s+{_WORD.pattern})*")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_SPACES = re.compile(" {2,}")
_Q_BYTE = re.compile(rb"=([0-9A-Fa-f]{2})")
# Decoding only ever shortens the text, so this many rounds end any nesting that fits in a
# header field (prescan.MAX_FIELD); whatever is left is encoded, never written raw.
_ROUNDS = 64
LINE = 78  # RFC 5322's recommended line length
# Encoded text per word: with "=?utf-8?q?" and "?=", 75 characters (RFC 2047 2).
_ROOM = 63
# What Q encoding may leave as it is in any header (RFC 2047 5(3)); space is "_".
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_Q_SAFE = frozenset(_ALNUM + b"!*+-/")
_PCT_SAFE = frozenset(_ALNUM + b"-._~")  # left as they are in RFC 2231 percent-encoding
# A word longer than this is encoded (and so split): the generator refolds a line over 998
# octets itself, parsing it again.
_LONGEST_WORD = 900
TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # an RFC 2045 token


def _as_text(data: bytes, charset: str) -> str:
    name = charset.partition("*")[0]  # RFC 2231 language suffix
    try:
        if not codecs.lookup(name)._is_text_encoding:  # 'hex', 'rot13', 'zlib'...
            raise LookupError(name)
        return data.decode(name, "replace")
    except (LookupError, UnicodeError, ValueError, TypeError):
        # An unknown charset: the stdlib then reads the bytes as ASCII, so a CR or LF in
        # them is one; UTF-8 shows the same ASCII and more of the rest.
        return data.decode("utf-8", "replace")


def _decode_word(match: re.Match[str]) -> str:
    charset, cte, text = match.group(1), match.group(2).lower(), match.group(3)
    raw = text.encode("utf-8", "surrogateescape")
    if cte == "q":
        data = _Q_BYTE.sub(lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"_", b" "))
    else:
        try:
            data = binascii.a2b_base64(raw + b"===")  # the stdlib pads missing '=' too
        except binascii.Error:
            return match.group(0)  # not base64: the stdlib leaves it as it is too
    return _as_text(data, charset)


def _unescape(value: str) -> str:
    """Raw 8-bit header bytes reach Python as surrogate escapes: read them as UTF-8."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # surrogates that are no escaped byte: _UNSAFE takes them
        return value


def _decode_run(match: re.Match[str]) -> str:
    return "".join(_decode_word(m) for m in _WORD.finditer(match.group(0)))


def reader_text(value: str) -> str:
    """The text a reader is shown for a header value, decoded fully and on one line: every
    encoded word decoded, again and again while the result holds encoded words, 8-bit bytes
    read as UTF-8, every control character, line or paragraph separator and lone
    surrogate replaced by a space, and spaces in a row made one.
    reader_text(reader_text(v)) == reader_text(v)."""
    text = _unescape(_FOLD.sub("", value))
    for _ in range(_ROUNDS):
        decoded = _unescape(_RUN.sub(_decode_run, text))
        if decoded == text:
            break
        text = decoded
    return _SPACES.sub(" ", _UNSAFE.sub(" ", text)).strip(" ")


def _q(data: bytes) -> str:
    return "".join("_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in data)


def _word(data: bytes) -> str:
    """One UTF-8 encoded word, Q or B, whichever is shorter (Q keeps ASCII readable)."""
    q = _q(data)
    if len(q) <= 4 * -(-len(data) // 3):
        return f"=?utf-8?q?{q}?="
    return "=?utf-8?b?" + base64.b64encode(data).decode("ascii") + "?="


def _encoded_words(text: str) -> list[str]:
    """text as encoded words of at most 75 characters, split between characters (a word
    must decode on its own, RFC 2047 5)."""
    words: list[str] = []
    chunk = b""
    for char in text:
        data = char.encode("utf-8")
        longer = chunk + data
        if chunk and min(len(_q(longer)), 4 * -(-len(longer) // 3)) > _ROOM:
            words.append(_word(chunk))
            longer = data
        chunk = longer
    if chunk or not words:
        words.append(_word(chunk))
    return words


def _plain(word: str) -> bool:
    """A word that may go out as it is: printable ASCII that no parser decodes, short
    enough (the generator refolds a line over 998 octets itself, parsing it again)."""
    return (word.isascii() and "=?" not in word and "?=" not in word
            and len(word) <= _LONGEST_WORD)


def header_value(text: str, name: str = "Subject") -> str:
    """A free-text header value as the relay writes it: reader_text(text), its words that
    are printable ASCII as they are, runs of the others as UTF-8 encoded words (the spaces
    inside a run encoded too: whitespace between two encoded words is not text, RFC 2047
    6.2); folded into lines of at most 78 characters where a word allows. Parsing it gives
    reader_text(text) back."""
    items: list[str] = []
    run: list[str] = []
    for word in reader_text(text).split(" "):
        if _plain(word):
            if run:
                items += _encoded_words(" ".join(run))
                run = []
            items.append(word)
        else:
            run.append(word)
    if run:
        items += _encoded_words(" ".join(run))
    return _fold(items, len(name) + 2)


def _fold(words: list[str], used: int) -> str:
    """words on lines of at most LINE characters where each fits (a longer one gets a line
    of its own)."""
    lines: list[str] = []
    line = ""
    for word in words:
        if not line and not lines:
            line = word
        elif used + len(line) + 1 + len(word) <= LINE:
            line += " " + word
        else:
            lines.append(line)
            line, used = word, 0
    lines.append(line)
    return "\r\n ".join(lines)


def _param(key: str, value: str) -> list[str]:
    """One MIME parameter as words of a header line: a token as such, other printable ASCII
    quoted, the rest as RFC 2231 UTF-8 percent-encoding in pieces (key*0*=..., key*1*=...)."""
    if TOKEN.fullmatch(value):
        return [f"{key}={value}"]
    if value.isascii() and len(value) <= 60 and "=?" not in value:
        return ['{}="{}"'.format(key, value.replace("\\", "\\\\").replace('"', '\\"'))]
    encoded = "".join(chr(b) if b in _PCT_SAFE else f"%{b:02X}" for b in value.encode("utf-8"))
    pieces = [encoded[i:i + 60] for i in range(0, len(encoded), 60)]
    # Do not cut a %XX escape in two.
    for i in range(len(pieces) - 1):
        cut = pieces[i].rfind("%", len(pieces[i]) - 2)
        if cut >= 0:
            pieces[i + 1] = pieces[i][cut:] + pieces[i + 1]
            pieces[i] = pieces[i][:cut]
    if len(pieces) == 1:
        return [f"{key}*=utf-8''{pieces[0]}"]
    return [f"{key}*{i}*=" + ("utf-8''" if i == 0 else "") + piece
            for i, piece in enumerate(pieces)]


def mime_value(value: str, params: Iterable[tuple[str, str]]) -> str:
    """A Content-Type or Content-Disposition value as the relay writes it: value (a type or
    disposition, already checked by the caller) and params, each parameter's text made
    reader_text first; folded between parameters."""
    made = [w for key, text in params for w in _param(key.lower(), reader_text(text))]
    line = "; ".join([value, *made])
    return line if len(line) <= LINE - len("Content-Disposition: ") else ";\r\n ".join(
        [value, *made])


def params_of(part: Message, header: str) -> list[tuple[str, str]]:
    """The part's parameters of header as (key, text), RFC 2231 pieces joined and decoded."""
    params = part.get_params(header=header) or []
    return [(k, collapse_rfc2231_value(v) if isinstance(v, tuple) else v)
            for k, v in params[1:]]


def replace_all(part: Message, items: list[tuple[str, str]]) -> None:
    """part's header fields become items (name, value as written), in one step. Message has
    no public way to do this but per name (del part[name] reads every field, so a message
    of many names would take their square); _headers is where the stdlib itself keeps them,
    as set_raw() stores them."""
    part._headers = list(items)  # type: ignore[attr-defined]


def set_value(part: Message, name: str, value: str | None) -> None:
    """The field `name` of part becomes one field with value (made by header_value or
    mime_value, or the relay's own), where its first one was (else at the end); None
    removes it. One pass over the fields."""
    items: list[tuple[str, str]] = []
    placed = value is None
    for key, old in part.raw_items():
        if key.lower() != name.lower():
            items.append((key, old))
        elif not placed:
            items.append((key, value))  # type: ignore[arg-type]
            placed = True
    if not placed:
        items.append((name, value))  # type: ignore[arg-type]
    replace_all(part, items)


def set_text(part: Message, name: str, text: str) -> None:
    """The free-text header `name` of part becomes text, written by header_value."""
    set_value(part, name, header_value(text, name))


def set_param(part: Message, header: str, key: str, text: str) -> None:
    """One parameter of part's Content-Type or Content-Disposition set to text, the header
    written anew by mime_value."""
    current = part.get(header)
    if current is None:
        return
    first = (part.get_params(header=header) or [("", "")])[0][0]
    params = [(k, v) for k, v in params_of(part, header) if k.lower() != key.lower()]
    set_value(part, header, mime_value(first, [*params, (key, text)]))
