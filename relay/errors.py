"""Dispositions a stage can raise, and the error base every relay error derives from."""

from __future__ import annotations

from typing import Any

from relay import replies


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


class StoreUnavailable(StartupError):
    """The store's database server does not answer (or refuses the login) at start-up:
    exit 2, like a config error, since the settings name it."""


class Disposition(RelayError):
    """A stage's verdict that ends the pipeline for this message."""


class Reject(Disposition):
    """Permanent refusal: the sender gets a 5xx and the message is recorded as rejected.
    The stage names the reason; relay.replies says how it is answered."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    @property
    def smtp_reply(self) -> str:
        return replies.refusal(self.code, self.reason)


class TempFail(Disposition):
    """Temporary refusal: the sender gets a 4xx and should retry later."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    @property
    def smtp_reply(self) -> str:
        return replies.temporary(self.code, self.reason)
