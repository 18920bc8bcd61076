"""The prescan reads only header sections and the body lines that start with "--", and finds
boundaries on the bytes made lower case: what reading every line with case-blind regular
expressions found, shown against that reading on generated messages."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from relay.errors import Reject
from relay.pipeline import prescan

# The prescan as it was: every line in turn, boundaries by \b and re.I.
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n|$)")
_BOUNDARY = re.compile(rb'\bboundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))', re.I)
_PIECES = re.compile(rb"\bboundary\*", re.I)


def every_line(raw: bytes, *limits: int) -> None:
    scan = prescan._Scan(*limits, boundaries={a or b for a, b in _BOUNDARY.findall(raw)},
                         every_dash_line=bool(_PIECES.search(raw)))
    for match in _LINE.finditer(raw):
        line = match.group(0)
        if not line:
            break
        text = line.rstrip(b"\r\n")
        if scan.in_header:
            scan.header_line(line, text)
        elif text.startswith(b"--"):
            scan.dash_line(text)


def outcome(check, raw: bytes, limits: tuple[int, ...]) -> tuple[str, str] | None:
    try:
        check(raw, *limits)
    except Reject as refusal:
        return refusal.code, str(refusal)
    return None


PIECES = [b"\r\n", b"\n", b"\r", b"\r\n\r\n", b"--", b"--b", b"--b--", b"--B", b"--a",
          b"--a--", b" ", b"\t", b"x", b"Subject: s", b"X-A: 1", b"Content-Type: multipart/mixed;",
          b" boundary=b", b' BOUNDARY="a"', b" xboundary=a", b"boundary*0=b", b"-Boundary=a",
          b'"', b";", b"=", b"a-boundary=b", b"text"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60),
       st.tuples(st.integers(20, 400), st.integers(1, 6), st.integers(1, 4),
                 st.integers(1, 6)))
def test_the_same_verdict_as_reading_every_line(pieces, limits):
    raw = b"".join(pieces)
    assert outcome(prescan.check, raw, limits) == outcome(every_line, raw, limits)
    lower = raw.lower()
    assert prescan._boundaries(raw, lower) == {a or b for a, b in _BOUNDARY.findall(raw)}
    assert prescan._pieces(lower) == bool(_PIECES.search(raw))


def test_a_delimiter_after_a_bare_cr_and_deep_in_a_long_body_counts():
    head = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    body = b"text line\r\n" * 5000
    parts = b"--b\r\n\r\nx\r--b\r\n\r\ny\r\n" + body + b"--b\n\nz\r\n--b--\r\n"
    # Four delimiters: more than twice one part, not more than twice two.
    for limits, expected in (((10_000, 1, 5, 100), "mime.parts"), ((10_000, 2, 5, 100), None)):
        raw = head + parts
        got = outcome(prescan.check, raw, limits)
        assert got == outcome(every_line, raw, limits)
        assert (got[0] if got else None) == expected
