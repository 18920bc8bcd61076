"""Inside a zip that claims to be an Office document (OOXML): how far it unpacks, what it
fetches from outside, and which programs ride in it.

- bomb: the central directory's declared sizes, read without inflating anything: more than
  `max_total` bytes in all, or more than `max_ratio` times the zip's own size, or more than
  MAX_ENTRIES parts. What is inflated here (relationship parts, embedded objects, the first
  bytes of every part) comes out in bounded reads against one budget, so a part whose header
  lies about its size cannot make more than the budget either.
- external: a relationship with TargetMode="External" (a remote template, image, frame or
  OLE link is fetched when the file is opened, and a UNC path hands over the reader's Windows
  credentials), or a target that is a URL or a UNC path whatever its mode, or a DTD in a
  relationship part (entities can name outside resources too).
- embedded: a part named like a program or script, a part that starts like an executable,
  or an embedded OLE object carrying one (a PE image, or a Packager object wrapping a
  program). Office documents embedded in the document are read the same way.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from io import BytesIO
from xml.parsers import expat

from relay.rules.filekinds import EMBEDDED_EXT, EXECUTABLE_MAGIC, OLE, ZIP, extension

MAX_ENTRIES = 10_000  # a large workbook has a few hundred parts
MAX_DEPTH = 2  # a workbook embedded in a document is read; one embedded in that one too
_RELS_CAP = 2_097_152  # one relationship part: a few KB in real documents
_HEAD = 8  # bytes read from every part to see what it starts like
_OOXML_DIRS = ("word/", "xl/", "ppt/")
_PE_STUB = b"This program cannot be run in DOS mode"
_OLE10_NATIVE = "\x01Ole10Native".encode("utf-16-le")  # the Packager's stream: any file
# A packaged file's name ends in NUL. Only the extension is matched: a pattern for the name
# before it would be tried at every offset of a large object.
_PACKAGED_NAME = re.compile(
    rb"\.(?:" + b"|".join(sorted(e.encode() for e in EMBEDDED_EXT | {"zip", "rar", "7z", "cab"}))
    + rb")\x00", re.IGNORECASE)
_URL_TARGET = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//|\\\\)", re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    max_ratio: float = 100.0  # declared unpacked size / size of the zip
    max_total: int = 104_857_600  # declared unpacked size, bytes


@dataclass(frozen=True)
class Finding:
    code: str  # the attachment.<code> it refuses with
    why: str


class _Spent(Exception):
    """More bytes inflated than the budget allows."""


@dataclass
class _Budget:
    left: int

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _Spent


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, budget: _Budget) -> bytes:
    """Up to `cap` bytes of a part, in bounded steps (never more than 64 KB past the cap):
    the declared size is not trusted to end the stream."""
    out = bytearray()
    with archive.open(info) as stream:
        while len(out) < cap:
            chunk = stream.read(min(65_536, cap - len(out)))
            if not chunk:
                break
            budget.take(len(chunk))
            out += chunk
    return bytes(out)


def carries_program(data: bytes) -> bool:
    """An embedded object (or a legacy Office file) holding an executable: a PE image with
    its DOS stub, or a Packager object wrapping a file named like a program."""
    if data.startswith(EXECUTABLE_MAGIC) or _PE_STUB in data:
        return True
    return _OLE10_NATIVE in data and _PACKAGED_NAME.search(data) is not None


def _unpacked_size(infos: list[zipfile.ZipInfo], size: int, limits: Limits) -> Finding | None:
    if len(infos) > MAX_ENTRIES:
        return Finding("bomb", f"holds {len(infos):,} files (at most {MAX_ENTRIES:,})")
    total = sum(i.file_size for i in infos)
    if total > limits.max_total:
        return Finding("bomb", f"unpacks to {total:,} bytes (at most {limits.max_total:,})")
    if total > limits.max_ratio * max(size, 1):
        return Finding("bomb", f"unpacks to {total / max(size, 1):,.0f} times its size (at"
                               f" most {limits.max_ratio:g})")
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return Finding("archive", "uses a compression Office documents do not use")
        if info.flag_bits & 0x1:
            return Finding("archive", "is an encrypted archive")
    return None


class _Doctype(Exception):
    pass


def _relationships(rels: bytes) -> list[dict[str, str]]:
    """The Relationship elements' attributes. expat reads the encoding as Office does (UTF-8
    or UTF-16 by BOM or declaration); a DTD stops it before any entity is defined."""
    found: list[dict[str, str]] = []

    def element(name: str, attrs: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "Relationship":
            found.append(attrs)

    def doctype(*_: object) -> None:
        raise _Doctype

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = element
    parser.Parse(rels, True)
    return found


def _external(rels: bytes) -> Finding | None:
    try:
        relationships = _relationships(rels)
    except _Doctype:
        return Finding("external", "is an Office document whose relationships declare a DTD")
    except expat.ExpatError:
        return Finding("archive", "is a damaged Office document")
    for rel in relationships:
        mode = rel.get("TargetMode", "").strip().lower()
        if mode == "external" or _URL_TARGET.match(rel.get("Target", "")):
            kind = rel.get("Type", "").rstrip("/").rpartition("/")[2]
            kind = re.sub(r"[^A-Za-z0-9]", "", kind)[:40] or "relationship"
            return Finding("external", "is an Office document that refers to content outside"
                                       f" itself ({kind} relationship)")
    return None


def inspect(data: bytes, limits: Limits, depth: int = 0, budget: _Budget | None = None
            ) -> Finding | None:
    """None for a clean Office package; else why it is refused."""
    budget = budget or _Budget(limits.max_total)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return _inspect(archive, len(data), limits, depth, budget)
    except _Spent:
        return Finding("bomb", f"unpacks to more than {limits.max_total:,} bytes")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError,
            NotImplementedError, RuntimeError):
        # A part whose data does not match its header (CRC, size) lands here too.
        return Finding("archive", "is a damaged or unreadable archive")


def _inspect(archive: zipfile.ZipFile, size: int, limits: Limits, depth: int,
             budget: _Budget) -> Finding | None:
    infos = archive.infolist()
    found = _unpacked_size(infos, size, limits)
    if found is not None:
        return found
    names = [i.filename.lower() for i in infos]
    if "[content_types].xml" not in names or not any(n.startswith(_OOXML_DIRS) for n in names):
        return Finding("archive", "is an archive (zip)")
    if any(n.endswith(("vbaproject.bin", "vbadata.xml")) for n in names):
        return Finding("macro", "is an Office document with macros")
    for info in infos:
        if extension(info.filename) in EMBEDDED_EXT:
            shown = re.sub(r"[^\x20-\x7e]", "?", info.filename.rpartition("/")[2])[:60]
            return Finding("embedded", f"is an Office document carrying a program ({shown})")
    for info in infos:
        if info.is_dir():
            continue
        if info.filename.lower().endswith(".rels"):
            found = _external(_read(archive, info, _RELS_CAP, budget))
        else:
            found = _part(archive, info, limits, depth, budget)
        if found is not None:
            return found
    return None


def _part(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, depth: int,
          budget: _Budget) -> Finding | None:
    head = _read(archive, info, _HEAD, budget)
    if head.startswith(EXECUTABLE_MAGIC):
        return Finding("embedded", "is an Office document carrying a program")
    if not head.startswith((OLE, *ZIP)):
        return None
    # An embedded object: read whole (within the budget) and judged like the outer file.
    whole = _read(archive, info, budget.left + 1, budget)
    if head.startswith(OLE):
        if carries_program(whole):
            return Finding("embedded", "is an Office document carrying a program")
        return None
    if depth >= MAX_DEPTH:
        return Finding("embedded", "is an Office document with documents nested too deep")
    found = inspect(whole, limits, depth + 1, budget)
    if found is not None and found.code == "archive" and found.why == "is an archive (zip)":
        return Finding("embedded", "is an Office document carrying an archive")
    return found
