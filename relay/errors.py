"""Dispositions a stage can raise, and the error base every relay error derives from."""

from __future__ import annotations

from typing import Any


class RelayError(Exception):
    """Base of every error the relay raises on purpose."""


class ConfigError(RelayError):
    """Settings are missing or wrong: one line per problem, each naming its key."""

    def __init__(self, *problems: str, config: Any = None) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.config = config  # what could be read of the settings, for check-config


class UsageError(RelayError):
    """Bad input to a command (order ID, address, unknown conversation). `field` names the
    input at fault, for the HTTP API's 400."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(UsageError):
    """No such conversation or message (the API's 404)."""


class StartupError(RelayError):
    """The relay cannot start (port taken, store unreadable); the message says which."""


class Disposition(RelayError):
    """A stage's verdict that ends the pipeline for this message."""


class Reject(Disposition):
    """Permanent refusal: the sender gets a 5xx and the message is recorded as rejected."""

    def __init__(self, code: str, reason: str, reply: str = "550 5.7.1") -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.reply = reply

    @property
    def smtp_reply(self) -> str:
        return f"{self.reply} {self.code}: {self.reason}"


class TempFail(Disposition):
    """Temporary refusal: the sender gets a 4xx and should retry later."""

    def __init__(self, reason: str, reply: str = "451 4.3.0") -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply

    @property
    def smtp_reply(self) -> str:
        return f"{self.reply} {self.reason}"
