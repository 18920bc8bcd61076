"""Outbound DKIM: the bytes the inbox gets verify, with dkimpy, against the published key."""

from __future__ import annotations

import asyncio

import dkim
import pytest
from conftest import BUYER, DOMAIN, compose, run_cli, send
from hypothesis import given, settings
from hypothesis import strategies as st

from relay.delivery.dkim_sign import _POLICY, dns_record, relaxed_body, split


def resolver(relay):
    record = dns_record(relay.config.dkim.key.read_bytes()).encode()

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name.rstrip(b".") == f"relay._domainkey.{DOMAIN}".encode() else None

    return txt


async def test_delivered_mail_carries_a_valid_signature(relay, conv, capture):
    data = compose(BUYER, conv.seller_alias, subject="Gr\u00fc\u00dfe: where is it?",
                   body="Hello,\n.\nthe parcel has not arrived. Line with trailing space \n")
    assert (await send(relay.smtp_port, BUYER, conv.seller_alias, data))[0] == 250
    got = (await capture.wait_for(1))[0]
    assert got.data.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert dkim.verify(got.data, dnsfunc=resolver(relay))
    # The signature covers what a reader relies on: a changed Subject or body fails.
    assert not dkim.verify(got.data.replace(b"where is it", b"where is It"),
                           dnsfunc=resolver(relay))
    assert not dkim.verify(got.data.replace(b"has not arrived", b"has now arrived"),
                           dnsfunc=resolver(relay))


async def test_bounces_are_signed_too(relay, conv, capture):
    capture.refuse[BUYER] = "550 5.1.1 no such user"
    data = compose(conv.sellers[0], conv.buyer_alias, body="Your size is back in stock?")
    assert (await send(relay.smtp_port, conv.sellers[0], conv.buyer_alias, data))[0] == 250
    dsn = (await capture.wait_for(1))[0]
    assert dsn.mail_from in ("", "<>") and dkim.verify(dsn.data, dnsfunc=resolver(relay))


async def test_keygen_and_record(tmp_path):
    cfg = tmp_path / "relay.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n[dkim]\nkey = "{tmp_path / "k" / "relay.pem"}"\n')
    made = await asyncio.to_thread(run_cli, "--config", str(cfg), "dkim", "keygen")
    assert made.returncode == 0, made.stderr
    assert f'relay._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=' in made.stdout
    assert oct((tmp_path / "k" / "relay.pem").stat().st_mode & 0o777) == "0o600"
    again = await asyncio.to_thread(run_cli, "--config", str(cfg), "dkim", "keygen")
    assert again.returncode == 2 and "--force" in again.stderr
    shown = await asyncio.to_thread(run_cli, "--config", str(cfg), "dkim", "record")
    assert shown.stdout.splitlines()[1] == made.stdout.splitlines()[1]


async def test_ed25519_keygen_and_both_records(tmp_path):
    cfg = tmp_path / "relay.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n[dkim]\nkey = "{tmp_path / "k" / "relay.pem"}"\n'
                   f'ed25519 = true\ned25519_key = "{tmp_path / "k" / "ed.pem"}"\n')
    for flags in ((), ("--ed25519",)):
        made = await asyncio.to_thread(run_cli, "--config", str(cfg), "dkim", "keygen", *flags)
        assert made.returncode == 0, made.stderr
    assert f'relayed._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=ed25519; p=' in made.stdout
    shown = await asyncio.to_thread(run_cli, "--config", str(cfg), "dkim", "record")
    lines = shown.stdout.splitlines()
    assert lines[1].startswith(f'relay._domainkey.{DOMAIN}. IN TXT "v=DKIM1; k=rsa; p=')
    assert lines[3] == made.stdout.splitlines()[1]


# The signer splits and canonicalizes the body itself: dkimpy's results, byte for byte.
_PIECES = st.lists(st.sampled_from([b" ", b"\t", b"\r\n", b"a", b"b c", b"  ", b"\t ", b"x\r\n",
                                    b"From: y", b":", b"\x00", b"\xff"]), max_size=40)


@settings(max_examples=500, deadline=None)
@given(_PIECES)
def test_relaxed_body_is_dkimpy_s(pieces):
    body = b"".join(pieces)
    assert relaxed_body(body) == _POLICY.canonicalize_body(body)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"Subject: a", b" folded", b"\tb", b"From: c <d@e>", b"",
                                 b"body  text ", b"X-A:"]), max_size=12), _PIECES)
def test_split_is_dkimpy_s_for_crlf_messages(lines, tail):
    message = b"Received: by relay.test\r\n" + b"\r\n".join(lines) + b"\r\n" + b"".join(tail)
    try:
        expected = dkim.rfc822_parse(message)
    except dkim.MessageFormatError:
        with pytest.raises(dkim.MessageFormatError):
            split(message)
        return
    assert split(message) == expected
