"""Command injection on the wire: plaintext pipelined after STARTTLS is dropped, and CR, LF
or NUL inside MAIL/RCPT/AUTH arguments never becomes a command of its own."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl

import pytest
from conftest import BUYER, SELLER, compose, send

from relay.auth.passwords import set_password
from relay.store import records

PASSWORD = "correct horse battery staple"


def _lines(sock: socket.socket | ssl.SSLSocket, until: bytes) -> bytes:
    """Read replies until a line starts with `until` (a final reply line)."""
    got = b""
    while not any(line.startswith(until) for line in got.split(b"\r\n")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        got += chunk
    return got


def starttls_then(port: int, injected: bytes) -> tuple[bytes, bytes]:
    """STARTTLS with `injected` in the same packet; then EHLO and NOOP over TLS. Returns
    (what came before the handshake, what came after)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the self-signed first-run certificate
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        before = _lines(raw, b"220 ")
        raw.sendall(b"EHLO client.example\r\n")
        before += _lines(raw, b"250 ")
        raw.sendall(b"STARTTLS\r\n" + injected)
        before += _lines(raw, b"220 ")
        with context.wrap_socket(raw, server_hostname="relay.test") as tls:
            tls.sendall(b"EHLO client.example\r\nNOOP\r\n")
            after = _lines(tls, b"250 OK")  # NOOP's reply: everything before it is seen
            tls.sendall(b"QUIT\r\n")
            after += _lines(tls, b"221")
    return before, after


@pytest.mark.parametrize("injected", [
    b"NOOP\r\n",
    b"MAIL FROM:<x@evil.example>\r\n",
    b"AUTH PLAIN " + base64.b64encode(f"\0{SELLER}\0{PASSWORD}".encode()) + b"\r\n",
])
async def test_commands_pipelined_with_starttls_never_run(relay, conv, injected):
    assert relay.store is not None
    await set_password(relay.store, SELLER, relay.config.domain, PASSWORD)
    before, after = await asyncio.to_thread(starttls_then, relay.submission_port, injected)
    assert before.endswith(b"220 Ready to start TLS\r\n"), before
    replies = [line for line in after.split(b"\r\n") if line]
    # Only the EHLO's reply, then NOOP's, then QUIT's: nothing answers the injected line.
    assert replies[0].startswith(b"250-"), replies
    assert b"235" not in after and b"Authentication successful" not in after
    assert sum(1 for r in replies if r.startswith(b"250 OK")) == 1, replies
    assert replies[-1].startswith(b"221"), replies


def plain_session(port: int, script: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        got = _lines(sock, b"220 ")
        sock.sendall(b"EHLO client.example\r\n")
        got += _lines(sock, b"250 ")
        sock.sendall(script + b"QUIT\r\n")
        got += _lines(sock, b"221")
    return got


@pytest.mark.parametrize("sep", [b"\r", b"\n", b"\x00"], ids=["CR", "LF", "NUL"])
async def test_cr_or_nul_in_arguments_is_no_command_separator(relay, conv, sep):
    alias = conv.seller_alias.encode()
    script = (b"MAIL FROM:<" + BUYER.encode() + b">" + sep + b"RCPT TO:<" + alias + b">\r\n"
              + b"RCPT TO:<" + alias + b">" + sep + b"DATA\r\n")
    got = await asyncio.to_thread(plain_session, relay.smtp_port, script)
    replies = [line for line in got.split(b"\r\n") if line][-3:]
    # MAIL is refused as malformed; the RCPT after it has no sender; no DATA ever starts.
    assert replies[0][:1] == b"5" and replies[1][:1] == b"5", replies
    assert b"354" not in got and b"250 2.1.5" not in got, got
    assert await records.summaries(relay.store, conv.id) == []


async def test_line_breaks_in_auth_credentials_are_just_wrong_credentials(relay, conv):
    assert relay.store is not None
    await set_password(relay.store, SELLER, relay.config.domain, PASSWORD)
    # A login with CRLF + a command inside its base64 stays one (failed) AUTH.
    login = f"{SELLER}\r\nMAIL FROM:<x@evil.example>\r\n".encode()
    token = base64.b64encode(b"\0" + login + b"\0" + PASSWORD.encode())

    def session() -> bytes:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", relay.submission_port), timeout=5) as raw:
            _lines(raw, b"220 ")
            raw.sendall(b"EHLO c\r\n")
            _lines(raw, b"250 ")
            raw.sendall(b"STARTTLS\r\n")
            _lines(raw, b"220 ")
            with context.wrap_socket(raw, server_hostname="relay.test") as tls:
                tls.sendall(b"EHLO c\r\n")
                _lines(tls, b"250 ")
                tls.sendall(b"AUTH PLAIN " + token + b"\r\nNOOP\r\n")
                got = _lines(tls, b"250 OK")
                tls.sendall(b"QUIT\r\n")
                return got + _lines(tls, b"221")

    got = await asyncio.to_thread(session)
    replies = [line for line in got.split(b"\r\n") if line]
    assert replies[0].startswith(b"535 5.7.8"), replies
    assert replies[1].startswith(b"250 OK"), replies  # NOOP: no reply to an injected MAIL


async def test_a_clean_submission_still_works_after_these(relay, conv, capture):
    # The same relay keeps serving normal mail (a control for the tests above).
    code, _ = await send(relay.smtp_port, BUYER, conv.seller_alias,
                         compose(BUYER, conv.seller_alias))
    assert code == 250
    await capture.wait_for(1)
