"""Signed VERP envelope senders: bounces+<message id>.<expiry>.<mac>@domain.

A bounce names the message it is about without the relay keeping a table, and nobody can
make the relay accept mail at an address it did not hand out: the MAC is an HMAC-SHA256
under a key of the relay's own, compared in constant time, and expires.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import re
import time
from hashlib import sha256
from pathlib import Path

from relay.errors import StartupError

log = logging.getLogger("relay.verp")
PREFIX = "bounces+"
_LOCAL = re.compile(r"^bounces\+([a-z2-7]{16})\.([0-9a-z]{1,10})\.([a-z2-7]{16})$")


KEY_BYTES = 32


def _read(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise StartupError(f"delivery.bounce_key: {path} holds {len(key)} bytes, not a key of"
                           f" at least {KEY_BYTES}; remove it to have a new one made")
    return key


def load_key(path: Path) -> bytes:
    """The HMAC key; made (32 random bytes, mode 0600) when missing. Written aside and
    linked into place, so another process never reads a half-written key."""
    try:
        return _read(path)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(os.urandom(KEY_BYTES))
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(aside, path)  # fails if another process made one first: use that one
        log.info("made the bounce address key %s", path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return _read(path)


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
