"""The local DNS server (dnsmasq) and the Perl Mail::DKIM verifier that other tests rely on.

A DKIM key published through real DNS must verify with dkimpy and with Mail::DKIM alike.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import dkim
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dns_server import (
    DKIM_VERIFY_PL,
    LocalDNS,
    dnsmasq_path,
    mail_dkim_available,
    require,
    txt_strings,
)

DOMAIN = "relay.test"
SELECTOR = "relay"
DKIM_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"
SPF = "v=spf1 ip4:127.0.0.1 -all"
OTHER_TXT = 'verify=a,b; "quoted" back\\slash'  # needs config-file quoting to survive
MAIL_HOST = f"mail.{DOMAIN}"
MAIL_IP = "127.0.0.2"

MESSAGE = (
    b"From: Relay <notify@relay.test>\r\n"
    b"To: Bob <bob@buyer-mail.example>\r\n"
    b"Subject: Your order\r\n"
    b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <local-dns-test@relay.test>\r\n"
    b"\r\n"
    b"Hello Bob,\r\n"
    b"your parcel is on its way.\r\n"
)


@dataclass(frozen=True)
class Key:
    private_pem: bytes
    txt: str  # the DKIM TXT value, ~400 characters for RSA 2048


@pytest.fixture(scope="module")
def key() -> Key:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = private.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = private.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return Key(pem, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}")


@pytest.fixture(scope="module")
def server(key: Key) -> Iterator[LocalDNS]:
    require(dnsmasq_path() is not None, "dnsmasq")
    records = {DKIM_NAME: [key.txt], DOMAIN: [SPF, OTHER_TXT]}
    with LocalDNS(records, a_records={MAIL_HOST: MAIL_IP}) as srv:
        yield srv


@pytest.fixture
def signed(key: Key) -> bytes:
    sig = dkim.sign(MESSAGE, SELECTOR.encode(), DOMAIN.encode(), key.private_pem,
                    canonicalize=(b"relaxed", b"relaxed"))
    return sig + MESSAGE


def perl_verify(server: LocalDNS, message: bytes) -> subprocess.CompletedProcess[str]:
    require(mail_dkim_available(), "Perl with Mail::DKIM and Net::DNS (libmail-dkim-perl)")
    perl = shutil.which("perl")
    assert perl is not None
    out = subprocess.run([perl, str(DKIM_VERIFY_PL), server.host, str(server.port)],
                         input=message, capture_output=True, timeout=30, check=False)
    return subprocess.CompletedProcess(out.args, out.returncode, out.stdout.decode(),
                                       out.stderr.decode())


def test_txt_strings_split_at_255_octets() -> None:
    assert txt_strings("") == [""]
    assert txt_strings("a" * 255) == ["a" * 255]
    assert txt_strings("a" * 600) == ["a" * 255, "a" * 255, "a" * 90]
    # Octets, not characters, and never half a character.
    parts = txt_strings("\u00e9" * 200)
    assert [len(p.encode()) for p in parts] == [254, 146]
    assert "".join(parts) == "\u00e9" * 200


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_long_dkim_key_is_one_record_of_several_strings(server: LocalDNS, key: Key,
                                                        tcp: bool) -> None:
    answer = server.resolver().resolve(DKIM_NAME, "TXT", tcp=tcp)
    assert len(answer) == 1
    strings = next(iter(answer)).strings
    assert len(key.txt) > 255 and len(strings) == len(txt_strings(key.txt)) >= 2
    assert all(len(s) <= 255 for s in strings)
    assert b"".join(strings).decode() == key.txt


def test_several_txt_records_at_one_name(server: LocalDNS) -> None:
    answer = server.resolver().resolve(f"{DOMAIN}.", "TXT")
    assert sorted(b"".join(r.strings).decode() for r in answer) == sorted([SPF, OTHER_TXT])


def test_a_record(server: LocalDNS) -> None:
    assert [r.address for r in server.resolver().resolve(MAIL_HOST, "A")] == [MAIL_IP]


@pytest.mark.parametrize("name", ["nothing.relay.test", "example.com", f"x.{DKIM_NAME}"])
def test_unknown_names_are_nxdomain_at_once(server: LocalDNS, name: str) -> None:
    # Not forwarded anywhere and not REFUSED: a missing key must read as "no key" (a
    # forwarded or refused query ends in LifetimeTimeout or NoNameservers instead).
    with pytest.raises(dns.resolver.NXDOMAIN):
        server.resolver(lifetime=2.0).resolve(name, "TXT")


def test_other_type_at_known_name_is_no_answer(server: LocalDNS) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        server.resolver(lifetime=2.0).resolve(DKIM_NAME, "A")


def test_dkimpy_verifies_through_local_dns(server: LocalDNS, signed: bytes) -> None:
    assert server.dkim_dnsfunc(f"{DKIM_NAME}.".encode()) is not None
    assert dkim.verify(signed, dnsfunc=server.dkim_dnsfunc)
    tampered = signed.replace(b"on its way", b"on its Way")
    assert not dkim.verify(tampered, dnsfunc=server.dkim_dnsfunc)


def test_mail_dkim_verifies_through_local_dns(server: LocalDNS, signed: bytes) -> None:
    good = perl_verify(server, signed)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.splitlines() == [
        f"pass d={DOMAIN} s={SELECTOR} a=rsa-sha256 ", "overall pass "]

    bad = perl_verify(server, signed.replace(b"on its way", b"on its Way"))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "overall fail" in bad.stdout and "body has been altered" in bad.stdout

    # Bare LF line endings are converted, not counted as a change.
    lf = perl_verify(server, signed.replace(b"\r\n", b"\n"))
    assert lf.returncode == 0, lf.stdout + lf.stderr


def test_unpublished_selector_fails_fast_in_both(server: LocalDNS, key: Key) -> None:
    signed = dkim.sign(MESSAGE, b"nokey", DOMAIN.encode(), key.private_pem,
                       canonicalize=(b"relaxed", b"relaxed")) + MESSAGE
    assert not dkim.verify(signed, dnsfunc=server.dkim_dnsfunc)
    out = perl_verify(server, signed)
    assert out.returncode == 1 and "overall invalid" in out.stdout, out.stdout + out.stderr
    assert "public key: not available" in out.stdout  # NXDOMAIN, not a DNS timeout


def test_require_skips_or_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    require(True, "anything")  # present: no effect
    monkeypatch.delenv("REQUIRE_TEST_TOOLS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="frobnicator is not available"):
        require(False, "frobnicator")
    monkeypatch.setenv("REQUIRE_TEST_TOOLS", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_TEST_TOOLS=1"):
        require(False, "frobnicator")


def test_stop_ends_dnsmasq() -> None:
    require(dnsmasq_path() is not None, "dnsmasq")
    with LocalDNS({"a.test": ["x"]}) as srv:
        pid = srv._proc.pid if srv._proc else 0
        assert pid and b"".join(next(iter(srv.resolver().resolve("a.test", "TXT"))).strings) == b"x"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
