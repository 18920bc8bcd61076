"""Attachments cleaned of their author over SMTP: image and document metadata stripped, the
text of PDFs and Office files read by the text rules, contact cards refused, calendar invites
scrubbed. Files are built as a sender's software builds them (tools/corpus_files.py: Pillow,
pypdf, zipfile) and read back from what the capture inbox got."""

from __future__ import annotations

import io
import zipfile

import pytest
import samples
from conftest import BUYER, SELLER, send
from PIL import Image
from support.attachment_mail import (
    assert_refused,
    attachments,
    last_record,
    message,
    start_with_rules,
)

from relay.config import RulesSettings
from relay.rules import attachment_text
from relay.rules.text import TextRules
from tools.corpus_files import build, read_back

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def made(kind: str, filename: str, **fields) -> tuple[str, bytes, str]:
    maintype, subtype, name, data = build({"kind": kind, "filename": filename,
                                           "fields": fields})
    return name, data, f"{maintype}/{subtype}"


async def delivered_file(relay, conv, capture, file: tuple[str, bytes, str],
                         sender: str = SELLER) -> tuple[str, bytes]:
    alias = conv.buyer_alias if sender == SELLER else conv.seller_alias
    code, reply = await send(relay.smtp_port, sender, alias, message(sender, alias, [file]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    (found,) = attachments(got)
    return found


async def test_photo_loses_exif_author_owner_and_gps(relay, conv, capture):
    file = made("jpeg", "damage.jpg", Artist="Sally Quill", OwnerName="Sally Q",
                UserComment="call 07911 123456", GPS=[51.501364, -0.14189])
    assert b"Sally Quill" in file[1]
    name, data = await delivered_file(relay, conv, capture, file)
    assert name == "damage.jpg"
    seen = read_back(data)
    assert "Sally" not in seen and "51.50" not in seen and "123456" not in seen
    with Image.open(io.BytesIO(data)) as image:  # still the same picture
        assert image.size == (16, 16) and not image.getexif()
        image.load()
    # Lossless: the compressed image data is the sender's, byte for byte.
    assert data[data.index(b"\xff\xda"):] == file[1][file[1].index(b"\xff\xda"):]
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted", ["attachment.metadata"])


async def test_png_loses_its_text_chunks(relay, conv, capture):
    file = made("png", "scratch.png", Author="Sally Quill", Comment="wechat sally_wx88")
    _, data = await delivered_file(relay, conv, capture, file, sender=BUYER)
    assert b"Sally" not in data and b"sally_wx88" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (16, 16) and not image.text


async def test_photo_without_metadata_travels_byte_for_byte(relay, conv, capture):
    file = made("jpeg", "box.jpg")
    assert await delivered_file(relay, conv, capture, file) == ("box.jpg", file[1])
    assert (await last_record(relay, conv))["reasons"] == []


async def test_pdf_loses_its_author_and_keeps_its_pages(relay, conv, capture):
    file = made("pdf", "quote.pdf", body="Quote for order 112-1234567-1234567\nTotal 24.99 EUR",
                Author="Sally Quill", Creator="Quill Crafts Ltd", Title="Quote")
    _, data = await delivered_file(relay, conv, capture, file)
    seen = read_back(data)
    assert "Sally" not in seen and "Quill Crafts" not in seen
    assert "Total 24.99 EUR" in seen


@pytest.mark.parametrize(("kind", "filename", "fields"), [
    ("pdf", "quote.pdf", {"body": "Quote\nCall me on 07911 123456 for a better price"}),
    ("pdf", "terms.pdf", {"body": "Write to sally.quill77@gmail.com"}),
    ("docx", "notes.docx", {"body": "Cheaper on my own site: www.quillcrafts.co.uk"}),
    ("xlsx", "prices.xlsx", {"cells": [["Item", "Price"], ["WhatsApp", "+44 7911 123456"]]}),
])
async def test_document_whose_text_carries_a_contact_is_refused(relay, conv, capture, kind,
                                                                 filename, fields):
    file = made(kind, filename, **fields)
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [file]))
    await assert_refused(relay, conv, capture, reply, "attachment.contact", filename)


async def test_office_document_loses_creator_and_company(relay, conv, capture):
    file = made("docx", "invoice.docx", body="Invoice for order 112-1234567-1234567",
                creator="Sally Quill", lastModifiedBy="Sally Q", company="Quill Crafts Ltd",
                title="Invoice")
    _, data = await delivered_file(relay, conv, capture, file)
    seen = read_back(data)
    assert "Sally" not in seen and "Quill Crafts" not in seen
    assert "Invoice for order 112-1234567-1234567" in seen
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # still a document Word opens
        assert archive.testzip() is None
        assert "<dc:title>Invoice</dc:title>" in archive.read("docProps/core.xml").decode()


async def test_spreadsheet_with_only_order_talk_is_delivered(relay, conv, capture):
    file = made("xlsx", "order.xlsx", cells=[["Order", "112-1234567-1234567"],
                                             ["Total", "$24.99"]])
    assert await delivered_file(relay, conv, capture, file, sender=BUYER) == (
        "order.xlsx", file[1])


async def test_spreadsheet_of_part_numbers_and_sizes_is_delivered(relay, conv, capture):
    # Digits alone in cells, side by side: no phone number runs from one cell to the next,
    # and a part number in digit groups is not one either.
    file = made("xlsx", "parts.xlsx", cells=[["Item", "W (cm)", "D (cm)", "H (cm)", "kg"],
                                             ["Cabinet", "200", "60", "90", "75"],
                                             ["Desk", "160", "80", "74", "38"],
                                             ["Part", "0 281 006 117", "", "", ""]])
    assert await delivered_file(relay, conv, capture, file, sender=BUYER) == (
        "parts.xlsx", file[1])


async def test_spreadsheet_with_a_phone_column_is_still_refused(relay, conv, capture):
    file = made("xlsx", "pickup.xlsx", cells=[["Name", "Tel."], ["Sally", "415 555 0134"]])
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [file]))
    await assert_refused(relay, conv, capture, reply, "attachment.contact", "pickup.xlsx")


@pytest.mark.parametrize(("filename", "ctype"), [
    ("sally.vcf", "text/vcard"), ("contact.vcard", "text/x-vcard"),
    # A card by content, whatever its name says.
    ("details.txt", "text/plain"),
])
async def test_contact_card_is_refused_with_its_own_reason(relay, conv, capture, filename,
                                                           ctype):
    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sally Quill\r\nTEL:+44 7911 123456\r\nEND:VCARD\r\n"
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [(filename, card, ctype)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.vcard", filename)
    assert "contact card" in text


async def test_contact_card_is_stripped_when_configured(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, attachment="strip")
    card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nTEL:+44 7911 123456\r\nEND:VCARD\r\n"
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                             message(SELLER, conv.buyer_alias, [("me.vcf", card, "text/vcard")]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [] and b"7911 123456" not in got.data
    assert "attachment.vcard" in (await last_record(relay, conv))["reasons"]


PICKUP = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Quill//Pickup//EN\r\nBEGIN:VEVENT\r\n"
    "UID:20251114-1@quillcrafts.co.uk\r\nDTSTAMP:20251110T090000Z\r\n"
    "DTSTART:20251114T100000Z\r\nDTEND:20251114T110000Z\r\nSUMMARY:Pickup of your order\r\n"
    "ORGANIZER;CN=Sally Quill:mailto:sally.quill77@gmail.com\r\n"
    "ATTENDEE;CN=Bob;RSVP=TRUE:mailto:bob.buyer@buyer-mail.example\r\n"
    "LOCATION:12 Kestrel Close\\, Bristol BS1 4DJ\r\n"
    "DESCRIPTION:Ring me on 07911 123456 when you arrive\r\nGEO:51.4545;-2.5879\r\n"
    "URL:https://quillcrafts.co.uk/pickup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


async def test_calendar_invite_is_delivered_scrubbed(relay, conv, capture):
    name, data = await delivered_file(relay, conv, capture, ("pickup.ics", PICKUP.encode(),
                                                             "text/calendar"))
    text = data.decode()
    assert name == "pickup.ics"
    for secret in ("sally.quill77", "Sally Quill", "Kestrel", "123456", "51.4545",
                   "quillcrafts", "bob.buyer"):
        assert secret not in text, secret
    # Still an invite for the same slot.
    assert "DTSTART:20251114T100000Z" in text and "SUMMARY:Pickup of your order" in text
    assert text.startswith("BEGIN:VCALENDAR") and "END:VEVENT" in text
    reasons = (await last_record(relay, conv))["reasons"]
    assert {"contact.email", "contact.address", "contact.phone"} <= set(reasons)


# The program that wrote the file is named as programs name themselves; the contact model
# once read Google Calendar's PRODID as a sentence with an address in it.
# A calendar service's UID names the service, which millions share, not the sender's host.
@pytest.mark.parametrize(("prodid", "uid"), [
    (b"-//marketplace//pickup//EN", b"20251114-pickup@relay.test"),
    (b"-//Google Inc//Google Calendar 70.9054//EN", b"20251114-pickup@relay.test"),
    (b"-//Google Inc//Google Calendar 70.9054//EN", b"retiro-4412@google.com"),
    (b"-//Google Inc//Google Calendar 70.9054//EN", b"retrait-2291@marketplace"),
])
async def test_calendar_invite_without_personal_data_is_delivered_as_sent(relay, conv,
                                                                         capture, prodid, uid):
    ics = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + prodid + b"\r\n"
           b"BEGIN:VEVENT\r\nUID:" + uid + b"\r\n"
           b"DTSTAMP:20251110T090000Z\r\nDTSTART:20251114T100000Z\r\n"
           b"SUMMARY:Pickup slot for order 112-1234567-1234567\r\nEND:VEVENT\r\n"
           b"END:VCALENDAR\r\n")
    assert await delivered_file(relay, conv, capture, ("slot.ics", ics, "text/calendar"),
                                sender=BUYER) == ("slot.ics", ics)


async def test_a_calendar_programs_name_is_still_read_by_the_rules(relay, conv, capture):
    ics = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mail sally.quill77@gmail.com//EN"
           b"\r\nBEGIN:VEVENT\r\nUID:20251114-pickup@relay.test\r\n"
           b"DTSTAMP:20251110T090000Z\r\nDTSTART:20251114T100000Z\r\n"
           b"SUMMARY:Pickup slot\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    _name, data = await delivered_file(relay, conv, capture, ("slot.ics", ics, "text/calendar"),
                                       sender=BUYER)
    assert b"sally.quill77" not in data and b"SUMMARY:Pickup slot" in data


@pytest.mark.parametrize("uid", ["4412@quillcrafts.co.uk", "ring-07911123456@google.com"])
def test_a_uid_naming_a_host_or_holding_a_detail_is_replaced(uid: str):
    ics = f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:Pickup\r\nEND:VEVENT\r\n"
    rules = TextRules(RulesSettings(), "relay.test")
    got = attachment_text.scrub_calendar(ics, lambda t: rules.redact(t)[0],
                                         rules.links.host_allowed,
                                         lambda t: rules.redact(t, whole_sentences=False)[0])
    assert uid not in got and "SUMMARY:Pickup" in got


def _scrubbed(ics: str) -> str:
    rules = TextRules(RulesSettings(), "relay.test")
    return attachment_text.scrub_calendar(ics, lambda t: rules.redact(t)[0],
                                          rules.links.host_allowed,
                                          lambda t: rules.redact(t, whole_sentences=False)[0])


@pytest.mark.parametrize(("location", "home"), [
    ("Ganību dambis 17\\, Rīga", "Ganību dambis 17"),
    ("Rüütli 12-4\\, Tartu", "Rüütli 12-4"),
    ("Blok C-12-3\\, Bangsar", "Blok C-12-3"),
    ("حي النرجس\\, شارع الأمير سلطان\\, الرياض", "شارع الأمير سلطان"),
])
def test_an_invites_place_that_is_a_home_goes(location: str, home: str):
    got = _scrubbed(f"BEGIN:VEVENT\r\nSUMMARY:Pickup\r\nLOCATION:{location}\r\nEND:VEVENT\r\n")
    assert home not in got and "SUMMARY:Pickup" in got and "LOCATION:" in got


@pytest.mark.parametrize("location", [
    "Bay 4", "Marketplace Pickup Point BKR-04", "Нова пошта\\, відділення №31 (Львів)",
    "LBC branch\\, SM City North EDSA\\, Quezon City", "Leeds"])
def test_an_invites_pickup_point_stays(location: str):
    ics = f"BEGIN:VEVENT\r\nSUMMARY:Pickup\r\nLOCATION:{location}\r\nEND:VEVENT\r\n"
    assert _scrubbed(ics) == ics


def test_damaged_jpeg_is_unreadable_not_passed():
    with pytest.raises(attachment_text.Unreadable):
        attachment_text.strip_jpeg(b"\xff\xd8\xff\xe1\xff\xff" + b"x" * 10)


def test_sample_files_without_metadata_are_left_alone():
    assert attachment_text.strip_jpeg(samples.jpeg()) == samples.jpeg()
    assert attachment_text.strip_png(samples.png()) == samples.png()
    assert not attachment_text.pdf_contents(samples.pdf()).metadata


@pytest.mark.parametrize(("extra", "refused"), [
    (b"(Write to sally.quill77@gmail.com for the real price) Tj", True),
    (b"(Invoice for order 112-1234567-1234567, total 24.99 EUR) Tj", False),
])
async def test_damaged_pdf_is_judged_by_its_printable_bytes(relay, conv, capture, extra,
                                                            refused):
    # No cross-reference table, no pages: pypdf cannot read it, a viewer may still try.
    data = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\nBT " + extra + b" ET\n%%EOF\n"
    file = ("offer.pdf", data, PDF)
    if refused:
        reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                           message(SELLER, conv.buyer_alias, [file]))
        await assert_refused(relay, conv, capture, reply, "attachment.contact", "offer.pdf")
    else:
        assert await delivered_file(relay, conv, capture, file) == ("offer.pdf", data)
