"""Line ends as Postfix 3.9 reads them by default (smtpd_forbid_bare_newline = normalize): a
line ends at a LF, with any CRs before it, and is read as if it ended in CRLF.

Clients send other ends than RFC 5322's CRLF: smtplib.sendmail(..., msg.as_bytes()) sends
bare LF, Postfix's smtp-source sends a file with CRLF lines as CR CR LF. Read as they came,
the readers disagree: Python's parser takes CR CR LF for a line and an empty one (the header
section ends there), dkimpy for a line ending in a CR. So every reader of a message (the
prescan, the parser, the DKIM check) gets it normalized first. A bare CR (not before a LF) is
left alone: it ends no line for SMTP, Postfix or dkimpy, and is refused in a header section.
"""

from __future__ import annotations

import re

_LINE_END = re.compile(rb"\r*\n")
_BARE_EOL = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def normalized(raw: bytes) -> bytes:
    """raw with every line ending in CRLF; raw itself when it already does (no copy of a big
    message)."""
    if raw.count(b"\n") == raw.count(b"\r\n") and b"\r\r\n" not in raw:
        return raw
    return _LINE_END.sub(b"\r\n", raw)


def for_the_wire(data: bytes) -> bytes:
    """data as it may go out: every bare CR or LF a CRLF, and the last line ended with one
    (no copy when it already is)."""
    if not data.count(b"\r") == data.count(b"\n") == data.count(b"\r\n"):
        data = _BARE_EOL.sub(b"\r\n", data)
    return data + b"\r\n" if data and not data.endswith(b"\r\n") else data
