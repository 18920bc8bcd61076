"""Memory that big messages borrow goes back to the system when they are done.

glibc serves an allocation of 128 KiB or more with an mmap of its own, returned to the
system when freed, but after the first such free it raises that threshold up to 32 MiB: from
then on the 24 MB copies a big message makes come from the heap, which keeps them after they
are freed (the relay's RSS stayed ~400 MB after two 24 MB messages). Fixing the threshold
keeps big buffers mmapped, and the RSS falls back after each message (measured with
`python -m tools.upload_fairness --rss`: 409 MB -> 318 MB at the peak).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("relay.pipeline.memory")

_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
THRESHOLD = 1 << 20  # allocations of 1 MiB or more: mmapped, returned when freed


def return_big_buffers() -> bool:
    """Fix glibc's mmap threshold (in this process); whether it could be (not glibc: no)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl, macOS: no mallopt, and no such threshold
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD))
    if not ok:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused")
    return ok
