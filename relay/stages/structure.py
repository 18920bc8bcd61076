"""MIME structure: refuse what the scrub could not see into, and what is too deep to walk.

A multipart without a usable boundary, or an attached message in base64, reaches the
rewrite as one opaque string: its headers and addresses would leave unscrubbed. A header
line without a colon pushes the headers after it into the body, unscrubbed too.
"""

from __future__ import annotations

from email import errors
from email.message import Message

from relay.errors import Reject
from relay.pipeline.parcel import Parcel
from relay.pipeline.prescan import too_many_fields

OPAQUE_MESSAGES = ("message/partial", "message/external-body")
# Their content cannot be read, so it cannot be checked or scrubbed.
ENCRYPTED = ("multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime")


# The headers whose parameters every later stage reads through the email package.
_PARAMETERIZED = ("Content-Type", "Content-Disposition")


def _check(part: Message) -> None:
    for name in _PARAMETERIZED:
        try:  # parsed at each read: a charset like 'undefined' makes every read raise
            part.get(name)
        except (UnicodeError, LookupError, ValueError, TypeError, IndexError,
                errors.HeaderParseError):
            raise Reject("mime.malformed", f"a {name} header cannot be read (a parameter's"
                         " charset or encoding is broken)") from None
    kind = part.get_content_type()
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if part.get_content_maintype() == "message" and cte not in ("7bit", "8bit", "binary"):
        raise Reject("mime.malformed", f"an attached {kind} must not be transfer-encoded"
                     " (RFC 2046 5.2.1); attach it as is")
    for defect in part.defects:
        if isinstance(defect, errors.MissingHeaderBodySeparatorDefect):
            raise Reject("mime.malformed", "a header line has no colon; the message cannot be"
                         " read safely")
    if part.get_content_maintype() == "multipart" and not part.is_multipart():
        raise Reject("mime.malformed", f"a {kind} section has no usable boundary")
    if kind in ENCRYPTED:
        raise Reject("mime.encrypted", "encrypted or opaquely signed mail cannot be checked;"
                     " send it unencrypted")
    if kind in OPAQUE_MESSAGES:
        raise Reject("mime.malformed", f"{kind} parts are not accepted")


class MimeStructure:
    name = "mime_structure"

    def __init__(self, max_depth: int, max_parts: int, max_fields: int) -> None:
        self.max_depth = max_depth
        self.max_parts = max_parts
        self.max_fields = max_fields

    async def __call__(self, parcel: Parcel) -> None:
        # Iterative, not Message.walk(): a deep tree must not exhaust the Python stack.
        stack: list[tuple[Message, int]] = [(parcel.message, 1)]
        parts = 0
        while stack:
            part, depth = stack.pop()
            parts += 1
            if depth > self.max_depth:
                raise Reject("mime.depth", f"MIME parts nested deeper than {self.max_depth}")
            if parts > self.max_parts:
                raise Reject("mime.parts", f"more than {self.max_parts} MIME parts")
            # The prescan counted the sections it could find in the raw bytes; an attached
            # message's own header section it takes for body text.
            if len(part) > self.max_fields:
                raise too_many_fields(self.max_fields)
            _check(part)
            if part.is_multipart():
                stack.extend((sub, depth + 1) for sub in part.get_payload()
                             if isinstance(sub, Message))
