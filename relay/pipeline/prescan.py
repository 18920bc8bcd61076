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


def check(raw: bytes, max_header: int, max_parts: int, max_depth: int,
          max_fields: int) -> None:
    """Raise Reject when the header section, a header field, the number of fields in a
    header section (the message's or a part's), the part count or the nesting is over its
    limit."""
    boundaries = {a or b for a, b in _BOUNDARY.findall(raw)}
    every_dash_line = bool(_PIECES.search(raw))
    in_header, header_size, field, fields, delimiters = True, 0, 0, 0, 0
    open_boundaries: list[bytes] = []
    for match in _LINE.finditer(raw):
        line = match.group(0)
        if not line:
            break
        text = line.rstrip(b"\r\n")
        if in_header:
            header_size += len(line)
            if not text:  # the blank line that ends a header block
                in_header = False
                continue
            if text[:1] in (b" ", b"\t"):
                field += len(line)
            else:
                field, fields = len(line), fields + 1
                if fields > max_fields:
                    raise too_many_fields(max_fields)
            if field > MAX_FIELD:
                raise Reject("mime.headers", f"a header field is over {MAX_FIELD} bytes")
            if header_size > max_header and not open_boundaries:
                raise Reject("mime.headers", f"the header section is over {max_header}"
                             " bytes")
            continue
        if not text.startswith(b"--"):
            continue
        token = text[2:].rstrip(b" \t")
        closing = token.endswith(b"--")
        name = token[:-2] if closing else token
        if not every_dash_line and name not in boundaries and token not in boundaries:
            continue
        delimiters += 1
        if delimiters > 2 * max_parts:
            raise _parts(delimiters, max_parts)
        # The open multiparts, outermost first: a delimiter of one ends those inside it.
        if closing and name in open_boundaries:
            del open_boundaries[open_boundaries.index(name):]
            continue
        if token in open_boundaries:
            del open_boundaries[open_boundaries.index(token) + 1:]
        else:
            open_boundaries.append(token)
            # A leaf inside is one level deeper than the innermost multipart.
            if len(open_boundaries) + 1 > max_depth:
                raise Reject("mime.depth", f"MIME parts nested deeper than {max_depth}")
        in_header, header_size, field, fields = True, 0, 0, 0  # a part's own header block
