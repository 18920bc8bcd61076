"""Attachments cleaned of what identifies their author, or refused when they cannot be.

Threat: a photo of damaged goods carries the seller's name (EXIF Artist, camera owner) and the
GPS position of their home; a PDF quote or a Word file carries an author, a company and, in
its text, a phone number; a contact card is nothing but contact details; a calendar invite
for a pickup names its organizer and a home address.

- RefuseCards (before the attachment check): a vCard is refused as attachment.vcard.
- CleanAttachments (after it, so only files judged safe are opened):
  JPEG and PNG lose EXIF, XMP, IPTC, comments and text chunks (losslessly); PDFs lose their
  Info and XMP metadata and Office files their document properties; the text of PDFs and
  Office files is read with the same text rules as a message body, and a file whose text
  carries a contact detail is refused (attachment.contact): its text cannot be edited in
  place. A PDF its library cannot read is judged by its printable bytes; another file that
  cannot be read is refused (attachment.unreadable). Calendar invites are scrubbed by Redact
  (after the address rewrite). "strip" instead of "reject" (rules.attachment) removes the
  file and delivers the rest.
"""

from __future__ import annotations

import base64
import re
from email.message import Message
from functools import partial

from relay.config import RulesSettings
from relay.message.payload import decoded
from relay.pipeline.decide import act
from relay.pipeline.parcel import Parcel
from relay.rules import attachment_text as files
from relay.rules.attachments import sniff
from relay.rules.findings import Finding
from relay.rules.phone import PHONE_WORDS
from relay.rules.text import TextRules
from relay.stages.attachments import is_attachment, leaves, remove, shown_name


def _every_leaf(part: Message) -> bool:
    return True


def _replace_bytes(part: Message, data: bytes) -> None:
    """New content for a file, base64 as binary attachments travel."""
    del part["Content-Transfer-Encoding"]
    part["Content-Transfer-Encoding"] = "base64"
    part.set_payload(base64.encodebytes(data).decode("ascii"))


class _Refusals:
    def __init__(self, rules: RulesSettings) -> None:
        self.rules = rules

    def refuse(self, parcel: Parcel, part: Message, parent: Message | None, code: str,
               why: str) -> None:
        act(parcel, self.rules, code, f"{shown_name(part)} {why}",
            strip=partial(remove, part, parent))


class RefuseCards(_Refusals):
    """A contact card is contact details and nothing else."""

    name = "refuse_cards"

    async def __call__(self, parcel: Parcel) -> None:
        if self.rules.attachment == "off":
            return
        for part, parent in leaves(parcel.message, _every_leaf):
            if part.get_content_maintype() == "message":
                continue
            data = decoded(part)
            if files.is_vcard(data, part.get_filename() or "", part.get_content_type()):
                self.refuse(parcel, part, parent, "attachment.vcard",
                            "is a contact card (vCard); contact details stay off the"
                            " conversation")


# How a number to call starts ("+49", "0049", "(555)", "0176"); "0 986 494 204" is a part.
_PHONE_SHAPED = re.compile(r"[\s;]*(?:\+|00|\(|0\d)")


class CleanAttachments(_Refusals):
    name = "clean_attachments"

    def __init__(self, rules: RulesSettings, domain: str) -> None:
        super().__init__(rules)
        self.text = TextRules(rules, domain)

    def _found(self, text: str) -> list[Finding]:
        return self.text.find(text) if text.strip() else []

    def _found_office(self, text: str) -> list[Finding]:
        """In a spreadsheet, digits alone in a cell are a part number, a size or a count, not
        a phone number, unless shaped like one (+49..., 0176..., (555) ...) or the sheet
        speaks of phones ("Tel." above the column)."""
        findings = self._found(text)
        if files.CELL_END not in text or not findings or PHONE_WORDS.search(text):
            return findings
        return [f for f in findings if f.code != "contact.phone"
                or _PHONE_SHAPED.match(text, f.start)]

    def _file(self, parcel: Parcel, part: Message, parent: Message | None) -> None:
        data = decoded(part)
        kind = sniff(data).kind
        try:
            if kind == "jpeg":
                new = files.strip_jpeg(data)
            elif kind == "png":
                new = files.strip_png(data)
            elif kind == "pdf":
                contents = files.pdf_contents(data)
                if self._found(contents.text):
                    self.refuse(parcel, part, parent, "attachment.contact",
                                "contains contact details or links in its text, which cannot"
                                " be removed from a PDF")
                    return
                new = files.strip_pdf(data) if contents.metadata else data
            elif kind == "office" and data.startswith(b"PK"):
                if self._found_office(files.office_text(data)):
                    self.refuse(parcel, part, parent, "attachment.contact",
                                "contains contact details or links in its text, which cannot"
                                " be removed from an Office document")
                    return
                new = files.strip_office(data, lambda text: bool(self._found(text)))
            else:
                return
        except files.Unreadable as e:
            # A PDF its library cannot read (a viewer may still show it): its printable
            # bytes are what can be checked; an address or link there refuses it.
            if kind == "pdf" and e.as_bytes:
                # Only addresses and links: in byte soup, digit runs look like phone numbers.
                raw = files.printable_text(data)
                if any(self.text.email.find(raw)) or any(self.text.links.find(raw)):
                    self.refuse(parcel, part, parent, "attachment.contact",
                                "contains contact details or links, which cannot be removed"
                                " from a PDF")
                return
            self.refuse(parcel, part, parent, "attachment.unreadable",
                        f"is {e} whose contents cannot be checked")
            return
        if new != data:
            _replace_bytes(part, new)
            parcel.note("attachment.metadata")

    async def __call__(self, parcel: Parcel) -> None:
        if self.rules.attachment == "off":
            return
        for part, parent in leaves(parcel.message, _every_leaf):
            if is_attachment(part):
                self._file(parcel, part, parent)
