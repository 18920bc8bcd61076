"""SPF, DKIM and DMARC for one message, and what they add up to under each policy mode."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from relay.auth import dkim_check, dmarc, resolver, spf_check

MODES = ("none", "spf-or-dkim", "dmarc")


@dataclass(frozen=True)
class Verdict:
    from_domain: str
    spf: str
    spf_domain: str  # the envelope sender's domain, or the HELO name for the null sender
    signatures: tuple[dkim_check.Signature, ...]
    record: dmarc.Record | None
    record_unknown: bool  # the DMARC lookup timed out

    def _dkim_aligned(self, mode: str) -> bool:
        return any(s.result == "pass" and dmarc.aligned(s.domain, self.from_domain, mode)
                   for s in self.signatures)

    @property
    def dmarc(self) -> str:
        record = self.record
        spf_ok = self.spf == "pass" and dmarc.aligned(
            self.spf_domain, self.from_domain, record.aspf if record else "r")
        if spf_ok or self._dkim_aligned(record.adkim if record else "r"):
            return "pass"
        if self.record_unknown or self._unknown():
            return "temperror"
        return "fail" if record else "none"

    def _unknown(self) -> bool:
        return self.spf == "temperror" or any(s.result == "temperror" for s in self.signatures)

    def passes(self, mode: str) -> bool:
        if mode == "dmarc":
            return self.dmarc == "pass"
        return self.spf == "pass" or self._dkim_aligned("r")

    def temporary(self, mode: str) -> bool:
        """A failure that a later retry may turn into a pass (a lookup timed out)."""
        if mode == "dmarc":
            return self.dmarc == "temperror"
        return self._unknown()

    def explain(self) -> str:
        """Which check failed, in words for the 550 reply."""
        spf = f"SPF {self.spf} for {self.spf_domain}"
        if not self.signatures:
            dkim = "no DKIM signature"
        else:
            dkim = "DKIM " + ", ".join(f"{s.result} for {s.domain or '?'}"
                                      for s in self.signatures)
        aligned = f"neither aligned with the From: domain {self.from_domain}"
        return f"{spf}; {dkim}; {aligned}"

    def header(self, authserv: str) -> str:
        """An Authentication-Results value (RFC 8601), kept in the store only."""
        parts = [authserv, f"spf={self.spf} smtp.mailfrom={self.spf_domain}"]
        parts += [f"dkim={s.result} header.d={s.domain or '?'} header.s={s.selector or '?'}"
                  for s in self.signatures] or ["dkim=none"]
        policy = f" policy.published={self.record.policy}" if self.record else ""
        parts.append(f"dmarc={self.dmarc} header.from={self.from_domain}{policy}")
        return "; ".join(parts)


class Checker:
    """Runs the synchronous libraries in threads of its own, so slow DNS never holds the
    event loop and never starves the default executor."""

    def __init__(self, servers: tuple[str, ...], timeout: float, threads: int = 16) -> None:
        self.resolver = resolver.make_resolver(servers, timeout)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="sender-auth")

    async def check(self, ip: str, helo: str, mail_from: str, from_domain: str,
                    raw: bytes) -> Verdict:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.pool, self._check, ip, helo, mail_from, from_domain, raw)

    def _check(self, ip: str, helo: str, mail_from: str, from_domain: str,
               raw: bytes) -> Verdict:
        resolver.current.set(self.resolver)
        spf, _ = spf_check.check(ip, mail_from, helo)
        try:
            record, unknown = dmarc.lookup(from_domain), False
        except resolver.DNSTempError:
            record, unknown = None, True
        return Verdict(
            from_domain=from_domain.lower(), spf=spf,
            spf_domain=(mail_from.rpartition("@")[2] or helo).lower(),
            signatures=tuple(dkim_check.verify(raw)), record=record, record_unknown=unknown,
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
