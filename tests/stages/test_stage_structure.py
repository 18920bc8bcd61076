"""MimeStructure alone: what the scrub could not see into is refused (no usable boundary, a
transfer-encoded attached message, a header line without a colon, encrypted or opaque
parts), and so is what is nested or split past the limits."""

from __future__ import annotations

import pytest
from support.parcels import parcel, parsed, text, wire

from relay.errors import Reject
from relay.stages.structure import MimeStructure

HEAD = b"From: buyer@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n"


def stage(depth: int = 20, parts: int = 500, fields: int = 1000) -> MimeStructure:
    return MimeStructure(depth, parts, fields)


def nested(levels: int):
    """Multiparts around one text part, `levels` deep (the message is level 1)."""
    raw = HEAD
    for level in range(levels - 1):
        raw += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    raw += b"Content-Type: text/plain\r\n\r\nThe innermost words.\r\n"
    raw += b"".join(b"--b%d--\r\n" % level for level in reversed(range(levels - 1)))
    return parsed(raw)


async def refused(held, limits: MimeStructure | None = None) -> Reject:
    with pytest.raises(Reject) as caught:
        await (limits or stage())(held)
    return caught.value


async def test_an_ordinary_multipart_passes_byte_for_byte():
    message = text("See the attached list.\n")
    message.add_alternative("<p>See the attached list.</p>", subtype="html")
    message.add_attachment(b"1,2,3\n", maintype="text", subtype="csv", filename="list.csv")
    held = parcel(message)
    before = wire(message)
    await stage()(held)
    assert wire(held.message) == before and held.reasons == []


@pytest.mark.parametrize("raw, code, says", [
    (HEAD + b"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n",
     "mime.malformed", "no usable boundary"),
    (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
     b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     b"RnJvbTogYm9iQGV4YW1wbGUuY29tDQoNCmhp\r\n--b--\r\n",
     "mime.malformed", "must not be transfer-encoded"),
    (b"From: buyer@example.com\r\nSubject: Hi\r\nno colon on this line\r\n"
     b"X-Hidden: leaks\r\n\r\nbody\r\n", "mime.malformed", "has no colon"),
    (HEAD + b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
     b' boundary="b"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\n'
     b"Version: 1\r\n--b--\r\n", "mime.encrypted", "cannot be checked"),
    (HEAD + b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\n"
     b"MIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n", "mime.encrypted", "cannot be checked"),
    (HEAD + b"Content-Type: message/partial; id=x; number=1\r\n\r\npart\r\n",
     "mime.malformed", "message/partial parts are not accepted"),
    (HEAD + b"Content-Disposition: attachment; filename*=undefined''x.txt\r\n\r\nhi\r\n",
     "mime.malformed", "Content-Disposition header cannot be read"),
])
async def test_what_the_scrub_cannot_see_into_is_refused(raw, code, says):
    refusal = await refused(parcel(parsed(raw), raw=raw))
    assert refusal.code == code and says in refusal.reason
    assert refusal.smtp_reply.startswith(f"550 5.6.0 {code}: ")


async def test_the_depth_limit_itself_passes_one_level_more_is_refused():
    await stage(depth=4)(parcel(nested(4)))
    refusal = await refused(parcel(nested(5)), stage(depth=4))
    assert (refusal.code, refusal.reason) == ("mime.depth", "MIME parts nested deeper than 4")


async def test_parts_past_the_limit_are_refused():
    message = text("Files.\n")
    for n in range(3):  # the message, its text and three files: five parts
        message.add_attachment(b"x\n", maintype="text", subtype="plain", filename=f"{n}.txt")
    await stage(parts=5)(parcel(message))
    refusal = await refused(parcel(message), stage(parts=4))
    assert (refusal.code, refusal.reason) == ("mime.parts", "more than 4 MIME parts")


async def test_an_attached_message_with_too_many_fields_is_refused():
    """The prescan takes an attached message's header section for body text; here it counts."""
    inner = "".join(f"X-Field-{n}: {n}\r\n" for n in range(12))
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: message/rfc822\r\n\r\n" + inner.encode() + b"\r\nhi\r\n--b--\r\n")
    await stage(fields=12)(parcel(parsed(raw)))
    refusal = await refused(parcel(parsed(raw)), stage(fields=11))
    assert refusal.code == "mime.header_count"
    assert refusal.smtp_reply.startswith("552 5.3.4 mime.header_count: ")
