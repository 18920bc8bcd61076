"""A part's decoded payload, decoded once while the part's payload stays the same.

Decoding the base64 of a 1 MB attachment takes some 5 ms (the stdlib splits it into lines,
joins them and decodes in Python-level steps), and the card check, the attachment check and
the cleaner each asked for it, as the text stages ask for each text part. decoded() keeps
what part.get_payload(decode=True) returned, for as long as the part lives and holds the same
payload object under the same Content-Transfer-Encoding; a stage that sets a new payload
(or a new encoding) is decoded anew. The defects the stdlib registers at each decode of a
broken base64 payload are registered again at each read, as before.
"""

from __future__ import annotations

from email.errors import MessageDefect
from email.message import Message
from weakref import WeakKeyDictionary

# Larger payloads are decoded at each read as before: keeping a copy of a 20 MB file for the
# whole pipeline would cost more memory than its decoding costs time.
KEEP_UP_TO = 4 * 1024 * 1024

_kept: WeakKeyDictionary[Message, tuple[str, str, bytes, tuple[MessageDefect, ...]]] = (
    WeakKeyDictionary())


def decoded(part: Message) -> bytes:
    """part.get_payload(decode=True) or b"", decoded once per payload."""
    payload = part._payload  # type: ignore[attr-defined]
    if not isinstance(payload, str) or len(payload) > KEEP_UP_TO:
        return part.get_payload(decode=True) or b""
    encoding = str(part.get("content-transfer-encoding", ""))
    kept = _kept.get(part)
    if kept is not None and kept[0] is payload and kept[1] == encoding:
        for defect in kept[3]:
            part.policy.handle_defect(part, defect)  # type: ignore[attr-defined]
        return kept[2]
    before = len(part.defects)
    data = part.get_payload(decode=True) or b""
    _kept[part] = (payload, encoding, data, tuple(part.defects[before:]))
    return data
