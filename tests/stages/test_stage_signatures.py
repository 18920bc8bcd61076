"""StripSignatures alone: S/MIME and PGP signatures leave (their certificates and keys name
the signer), the signed content stays as it was, and nothing else is touched."""

from __future__ import annotations

from pathlib import Path

from support.parcels import parcel, parsed, text, wire

from relay.stages.signatures import StripSignatures

SIGNED = (Path(__file__).parents[1] / "data" / "smime_signed.eml").read_bytes()


def pgp_signed() -> bytes:
    return (b"From: buyer@example.com\r\nSubject: Signed\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/signed; micalg=pgp-sha256;'
            b' protocol="application/pgp-signature"; boundary="sig"\r\n\r\n'
            b"--sig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe box was dented.\r\n"
            b"--sig\r\nContent-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
            b"-----BEGIN PGP SIGNATURE-----\r\niQEzBAEBCAAdFiEE\r\n"
            b"-----END PGP SIGNATURE-----\r\n--sig--\r\n")


def kinds(message) -> list[str]:
    return [p.get_content_type() for p in message.walk()]


async def test_an_smime_signature_leaves_and_the_signed_text_stays():
    held = parcel(parsed(SIGNED))
    signed_text = held.message.get_payload()[0].as_bytes()
    await StripSignatures()(held)
    assert kinds(held.message) == ["multipart/mixed", "text/plain"]
    assert held.message.get_param("protocol") is None
    assert held.message.get_param("micalg") is None
    assert held.message.get_payload()[0].as_bytes() == signed_text
    assert b"MIIGDgYJ" not in held.message.as_bytes()


async def test_a_pgp_signature_leaves_too():
    held = parcel(parsed(pgp_signed()))
    await StripSignatures()(held)
    assert kinds(held.message) == ["multipart/mixed", "text/plain"]
    assert b"PGP SIGNATURE" not in held.message.as_bytes()
    assert held.message.get_payload()[0].get_content() == "The box was dented."


async def test_a_signed_part_inside_another_multipart_is_found():
    outer = text("My note, and the signed one below.\n")
    outer.add_attachment(parsed(pgp_signed()))  # a forwarded signed message
    held = parcel(outer)
    await StripSignatures()(held)
    assert "application/pgp-signature" not in kinds(held.message)
    assert kinds(held.message)[-2:] == ["multipart/mixed", "text/plain"]


async def test_a_message_without_a_signature_is_left_byte_for_byte():
    message = text("No signature here.\n")
    message.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf",
                           filename="quote.pdf")
    held = parcel(message)
    before = wire(message)
    await StripSignatures()(held)
    assert wire(held.message) == before and held.reasons == []
