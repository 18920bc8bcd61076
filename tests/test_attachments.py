"""Attachments end to end over SMTP: judged by their bytes, delivered intact or refused by name.

Every test talks to the real relay on a loopback port and reads what the capture inbox got and
what the store recorded. Payloads come from samples.py (real, minimal files of each kind).
"""

from __future__ import annotations

import asyncio

import pytest
import samples
from conftest import BUYER, SELLER, make_config, open_conv, send

from relay.config import RulesSettings
from relay.store import records

BODY = "Hello, the file for my order is attached. Could you have a look?\n"
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


def message(sender: str, to: str, files: list[tuple[str, bytes, str]],
            body: str = BODY) -> bytes:
    return samples.mime_with_attachments(sender, to, "Files for my order", body, files)


def attachments(received) -> list[tuple[str, bytes]]:
    """(filename, decoded bytes) of every attachment in the delivered message."""
    return [(part.get_filename(), part.get_payload(decode=True))
            for part in received.message.iter_attachments()]


async def last_record(relay, conv) -> dict:
    rows = await records.summaries(relay.store, conv.id)
    assert rows, "nothing was recorded"
    return rows[-1]


async def assert_refused(relay, conv, capture, reply: tuple[int, str], code: str,
                         filename: str) -> str:
    """The 550 names the reason code and the file; the store has it rejected; no delivery."""
    got_code, text = reply
    prefix = f'5.7.1 {code}: "{filename}" '
    assert got_code == 550, (got_code, text)
    assert text.startswith(prefix), text
    assert len(text) > len(prefix) + 3, f"no explanation after the file name: {text!r}"
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", [code])
    await assert_not_delivered(relay, capture, row)
    return text


async def assert_not_delivered(relay, capture, row: dict) -> None:
    """Never queued (no delivery event, no outbox row), and the inbox stays empty."""
    assert row["delivery"] is None
    async with relay.store.read() as db:
        queued = await db.execute_fetchall("SELECT count(*) FROM outbox WHERE message_id = ?",
                                           (row["id"],))
    assert queued[0][0] == 0
    await asyncio.sleep(0.05)  # a queued message reaches the inbox in about 20 ms
    assert capture.messages == []


async def start(relay_factory, capture, tmp_path, **rules):
    """A relay whose [rules] differ from the defaults, and a conversation on it."""
    config = make_config(tmp_path, capture.port).replace(rules=RulesSettings(**rules))
    relay = await relay_factory(config)
    return relay, await open_conv(relay)


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
    relay, conv = await start(relay_factory, capture, tmp_path, attachment_max_count=2)
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, pdfs(3)))
    text = await assert_refused(relay, conv, capture, reply, "attachment.count", "file3.pdf")
    assert "at most 2 per message" in text


async def test_attachments_over_the_total_size_are_refused(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, attachment_max_total=1000)
    files = [("a.txt", b"a" * 599 + b"\n", "text/plain"),
             ("b.txt", b"b" * 599 + b"\n", "text/plain")]  # 600 + 600 > 1000
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, files))
    text = await assert_refused(relay, conv, capture, reply, "attachment.size", "b.txt")
    assert "1,000" in text, text


async def test_attachments_exactly_at_the_total_size_pass(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, attachment_max_total=1000)
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
    relay, conv = await start(relay_factory, capture, tmp_path, style_emoji="off")
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("smile.gif", samples.gif(),
                                                           "image/gif")]))
    await assert_refused(relay, conv, capture, reply, "attachment.type", "smile.gif")


async def test_gif_refuses_the_message_when_style_emoji_is_reject(relay_factory, capture,
                                                                  tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, style_emoji="reject")
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
    relay, conv = await start(relay_factory, capture, tmp_path, attachment="strip")
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
    relay, conv = await start(relay_factory, capture, tmp_path, attachment="strip")
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, pdfs(7)))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert [name for name, _ in attachments(got)] == [f"file{n}.pdf" for n in range(1, 6)]
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("delivered_redacted", ["attachment.count"])


async def test_off_lets_anything_through(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, attachment="off")
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
    relay, conv = await start(relay_factory, capture, tmp_path,
                              attachment_types=("pdf", "png", "jpeg", "text"))
    reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                       message(BUYER, conv.seller_alias, [("invoice.docx", samples.docx(),
                                                           DOCX_TYPE)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.type", "invoice.docx")
    assert "not allowed" in text


async def test_pdf_removed_from_types_says_so(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path,
                              attachment_types=("png", "jpeg", "text", "office"))
    reply = await send(relay.smtp_port, SELLER, conv.buyer_alias,
                       message(SELLER, conv.buyer_alias, [("invoice.pdf", samples.pdf(), PDF)]))
    text = await assert_refused(relay, conv, capture, reply, "attachment.type", "invoice.pdf")
    assert text.endswith("is a pdf file, which is not allowed"), text


async def test_kinds_left_in_types_still_pass(relay_factory, capture, tmp_path):
    relay, conv = await start(relay_factory, capture, tmp_path, attachment_types=("png",))
    code, reply = await send(relay.smtp_port, BUYER, conv.seller_alias,
                             message(BUYER, conv.seller_alias, [("photo.png", samples.png(),
                                                                 "image/png")]))
    assert code == 250, reply
    (got,) = await capture.wait_for(1)
    assert attachments(got) == [("photo.png", samples.png())]
