"""What DKIM signing costs per message: the relay's signer (dkimpy canonicalization, OpenSSL
RSA through `cryptography`) against dkimpy's own pure-Python signing, on a 19 KB message.

    make dkim-bench            (or: python -m tools.dkim_bench)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import dkim

from relay.delivery.dkim_sign import KeySigner, generate
from tools.policy_report import typical_html_mail


def per_message(sign: object, rounds: int) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        sign()  # type: ignore[operator]
    return (time.perf_counter() - started) / rounds * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pem = generate(Path(tmp) / "key.pem")
    message = typical_html_mail().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
    signer = KeySigner("relay.test", "relay", pem)
    ours = per_message(lambda: signer.header(message), 500)
    theirs = per_message(lambda: dkim.sign(message, b"relay", b"relay.test", pem,
                                           canonicalize=(b"relaxed", b"relaxed")), 50)
    print(f"DKIM rsa-sha256 2048-bit, relaxed/relaxed, {len(message) / 1024:.0f} KB message:")
    print(f"  relay signer (cryptography/OpenSSL): {ours:.2f} ms per message")
    print(f"  dkimpy's own signing (pure Python):  {theirs:.2f} ms per message")
    with tempfile.TemporaryDirectory() as tmp:
        ed_pem = generate(Path(tmp) / "ed.pem", kind="ed25519")
    second = KeySigner("relay.test", "relayed", ed_pem)
    ed = per_message(lambda: second.header(message), 500)
    print(f"  ed25519-sha256 second signature:     {ed:.2f} ms per message")


if __name__ == "__main__":
    main()
