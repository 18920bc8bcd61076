"""Failed submission logins, counted in the store per (account, client network) and per
client network, in a sliding window. Past either limit AUTH is refused for a while without
looking at the password, so guessing costs time, not just a reconnect.

Not per account alone: that count was reached from anywhere, so a guesser elsewhere locked
the seller out. A guesser now gets a few tries per network per window, which the scrypt
hashes and the sellers' passwords are there to bear. In the store, not in memory: a restart
does not reset the counts, and every relay process sharing the store sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relay.config import LimitsSettings
from relay.marketplace.conversations import address_key
from relay.smtp.networks import client_network
from relay.store import limits as counts
from relay.store.db import Store, utcnow

WINDOW = 900.0  # seconds
_ACCOUNT_CHARS = 320  # a login is the client's text: what is kept of it is bounded


def _account(login: str) -> str:
    return address_key(login)[:_ACCOUNT_CHARS]


def _since() -> str:
    return (datetime.now(UTC) - timedelta(seconds=WINDOW)).isoformat(timespec="microseconds")


async def blocked(store: Store, limits: LimitsSettings, peer: str, login: str) -> bool:
    """Whether a login for `login` from `peer` is refused unchecked for now."""
    network = client_network(peer)
    async with store.read() as db:
        from_network, for_account = await counts.login_failures(
            db, network, _account(login), _since())
    return (from_network >= limits.login_failures_per_network
            or for_account >= limits.login_failures_per_account_network)


async def failed(store: Store, peer: str, login: str) -> int:
    """Count a failure; returns the network's failures in the window."""
    network = client_network(peer)
    async with store.write() as db:
        await counts.add_login_failure(db, utcnow(), network, _account(login))
        return await counts.network_login_failures(db, network, _since())
