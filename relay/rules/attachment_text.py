"""What a file says besides its pixels or pages: metadata to strip, text to scan.

Pure functions over bytes. Images lose their metadata losslessly (JPEG segments, PNG chunks
are dropped; the compressed image data is copied as it is, never re-encoded). PDFs and OOXML
files give their text for the text rules, and lose their author-like metadata (PDF Info and
XMP via pypdf; docProps via zipfile). Calendars are scrubbed property by property; contact
cards are recognized so they can be refused.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from relay.rules.findings import CONTACT_MARKER

# JPEG segments a viewer needs: APP0 (JFIF), APP2 (ICC colour profile), APP14 (Adobe colour
# transform). Every other APPn (EXIF, XMP, IPTC/Photoshop, maker notes) and COM carries text.
_JPEG_KEEP_APP = {0xE0, 0xE2, 0xEE}
# PNG chunks that carry text or a date; everything else draws the image.
_PNG_TEXT_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


class Unreadable(ValueError):
    """A file too damaged to be read by its library: what it carries cannot be checked as a
    document. `as_bytes`: whether a scan of its printable bytes may stand in for that."""

    def __init__(self, why: str, as_bytes: bool = True) -> None:
        super().__init__(why)
        self.as_bytes = as_bytes


_PRINTABLE = re.compile(rb"[\x20-\x7e\t]{6,}")
# A damaged file is scanned this far: past it, what a reader could see is not plain text.
MAX_RAW_SCAN = 2_000_000


def printable_text(data: bytes) -> str:
    """The runs of printable ASCII in a file's bytes, one per line: what a damaged PDF shows
    to anyone who opens it in a text editor (strings(1))."""
    return "\n".join(m.group(0).decode("ascii") for m in _PRINTABLE.finditer(data[:MAX_RAW_SCAN]))


def strip_jpeg(data: bytes) -> bytes:
    """The JPEG without metadata segments; the same bytes when it has none."""
    if not data.startswith(b"\xff\xd8"):
        raise Unreadable("not a JPEG")
    out = bytearray(b"\xff\xd8")
    i = 2
    dropped = False
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise Unreadable("a JPEG segment does not start with 0xFF")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            out += data[i:i + 2]
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise Unreadable("a JPEG segment runs past the end")
        if marker == 0xDA:  # start of scan: the rest is image data (and EOI)
            out += data[i:]
            return bytes(out) if dropped else data
        if (0xE0 <= marker <= 0xEF and marker not in _JPEG_KEEP_APP) or marker == 0xFE:
            dropped = True
        else:
            out += data[i:end]
        i = end
    raise Unreadable("a JPEG without image data")


def strip_png(data: bytes) -> bytes:
    """The PNG without text, EXIF and time chunks; the same bytes when it has none."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise Unreadable("not a PNG")
    out = bytearray(data[:8])
    i = 8
    dropped = False
    while i + 12 <= len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise Unreadable("a PNG chunk runs past the end")
        if kind in _PNG_TEXT_CHUNKS:
            dropped = True
        else:
            out += data[i:end]
        i = end
        if kind == b"IEND":
            break
    return bytes(out) if dropped else data


# -- PDF -------------------------------------------------------------------------------------

# Info entries that say which program wrote the file and when: nobody's name.
_PDF_HARMLESS = {"/Producer", "/CreationDate", "/ModDate", "/Trapped"}


@dataclass(frozen=True)
class PdfContents:
    text: str  # page text and link targets
    metadata: bool  # an Info entry or XMP packet that may name someone


def pdf_contents(data: bytes) -> PdfContents:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Unreadable("an encrypted PDF")
        texts = []
        for page in reader.pages:
            texts.append(page.extract_text() or "")
            for annotation in page.get("/Annots") or ():
                action = annotation.get_object().get("/A")
                uri = action.get_object().get("/URI") if action is not None else None
                if uri is not None:
                    texts.append(str(uri))
        info = reader.metadata or {}
        root = reader.trailer["/Root"]
        metadata = any(k not in _PDF_HARMLESS and str(v).strip() for k, v in info.items()) \
            or "/Metadata" in root
        if "/Names" in root and "/EmbeddedFiles" in root["/Names"]:
            raise Unreadable("a PDF with files inside", as_bytes=False)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as e:
        if isinstance(e, Unreadable):
            raise
        raise Unreadable(f"an unreadable PDF ({type(e).__name__})") from e
    return PdfContents("\n".join(texts), metadata)


def strip_pdf(data: bytes) -> bytes:
    """The PDF rewritten without its Info dictionary and XMP packet."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data), strict=False))
    writer.metadata = None
    writer.root_object.pop(NameObject("/Metadata"), None)
    for page in writer.pages:
        page.pop(NameObject("/Metadata"), None)
        page.pop(NameObject("/PieceInfo"), None)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- OOXML (docx, xlsx, pptx) ----------------------------------------------------------------

_OFFICE_TEXT = re.compile(
    r"(?:word/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)"
    r"|xl/(?:sharedStrings|worksheets/sheet\d+|comments\d*)"
    r"|ppt/(?:slides/slide\d+|notesSlides/notesSlide\d+|comments/comment\d+))\.xml")
_BREAKS = re.compile(r"</(?:w:p|a:p|row)>|<w:br/>|<w:tab/>")
# Spreadsheet cells end in a mark no number runs through: "180 | 45 | 80" in a row of
# dimensions is three numbers, not one phone number.
_CELL_ENDS = re.compile(r"</(?:si|c)>")
CELL_END = "\n;\n"
_TAG = re.compile(r"<[^>]*>")
# Properties that name a person or a company: always emptied.
_PERSONAL = ("dc:creator", "cp:lastModifiedBy", "Company", "Manager")
# Properties that are free text: emptied when the text rules find something in them.
_FREE_TEXT = ("dc:title", "dc:subject", "dc:description", "cp:keywords", "cp:category")
_PROPERTIES = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")
# What a document's text may unpack to; past it the file is not read (another rule refuses
# what is built to explode).
MAX_TEXT = 20_000_000


def _element(tag: str) -> re.Pattern[str]:
    return re.compile(rf"(<{tag}(?:\s[^>]*)?>)(.*?)(</{tag}>)", re.DOTALL)


def _xml_text(xml: str) -> str:
    return html.unescape(_TAG.sub("", _CELL_ENDS.sub(CELL_END, _BREAKS.sub("\n", xml))))


def office_text(data: bytes) -> str:
    """The text of an OOXML document's body, headers, footers, comments, cells and slides."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [i for i in archive.infolist() if _OFFICE_TEXT.fullmatch(i.filename)]
            if sum(i.file_size for i in names) > MAX_TEXT:
                raise Unreadable("an Office document with too much text to check")
            return "\n".join(_xml_text(archive.read(i).decode("utf-8", "replace"))
                             for i in names)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise Unreadable("an unreadable Office document") from e


def strip_office(data: bytes, finds: Callable[[str], bool]) -> bytes:
    """The document with its personal properties emptied (and free-text ones in which
    `finds` sees something); the same bytes when there was nothing to empty."""
    changed: dict[str, str] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            present = set(archive.namelist())
            for name in _PROPERTIES:
                if name not in present:
                    continue
                xml = archive.read(name).decode("utf-8", "replace")
                new = _empty_properties(xml, custom=name.endswith("custom.xml"), finds=finds)
                if new != xml:
                    changed[name] = new
            if not changed:
                return data
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as copy:
                for info in archive.infolist():
                    body = changed[info.filename].encode("utf-8") \
                        if info.filename in changed else archive.read(info)
                    copy.writestr(info, body, compress_type=info.compress_type)
            return out.getvalue()
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as e:
        raise Unreadable("an unreadable Office document") from e


def _empty_properties(xml: str, custom: bool, finds: Callable[[str], bool]) -> str:
    def empty(m: re.Match[str]) -> str:
        return m.group(1) + m.group(3)

    def empty_if_found(m: re.Match[str]) -> str:
        return empty(m) if finds(html.unescape(m.group(2))) else m.group(0)

    if custom:  # user-defined properties: any value may be anything
        return _element(r"vt:\w+").sub(empty, xml)
    for tag in _PERSONAL:
        xml = _element(tag).sub(lambda m: empty(m) if m.group(2).strip() else m.group(0), xml)
    for tag in _FREE_TEXT:
        xml = _element(tag).sub(empty_if_found, xml)
    return xml


# -- iCalendar and vCard ---------------------------------------------------------------------

_UNFOLD = re.compile(r"\r?\n[ \t]")
# Properties that name a person, a place or a way to reach someone: scrubbed by the rules.
_CALENDAR_TEXT = {"ORGANIZER", "ATTENDEE", "LOCATION", "DESCRIPTION", "URL", "CONTACT",
                  "SUMMARY", "COMMENT", "X-ALT-DESC", "ATTACH", "RELATED-TO", "RESOURCES",
                  "CATEGORIES", "X-WR-CALNAME", "X-WR-CALDESC", "PRODID", "NAME"}
# The hosts of calendar services whose UIDs ("…@google.com") name no one's own host.
_CALENDAR_SERVICES = frozenset(("google.com", "calendar.google.com", "outlook.com",
                                "office365.com", "yahoo.com", "icloud.com", "apple.com",
                                "fastmail.com", "zoho.com", "proton.me"))
# A position or a structured place: the seller's home on a map. Always dropped.
_CALENDAR_DROP = {"GEO", "X-APPLE-STRUCTURED-LOCATION", "X-MICROSOFT-CDO-OWNER-APPT-ID"}
# Who: a name (CN), a delegate, a directory entry. Dropped from ORGANIZER and ATTENDEE.
_PERSON_PARAMS = re.compile(r';(?:CN|SENT-BY|DIR|DELEGATED-TO|DELEGATED-FROM|MEMBER|EMAIL)='
                            r'(?:"[^"]*"|[^;:]*)', re.IGNORECASE)
_NAME = re.compile(r"([A-Za-z0-9\-]+)([;:])")


def _ics_unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _ics_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,") \
        .replace("\n", "\\n")


def _split(rest: str) -> tuple[str, str]:
    """";PARAM=...;P2="a:b":value" -> params, value: the first colon outside quotes."""
    quoted = False
    for i, char in enumerate(rest):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return rest[:i], rest[i + 1:]
    return rest, ""


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with a space (RFC 5545 3.1)."""
    out, current = [], ""
    for char in line:
        if len((current + char).encode("utf-8")) > 75:
            out.append(current)
            current = " " + char
        else:
            current += char
    out.append(current)
    return "\r\n".join(out)


# An invite's place, part by part (its commas): a street with a house number and a flat, or
# two or more words and a number ("Ganību dambis 17", "Rüütli 12-4", "Blok C-12-3",
# "Կոմիտասի պողոտա 5"), or a street word ("شارع الأمير سلطان") is where someone lives. A
# pickup point, a locker, a bay or a branch ("Bay 4", "Pickup Point BKR-04", "відділення
# №31") is no one's home and stays.
_HOUSE = re.compile(
    r"(?:[^\W\d_][\w'\u2019.\-]*\s+){2,3}\d{1,4}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)*"
    r"|(?:[^\W\d_][\w'\u2019.\-]*\s+){1,3}(?:[A-Z]-?)?\d{1,4}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)+"
    r"|.*(?:شارع|طريق|(?i:\bstreet\b|\bstr\.|\bulica\b|\brue\b|\bcalle\b|\bvia\b|straße|"
    r"gatan|\bул\.|улица|вул\.|вулиця|\bпр\.|проспект|պողոտա|փողոց|\bjalan\b|\bjl\.)).*")  # noqa: RUF001
_PICKUP = re.compile(
    r"(?i)point|punkt|pont|ponto|punto|locker|automat|paketomat|poštomat|\bbay\b|gate|"
    r"terminal|station|branch|office|relais|\bpost|\bbox\b|counter|desk|hall|level|floor|"
    r"platform|pickup|pick-up|marketplace|mall|avm|centre|center|№|\bno\.?\s")


def _house_parts(value: str) -> str:
    """`value` (a LOCATION, already through the rules) with its parts that are a home gone."""
    parts = value.split(",")
    kept = [part[:len(part) - len(part.lstrip())] + CONTACT_MARKER
            if _HOUSE.fullmatch(part.strip()) and not _PICKUP.search(part)
            and CONTACT_MARKER not in part else part for part in parts]
    return ",".join(kept) if kept != parts else value


def scrub_calendar(text: str, redact: Callable[[str], str],
                   host_allowed: Callable[[str], bool],
                   redact_name: Callable[[str], str]) -> str:
    """The calendar with its people, places and links run through `redact` (text -> text
    with markers); positions and structured places dropped. PRODID, the name of the program
    that wrote the file ("-//Google Inc//Google Calendar 70.9054//EN"), goes through
    `redact_name` instead: the rules, without a reading as prose. Unchanged when nothing
    is found: the same string comes back."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = _UNFOLD.sub("", text).replace("\r\n", "\n").split("\n")
    out: list[str] = []
    changed = False
    for line in lines:
        m = _NAME.match(line)
        name = m.group(1).upper() if m else ""
        if name in _CALENDAR_DROP:
            changed = True
            continue
        if name == "UID" and ":" in line:
            value = line.split(":", 1)[1]
            domain = value.rpartition("@")[2] if "@" in value else ""
            # A UID names the sender's host, unless it is a calendar service's that millions
            # share ("…@google.com") and what stands before it holds nothing, or no host at
            # all ("…@marketplace").
            if "." in domain and not host_allowed(domain) and not (
                    domain.lower() in _CALENDAR_SERVICES
                    and redact(value.rpartition("@")[0]) == value.rpartition("@")[0]):
                digest = hashlib.sha256(value.encode()).hexdigest()[:32]
                out.append(f"UID:{digest}")
                changed = True
                continue
        if name not in _CALENDAR_TEXT:
            out.append(line)
            continue
        params, value = _split(line[len(name):])
        if name in ("ORGANIZER", "ATTENDEE"):
            new_params = _PERSON_PARAMS.sub("", params)
        else:
            new_params = redact(params) if params else params
        plain = _ics_unescape(value)
        new_value = (redact_name if name == "PRODID" else redact)(plain)
        if name == "LOCATION":
            new_value = _house_parts(new_value)
        if new_value == plain and new_params == params:
            out.append(line)
            continue
        changed = True
        if new_value != plain and name in ("ORGANIZER", "ATTENDEE", "URL", "ATTACH",
                                          "RELATED-TO"):
            continue  # an address or link that went: the property means nothing without it
        out.append(f"{name}{new_params}:{_ics_escape(new_value) if new_value != plain else value}")
    if not changed:
        return text
    return newline.join(_fold(line) for line in out)


_VCARD_TYPES = {"text/vcard", "text/x-vcard", "text/directory", "application/vcard",
                "application/x-vcard", "text/x-vcalendar"}


def is_vcard(data: bytes, filename: str, content_type: str) -> bool:
    """A contact card, by name, declared type or content."""
    name = filename.strip().lower().rstrip(". ")
    if name.endswith((".vcf", ".vcard")) or content_type.lower() in _VCARD_TYPES:
        return True
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    return head.startswith(b"BEGIN:VCARD")
