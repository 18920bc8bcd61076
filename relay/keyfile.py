"""Secret keys in files of their own, outside the store: made (32 random bytes, mode 0600)
the first time they are needed, and read as they are from then on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from relay.errors import StartupError

log = logging.getLogger("relay.keyfile")
KEY_BYTES = 32


def read(path: Path, setting: str) -> bytes:
    """The key at `path`; FileNotFoundError when there is none."""
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise StartupError(f"{setting}: {path} holds {len(key)} bytes, not a key of at least"
                           f" {KEY_BYTES}; remove it to have a new one made")
    return key


def load_or_make(path: Path, setting: str, what: str, announce: bool = True) -> bytes:
    """The key at `path`, made when missing. Written aside and linked into place, so another
    process never reads a half-written key, and two processes starting at once agree on
    one key (the second link fails: it uses the first one's)."""
    try:
        return read(path, setting)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(os.urandom(KEY_BYTES))
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(aside, path)
        log.log(logging.INFO if announce else logging.DEBUG, "made the %s %s", what, path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return read(path, setting)
