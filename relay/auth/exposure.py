"""Whether the SMTP port takes unauthenticated mail from the network.

With auth.inbound = "none" the relay believes MAIL FROM and From:, so anyone who knows a
buyer's real address and the seller alias writes to the seller as that buyer (and the other
way round). That is fine for trying the relay out on loopback, and dangerous anywhere else:
`relay check-config` and `relay serve` say so at start.
"""

from __future__ import annotations

import ipaddress

from relay.config import Config


def is_loopback(host: str) -> bool:
    """Only for a literal loopback address or "localhost"; "" and 0.0.0.0 are every interface,
    and another name may resolve to anything (it is not looked up here)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def unauthenticated_inbound(cfg: Config) -> str | None:
    """The warning for a config whose SMTP port off loopback authenticates no sender."""
    if cfg.auth.inbound != "none" or is_loopback(cfg.smtp.host):
        return None
    where = f"{cfg.smtp.host or '*'}:{cfg.smtp.port}"
    return (f"auth.inbound = \"none\" while SMTP listens on {where}, which is not loopback:"
            " senders are not authenticated, so anyone who knows a party's real address and"
            " an alias can write as that party; set auth.inbound = \"dmarc\" (or"
            " \"spf-or-dkim\"), or listen on 127.0.0.1 only")
