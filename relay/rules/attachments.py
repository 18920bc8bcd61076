"""attachment.*: what a file is, judged by its bytes, and whether it may travel.

Allowed kinds (config): pdf, png, jpeg, text, office (OOXML and legacy Office files without
macros). Every name the part gives (Content-Type name, Content-Disposition filename, in any
RFC 2231 or RFC 2047 form) must agree with the content: "invoice.pdf" that is a ZIP,
"photo.jpg.exe", or a part named "notes.txt" in one header and "update.hta" in the other is
refused. Office packages are also looked into (relay.rules.ooxml). Reason codes:
attachment.executable, .archive, .script, .html, .macro, .mismatch, .type, .external,
.embedded, .bomb, .count, .size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relay.rules import ooxml
from relay.rules.filekinds import (
    ARCHIVE_EXT,
    ARCHIVE_MAGIC,
    EXECUTABLE_EXT,
    EXECUTABLE_MAGIC,
    HTML_EXT,
    MACRO_EXT,
    OLE,
    SCRIPT_EXT,
    ZIP,
    extension,
)

# The extensions each allowed kind may carry (none at all is fine too).
EXTENSIONS = {
    "pdf": {"pdf"},
    "png": {"png"},
    "jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "text": {"txt", "text", "csv", "tsv", "log", "md",
             "ics", "ical"},  # calendars: scrubbed by relay/stages/attachment_clean.py
    "office": {"docx", "dotx", "xlsx", "xltx", "pptx", "potx", "ppsx", "doc", "dot", "xls",
               "xlt", "ppt", "pps", "pot"},
}
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml")
_BY_NAME = (
    ("executable", "is an executable program", EXECUTABLE_EXT),
    ("script", "is a script", SCRIPT_EXT),
    ("archive", "is an archive", ARCHIVE_EXT),
    ("html", "is an HTML document", HTML_EXT),
    ("macro", "is an Office document with macros", MACRO_EXT),
)


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # one of EXTENSIONS' kinds, or None when refused
    code: str = ""  # attachment.<why> when refused
    why: str = ""
    name: str = ""  # which of the part's names the refusal is about ("" for the content)


def _refused(code: str, why: str, name: str = "") -> Verdict:
    return Verdict(None, f"attachment.{code}", why, name)


def _ole(data: bytes) -> Verdict:
    # A compound file lists its streams by UTF-16 name; macros live in _VBA_PROJECT / VBA.
    if any(m.encode("utf-16-le") in data for m in ("_VBA_PROJECT", "Macros", "VBA")):
        return _refused("macro", "is an Office document with macros")
    if ooxml.carries_program(data):
        return _refused("embedded", "is an Office document carrying a program")
    return Verdict("office")


def _text(data: bytes) -> Verdict:
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _refused("type", "is a binary file of a type that is not allowed")
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(_HTML_START):
        return _refused("html", "is an HTML or script document")
    if start.startswith(b"#!") or start.startswith(b"@echo off"):
        return _refused("script", "is a script")
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if controls > len(head) // 100:
        return _refused("type", "is a binary file of a type that is not allowed")
    return Verdict("text")


def sniff(data: bytes, limits: ooxml.Limits | None = None) -> Verdict:
    """What the bytes are."""
    if data.startswith(b"%PDF-") or data[:1024].find(b"%PDF-") >= 0:
        return Verdict("pdf")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Verdict("png")
    if data.startswith(b"\xff\xd8\xff"):
        return Verdict("jpeg")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _refused("type", "is a GIF image")
    if data.startswith(ZIP):
        found = ooxml.inspect(data, limits or ooxml.Limits())
        return Verdict("office") if found is None else _refused(found.code, found.why)
    if data.startswith(OLE):
        return _ole(data)
    if data.startswith(EXECUTABLE_MAGIC):
        return _refused("executable", "is an executable program")
    if data.startswith(ARCHIVE_MAGIC) or data[257:262] == b"ustar":
        return _refused("archive", "is an archive")
    return _text(data)


def is_gif(data: bytes) -> bool:
    return data.startswith((b"GIF87a", b"GIF89a"))


def judge(data: bytes, names: Sequence[str], allowed: tuple[str, ...],
          limits: ooxml.Limits | None = None) -> Verdict:
    """The verdict on one attachment: each of its names, its content, then whether every
    name agrees with the content. A refusal names the name it is about."""
    for name in names:
        for code, why, extensions in _BY_NAME:
            if extension(name) in extensions:
                return _refused(code, why, name)
    verdict = sniff(data, limits)
    if verdict.kind is None:
        return verdict
    if verdict.kind not in allowed:
        return _refused("type", f"is a {verdict.kind} file, which is not allowed")
    for name in names:
        ext = extension(name)
        if ext and ext not in EXTENSIONS[verdict.kind]:
            return _refused("mismatch", f"is named .{ext} but is a {verdict.kind} file", name)
    return verdict
