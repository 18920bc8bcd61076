"""What a file is, by its first bytes or by its name's extension: the tables the attachment
rule and the Office package check share."""

from __future__ import annotations

import re

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: legacy Office, embedded objects
ZIP = (b"PK\x03\x04", b"PK\x05\x06")
EXECUTABLE_MAGIC = (
    b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"dex\n",
)
ARCHIVE_MAGIC = (
    b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"MSCF",
    b"\x28\xb5\x2f\xfd", b"ISc(", b"!<arch>", b"xar!", b"\x04\x22\x4d\x18",
)
# By name: what runs when opened, whatever its bytes say.
EXECUTABLE_EXT = {
    "exe", "dll", "scr", "com", "pif", "cpl", "msi", "msp", "msix", "appx", "bin", "elf", "so",
    "dylib", "app", "apk", "ipa", "deb", "rpm", "dmg", "pkg", "jar", "class", "lnk", "reg",
    "iso", "img", "vhd", "vhdx", "sys", "drv", "ocx", "gadget", "application", "xll", "wasm",
}
SCRIPT_EXT = {
    "js", "jse", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "bat", "cmd", "sh", "bash", "zsh",
    "py", "pl", "rb", "php", "hta", "scf", "inf", "vb", "applescript", "command", "csh", "ksh",
    "url", "website", "desktop", "svg",
}
ARCHIVE_EXT = {
    "zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "cab", "zst", "arj", "lz", "lzh", "ace",
    "z", "cpio", "ar",
}
HTML_EXT = {"htm", "html", "xhtml", "shtml", "mht", "mhtml", "xht", "svgz"}
MACRO_EXT = {"docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppam", "ppsm", "sldm"}
# Inside an Office package: a program or a page to run. Not "bin" (printerSettings1.bin,
# oleObject1.bin are ordinary parts, judged by their bytes) nor "svg" (Office's icons).
EMBEDDED_EXT = (EXECUTABLE_EXT | SCRIPT_EXT | HTML_EXT | MACRO_EXT) - {"bin", "svg"}


def extension(name: str) -> str:
    """"photo.JPG.exe " -> "exe": what a file manager goes by (trailing dots and spaces are
    dropped by Windows)."""
    name = name.strip().lower().rstrip(". ")
    base = name.replace("\\", "/").rpartition("/")[2]
    return base.rpartition(".")[2] if "." in base else ""

# The names cameras, phones, scanners and messenger apps give the files they save: a prefix
# of their own, the date and time taken, a counter ("IMG_20240503_142211.jpg",
# "20240503_142211.jpg", "KakaoTalk_20240611_101112.jpg", "IMG-20240503-WA0012.jpg",
# "WhatsApp Image 2024-05-03 at 14.22.11.jpeg", "PXL_20240503_142211123.jpg", "DSC_0042.JPG").
# Digits stamped by a device, not a number someone typed: kept as they are.
_DEVICE_PREFIX = (r"(?:IMG|VID|PXL|DSC|DSCN|DSCF|DCIM|MVIMG|PANO|BURST|Screenshot|Screen Shot|"
                  r"Bildschirmfoto|Captura de pantalla|Capture d'écran|Schermafbeelding|"
                  r"Skärmbild|Zrzut ekranu|KakaoTalk(?:_Photo)?|WhatsApp Image|WhatsApp Video|"
                  r"Photo|Foto|Image|Bild|signal|telegram|LINE_ALBUM|LINE_P|mmexport|wx_camera|"
                  r"Scan|CamScanner|P|PHOTO|IMAG|GOPR|GH)")
DEVICE_NAME = re.compile(
    # A date and time stamp, the prefix optional; or a prefix and a short counter.
    rf"(?i)(?:(?:{_DEVICE_PREFIX}[ _\-]?)?"
    r"(?:19|20)\d\d[-_.]?[01]\d[-_.]?[0-3]\d(?:(?:[ _\-]|\s+at\s+|\s+um\s+|\s+à\s+)"
    r"[0-2]\d[-_.:]?[0-5]\d[-_.:]?[0-5]\d\d{0,3})?"
    rf"|{_DEVICE_PREFIX}[ _\-]?\d{{3,5}})"
    # What a device or app adds after it: a copy's counter, WhatsApp's, a mode.
    r"(?:[ _]?\(\d{1,3}\)|~\d{1,2}|-WA\d{4}|_HDR|_BURST\d*|_COVER|[-_ ]edited|[-_ ]bearbeitet)?"
    r"\.(?:jpe?g|png|heic|heif|gif|webp|mp4|mov|pdf|tiff?)")


def device_name(name: str) -> bool:
    """Whether a file name is one a device or app gave (nothing typed into it)."""
    return bool(DEVICE_NAME.fullmatch(name.strip()))
