"""VerifySender: mail from other servers must prove its From: domain (auth.inbound).

"dmarc": an SPF or DKIM pass aligned with the From: domain (DMARC pass), whatever policy
the domain publishes; "spf-or-dkim": SPF passes for the envelope sender, or a DKIM
signature of the From: domain verifies; "none": no check (no DNS needed). Mail from the
submission port (the account is the identity) and the relay's own mail are not checked.
"""

from __future__ import annotations

import asyncio

from relay.auth.inbound import Checker
from relay.errors import Reject, TempFail
from relay.marketplace.conversations import ascii_domain
from relay.pipeline.parcel import Parcel
from relay.stages.sender import from_addresses

FAILED = "sender.auth_failed"
UNKNOWN = "sender.auth_temperror"


class VerifySender:
    name = "verify_sender"

    def __init__(self, mode: str, checker: Checker | None, authserv: str,
                 deadline: float) -> None:
        self.mode = mode
        self.checker = checker
        self.authserv = authserv
        # For the whole check: SPF alone may make ten lookups, each just under the timeout.
        self.deadline = deadline

    async def __call__(self, parcel: Parcel) -> None:
        if self.checker is None or parcel.kind != "message" or parcel.envelope.login:
            return
        env = parcel.envelope
        # Authenticate has made sure there is exactly one From: address.
        from_domain = ascii_domain(from_addresses(parcel)[0].rpartition("@")[2])
        try:
            verdict = await asyncio.wait_for(self.checker.check(
                env.peer, env.helo, env.mail_from, from_domain, parcel.raw), self.deadline)
        except TimeoutError:
            parcel.note(UNKNOWN)
            raise TempFail(UNKNOWN, "checking your domain took too long; try again later") from None
        parcel.auth_results = verdict.header(self.authserv)
        if verdict.passes(self.mode):
            return
        if verdict.temporary(self.mode):
            parcel.note(UNKNOWN)
            raise TempFail(UNKNOWN, "a DNS lookup for your domain failed or timed out;"
                           " try again later")
        raise Reject(FAILED, verdict.explain())

    def close(self) -> None:
        if self.checker is not None:
            self.checker.close()
