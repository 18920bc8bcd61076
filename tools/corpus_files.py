"""The corpus's attachments: built from a case's fields, and read back from what was delivered.

Built with the libraries a sender's software uses (Pillow for images, pypdf for PDFs, zipfile
for Office files), so metadata sits where real files keep it. Read back with the same
libraries plus the raw bytes, so a leak check sees page text, Info/XMP, EXIF (GPS as decimal
degrees), PNG text chunks, Office properties and body text.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from typing import Any

from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
)

CONTENT_TYPES = {
    "pdf": ("application", "pdf"), "jpeg": ("image", "jpeg"), "png": ("image", "png"),
    "docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ics": ("text", "calendar"), "vcf": ("text", "vcard"), "txt": ("text", "plain"),
}
DEFAULT_NAMES = {"pdf": "document.pdf", "jpeg": "photo.jpg", "png": "photo.png",
                 "docx": "document.docx", "xlsx": "sheet.xlsx", "ics": "pickup.ics",
                 "vcf": "contact.vcf", "txt": "note.txt"}


# -- building ----------------------------------------------------------------------------------

def _pdf(fields: dict[str, Any]) -> bytes:
    """One page whose text any extractor reads back: a Type0 font with a ToUnicode map, so
    CJK and accented text survive without embedding a font program."""
    body = str(fields.get("body") or "")
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    chars = sorted({ord(c) for c in body if c != "\n" and ord(c) < 0x10000} | {32})
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
            "/CMapName /Corpus def /CMapType 2 def\n1 begincodespacerange <0000> <FFFF>"
            " endcodespacerange\n")
    for i in range(0, len(chars), 100):
        chunk = chars[i:i + 100]
        cmap += f"{len(chunk)} beginbfchar\n"
        cmap += "".join(f"<{c:04X}> <{c:04X}>\n" for c in chunk)
        cmap += "endbfchar\n"
    cmap += "endcmap CMapName currentdict /CMap defineresource pop end end\n"
    to_unicode = DecodedStreamObject()
    to_unicode.set_data(cmap.encode("ascii"))
    descendant = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject(
            "/CIDFontType2"), NameObject("/BaseFont"): NameObject("/Corpus"),
        NameObject("/CIDSystemInfo"): DictionaryObject({
            NameObject("/Registry"): _pdf_string("Adobe"),
            NameObject("/Ordering"): _pdf_string("Identity"),
            NameObject("/Supplement"): NumberObject(0)}),
        NameObject("/DW"): NumberObject(500),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/Corpus"),
        NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/DescendantFonts"): ArrayObject([writer._add_object(descendant)]),
        NameObject("/ToUnicode"): writer._add_object(to_unicode),
    })
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    ops = ["BT /F1 11 Tf 14 TL 50 800 Td"]
    for line in body.split("\n"):
        hexed = "".join(f"{ord(c):04X}" for c in line if ord(c) < 0x10000)
        ops.append(f"<{hexed}> Tj T*")
    ops.append("ET")
    content = StreamObject()
    content.set_data("\n".join(ops).encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(content)
    info = {f"/{k}": str(v) for k, v in fields.items() if k != "body" and v}
    if info:
        writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_string(text: str) -> Any:
    from pypdf.generic import TextStringObject
    return TextStringObject(text)


def _rational(value: float) -> tuple[float, float, float]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def _exif_text(value: str) -> str | bytes:
    """EXIF's ASCII fields hold UTF-8 in practice (Pillow would write "?" for it)."""
    return value if value.isascii() else value.encode("utf-8")


def _jpeg(fields: dict[str, Any]) -> bytes:
    image = Image.new("RGB", (16, 16), (180, 120, 60))
    exif = Image.Exif()
    for tag, key in ((0x013B, "Artist"), (0x8298, "Copyright"), (0x010E, "ImageDescription")):
        if fields.get(key):
            exif[tag] = _exif_text(str(fields[key]))
    sub = exif.get_ifd(0x8769)
    if fields.get("UserComment"):
        sub[0x9286] = b"UNICODE\x00" + str(fields["UserComment"]).encode("utf-16-be")
    if fields.get("OwnerName"):
        sub[0xA430] = _exif_text(str(fields["OwnerName"]))
    gps = fields.get("GPS")
    if gps:
        lat, lon = float(gps[0]), float(gps[1])
        exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: _rational(lat),
                        3: "E" if lon >= 0 else "W", 4: _rational(lon)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes() if len(exif) or sub else b"")
    return out.getvalue()


def _png(fields: dict[str, Any]) -> bytes:
    image = Image.new("RGB", (16, 16), (60, 120, 180))
    info = PngImagePlugin.PngInfo()
    for key, value in fields.items():
        if value:
            info.add_itxt(str(key), str(value))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CORE = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
         'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://'
         'purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _props(fields: dict[str, Any]) -> tuple[str, str]:
    e = html.escape
    core = _DECL + _CORE
    for key, tag in (("title", "dc:title"), ("subject", "dc:subject"), ("creator", "dc:creator"),
                     ("keywords", "cp:keywords"), ("description", "dc:description"),
                     ("lastModifiedBy", "cp:lastModifiedBy")):
        if fields.get(key):
            core += f"<{tag}>{e(str(fields[key]))}</{tag}>"
    core += "</cp:coreProperties>"
    app = (_DECL + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
           'extended-properties"><Application>Microsoft Office</Application>')
    for key, tag in (("company", "Company"), ("manager", "Manager")):
        if fields.get(key):
            app += f"<{tag}>{e(str(fields[key]))}</{tag}>"
    return core, app + "</Properties>"


def _ooxml(main: str, main_type: str, parts: dict[str, str], fields: dict[str, Any]) -> bytes:
    core, app = _props(fields)
    types = (_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
             f'<Override PartName="/{main}" ContentType="{main_type}"/>'
             '<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
             'openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml"'
             ' ContentType="application/vnd.openxmlformats-officedocument.extended-properties'
             '+xml"/></Types>')
    rels = (_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument" Target="{main}"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        for name, data in parts.items():
            archive.writestr(name, data)
        archive.writestr("docProps/core.xml", core)
        archive.writestr("docProps/app.xml", app)
    return out.getvalue()


def _docx(fields: dict[str, Any]) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{html.escape(line)}</w:t></w:r></w:p>'
        for line in str(fields.get("body") or "").split("\n"))
    document = f'{_DECL}<w:document xmlns:w="{w}"><w:body>{paragraphs}</w:body></w:document>'
    return _ooxml("word/document.xml", "application/vnd.openxmlformats-officedocument."
                  "wordprocessingml.document.main+xml", {"word/document.xml": document}, fields)


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _xlsx(fields: dict[str, Any]) -> bytes:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = ""
    for r, row in enumerate(fields.get("cells") or [], start=1):
        cells = "".join(
            f'<c r="{_column(c)}{r}" t="inlineStr"><is><t xml:space="preserve">'
            f"{html.escape(str(v))}</t></is></c>" for c, v in enumerate(row))
        rows += f'<row r="{r}">{cells}</row>'
    sheet = f'{_DECL}<worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>'
    workbook = (f'{_DECL}<workbook xmlns="{main}" xmlns:r="{_REL}"><sheets>'
                '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = (_DECL + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
               f'relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
               'Target="worksheets/sheet1.xml"/></Relationships>')
    return _ooxml("xl/workbook.xml", "application/vnd.openxmlformats-officedocument."
                  "spreadsheetml.sheet.main+xml",
                  {"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": wb_rels,
                   "xl/worksheets/sheet1.xml": sheet}, fields)


def build(spec: dict[str, Any]) -> tuple[str, str, str, bytes]:
    """(maintype, subtype, filename, bytes) for a case's "attachment" object."""
    kind = spec["kind"]
    fields = dict(spec.get("fields") or {})
    maintype, subtype = CONTENT_TYPES[kind]
    name = spec.get("filename") or DEFAULT_NAMES[kind]
    if kind in ("ics", "vcf"):
        data = str(fields.get("raw") or "").replace("\r\n", "\n").replace("\n", "\r\n")
        return maintype, subtype, name, data.encode("utf-8")
    if kind == "txt":
        return maintype, subtype, name, str(fields.get("body") or "").encode("utf-8")
    builder = {"pdf": _pdf, "jpeg": _jpeg, "png": _png, "docx": _docx, "xlsx": _xlsx}[kind]
    return maintype, subtype, name, builder(fields)


# -- reading back ----------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def _degrees(value: Any) -> float:
    d, m, s = (float(x) for x in value)
    return d + m / 60 + s / 3600


def _image_text(data: bytes) -> list[str]:
    out: list[str] = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            for key, value in image.info.items():
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                out.append(f"{key} {value}")
            exif = image.getexif()
            for _, value in exif.items():
                out.append(value.decode("utf-8", "replace") if isinstance(value, bytes)
                           else str(value))
            for ifd in (0x8769, 0xA005):
                for value in exif.get_ifd(ifd).values():
                    if isinstance(value, bytes):
                        out.append(value.decode("utf-16-be", "replace"))
                        out.append(value.decode("utf-8", "replace"))
                    out.append(str(value))
            gps = exif.get_ifd(0x8825)
            if 2 in gps and 4 in gps:
                lat, lon = _degrees(gps[2]), _degrees(gps[4])
                out.append(f"GPS {lat:.6f} {lon:.6f} {lat:.4f} {lon:.4f}")
    except Exception as e:  # an image the relay left unreadable: nothing more to read
        out.append(f"unreadable image: {e}")
    return out


def _pdf_text(data: bytes) -> list[str]:
    out: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            out.append(page.extract_text() or "")
        for key, value in (reader.metadata or {}).items():
            out.append(f"{key} {value}")
        xmp = reader.trailer["/Root"].get("/Metadata")
        if xmp is not None:
            out.append(xmp.get_object().get_data().decode("utf-8", "replace"))
    except Exception as e:
        out.append(f"unreadable pdf: {e}")
    return out


def zip_text(data: bytes) -> list[str]:
    out: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                text = archive.read(name).decode("utf-8", "replace")
                out.append(html.unescape(_TAG.sub(" ", text)))
    except zipfile.BadZipFile:
        pass
    return out


def read_back(data: bytes) -> str:
    """Everything a reader or a tool could get out of a delivered file, as one text."""
    parts = [data.decode("utf-8", "replace")]
    if data.startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        parts += _pdf_text(data)
    elif data.startswith((b"\xff\xd8", b"\x89PNG")):
        parts += _image_text(data)
    elif data.startswith(b"PK"):
        parts += zip_text(data)
    return "\n".join(parts)
