"""RefuseCards and CleanAttachments alone: a contact card is refused as attachment.vcard;
photos and documents lose what names their author (losslessly), a document whose text
carries a contact is refused, a file that cannot be read is refused; the message's own text
is not theirs to touch (Redact reads it)."""

from __future__ import annotations

import pytest
import samples
from support.parcels import parcel, rules, text, wire

from relay.errors import Reject
from relay.stages.attachment_clean import CleanAttachments, RefuseCards
from tools.corpus_files import build, read_back

DOMAIN = "relay.example"
CARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Sally Quill\r\nTEL:+44 7911 123456\r\nEND:VCARD\r\n"


def with_files(*files: tuple[bytes, str, str], body: str = "The files.\n"):
    message = text(body)
    for data, kind, name in files:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def made(kind: str, name: str, **fields) -> tuple[bytes, str, str]:
    maintype, subtype, name, data = build({"kind": kind, "filename": name, "fields": fields})
    return data, f"{maintype}/{subtype}", name


def files(message) -> list[tuple[str | None, bytes]]:
    return [(p.get_filename(), p.get_payload(decode=True))
            for p in message.iter_attachments()]


@pytest.mark.parametrize("file", [
    (CARD, "text/vcard", "sally.vcf"),
    (CARD, "text/plain", "contact.txt"),  # by its content
    (b"FN:Sally\r\n", "text/x-vcard", "card"),  # by its declared type
])
async def test_a_contact_card_is_refused_however_it_is_labelled(file):
    held = parcel(with_files(file))
    with pytest.raises(Reject) as caught:
        await RefuseCards(rules())(held)
    assert caught.value.code == "attachment.vcard"
    assert caught.value.smtp_reply == (
        f'550 5.7.1 attachment.vcard: "{file[2]}" is a contact card (vCard); contact details'
        " stay off the conversation")


async def test_a_card_in_a_forwarded_message_is_found_and_strip_takes_only_it():
    inner = with_files((CARD, "text/vcard", "sally.vcf"), body="Forwarded card.\n")
    outer = with_files((b"Size M\n", "text/plain", "notes.txt"))
    outer.add_attachment(inner)
    held = parcel(outer)
    await RefuseCards(rules(attachment="strip"))(held)
    assert b"BEGIN:VCARD" not in held.message.as_bytes()
    assert b"Forwarded card." in held.message.as_bytes()
    assert files(held.message)[0] == ("notes.txt", b"Size M\n")
    assert held.reasons == ["attachment.vcard"]


async def test_cards_pass_when_the_attachment_rule_is_off():
    held = parcel(with_files((CARD, "text/vcard", "sally.vcf")))
    before = wire(held.message)
    await RefuseCards(rules(attachment="off"))(held)
    assert wire(held.message) == before


async def test_a_photo_loses_its_author_and_position_and_keeps_its_picture():
    photo = made("jpeg", "damage.jpg", Artist="Sally Quill", GPS=[51.501364, -0.14189])
    held = parcel(with_files(photo, body="Photo of the damage from sally@example.net\n"))
    body = held.message.get_body().as_bytes()
    await CleanAttachments(rules(), DOMAIN)(held)
    ((name, data),) = files(held.message)
    assert name == "damage.jpg"
    assert "Sally" not in read_back(data) and "51.50" not in read_back(data)
    # Lossless: the compressed picture after the start-of-scan marker is the sender's.
    assert data[data.index(b"\xff\xda"):] == photo[0][photo[0].index(b"\xff\xda"):]
    assert held.reasons == ["attachment.metadata"]
    assert held.message.get_body().as_bytes() == body  # the text is Redact's


async def test_files_without_metadata_travel_byte_for_byte():
    held = parcel(with_files((samples.jpeg(), "image/jpeg", "a.jpg"),
                             (samples.png(), "image/png", "b.png"),
                             (samples.pdf(), "application/pdf", "invoice.pdf")))
    before = wire(held.message)
    await CleanAttachments(rules(), DOMAIN)(held)
    assert wire(held.message) == before and held.reasons == []


async def test_a_document_with_a_contact_in_its_text_is_refused_or_stripped():
    quote = made("pdf", "quote.pdf", body="Quote\nWrite to sally.quill77@gmail.com")
    with pytest.raises(Reject) as caught:
        await CleanAttachments(rules(), DOMAIN)(parcel(with_files(quote)))
    assert caught.value.code == "attachment.contact"
    assert caught.value.reason.startswith('"quote.pdf" contains contact details')

    held = parcel(with_files(quote, (samples.pdf(), "application/pdf", "invoice.pdf")))
    await CleanAttachments(rules(attachment="strip"), DOMAIN)(held)
    assert [name for name, _ in files(held.message)] == ["invoice.pdf"]
    assert held.reasons == ["attachment.contact"]


async def test_a_damaged_photo_is_refused_as_unreadable():
    held = parcel(with_files((b"\xff\xd8\xff\xe1\xff\xff" + b"x" * 10, "image/jpeg", "a.jpg")))
    with pytest.raises(Reject) as caught:
        await CleanAttachments(rules(), DOMAIN)(held)
    assert caught.value.code == "attachment.unreadable"
    assert caught.value.reason.startswith('"a.jpg" is ')
