"""relay.networks.client_network: the unit the per-network connection cap and the fair turns at
the worker processes count by."""

from __future__ import annotations

import pytest

from relay.smtp.networks import client_network


@pytest.mark.parametrize(("address", "network"), [
    ("192.0.2.7", "192.0.2.0/24"),
    ("192.0.2.250", "192.0.2.0/24"),
    ("192.0.3.7", "192.0.3.0/24"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:192.0.2.7", "192.0.2.0/24"),  # IPv4-mapped: the IPv4 network
    ("fe80::1%eth0", "fe80::/64"),
    ("/run/relay.sock", "/run/relay.sock"),  # not an IP address: its own network
])
def test_client_network(address: str, network: str) -> None:
    assert client_network(address) == network
