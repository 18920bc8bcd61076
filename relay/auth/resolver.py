"""The DNS resolver the sender checks use: one dnspython resolver per relay, with a cache.

pyspf and dkimpy are synchronous, so the checks run in worker threads; the resolver travels
with each call in a context variable (asyncio.to_thread copies it), which lets several
relays in one process (the tests) keep resolvers of their own.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

import dns.exception
import dns.nameserver
import dns.resolver

from relay.errors import ConfigError


class DNSTempError(Exception):
    """A lookup timed out or every server failed: the answer is unknown, never a pass."""


current: ContextVar[dns.resolver.Resolver] = ContextVar("relay_resolver")


def _server(spec: str) -> dns.nameserver.Do53Nameserver:
    """ "192.0.2.1", "192.0.2.1:5353", "::1" or "[::1]:5353"."""
    host, port = spec.strip(), 53
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif host.count(":") == 1:
        host, _, number = host.partition(":")
        port = int(number)
    ipaddress.ip_address(host)  # ValueError: a name would need a resolver to find it
    if not 0 < port < 65536:
        raise ValueError(port)
    return dns.nameserver.Do53Nameserver(host, port)


def make_resolver(servers: tuple[str, ...], timeout: float) -> dns.resolver.Resolver:
    """Servers as given, or the system's (/etc/resolv.conf) when none are."""
    if servers:
        resolver = dns.resolver.Resolver(configure=False)
        try:
            resolver.nameservers = [_server(s) for s in servers]
        except ValueError:
            raise ConfigError(
                f"auth.resolvers: expected IP addresses with an optional :port, got"
                f" {list(servers)!r}") from None
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ConfigError(
                "auth.resolvers: no system resolver (/etc/resolv.conf); name the DNS servers"
            ) from None
    resolver.lifetime = timeout
    resolver.timeout = timeout
    resolver.cache = dns.resolver.LRUCache(10_000)
    return resolver


def resolve(name: str, qtype: str) -> dns.resolver.Answer | None:
    """The answer, or None for a name or type that does not exist."""
    try:
        return current.get().resolve(name, qtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise DNSTempError(f"DNS lookup of {name} {qtype} failed: {type(exc).__name__}") from None
    except dns.exception.DNSException:
        return None  # a name no DNS server could hold (an empty or overlong label)


def txt(name: str) -> list[str]:
    """Each TXT record's strings joined: long records come as several strings."""
    answer = resolve(name, "TXT")
    if answer is None:
        return []
    return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
