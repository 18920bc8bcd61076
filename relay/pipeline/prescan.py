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
# Matched on the bytes made lower case (bytes.lower() keeps every offset), which is what
# re.I does for ASCII: a pattern that starts with a literal is found by a fast search, one
# that starts with \b or ignores case is tried at every offset (9 ms for 1 MB). The \b
# before "boundary" is checked by hand (_at_word_start).
_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))')
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


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


def _at_word_start(data: bytes, at: int) -> bool:
    """What \\b asserts before a word character at `at`."""
    return at == 0 or data[at - 1] not in _WORD


def _boundaries(raw: bytes, lower: bytes) -> set[bytes]:
    """Every boundary parameter's value: what re.findall(rb'\\bboundary...', raw, re.I) finds
    (a match that fails the \\b is passed over by one byte, as the search would)."""
    found = set()
    at = 0
    while (match := _BOUNDARY.search(lower, at)) is not None:
        if not _at_word_start(lower, match.start()):
            at = match.start() + 1
            continue
        group = 1 if match.start(1) >= 0 else 2
        found.add(raw[match.start(group):match.end(group)])  # as written, not lowered
        at = match.end()
    return found


def _pieces(lower: bytes) -> bool:
    """A boundary given in RFC 2231 pieces (boundary*0=...): \\bboundary\\*, any case."""
    at = lower.find(b"boundary*")
    while at >= 0 and not _at_word_start(lower, at):
        at = lower.find(b"boundary*", at + 1)
    return at >= 0


class _DashLines:
    """Where the next body line that starts with "--" starts: after a LF, or after a CR (a CR
    before "-" ends a line). Each kind is searched for again only once passed, so a body is
    read once however many delimiters it has."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.lf = raw.find(b"\n--")
        self.cr = raw.find(b"\r--")

    def next(self, at: int) -> int:
        """The first such line starting at `at` (a line start, > 0) or after; -1: none."""
        if 0 <= self.lf < at - 1:
            self.lf = self.raw.find(b"\n--", at - 1)
        if 0 <= self.cr < at - 1:
            self.cr = self.raw.find(b"\r--", at - 1)
        found = [i for i in (self.lf, self.cr) if i >= 0]
        return min(found) + 1 if found else -1


def check(raw: bytes, max_header: int, max_parts: int, max_depth: int,
          max_fields: int) -> None:
    """Raise Reject when the header section, a header field, the number of fields in a
    header section (the message's or a part's), the part count or the nesting is over its
    limit."""
    lower = raw.lower()
    scan = _Scan(max_header, max_parts, max_depth, max_fields,
                 boundaries=_boundaries(raw, lower), every_dash_line=_pieces(lower))
    dash_lines = _DashLines(raw)
    at = 0
    while True:
        if not scan.in_header:  # the rest of a body is not looked at
            at = dash_lines.next(at)
            if at < 0:
                break
        match = _LINE.match(raw, at)
        line = match.group(0) if match is not None else b""
        if not line:
            break
        at += len(line)
        text = line.rstrip(b"\r\n")
        if scan.in_header:
            scan.header_line(line, text)
        else:
            scan.dash_line(text)
