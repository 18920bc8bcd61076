"""CheckAttachments alone: files judged by their bytes and every name they give; a refused
file refuses the message, or leaves it (rules.attachment = "strip"); the count and total
size limits name the first file past them; files that pass travel as they came."""

from __future__ import annotations

import pytest
import samples
from support.parcels import parcel, rules, text, wire

from relay.errors import Reject
from relay.stages.attachments import CheckAttachments
from relay.stages.redact import Redact


def with_files(*files: tuple[bytes, str, str]):
    """A text message with files attached: (bytes, content type, file name)."""
    message = text("The files you asked for.\n")
    for data, kind, name in files:
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def names(message) -> list[str | None]:
    return [p.get_filename() for p in message.iter_attachments()]


PDF = (samples.pdf(), "application/pdf", "invoice.pdf")
TXT = (b"Size M, colour blue.\n", "text/plain", "notes.txt")


async def test_allowed_files_travel_byte_for_byte():
    held = parcel(with_files(PDF, TXT, (samples.png(), "image/png", "scratch.png")))
    before = wire(held.message)
    await CheckAttachments(rules())(held)
    assert wire(held.message) == before and held.reasons == []


@pytest.mark.parametrize("file, code, says", [
    ((samples.exe(), "application/octet-stream", "setup.exe"), "attachment.executable",
     '"setup.exe" is an executable program'),
    ((samples.exe(), "application/pdf", "invoice.pdf"), "attachment.executable",
     '"invoice.pdf" is an executable program'),
    ((samples.zip_archive(), "application/zip", "photos.zip"), "attachment.archive",
     '"photos.zip" is an archive'),
    ((samples.pdf(), "application/pdf", "invoice.txt"), "attachment.mismatch",
     '"invoice.txt" is named .txt but is a pdf file'),
])
async def test_a_file_that_may_not_travel_refuses_the_message(file, code, says):
    held = parcel(with_files(TXT, file))
    before = wire(held.message)
    with pytest.raises(Reject) as caught:
        await CheckAttachments(rules())(held)
    assert caught.value.code == code
    assert caught.value.smtp_reply == f"550 5.7.1 {code}: {says}"
    assert wire(held.message) == before  # refused whole, nothing half-done


async def test_strip_removes_only_the_refused_file():
    held = parcel(with_files(PDF, (samples.exe(), "application/octet-stream", "setup.exe"), TXT))
    pdf_part = next(held.message.iter_attachments()).as_bytes()
    await CheckAttachments(rules(attachment="strip"))(held)
    assert names(held.message) == ["invoice.pdf", "notes.txt"]
    assert next(held.message.iter_attachments()).as_bytes() == pdf_part
    assert held.reasons == ["attachment.executable"]


async def test_a_message_that_is_only_a_refused_file_keeps_a_note():
    message = text("placeholder\n")
    message.set_content(samples.exe(), maintype="application", subtype="octet-stream",
                        disposition="attachment", filename="setup.exe")
    held = parcel(message)
    await CheckAttachments(rules(attachment="strip"))(held)
    assert held.message.get_content_type() == "text/plain"
    assert held.message.get_content() == "[attachment removed]\n"
    assert held.message["Content-Disposition"] is None
    assert held.message["Subject"] == "About order 112-1234567-1234567"


async def test_the_first_file_past_the_count_or_the_total_is_the_one_named():
    files = [(f"line {n}\n".encode(), "text/plain", f"{n}.txt") for n in range(4)]
    with pytest.raises(Reject) as caught:
        await CheckAttachments(rules(attachment_max_count=3))(parcel(with_files(*files)))
    assert caught.value.code == "attachment.count"
    assert caught.value.reason.startswith('"3.txt" is one attachment too many (at most 3')

    big = [(b"x" * 600 + b"\n", "text/plain", f"{n}.txt") for n in range(3)]
    held = parcel(with_files(*big))
    await CheckAttachments(rules(attachment="strip", attachment_max_total=1300))(held)
    assert names(held.message) == ["0.txt", "1.txt"]
    assert held.reasons == ["attachment.size"]


async def test_a_text_file_sent_as_octet_stream_keeps_its_type_and_is_read_as_text():
    held = parcel(with_files((b"Order notes\n", "application/octet-stream", "notes.txt")))
    next(held.message.iter_attachments()).set_param("name", "notes.txt")  # as Outlook names it
    before = held.message.as_bytes()
    await CheckAttachments(rules())(held)
    (part,) = held.message.iter_attachments()
    assert held.text_files == [part]  # the text rules will read it
    assert held.message.as_bytes() == before  # a check does not relabel what it checks
    assert held.reasons == []


async def test_a_text_file_of_another_type_is_redacted_in_its_own_type_and_charset():
    held = parcel(with_files(("Mail me: bob.buyer@gmail.com, Grüße\n".encode("latin-1"),
                              "application/octet-stream", "notes.txt")))
    await CheckAttachments(rules())(held)
    await Redact(rules(), "relay.example")(held)
    (part,) = held.message.iter_attachments()
    assert part.get_content_type() == "application/octet-stream"
    text = part.get_payload(decode=True).decode("latin-1")
    assert "bob.buyer@gmail.com" not in text and "Grüße" in text
    assert held.reasons == ["contact.email"]


async def test_off_lets_every_file_through():
    held = parcel(with_files((samples.exe(), "application/octet-stream", "setup.exe")))
    before = wire(held.message)
    await CheckAttachments(rules(attachment="off"))(held)
    assert wire(held.message) == before and held.reasons == []
