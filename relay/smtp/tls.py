"""The submission port's TLS context; a self-signed pair is made for a first run."""

from __future__ import annotations

import datetime
import logging
import os
import ssl
from pathlib import Path

from relay.errors import StartupError

log = logging.getLogger("relay.smtp.tls")


def _self_signed(cert: Path, key: Path, hostname: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key.parent.mkdir(parents=True, exist_ok=True)
    cert.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    log.warning("made a self-signed certificate for %s at %s; mail clients will warn until"
                " submission.tls_cert names one a CA signed", hostname, cert)


def server_context(cert: Path, key: Path, hostname: str) -> ssl.SSLContext:
    if not cert.exists() and not key.exists():
        _self_signed(cert, key, hostname)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise StartupError(
            f"cannot load the TLS certificate {cert} and key {key} (submission.tls_cert,"
            f" submission.tls_key): {getattr(exc, 'strerror', None) or exc}") from None
    return context
