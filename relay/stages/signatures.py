"""Strip S/MIME and PGP signatures: their certificates and keys name the signer (address,
full name), and the relay's rewrite would break the signature anyway."""

from __future__ import annotations

from email.message import Message

from relay.pipeline.parcel import Parcel

SIGNATURES = (
    "application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature",
)


def _strip(part: Message) -> None:
    if not part.is_multipart():
        return
    if part.get_content_type() == "multipart/signed":
        part.set_payload([p for p in part.get_payload() if p.get_content_type() not in SIGNATURES])
        part.set_type("multipart/mixed")
        for param in ("protocol", "micalg"):
            part.del_param(param, header="Content-Type")
    for sub in part.get_payload():
        if isinstance(sub, Message):
            _strip(sub)


class StripSignatures:
    name = "strip_signatures"

    async def __call__(self, parcel: Parcel) -> None:
        _strip(parcel.message)
