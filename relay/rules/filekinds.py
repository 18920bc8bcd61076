"""What a file is, by its first bytes or by its name's extension: the tables the attachment
rule and the Office package check share."""

from __future__ import annotations

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
