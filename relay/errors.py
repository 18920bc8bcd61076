"""Dispositions a stage can raise, and the error base every relay error derives from."""

from __future__ import annotations


class RelayError(Exception):
    """Base of every error the relay raises on purpose."""


class ConfigError(RelayError):
    """A setting is missing or wrong; the message is one line naming the key."""


class UsageError(RelayError):
    """Bad input to a command (order ID, address, unknown conversation)."""


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
