"""Redact: the text rules over everything a reader sees, the HTML rules over HTML parts.

Subject and Content-Description lines (forwarded messages' too), file names, text/plain
parts, HTML parts (sanitized, trackers stripped, then the text rules over their text), and
calendar invites (ORGANIZER, ATTENDEE, LOCATION, DESCRIPTION, URL... property by property;
GEO dropped). After the address rewrite: a party's own address there is already its alias.
What a finding leads to is relay.pipeline.decide's: a rule set to "reject" refuses the
message instead.
"""

from __future__ import annotations

from email.message import Message

import nh3

from relay.config import RulesSettings
from relay.message.header_line import FREE_TEXT, set_text
from relay.message.payload import decoded
from relay.message.text_parts import edit_filenames, edit_text_parts
from relay.pipeline.decide import act, refuses
from relay.pipeline.parcel import Parcel
from relay.rules.attachment_text import scrub_calendar
from relay.rules.filekinds import device_name
from relay.rules.findings import Finding
from relay.rules.html import HtmlRules
from relay.rules.links import LinkRule
from relay.rules.text import TextRules, allowed_hosts

REASONS = {
    "contact.email": "the message contains an e-mail address; keep the conversation here",
    "contact.phone": "the message contains a phone number; keep the conversation here",
    "contact.address": "the message contains a postal address",
    "contact.social": "the message contains a social media or messenger contact",
    "link.external": "the message links outside the marketplace",
    "image.tracker": "the message loads remote images or tracking pixels",
    "html.active": "the message contains scripts, forms or other active content",
    "style.emoji": "emojis are not allowed",
}


class Redact:
    name = "redact"

    def __init__(self, rules: RulesSettings, domain: str) -> None:
        self.settings = rules
        self.text = TextRules(rules, domain)
        links = LinkRule(allowed_hosts(rules, domain))
        self.html = HtmlRules(self.text, links, trackers_on=rules.image_tracker != "off")

    def _record(self, parcel: Parcel, codes: list[str]) -> None:
        # Every finding first: a code set to reject refuses, whichever came first.
        for code in sorted(codes, key=lambda c: not refuses(self.settings, c)):
            act(parcel, self.settings, code, REASONS[code])

    def _plain(self, parcel: Parcel, text: str, whole_sentences: bool = True) -> str:
        new, findings = self.text.redact(text, whole_sentences)
        self._record(parcel, _codes(findings))
        return new

    def _part(self, parcel: Parcel, text: str, subtype: str) -> str:
        if subtype in ("calendar", "ics"):  # property by property, so the invite still works
            return scrub_calendar(text, lambda value: self._plain(parcel, value),
                                  self.text.links.host_allowed,
                                  lambda value: self._plain(parcel, value, False))
        if subtype != "html":
            return self._plain(parcel, text)
        outcome = self.html.clean(text, _content_ids(parcel.message))
        self._record(parcel, sorted(outcome.codes) + _codes(outcome.findings))
        return outcome.html

    async def __call__(self, parcel: Parcel) -> None:
        message = parcel.message
        for part in message.walk():
            for name in FREE_TEXT:
                value = part.get(name)
                if value is not None and (new := self._plain(parcel, str(value))) != str(value):
                    set_text(part, name, new)
            edit_filenames(part, lambda name: name if device_name(name) else
                           self._plain(parcel, name))
            if part.is_multipart():  # text around the parts, which some readers show
                for attr in ("preamble", "epilogue"):
                    if getattr(part, attr):
                        setattr(part, attr, self._plain(parcel, getattr(part, attr)))
        edit_text_parts(message, lambda text, subtype: self._part(parcel, text, subtype),
                        parcel.text_files)
        _drop_empty_html(message)


def _content_ids(message: Message) -> frozenset[str]:
    return frozenset(str(part["Content-ID"]).strip().strip("<>").lower()
                     for part in message.walk() if part.get("Content-ID") is not None)


def _codes(findings: list[Finding]) -> list[str]:
    return list(dict.fromkeys(f.code for f in findings))


def _visible(part: Message) -> bool:
    data = decoded(part)
    markup = data.decode("utf-8", errors="replace")
    return "<img" in markup or bool(nh3.clean(markup, tags=set()).strip())


def _drop_empty_html(message: Message) -> None:
    """An HTML alternative left with nothing to show would hide its text part."""
    for part in message.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        children = [p for p in part.get_payload() if isinstance(p, Message)]
        has_text = any(p.get_content_type() == "text/plain" for p in children)
        empty = [p for p in children if p.get_content_type() == "text/html" and not _visible(p)]
        if has_text and empty:
            part.set_payload([p for p in part.get_payload() if p not in empty])
