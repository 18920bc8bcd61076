"""Limits checked on the raw bytes, before the message is parsed: the parser's time and
memory grow with the header section, the size of one header field, the number of parts and
their nesting, so a message over one of these limits is refused without being parsed. The
number of fields in a header section is limited too: the stages read every field, and a
message of twenty thousand costs seconds however it is read.
(Line length and message size are the SMTP layer's.)

The intake hands the message over with its line ends normalized (relay.message.line_ends).
Lines end as the parser ends them: at CRLF, a bare CR or a bare LF. A boundary is read as
the parser reads it: quoted or not, of any length; one given in RFC 2231 pieces
(boundary*0=...) is not pieced together here, so then every line that starts with "--"
counts as a delimiter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from relay.errors import Reject

# One header field (with its folded lines) past this is refused: the stdlib's header
# parsers take time growing with the square of a value's length, and the relay reads some
# headers many times. 16 KiB holds a References header of some 250 message IDs.
MAX_FIELD = 16_384

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")
_BOUNDARY = re.compile(rb'\bboundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))', re.I)
_PIECES = re.compile(rb"\bboundary\*", re.I)


def _parts(count: int, limit: int) -> Reject:
    return Reject("mime.parts", f"more than {limit} MIME parts")


def too_many_fields(limit: int) -> Reject:
    return Reject("mime.header_count", f"more than {limit} header fields in a header section")


@dataclass
class _Scan:
    """Where a scan of the raw bytes is: in a header block (the message's or a part's) or in
    a body, and the multiparts open around it."""

    max_header: int
    max_parts: int
    max_depth: int
    max_fields: int
    boundaries: set[bytes]
    every_dash_line: bool
    in_header: bool = True
    header_size: int = 0
    field_size: int = 0  # of the current header field, its folded lines included
    fields: int = 0
    delimiters: int = 0
    open_boundaries: list[bytes] = field(default_factory=list)

    def header_line(self, line: bytes, text: bytes) -> None:
        self.header_size += len(line)
        if not text:  # the blank line that ends a header block
            self.in_header = False
            return
        if text[:1] in (b" ", b"\t"):
            self.field_size += len(line)
        else:
            self.field_size, self.fields = len(line), self.fields + 1
            if self.fields > self.max_fields:
                raise too_many_fields(self.max_fields)
        if self.field_size > MAX_FIELD:
            raise Reject("mime.headers", f"a header field is over {MAX_FIELD} bytes")
        if self.header_size > self.max_header and not self.open_boundaries:
            raise Reject("mime.headers", f"the header section is over {self.max_header}"
                         " bytes")

    def dash_line(self, text: bytes) -> None:
        """A body line that starts with "--": a delimiter, if it names a boundary."""
        token = text[2:].rstrip(b" \t")
        closing = token.endswith(b"--")
        name = token[:-2] if closing else token
        if not self.every_dash_line and name not in self.boundaries \
                and token not in self.boundaries:
            return
        self.delimiters += 1
        if self.delimiters > 2 * self.max_parts:
            raise _parts(self.delimiters, self.max_parts)
        self._delimiter(token, name, closing)

    def _delimiter(self, token: bytes, name: bytes, closing: bool) -> None:
        # The open multiparts, outermost first: a delimiter of one ends those inside it.
        opened = self.open_boundaries
        if closing and name in opened:
            del opened[opened.index(name):]
            return
        if token in opened:
            del opened[opened.index(token) + 1:]
        else:
            opened.append(token)
            # A leaf inside is one level deeper than the innermost multipart.
            if len(opened) + 1 > self.max_depth:
                raise Reject("mime.depth", f"MIME parts nested deeper than {self.max_depth}")
        # A part's own header block.
        self.in_header, self.header_size, self.field_size, self.fields = True, 0, 0, 0


def check(raw: bytes, max_header: int, max_parts: int, max_depth: int,
          max_fields: int) -> None:
    """Raise Reject when the header section, a header field, the number of fields in a
    header section (the message's or a part's), the part count or the nesting is over its
    limit."""
    scan = _Scan(max_header, max_parts, max_depth, max_fields,
                 boundaries={a or b for a, b in _BOUNDARY.findall(raw)},
                 every_dash_line=bool(_PIECES.search(raw)))
    for match in _LINE.finditer(raw):
        line = match.group(0)
        if not line:
            break
        text = line.rstrip(b"\r\n")
        if scan.in_header:
            scan.header_line(line, text)
        elif text.startswith(b"--"):  # the rest of a body is not looked at
            scan.dash_line(text)
