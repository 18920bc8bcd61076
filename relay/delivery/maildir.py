"""Local delivery into <root>/<recipient>/new/, by the Maildir rules: tmp, fsync, rename."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time
from pathlib import Path

from relay.delivery.transport import Result

_counter = itertools.count()


def mailbox_name(address: str) -> str:
    """The recipient's folder name: lower-case, with nothing that could leave the root."""
    name = address.lower().replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    return "%2E" + name[1:] if name.startswith(".") else name


def _unique_name() -> str:
    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")
    now = time.time()
    return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_counter)}.{host}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def deliver(root: Path, mail_from: str, rcpt: str, data: bytes) -> Path:
    box = root / mailbox_name(rcpt)
    for sub in ("tmp", "new", "cur"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    name = _unique_name()
    tmp, final = box / "tmp" / name, box / "new" / name
    # As a local delivery agent writes it: trace headers first, local (LF) line endings.
    head = f"Return-Path: <{mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
    content = (head + data).replace(b"\r\n", b"\n")
    with open(tmp, "xb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, final)
    _fsync_dir(final.parent)
    return final


class MaildirTransport:
    def __init__(self, root: Path) -> None:
        self.root = root

    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result:
        try:
            path = await asyncio.to_thread(deliver, self.root, mail_from, rcpt, data)
        except OSError as exc:
            return Result("deferred", f"maildir write failed: {exc.strerror or exc}", "4.3.0")
        return Result("delivered", f"maildir {path.parent.parent.name}/new/{path.name}", "2.0.0")
