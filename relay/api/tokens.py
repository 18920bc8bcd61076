"""API bearer tokens: random strings handed out once, kept in config only as SHA-256.

A token is 256 random bits, so one unsalted SHA-256 is enough: there is nothing to guess
from the hash. Config entries read "SCOPE sha256:HEX"; SCOPE is admin (everything), metrics
(only /metrics) or seller:ADDRESS (that seller's conversations and messages).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from relay.errors import ConfigError, UsageError
from relay.marketplace.conversations import address_key, normalize_address

PREFIX = "rly_"
_ENTRY = re.compile(r"^(admin|metrics|seller:(?P<seller>\S+))\s+sha256:(?P<hex>[0-9a-f]{64})$")


@dataclass(frozen=True)
class Principal:
    scope: str  # "admin", "metrics" or "seller"
    seller: str | None = None  # the seller's address, for scope "seller"

    def owns(self, sellers: tuple[str, ...]) -> bool:
        """Whether a conversation with these registered sellers is this principal's."""
        if self.scope == "admin":
            return True
        return self.seller is not None and address_key(self.seller) in {
            address_key(s) for s in sellers}


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def entry(scope: str, token: str) -> str:
    """The config line for a token: what `relay api token` prints."""
    return f"{scope} sha256:{digest(token)}"


def _parse(text: str, domain: str, position: int = 0) -> tuple[str, Principal]:
    found = _ENTRY.match(text.strip())
    if found is None:
        # Never echoed: an operator who pasted the token itself would see it in the log.
        hint = " (it looks like a token itself: give its entry from `relay api token`)" \
            if PREFIX in text else ""
        raise ConfigError(f"api.tokens: entry {position + 1} is not 'admin|metrics|"
                          f"seller:ADDRESS sha256:<64 hex>'{hint}")
    seller = found.group("seller")
    if seller is None:
        return found.group("hex"), Principal(found.group(1))
    try:
        address = normalize_address(seller, domain)
    except UsageError as exc:
        raise ConfigError(f"api.tokens: seller scope: {exc}") from None
    return found.group("hex"), Principal("seller", address)


def token_problems(entries: tuple[str, ...], domain: str) -> list[str]:
    problems = []
    for position, text in enumerate(entries):
        try:
            _parse(text, domain, position)
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


class Tokens:
    """The configured tokens, looked up by the hash of the one presented."""

    def __init__(self, entries: tuple[str, ...], domain: str) -> None:
        self._by_hash = dict(_parse(text, domain) for text in entries)

    def find(self, token: str) -> Principal | None:
        presented = digest(token)
        for known, principal in self._by_hash.items():
            # Constant time per entry: the hash of a near miss says nothing about a token.
            if hmac.compare_digest(known, presented):
                return principal
        return None

    def by_digest(self, hexdigest: str) -> Principal | None:
        """The principal of the token with this digest, while it is configured (a web
        session opened with an admin token ends when the token is removed)."""
        for known, principal in self._by_hash.items():
            if hmac.compare_digest(known, hexdigest):
                return principal
        return None

    def __len__(self) -> int:
        return len(self._by_hash)
