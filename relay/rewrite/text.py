"""Edit the text of text/* parts while keeping their charset and transfer encoding.

A part is re-encoded only when its text actually changed, so every other part leaves the
relay byte for byte as it came in.
"""

from __future__ import annotations

import base64
import binascii
import codecs
from collections.abc import Callable
from email.message import Message


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


def edit_text_parts(message: Message, edit: Callable[[str, str], str]) -> int:
    """Apply edit(text, subtype) to every text/* part; returns how many parts changed."""
    changed = 0
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        subtype = part.get_content_subtype()
        charset = _charset(part)
        data = part.get_payload(decode=True) or b""
        try:
            text = data.decode(charset, errors="surrogateescape")
        except UnicodeError:
            charset = "latin-1"
            text = data.decode(charset)
        new = edit(text, subtype)
        if new != text:
            _set_body(part, new.encode(charset, errors="surrogateescape"))
            changed += 1
    return changed


def fold_long_lines(message: Message, limit: int = 998) -> int:
    """Re-encode leaf parts whose lines exceed RFC 5322's 998 octets: quoted-printable for
    text, base64 otherwise. The decoded content stays the same. Returns parts changed."""
    changed = 0
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
        payload = part.get_payload()
        if cte in ("base64", "quoted-printable") or not isinstance(payload, str):
            continue
        if max(map(len, payload.splitlines()), default=0) <= limit:
            continue
        data = part.get_payload(decode=True) or b""
        new = "quoted-printable" if part.get_content_maintype() == "text" else "base64"
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = new
        _set_body(part, data)
        changed += 1
    return changed
