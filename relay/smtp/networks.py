"""The client network of an address: what limits and throttles count by, since one client
holds many addresses of its network (an IPv4 /24, an IPv6 /64: a home line's prefix) and a
count per address is dodged by changing address."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 64


def client_network(peer: str) -> str:
    """"192.0.2.0/24" for 192.0.2.7, "2001:db8:1:2::/64" for 2001:db8:1:2::9; an IPv4
    address mapped into IPv6 is the IPv4 one. Anything else (a Unix socket, "local") is
    its own network."""
    try:
        address = ipaddress.ip_address(peer.partition("%")[0])  # no zone: fe80::1%eth0
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
