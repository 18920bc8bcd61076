"""DKIM verification (RFC 6376) of every signature a message carries, with dkimpy."""

from __future__ import annotations

from dataclasses import dataclass

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from relay.auth import resolver

# Each signature costs a DNS lookup and a hash of the body: a bound, not a policy.
MAX_SIGNATURES = 5


@dataclass(frozen=True)
class Signature:
    domain: str  # d=, lower-cased
    selector: str
    result: str  # pass, fail, permerror, temperror


def _key(name: bytes, timeout: float = 5) -> bytes | None:
    records = resolver.txt(name.decode("ascii", "replace").rstrip("."))
    return records[0].encode() if records else None


def verify(raw: bytes) -> list[Signature]:
    """Runs in a worker thread with resolver.current set."""
    try:
        message = dkim.DKIM(raw)
    except Exception:  # dkimpy cannot even split the headers: no usable signature
        return []
    headers = [value for name, value in message.headers if name.lower() == b"dkim-signature"]
    found = []
    for index, header in enumerate(headers[:MAX_SIGNATURES]):
        try:
            tags = parse_tag_value(header)
        except InvalidTagValueList:
            found.append(Signature("", "", "permerror"))
            continue
        domain = tags.get(b"d", b"").decode("ascii", "replace").lower()
        selector = tags.get(b"s", b"").decode("ascii", "replace")
        signed = {h.strip().lower() for h in tags.get(b"h", b"").split(b":")}
        if b"from" not in signed:  # RFC 6376 6.1.1: such a signature vouches for no author
            found.append(Signature(domain, selector, "permerror"))
            continue
        if b"l" in tags:  # text appended after the signed length would ride along
            found.append(Signature(domain, selector, "policy"))
            continue
        try:
            result = "pass" if message.verify(idx=index, dnsfunc=_key) else "fail"
        except resolver.DNSTempError:
            result = "temperror"
        except dkim.DKIMException as exc:
            # A changed body is a signature that fails; a malformed one cannot be checked.
            result = "fail" if "body hash mismatch" in str(exc) else "permerror"
        found.append(Signature(domain, selector, result))
    return found
