"""SPF (RFC 7208) with pyspf, the reference implementation, looking names up through our
resolver instead of dnspython's process-wide default."""

from __future__ import annotations

import ipaddress
from typing import Any

import spf

from relay.auth import resolver


def _lookup(name: str, qtype: str, strict: Any = True, timeout: float | None = None) -> list[Any]:
    """pyspf's DNSLookup contract: [((name, type), data), ...]; TempError when unknown."""
    try:
        answer = resolver.resolve(name, qtype)
    except resolver.DNSTempError as exc:
        raise spf.TempError(str(exc)) from None
    if answer is None:
        return []
    found: list[Any] = []
    for rdata in answer:
        if qtype in ("A", "AAAA"):
            found.append(((name, qtype), rdata.address))
        elif qtype == "MX":
            found.append(((name, qtype), (rdata.preference, rdata.exchange)))
        elif qtype == "PTR":
            found.append(((name, qtype), rdata.target.to_text(True)))
        elif qtype in ("TXT", "SPF"):
            found.append(((name, qtype), rdata.strings))
    return found


spf.DNSLookup = _lookup  # pyspf looks this module global up at each query


def check(ip: str, mail_from: str, helo: str) -> tuple[str, str]:
    """(result, explanation): pass, fail, softfail, neutral, none, permerror or temperror.
    Runs in a worker thread with resolver.current set. The null sender is checked as
    postmaster@helo (RFC 7208 2.4)."""
    sender = mail_from or f"postmaster@{helo}"
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return "none", f"not an IP client: {ip}"  # e.g. mail the relay's own CLI submits
    try:
        result, explanation = spf.check2(i=ip, s=sender, h=helo)
    except spf.PermError as exc:
        return "permerror", str(exc)
    return str(result), str(explanation)
