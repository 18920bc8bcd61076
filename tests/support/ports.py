"""Loopback ports for the tests' own servers, picked before the server binds them.

Picked from below the kernel's ephemeral range, so no client connection of any test can take
a port between its pick and its bind (bind(0) hands out ephemeral ports, the same ones
outgoing connections use: under a burst of connections a pre-picked port was sometimes gone
by the time the relay bound it). Each pytest-xdist worker walks its own slice of the range
from a random start, so parallel workers, and other test runs on the machine, rarely meet;
every port is still probed before it is handed out."""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Collection
from pathlib import Path

_FLOOR = 20000  # above the well-known and registered ports most services here listen on


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _slice() -> range:
    """This worker's share of [_FLOOR, ephemeral low)."""
    top = _ephemeral_low()
    if top - _FLOOR < 2000:  # an unusual range: leave the choice to the kernel
        return range(0)
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) % count if worker.isdigit() else 0
    width = (top - _FLOOR) // count
    return range(_FLOOR + index * width, _FLOOR + (index + 1) * width)


_SLICE = _slice()
_next = random.randrange(len(_SLICE)) if _SLICE else 0


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int, taken: Collection[int] = ()) -> list[int]:
    """`count` distinct loopback ports nothing listens on, none of `taken`."""
    global _next
    ports: list[int] = []
    tried = 0
    while len(ports) < count:
        if not _SLICE or tried > len(_SLICE):
            with socket.socket() as probe:  # fallback: whatever the kernel gives
                probe.bind(("127.0.0.1", 0))
                port = int(probe.getsockname()[1])
        else:
            port = _SLICE[_next % len(_SLICE)]
            _next += 1
            tried += 1
            if not _bindable(port):
                continue
        if port not in ports and port not in taken:
            ports.append(port)
    return ports


def free_port() -> int:
    return free_ports(1)[0]
