"""Signed VERP envelope senders: bounces+<message id>.<expiry>.<mac>@domain.

A bounce names the message it is about without the relay keeping a table, and nobody can
make the relay accept mail at an address it did not hand out: the MAC is an HMAC-SHA256
under a key of the relay's own, compared in constant time, and expires.
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from hashlib import sha256
from pathlib import Path

from relay import keyfile

PREFIX = "bounces+"
_LOCAL = re.compile(r"^bounces\+([a-z2-7]{16})\.([0-9a-z]{1,10})\.([a-z2-7]{16})$")


def load_key(path: Path) -> bytes:
    """The HMAC key; made (32 random bytes, mode 0600) when missing."""
    return keyfile.load_or_make(path, "delivery.bounce_key", "bounce address key")


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[rest] + digits
        if not number:
            return digits


class Verp:
    def __init__(self, key: bytes, domain: str, lifetime: float) -> None:
        self.key = key
        self.domain = domain
        self.lifetime = lifetime

    def _mac(self, message_id: str, expiry: str) -> str:
        digest = hmac.new(self.key, f"{message_id}.{expiry}".encode(), sha256).digest()
        return base64.b32encode(digest[:10]).decode("ascii").lower()

    def address(self, message_id: str, now: float | None = None) -> str:
        expiry = _base36(int((time.time() if now is None else now) + self.lifetime))
        return f"{PREFIX}{message_id}.{expiry}.{self._mac(message_id, expiry)}@{self.domain}"

    def message_id(self, local_part: str, now: float | None = None) -> str | None:
        """The message a bounce address stands for; None when forged or expired."""
        match = _LOCAL.fullmatch(local_part.lower())
        if match is None:
            return None
        message_id, expiry, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(message_id, expiry)):
            return None
        if int(expiry, 36) < (time.time() if now is None else now):
            return None
        return message_id
