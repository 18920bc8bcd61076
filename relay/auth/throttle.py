"""Failed submission logins, counted per client address and per account in a sliding window.
Past the limit AUTH is refused for a while without looking at the password, so guessing
costs time, not just a reconnect. In memory: a restart forgets, which only helps a guesser
once per restart."""

from __future__ import annotations

import time
from collections import deque

from relay.conversations import address_key

WINDOW = 900.0  # seconds
PER_CLIENT = 10  # failures from one address in the window
PER_ACCOUNT = 30  # failures for one account, from anywhere (higher: a lock-out is a DoS too)
_MAX_KEYS = 100_000


class LoginThrottle:
    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and times[0] < now - WINDOW:
            times.popleft()
        return len(times)

    def blocked(self, client: str, login: str) -> bool:
        now = time.monotonic()
        return (self._recent(f"ip {client}", now) >= PER_CLIENT
                or self._recent(f"account {address_key(login)}", now) >= PER_ACCOUNT)

    def failed(self, client: str, login: str) -> int:
        """Count a failure; returns the client's failures in the window."""
        now = time.monotonic()
        if len(self._failures) > _MAX_KEYS:  # forget the quiet ones, not the active guessers
            self._failures = {k: v for k, v in self._failures.items()
                              if v and v[-1] >= now - WINDOW}
        for key in (f"ip {client}", f"account {address_key(login)}"):
            self._failures.setdefault(key, deque()).append(now)
        return self._recent(f"ip {client}", now)
