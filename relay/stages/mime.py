"""Encode: the message as it goes on the wire, CRLF only, with scrubbed trace lines.

Incoming Received lines name hosts, so they are dropped; but each hop is replaced by a
Received line that names only the relay, so the hop count survives and a mail loop through
the relay (or any MTA counting hops) still ends.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from email.generator import NLCRE, BytesGenerator
from email.message import Message
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Any

from relay.delivery.dkim_sign import Signer
from relay.errors import RelayError
from relay.message import line_ends
from relay.message.text_parts import fold_long_lines
from relay.pipeline.parcel import Parcel

# A header field as it may go out: its name, then lines that each continue it (CRLF, then
# whitespace and something that is not whitespace), each line ending in CRLF.
_SOUND = re.compile(rb"[!-9;-~]+:[^\r\n]*(?:\r\n[ \t]+[^\r\n \t][^\r\n]*)*\r\n")


_FOLDED = "_relay_folded"  # a header object's folds, by name and the settings that shape them


class UnsoundHeader(RelayError):
    """A header field would have gone out as more than one field, or ended the header
    section early: a bug in what wrote it (relay.message.header_line writes every field the
    relay keeps); the message is not sent."""


class SoundHeaders(EmailPolicy):
    """The wire policy, with every header field checked as the generator writes it, in
    every part, whatever the Python patch level (the stdlib does the same since
    3.11.10/3.12.5: verify_generated_headers)."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        # A header object (the From, To and Reply-To the relay writes, made once per
        # conversation) is immutable, and its fold depends on these settings alone: kept on
        # the object, it is not folded again for every message (0.05 ms each).
        kept = getattr(value, "__dict__", None) if hasattr(value, "name") else None
        key = (name, self.max_line_length, self.linesep, self.utf8, self.cte_type)
        if kept is not None and (folded := kept.get(_FOLDED, {}).get(key)) is not None:
            return folded  # type: ignore[no-any-return]
        folded = super().fold_binary(name, value)
        if (not _SOUND.fullmatch(folded)
                or folded[:len(name) + 1].lower() != name.encode("ascii", "replace").lower()
                + b":"):
            raise UnsoundHeader(f"header field {name!r} would not go out as one field")
        if kept is not None:
            kept.setdefault(_FOLDED, {})[key] = folded
        return folded


# Long header lines are left whole (RFC 5322 allows 998): the stdlib folds a Subject that
# starts with a bracket before its first word ("Subject:" CRLF " [x] ..."), and readers
# then see a leading space.
WIRE = SoundHeaders(linesep="\r\n", max_line_length=998)
WIRE_UTF8 = WIRE.clone(utf8=True)


def needs_utf8(parcel: Parcel) -> bool:
    return parcel.envelope.smtputf8 or not (
        parcel.recipient.isascii() and parcel.author_alias.isascii()
    )


class _Generator(BytesGenerator):
    """The stdlib's BytesGenerator, writing a text's lines in one piece rather than two
    writes a line, and drawing a multipart boundary without compiling a regular expression
    for it when it does not occur in the text at all: the same bytes."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            self.write(NLCRE.sub(self._NL, lines))

    @classmethod
    def _make_boundary(cls, text: Any = None) -> str:
        boundary: str = super()._make_boundary()  # the random one, as the stdlib draws it
        if text is None:
            return boundary
        chosen, counter = boundary, 0
        while True:
            dashed = "--" + chosen
            if (dashed.encode("ascii") if isinstance(text, bytes) else dashed) not in text:
                return chosen  # then the stdlib's search below finds nothing either
            if not cls._compile_re("^--" + re.escape(chosen) + "(--)?$",
                                   re.MULTILINE).search(text):
                return chosen
            chosen = f"{boundary}.{counter}"
            counter += 1


def to_wire(message: Message, utf8: bool) -> bytes:
    out = io.BytesIO()
    wire = WIRE_UTF8 if utf8 else WIRE
    # The generator reads the message through its own policy while it writes: with the
    # message's header factory (relay.message.parsed), what the stages parsed is not again.
    factory = getattr(message.policy, "header_factory", None)
    if factory is not None:
        wire = wire.clone(header_factory=factory)
    _Generator(out, mangle_from_=False, policy=wire).flatten(message)
    return line_ends.for_the_wire(out.getvalue())  # no bare CR or LF ever goes out


def trace_lines(domain: str, queue_id: str, earlier_hops: int) -> bytes:
    when = format_datetime(datetime.now(UTC))
    ours = f"Received: by {domain} (relay) with ESMTP id {queue_id};\r\n\t{when}\r\n"
    earlier = f"Received: by {domain} (earlier hop, details removed);\r\n\t{when}\r\n"
    return (ours + earlier * earlier_hops).encode("ascii")


class Encode:
    name = "encode"

    def __init__(self, domain: str, signer: Signer | None = None) -> None:
        self.domain = domain
        self.signer = signer

    async def __call__(self, parcel: Parcel) -> None:
        fold_long_lines(parcel.message)
        parcel.smtputf8_out = needs_utf8(parcel)
        body = to_wire(parcel.message, parcel.smtputf8_out)
        wire = trace_lines(self.domain, parcel.id, parcel.hops) + body
        # Signed last, over the very bytes that are recorded and sent.
        parcel.delivered = (self.signer.header(wire) + wire) if self.signer else wire
