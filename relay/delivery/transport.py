"""How a message leaves: the result type and the choice of transport from config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from relay.config import Config


@dataclass(frozen=True)
class Result:
    status: Literal["delivered", "deferred", "failed"]
    detail: str
    status_code: str = ""  # enhanced status for a DSN, e.g. 5.1.1


class Transport(Protocol):
    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result: ...


def make_transport(config: Config) -> Transport:
    if config.delivery.mode == "smtp":
        from relay.delivery.smtp_client import SMTPTransport

        return SMTPTransport(config.delivery)
    from relay.delivery.maildir import MaildirTransport

    return MaildirTransport(config.delivery.maildir)
