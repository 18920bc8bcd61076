"""Outbound DKIM: every delivered message signed for the relay's domain.

dkimpy does the header canonicalization (relaxed/relaxed) and the header hashing, so the
signature is what dkimpy and every other verifier expect; the RSA operation goes to OpenSSL
through `cryptography`, about ten times faster than dkimpy's pure-Python RSA. The body is
split off and canonicalized here, with dkimpy's result and less work (relaxed_body).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils
from dkim.canonicalization import correct_empty_body, strip_trailing_lines

if TYPE_CHECKING:
    from relay.config import Config

log = logging.getLogger("relay.dkim")
# What a reader relies on; "from" twice so that no second From can be added unnoticed.
SIGNED = (b"from", b"to", b"subject", b"date", b"message-id", b"in-reply-to", b"references",
          b"reply-to", b"mime-version", b"content-type", b"content-transfer-encoding",
          b"auto-submitted", b"from")
_POLICY = dkim.CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_TRAILING_WSP = re.compile(rb"[\t ]+\r\n")
# A run of whitespace that is not a single space already: a lone space stays as it is.
_WSP_RUN = re.compile(rb"\t[\t ]*| [\t ]+")


def split(message: bytes) -> tuple[list[list[bytes]], bytes]:
    """dkim.rfc822_parse(message) for a message whose lines all end in CRLF (what the relay
    signs): only the header section is split into lines, the body is a slice."""
    end = message.find(b"\r\n\r\n")
    if end < 0 or message.startswith(b"\r\n"):
        return dkim.rfc822_parse(message)  # type: ignore[no-any-return]
    headers, _ = dkim.rfc822_parse(message[:end + 2])
    return headers, message[end + 4:]


def relaxed_body(body: bytes) -> bytes:
    """dkimpy's relaxed body canonicalization (RFC 6376 3.4.4), without a substitution for
    every single space: whitespace before a line end goes, other runs become one space,
    empty lines at the end go."""
    if b" \r\n" in body or b"\t\r\n" in body:
        body = _TRAILING_WSP.sub(b"\r\n", body)
    if b"\t" in body or b"  " in body:
        body = _WSP_RUN.sub(b" ", body)
    return correct_empty_body(strip_trailing_lines(body))  # type: ignore[no-any-return]


class KeySigner:
    """One signature: rsa-sha256, or ed25519-sha256 (RFC 8463) for an Ed25519 key."""

    def __init__(self, domain: str, selector: str, key_pem: bytes) -> None:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
            raise ValueError("a DKIM key must be an RSA or an Ed25519 key")
        self.key = key
        self.algorithm = b"rsa-sha256" if isinstance(key, rsa.RSAPrivateKey) else b"ed25519-sha256"
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")

    def header(self, message: bytes, now: float | None = None) -> bytes:
        """The DKIM-Signature header line(s) for message (CRLF line ends), to put on top."""
        headers, body = split(message)
        present = {name.lower() for name, _ in headers}
        include = [h for h in SIGNED[:-1] if h in present] + [b"from"]
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        fields = [
            (b"v", b"1"), (b"a", self.algorithm), (b"c", b"relaxed/relaxed"),
            (b"d", self.domain), (b"s", self.selector),
            (b"t", str(int(now if now is not None else time.time())).encode("ascii")),
            (b"h", b" : ".join(include)), (b"bh", body_hash), (b"b", b""),  # folds at spaces
        ]
        value = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(b"DKIM-Signature"))
        hasher = hashlib.sha256()
        dkim.hash_headers(hasher, _POLICY, _POLICY.canonicalize_headers(headers), include,
                          (b"DKIM-Signature", b" " + value), dict(fields))
        if isinstance(self.key, rsa.RSAPrivateKey):
            signature = self.key.sign(hasher.digest(), padding.PKCS1v15(),
                                      utils.Prehashed(hashes.SHA256()))
        else:  # RFC 8463 3: Ed25519 over the SHA-256 of the header data
            signature = self.key.sign(hasher.digest())
        encoded = base64.b64encode(signature)
        # Folded inside b= only: verifiers drop b='s value, whitespace and all.
        folded = b"\r\n\t".join(encoded[i:i + 72] for i in range(0, len(encoded), 72))
        return b"DKIM-Signature: " + value + folded + b"\r\n"


class Signer:
    """Every configured signature for one message: RSA, and Ed25519 when enabled (receivers
    that do not know Ed25519 ignore that one, RFC 8463 5)."""

    def __init__(self, signers: list[KeySigner]) -> None:
        self.signers = signers

    def header(self, message: bytes, now: float | None = None) -> bytes:
        return b"".join(s.header(message, now) for s in self.signers)


def generate(path: Path, bits: int = 2048, kind: str = "rsa") -> bytes:
    """A new RSA (or Ed25519) key, written with owner-only permissions; returns its PEM."""
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey = (
        ed25519.Ed25519PrivateKey.generate() if kind == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=bits))
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
    if isinstance(key, ed25519.Ed25519PrivateKey):  # RFC 8463 4: the bare 32-byte key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode('ascii')}"
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode('ascii')}"


def signer(domain: str, selector: str, key_path: Path, kind: str = "rsa") -> KeySigner:
    """The signer for a configured key; a missing key is made, and its record logged."""
    if not key_path.exists():
        pem = generate(key_path, kind=kind)
        log.warning("created DKIM key %s; publish TXT %s._domainkey.%s \"%s\"", key_path,
                    selector, domain, dns_record(pem))
    return KeySigner(domain, selector, key_path.read_bytes())


def dkim_signer(config: Config) -> Signer | None:
    d = config.dkim
    if not d.sign:
        return None
    signers = [signer(config.domain, d.selector, d.key)]
    if d.ed25519:
        signers.append(signer(config.domain, d.ed25519_selector, d.ed25519_key, "ed25519"))
    return Signer(signers)
