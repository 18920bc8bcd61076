"""Edit the text of text/* parts while keeping their charset and transfer encoding.

A part is re-encoded only when its text actually changed, so every other part leaves the
relay byte for byte as it came in.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable, Sequence
from email.message import Message
from email.utils import collapse_rfc2231_value

from relay.message.header_line import reader_text, set_param, set_value
from relay.message.payload import decoded

TEXT_LIKE = ("application/ics",)


def _charset(part: Message) -> str:
    name = part.get_content_charset() or "us-ascii"
    try:
        known = codecs.lookup(name)._is_text_encoding  # 'hex', 'rot13', 'zlib' are not
    except LookupError:
        known = False
    # Unknown or not a charset: a byte-transparent view still finds ASCII text.
    return name if known else "latin-1"


def _set_body(part: Message, data: bytes) -> None:
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if cte == "base64":
        payload = base64.encodebytes(data).decode("ascii")
    elif cte == "quoted-printable":
        payload = binascii.b2a_qp(data, istext=True).decode("ascii")
    else:
        # As the parser stores 8-bit bodies: bytes beyond ASCII as surrogate escapes.
        payload = data.decode("ascii", errors="surrogateescape")
    part.set_payload(payload)


def _file_charset(part: Message, data: bytes) -> str:
    """A file of another declared type that is text by its bytes: its charset parameter if
    it names a text encoding, else UTF-8 when the bytes are UTF-8, else Latin-1."""
    if part.get_param("charset") is not None and (name := _charset(part)) != "latin-1":
        return name
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def edit_text_parts(message: Message, edit: Callable[[str, str], str],
                    text_files: Sequence[Message] = ()) -> int:
    """Apply edit(text, subtype) to every text/* part (and calendar files, which are text by
    another name), and to `text_files` (read as plain text, their declared type kept);
    returns how many parts changed."""
    changed = 0
    files = {id(part) for part in text_files}
    for part in message.walk():
        if part.is_multipart():
            continue
        data = decoded(part)
        if id(part) in files:
            subtype, charset = "plain", _file_charset(part, data)
        elif part.get_content_maintype() == "text" or part.get_content_type() in TEXT_LIKE:
            subtype, charset = part.get_content_subtype(), _charset(part)
        else:
            continue
        try:
            text = data.decode(charset, errors="surrogateescape")
        except UnicodeError:
            charset = "latin-1"
            text = data.decode(charset)
        # The rules read lines as "\n" ends them, whatever the wire used ("user\r\n@host"
        # is one address as surely as "user\n@host"); the edited part goes back with CRLF.
        crlf = "\r\n" in text
        plain = text.replace("\r\n", "\n") if crlf else text
        new = edit(plain, subtype)
        if new != plain:
            if crlf:
                new = new.replace("\n", "\r\n")
            try:
                data = new.encode(charset, errors="surrogateescape")
            except UnicodeEncodeError:  # the edit brought in what the charset lacks
                if subtype == "html":
                    data = new.encode(charset, errors="xmlcharrefreplace")
                else:
                    data = new.encode("utf-8", errors="surrogateescape")
                    if id(part) not in files:  # a file's type has no charset to say so
                        set_param(part, "Content-Type", "charset", "utf-8")
            _set_body(part, data)
            changed += 1
    return changed


def _too_long(text: str, limit: int) -> bool:
    # Only CR and LF end a line on the wire (str.splitlines also splits on \x0b, \x1c...).
    # Octets, not characters: "é" is two in UTF-8 (and one in Latin-1: counting UTF-8 can
    # only re-encode a part that did not need it).
    return any(len(line) > limit // 4 and len(line.encode("utf-8", "surrogateescape")) > limit
               for line in text.replace("\r", "\n").split("\n"))


def _hard_wrap(text: str, limit: int) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line[i:i + limit] for line in lines for i in range(0, len(line) or 1, limit))


def fold_long_lines(message: Message, limit: int = 998) -> int:
    """Re-encode leaf parts whose lines exceed RFC 5322's 998 octets (base64 and
    quoted-printable re-wrapped as such, 7bit/8bit text to quoted-printable, anything else to
    base64): the decoded content stays the same. Returns the parts changed."""
    changed = 0
    for part in message.walk():
        if part.is_multipart():
            for attr in ("preamble", "epilogue"):  # shown by no MIME reader: wrapped
                value = getattr(part, attr)
                if value and _too_long(value, limit):
                    setattr(part, attr, _hard_wrap(value, limit))
            continue
        try:
            payload = part.get_payload()
        except (LookupError, UnicodeError):  # 8-bit text in a charset like "idna": raw bytes
            payload = (part.get_payload(decode=True) or b"").decode("latin-1")
        if part.get_content_maintype() == "message" or not isinstance(payload, str):
            continue
        if not _too_long(payload, limit):
            continue
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        data = decoded(part)
        if cte not in ("base64", "quoted-printable"):
            cte = "quoted-printable" if part.get_content_maintype() == "text" else "base64"
            set_value(part, "Content-Transfer-Encoding", cte)
        _set_body(part, data)
        changed += 1
    return changed


def edit_filenames(part: Message, edit: Callable[[str], str]) -> None:
    """Apply edit(name) to the part's file name, in both places a name is given."""
    for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        # filename*=utf-8''... is percent-encoded, and many clients put RFC 2047 encoded
        # words in quotes instead: the name as the reader sees it (and the scrub wrote it).
        text = reader_text(collapse_rfc2231_value(value))
        new = edit(text)
        if new != text:
            set_param(part, header, param, new)
