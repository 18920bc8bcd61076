"""DMARC (RFC 7489): the sender's published record and identifier alignment.

Organizational domains come from the Public Suffix List bundled with `publicsuffixlist`
(updated with the package, never fetched at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from publicsuffixlist import PublicSuffixList

from relay.auth import resolver

_PSL = PublicSuffixList()


@dataclass(frozen=True)
class Record:
    domain: str  # where it was found: the From: domain or its organizational domain
    policy: str  # none, quarantine, reject
    adkim: str = "r"  # r(elaxed) or s(trict)
    aspf: str = "r"


@lru_cache(maxsize=4096)
def organizational(domain: str) -> str:
    domain = domain.lower().rstrip(".")
    return _PSL.privatesuffix(domain) or domain


def aligned(identifier: str, from_domain: str, mode: str) -> bool:
    identifier, from_domain = identifier.lower().rstrip("."), from_domain.lower().rstrip(".")
    if mode == "s":
        return identifier == from_domain
    return organizational(identifier) == organizational(from_domain)


def _parse(domain: str, text: str) -> Record | None:
    tags = {}
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        if eq:
            tags[name.strip().lower()] = value.strip().lower()
    if tags.get("v") != "dmarc1" or not text.lstrip().startswith("v"):
        return None
    policy = tags.get("p", "")
    if policy not in ("none", "quarantine", "reject"):
        policy = "none"  # RFC 7489 6.6.3: a bad p= with a valid rua is treated as none
    return Record(domain, policy, "s" if tags.get("adkim") == "s" else "r",
                  "s" if tags.get("aspf") == "s" else "r")


def _at(domain: str) -> Record | None:
    found = [r for r in (_parse(domain, t) for t in resolver.txt(f"_dmarc.{domain}")) if r]
    return found[0] if len(found) == 1 else None  # several records: none applies (6.6.3)


def lookup(from_domain: str) -> Record | None:
    """The record for the From: domain, else its organizational domain's. Runs in a worker
    thread with resolver.current set; DNSTempError when the answer is unknown."""
    record = _at(from_domain)
    org = organizational(from_domain)
    if record is None and org != from_domain:
        record = _at(org)
    return record
