"""How a message leaves: the result of one try and what every transport offers.

The transports (maildir, smtp_client) import this module; the relay chooses one from its
config (relay.server)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Result:
    status: Literal["delivered", "deferred", "failed"]
    detail: str
    status_code: str = ""  # enhanced status for a DSN, e.g. 5.1.1


class Transport(Protocol):
    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result: ...
