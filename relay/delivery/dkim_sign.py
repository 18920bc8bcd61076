"""Outbound DKIM: every delivered message signed for the relay's domain.

dkimpy does the canonicalization (relaxed/relaxed) and the header hashing, so the signature
is what dkimpy and every other verifier expect; the RSA operation goes to OpenSSL through
`cryptography`, about ten times faster than dkimpy's pure-Python RSA.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

if TYPE_CHECKING:
    from relay.config import Config

log = logging.getLogger("relay.dkim")
# What a reader relies on; "from" twice so that no second From can be added unnoticed.
SIGNED = (b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
          b"reply-to", b"mime-version", b"content-type", b"content-transfer-encoding",
          b"auto-submitted", b"from")
_POLICY = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")


class Signer:
    def __init__(self, domain: str, selector: str, key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the DKIM key must be an RSA key")
        self.key = key
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")

    def header(self, message: bytes, now: float | None = None) -> bytes:
        """The DKIM-Signature header line(s) for message (CRLF line ends), to put on top."""
        headers, body = dkim.rfc822_parse(message)
        present = {name.lower() for name, _ in headers}
        include = [h for h in SIGNED[:-1] if h in present] + [b"from"]
        body_hash = base64.b64encode(hashlib.sha256(_POLICY.canonicalize_body(body)).digest())
        fields = [
            (b"v", b"1"), (b"a", b"rsa-sha256"), (b"c", b"relaxed/relaxed"),
            (b"d", self.domain), (b"s", self.selector),
            (b"t", str(int(now if now is not None else time.time())).encode("ascii")),
            (b"h", b" : ".join(include)), (b"bh", body_hash), (b"b", b""),  # folds at spaces
        ]
        value = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(b"DKIM-Signature"))
        hasher = hashlib.sha256()
        dkim.hash_headers(hasher, _POLICY, _POLICY.canonicalize_headers(headers), include,
                          (b"DKIM-Signature", b" " + value), dict(fields))
        signature = self.key.sign(hasher.digest(), padding.PKCS1v15(),
                                  utils.Prehashed(hashes.SHA256()))
        encoded = base64.b64encode(signature)
        # Folded inside b= only: verifiers drop b='s value, whitespace and all.
        folded = b"\r\n\t".join(encoded[i:i + 72] for i in range(0, len(encoded), 72))
        return b"DKIM-Signature: " + value + folded + b"\r\n"


def generate(path: Path, bits: int = 2048) -> bytes:
    """A new RSA key, written with owner-only permissions; returns its PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return pem


def dns_record(key_pem: bytes) -> str:
    """The TXT record value to publish at <selector>._domainkey.<domain>."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"


def signer(domain: str, selector: str, key_path: Path) -> Signer:
    """The signer for the configured key; a missing key is made, and its record logged."""
    if not key_path.exists():
        pem = generate(key_path)
        log.warning("created DKIM key %s; publish TXT %s._domainkey.%s \"%s\"", key_path,
                    selector, domain, dns_record(pem))
    return Signer(domain, selector, key_path.read_bytes())


def dkim_signer(config: Config) -> Signer | None:
    if not config.dkim.sign:
        return None
    return signer(config.domain, config.dkim.selector, config.dkim.key)
