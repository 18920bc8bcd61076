"""Reading a delivery status notification (RFC 3464) that came back to a VERP address.

The report is found by its type wherever it sits in the MIME tree; remote servers put it
at different positions, and some wrap the whole report in another multipart.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")


@dataclass(frozen=True)
class RecipientStatus:
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1
    diagnostic: str


def _split(text: str) -> list[Message]:
    text = text.replace("\r\n", "\n")
    return [HeaderParser().parsestr(block) for block in text.split("\n\n") if block.strip()]


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if not isinstance(payload, list):
        raw = part.get_payload(decode=True)
        return _split(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(payload))
    # The stdlib splits message/delivery-status into its blocks, but reads
    # message/global-delivery-status as one enclosed message: the per-message block as its
    # headers and every per-recipient block in its body.
    found: list[Message] = []
    for block in payload:
        if isinstance(block, Message):
            found.append(block)
            body = block.get_payload()
            if isinstance(body, str) and body.strip():
                found += _split(body)
    return found


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def statuses(message: Message) -> list[RecipientStatus]:
    """Every per-recipient status of every report in the message (empty: not a DSN)."""
    found = []
    for part in message.walk():
        if part.get_content_type() not in REPORT_TYPES:
            continue
        for block in _blocks(part):
            action = _field(block, "Action").lower()
            if not action:
                continue  # the per-message block (Reporting-MTA, Arrival-Date)
            diagnostic = _field(block, "Diagnostic-Code")
            kind, semi, text = diagnostic.partition(";")  # "smtp; 550 5.1.1 ..."
            diagnostic = text if semi else kind
            found.append(RecipientStatus(action, _field(block, "Status") or "5.0.0",
                                         diagnostic.strip()))
    return found
