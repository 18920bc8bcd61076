"""attachment.*: what a file is, judged by its bytes, and whether it may travel.

Allowed kinds (config): pdf, png, jpeg, text, office (OOXML and legacy Office files without
macros). The name's extension must agree with the content: "invoice.pdf" that is a ZIP, or
"photo.jpg.exe", is refused. Reason codes: attachment.executable, .archive, .script, .html,
.macro, .mismatch, .type, .count, .size.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_EXECUTABLE_MAGIC = (
    b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"dex\n",
)
_ARCHIVE_MAGIC = (
    b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"MSCF",
    b"\x28\xb5\x2f\xfd", b"ISc(", b"!<arch>", b"xar!", b"\x04\x22\x4d\x18",
)
# By name: what runs when opened, whatever its bytes say.
_EXECUTABLE_EXT = {
    "exe", "dll", "scr", "com", "pif", "cpl", "msi", "msp", "msix", "appx", "bin", "elf", "so",
    "dylib", "app", "apk", "ipa", "deb", "rpm", "dmg", "pkg", "jar", "class", "lnk", "reg",
    "iso", "img", "vhd", "vhdx", "sys", "drv", "ocx", "gadget", "application", "xll", "wasm",
}
_SCRIPT_EXT = {
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "bat", "cmd", "sh", "bash", "zsh",
    "py", "pl", "rb", "php", "hta", "scf", "inf", "vb", "applescript", "command", "csh", "ksh",
    "url", "website", "desktop", "svg",
}
_ARCHIVE_EXT = {
    "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "cab", "zst", "arj", "lz", "lzh", "ace",
    "z", "cpio", "ar",
}
_HTML_EXT = {"htm", "html", "xhtml", "shtml", "mht", "mhtml", "xht", "svgz"}
_MACRO_EXT = {"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm"}
# The extensions each allowed kind may carry (none at all is fine too).
EXTENSIONS = {
    "pdf": {"pdf"},
    "png": {"png"},
    "jpeg": {"jpg", "jpeg", "jpe", "jfif"},
    "text": {"txt", "text", "csv", "tsv", "log", "md",
             "ics", "ical"},  # calendars: scrubbed by relay/rewrite/attachment_clean.py
    "office": {"docx", "dotx", "xlsx", "xltx", "pptx", "potx", "ppsx", "doc", "dot", "xls",
               "xlt", "ppt", "pps", "pot"},
}
_OOXML_DIRS = ("word/", "xl/", "ppt/")
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml")


@dataclass(frozen=True)
class Verdict:
    kind: str | None  # one of EXTENSIONS' kinds, or None when refused
    code: str = ""  # attachment.<why> when refused
    why: str = ""


def _refused(code: str, why: str) -> Verdict:
    return Verdict(None, f"attachment.{code}", why)


def _ooxml(data: bytes) -> Verdict:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n.lower() for n in archive.namelist()]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return _refused("archive", "is a damaged or unreadable archive")
    if "[content_types].xml" in names and any(n.startswith(_OOXML_DIRS) for n in names):
        if any(n.endswith("vbaproject.bin") or n.endswith("vbadata.xml") for n in names):
            return _refused("macro", "is an Office document with macros")
        return Verdict("office")
    return _refused("archive", "is an archive (zip)")


def _ole(data: bytes) -> Verdict:
    # A compound file lists its streams by UTF-16 name; macros live in _VBA_PROJECT / VBA.
    if any(m.encode("utf-16-le") in data for m in ("_VBA_PROJECT", "Macros", "VBA")):
        return _refused("macro", "is an Office document with macros")
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


def sniff(data: bytes) -> Verdict:
    """What the bytes are."""
    if data.startswith(b"%PDF-") or data[:1024].find(b"%PDF-") >= 0:
        return Verdict("pdf")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Verdict("png")
    if data.startswith(b"\xff\xd8\xff"):
        return Verdict("jpeg")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _refused("type", "is a GIF image")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _ooxml(data)
    if data.startswith(_OLE):
        return _ole(data)
    if data.startswith(_EXECUTABLE_MAGIC):
        return _refused("executable", "is an executable program")
    if data.startswith(_ARCHIVE_MAGIC) or data[257:262] == b"ustar":
        return _refused("archive", "is an archive")
    return _text(data)


def is_gif(data: bytes) -> bool:
    return data.startswith((b"GIF87a", b"GIF89a"))


def judge(data: bytes, filename: str, allowed: tuple[str, ...]) -> Verdict:
    """The verdict on one attachment: its content first, then whether its name agrees."""
    name = filename.strip().lower().rstrip(". ")
    extension = name.rpartition(".")[2] if "." in name else ""
    by_name = (
        ("executable", "is an executable program", _EXECUTABLE_EXT),
        ("script", "is a script", _SCRIPT_EXT),
        ("archive", "is an archive", _ARCHIVE_EXT),
        ("html", "is an HTML document", _HTML_EXT),
        ("macro", "is an Office document with macros", _MACRO_EXT),
    )
    for code, why, extensions in by_name:
        if extension in extensions:
            return _refused(code, why)
    verdict = sniff(data)
    if verdict.kind is None:
        return verdict
    if verdict.kind not in allowed:
        return _refused("type", f"is a {verdict.kind} file, which is not allowed")
    if extension and extension not in EXTENSIONS[verdict.kind]:
        return _refused("mismatch", f"is named .{extension} but is a {verdict.kind} file")
    return verdict
