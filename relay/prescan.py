"""Limits checked on the raw bytes, before the message is parsed: the parser's time and
memory grow with the header section and the number of parts, so a message over either limit
is refused without being parsed. (Line length and size are the SMTP layer's; nesting depth
is checked on the parsed tree, whose size these limits bound.)"""

from __future__ import annotations

import re

from relay.errors import Reject

_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))', re.I)
_DASHES = re.compile(rb"^--([^\r\n]{1,200})", re.M)


def check(raw: bytes, max_header: int, max_parts: int) -> None:
    """Raise Reject when the header section or the part count is over its limit."""
    end = raw.find(b"\r\n\r\n")
    header = len(raw) if end < 0 else end + 2
    if header > max_header:
        raise Reject("mime.headers", f"the header section is {header} bytes; at most"
                     f" {max_header}", reply="552 5.3.4")
    boundaries = {a or b for a, b in _BOUNDARY.findall(raw)}
    if not boundaries:
        return
    if len(boundaries) > max_parts:
        raise Reject("mime.parts", f"more than {max_parts} MIME parts", reply="550 5.6.0")
    # Every delimiter line of a declared boundary starts a part (or closes a multipart):
    # their count bounds the parts the parser would make.
    delimiters = 0
    for line in _DASHES.finditer(raw):
        token = line.group(1).rstrip(b" \t")
        if token in boundaries or (token.endswith(b"--") and token[:-2] in boundaries):
            delimiters += 1
    if delimiters > 2 * max_parts:
        raise Reject("mime.parts", f"more than {max_parts} MIME parts", reply="550 5.6.0")
