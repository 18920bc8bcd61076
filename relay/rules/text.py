"""The text rules together: contact details, links and emoji found in one pass over a text.

Allowed links and the relay's own addresses are masked before the other rules look, so the
digits of a carrier's tracking link are not taken for a phone number.
"""

from __future__ import annotations

from relay.config import RulesSettings
from relay.rules.address import AddressRule
from relay.rules.email import EmailRule
from relay.rules.emoji import EmojiRule
from relay.rules.findings import Finding, apply, merge
from relay.rules.links import LinkRule
from relay.rules.phone import MASK, PhoneRule
from relay.rules.social import SocialRule
from relay.rules.view import view


def allowed_hosts(settings: RulesSettings, domain: str) -> tuple[str, ...]:
    return (domain, settings.marketplace_domain, *settings.allowed_link_hosts)


class TextRules:
    def __init__(self, settings: RulesSettings, domain: str) -> None:
        self.email = EmailRule(domain)
        self.links = LinkRule(allowed_hosts(settings, domain))
        rules = (self.email, SocialRule(), PhoneRule(settings.phone_regions), AddressRule(),
                 self.links)
        self.rules = tuple(r for r in rules if settings.action(r.code) != "off")
        self.emoji = EmojiRule() if settings.action("style.emoji") != "off" else None

    def find(self, text: str) -> list[Finding]:
        """Findings in `text` (original positions), merged and ordered."""
        findings: list[Finding] = []
        if self.rules:
            seen = view(text)
            masked = seen.text
            for start, end in (*self.links.allowed_spans(masked), *self.email.own(masked)):
                masked = masked[:start] + MASK * (end - start) + masked[end:]
            for rule in self.rules:
                for start, end in rule.find(masked):
                    findings.append(Finding(*seen.span(start, end), rule.code))
        if self.emoji is not None:
            findings.extend(Finding(s, e, self.emoji.code) for s, e in self.emoji.find(text))
        return merge(findings)

    def redact(self, text: str) -> tuple[str, list[Finding]]:
        findings = self.find(text)
        return (apply(text, findings) if findings else text), findings
