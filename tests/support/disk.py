"""A store's file system filling up, for real: a 3 MB tmpfs filled to the last byte, or,
where mounting is not allowed, an RLIMIT_FSIZE on the process that writes the store."""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

FS_SIZE = "3m"


@contextlib.contextmanager
def small_file_system(path: Path) -> Iterator[str]:
    """A 3 MB tmpfs at `path` ("tmpfs"); where mounting is not permitted, a plain directory
    ("fsize": the relay's RLIMIT_FSIZE is what fills up). TEST_DISK_FULL=fsize forces the
    latter (it is not a RELAY_* name: the relay refuses unknown ones)."""
    path.mkdir()
    if os.environ.get("TEST_DISK_FULL") != "fsize":
        try:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FS_SIZE}", "tmpfs",
                            str(path)], check=True, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            pass
        else:
            try:
                yield "tmpfs"
            finally:
                done = subprocess.run(["umount", str(path)], capture_output=True, timeout=10,
                                      check=False)
                if done.returncode != 0:
                    subprocess.run(["umount", "-l", str(path)], capture_output=True,
                                   timeout=10, check=False)
            return
    yield "fsize"


def fill(directory: Path) -> int:
    """Write a filler file until the file system says ENOSPC; how many bytes it took."""
    written = 0
    with (directory / "filler").open("wb", buffering=0) as out:
        for size in (1 << 20, 1 << 16, 4096, 256, 1):
            block = b"\xa5" * size
            while True:
                try:
                    n = out.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += n or 0
                if not n:
                    break
    return written


def fill_up(mode: str, store: Path, pid: int) -> int:
    """The store's files can grow no more: its tmpfs is full, or process `pid` may write no
    file past their sizes. How many bytes of filler, or the limit."""
    if mode == "tmpfs":
        return fill(store.parent)
    # No file of the relay may grow any more: writes past the limit fail with EFBIG
    # (Python ignores SIGXFSZ). Only the soft limit moves, so no privilege is needed.
    limit = max(p.stat().st_size for p in store.parent.glob(store.name + "*"))
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return limit


def make_room(mode: str, store: Path, pid: int) -> None:
    """Undo fill_up()."""
    if mode == "tmpfs":
        (store.parent / "filler").unlink()
    else:
        resource.prlimit(pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
