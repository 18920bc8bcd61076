"""Client networks: the unit the per-network connection caps and fair queueing count by.

One address is cheap to multiply (a /24 of IPv4 or a /64 of IPv6 is what one host or one
customer of a provider usually holds), so limits that only count addresses are easy to get
round; these count the network an address belongs to."""

from __future__ import annotations

import ipaddress

IPV4_PREFIX = 24
IPV6_PREFIX = 64


def client_network(ip: str) -> str:
    """"192.0.2.0/24" for 192.0.2.7, "2001:db8:1:2::/64" for any address in that /64; an
    IPv4-mapped IPv6 address counts as its IPv4 address. Anything that is not an IP address
    (a Unix socket's path, "") is its own network."""
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])  # a zone index is no network
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_PREFIX if address.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
