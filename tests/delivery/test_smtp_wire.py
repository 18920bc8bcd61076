"""The delivery client's connection (relay.delivery.smtp_wire) against scripted servers: what
it writes, when, and what it makes of the replies."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trustme
from aiosmtpd.smtp import SMTP
from support.ports import free_port

from relay.config import DeliverySettings
from relay.delivery.smtp_client import SMTPTransport
from relay.delivery.smtp_wire import (
    ClientError,
    Closed,
    Connection,
    Disconnected,
    Refused,
    SMTPConnectError,
    Unsupported,
    wire_data,
)

EHLO = ["250-test.example", "250-SIZE 1000000", "250-8BITMIME", "250-SMTPUTF8"]
MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nHello.\r\n"

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, list[bytes]], Awaitable[None]]


def replies(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


async def hello(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: list[bytes],
                pipelining: bool = True) -> None:
    """The greeting and the EHLO exchange."""
    writer.write(b"220 test.example ESMTP\r\n")
    seen.append(await reader.readline())
    extensions = [*EHLO, "250-PIPELINING"] if pipelining else EHLO
    writer.write(replies(*extensions, "250 HELP"))


async def data(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n.\r\n")


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Script], Awaitable[tuple[int, list[bytes]]]]]:
    """Starts a server that runs `script` for each connection; gives its port and the lines
    it has read (the script appends them)."""
    servers: list[asyncio.Server] = []

    async def start(script: Script) -> tuple[int, list[bytes]]:
        seen: list[bytes] = []

        async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await script(reader, writer, seen)
                await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(session, "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1], seen

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def connect(port: int) -> Connection:
    return await Connection.open("127.0.0.1", port, 5.0, "auto", "relay.test")


async def test_pipelined_commands_go_in_one_write(serve) -> None:
    """The server answers nothing until it has MAIL, RCPT and DATA: a client that waited for
    each reply would hang here."""
    async def script(reader, writer, seen):
        await hello(reader, writer, seen)
        for _ in range(2):  # two transactions on one connection
            for _ in range(3):
                seen.append(await reader.readline())
            writer.write(replies("250 2.1.0 Ok", "250 2.1.5 Ok", "354 go ahead"))
            seen.append(await data(reader))
            writer.write(b"250 2.0.0 Ok: queued as X\r\n")
        seen.append(await reader.readline())
        writer.write(b"221 Bye\r\n")

    port, seen = await serve(script)
    connection = await connect(port)
    assert "pipelining" in connection.extensions
    reply = await connection.send("bounces+x@relay.test", "user@example.net", MESSAGE, [])
    assert (reply.code, reply.text) == (250, "2.0.0 Ok: queued as X")
    await connection.send("", "other@example.net", b".dot\r\nline\n.\r\n", ["BODY=8BITMIME"])
    await connection.quit()
    size = len(MESSAGE)
    assert seen == [
        b"EHLO relay.test\r\n",
        b"MAIL FROM:<bounces+x@relay.test> SIZE=%d\r\n" % size, b"RCPT TO:<user@example.net>\r\n",
        b"DATA\r\n", MESSAGE + b".\r\n",
        b"MAIL FROM:<> SIZE=15 BODY=8BITMIME\r\n", b"RCPT TO:<other@example.net>\r\n",
        b"DATA\r\n", b"..dot\r\nline\r\n..\r\n.\r\n",
        b"QUIT\r\n",
    ]


async def test_without_pipelining_each_command_waits_and_a_refusal_ends_it(serve) -> None:
    """No PIPELINING: after a refused MAIL the client sends neither RCPT nor DATA."""
    async def script(reader, writer, seen):
        await hello(reader, writer, seen, pipelining=False)
        seen.append(await reader.readline())
        writer.write(b"451 4.3.0 try later\r\n")
        seen.append(await reader.readline())  # QUIT, or b"" if the client closed

    port, seen = await serve(script)
    connection = await connect(port)
    with pytest.raises(Refused) as refused:
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert (refused.value.step, refused.value.reply.code) == ("mail", 451)
    await connection.quit()
    assert seen[1].startswith(b"MAIL FROM:<a@relay.test>")
    assert seen[2:] == [b"QUIT\r\n"]


@pytest.mark.parametrize(("answers", "step", "code", "text"), [
    (["250 Ok", "550 5.1.1 <b@example.net>: unknown", "554 5.5.1 no valid recipients"],
     "rcpt", 550, "5.1.1 <b@example.net>: unknown"),
    (["452 4.3.1 full", "503 5.5.1 need MAIL", "503 5.5.1 need RCPT"], "mail", 452, "4.3.1 full"),
    (["250 Ok", "250 Ok", "451 4.3.0 no data now"], "data", 451, "4.3.0 no data now"),
    # Multi-line: the lines are kept, the codes dropped.
    (["250 Ok", "550-5.7.1 first line", "550 5.7.1 second line", "554 no"],
     "rcpt", 550, "5.7.1 first line\n5.7.1 second line"),
])
async def test_pipelined_refusals(serve, answers, step, code, text) -> None:
    async def script(reader, writer, seen):
        await hello(reader, writer, seen)
        for _ in range(3):
            seen.append(await reader.readline())
        writer.write(replies(*answers))
        seen.append(await reader.readline())

    port, seen = await serve(script)
    connection = await connect(port)
    with pytest.raises(Refused) as refused:
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert (refused.value.step, refused.value.reply.code, refused.value.reply.text) == (
        step, code, text)
    assert connection.is_connected
    await connection.quit()
    assert seen[-1] == b"QUIT\r\n"  # the message itself was never sent


async def test_data_taken_after_a_refused_recipient_closes_the_connection(serve) -> None:
    """A server that says 354 although it refused the only recipient: the client does not
    send the message, and cannot send QUIT (it would be read as the message): it closes."""
    async def script(reader, writer, seen):
        await hello(reader, writer, seen)
        for _ in range(3):
            seen.append(await reader.readline())
        writer.write(replies("250 Ok", "550 no such user", "354 go ahead"))
        seen.append(await reader.read())  # until the client closes

    port, seen = await serve(script)
    connection = await connect(port)
    with pytest.raises(Refused) as refused:
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert refused.value.step == "rcpt"
    assert not connection.is_connected
    await asyncio.sleep(0.05)
    assert seen[-1] == b""


async def test_smtputf8_needs_the_extension_and_addresses_cannot_break_a_command(serve) -> None:
    async def script(reader, writer, seen):
        writer.write(b"220 test.example ESMTP\r\n")
        seen.append(await reader.readline())
        writer.write(replies("250-test.example", "250 PIPELINING"))
        seen.append(await reader.read())

    port, seen = await serve(script)
    connection = await connect(port)
    with pytest.raises(Unsupported):
        await connection.send("a@relay.test", "bé@example.net", MESSAGE, ["SMTPUTF8"])
    for bad in ("b@example.net>\r\nRCPT TO:<c@example.net", "b@exa\nmple.net", "<b@example.net"):
        with pytest.raises(ValueError, match="cannot go in an SMTP command"):
            await connection.send("a@relay.test", bad, MESSAGE, [])
    connection.close()
    await asyncio.sleep(0.05)
    assert seen[-1] == b""  # nothing was sent


async def test_helo_when_ehlo_is_refused(serve) -> None:
    async def script(reader, writer, seen):
        writer.write(b"220 old.example SMTP\r\n")
        seen.append(await reader.readline())
        writer.write(b"502 5.5.2 what?\r\n")
        seen.append(await reader.readline())
        writer.write(b"250 old.example\r\n")
        for _ in range(2):
            seen.append(await reader.readline())
            writer.write(b"250 Ok\r\n")
        seen.append(await reader.readline())
        writer.write(b"354 go\r\n")
        seen.append(await data(reader))
        writer.write(b"250 done\r\n")

    port, seen = await serve(script)
    connection = await connect(port)
    assert connection.extensions == {}
    reply = await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert reply.text == "done"
    connection.close()
    assert seen[:3] == [b"EHLO relay.test\r\n", b"HELO relay.test\r\n",
                        b"MAIL FROM:<a@relay.test>\r\n"]  # no SIZE: not offered


async def test_no_server() -> None:
    with pytest.raises(SMTPConnectError, match=r"Error connecting to 127\.0\.0\.1 on port"):
        await connect(free_port())


async def test_greeting_refusal_is_a_refused_greeting(serve) -> None:
    async def script(reader, writer, seen):
        writer.write(b"554 5.3.2 not now\r\n")

    port, _ = await serve(script)
    with pytest.raises(Refused) as refused:
        await connect(port)
    assert (refused.value.step, refused.value.reply.code) == ("greeting", 554)


async def test_a_connection_closed_while_idle(serve) -> None:
    async def script(reader, writer, seen):
        await hello(reader, writer, seen)

    port, _ = await serve(script)
    connection = await connect(port)
    await asyncio.sleep(0.1)  # the server has closed it
    with pytest.raises(Disconnected):
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])


async def test_the_transport_sorts_the_replies(serve) -> None:
    """SMTPTransport over this client: a refused recipient fails with its enhanced code, a
    4xx at DATA defers, a delivery leaves the connection for the next message."""
    answers = iter([
        ["250 Ok", "550 5.1.1 unknown user", "554 no valid recipients"],
        ["250 Ok", "250 Ok", "451 4.7.1 greylisted"],
        ["250 Ok", "250 Ok", "354 go"],
        ["250 Ok", "250 Ok", "354 go"],
    ])
    connections = []

    async def script(reader, writer, seen):
        connections.append(writer)
        await hello(reader, writer, seen)
        while True:
            line = await reader.readline()
            if line in (b"", b"QUIT\r\n"):
                writer.write(b"221 Bye\r\n")
                return
            for _ in range(2):
                await reader.readline()
            these = next(answers)
            writer.write(replies(*these))
            if these[-1].startswith("354"):
                await data(reader)
                writer.write(b"250 2.0.0 queued\r\n")

    port, _ = await serve(script)
    transport = SMTPTransport(DeliverySettings(mode="smtp", smtp_host="127.0.0.1",
                                               smtp_port=port, smtp_starttls="never"))
    results = [await transport.send("a@relay.test", "b@example.net", MESSAGE, False)
               for _ in range(4)]
    await transport.close()
    assert [(r.status, r.status_code) for r in results] == [
        ("failed", "5.1.1"), ("deferred", "4.7.1"), ("delivered", "2.0.0"),
        ("delivered", "2.0.0")]
    assert results[0].detail == "550 5.1.1 unknown user"
    assert results[2].detail == "2.0.0 queued"
    assert len(connections) == 3  # refusals end a connection, a delivery keeps it


def test_wire_data() -> None:
    assert wire_data(b"a\r\n") == (b"a\r\n.\r\n", 3)
    assert wire_data(b".a\nb\r.\r\n") == (b"..a\r\nb\r\n..\r\n.\r\n", 10)
    assert wire_data(b"no end") == (b"no end\r\n.\r\n", 8)


@pytest.fixture
async def tls_server(tmp_path, monkeypatch) -> AsyncIterator[
        Callable[[bool], Awaitable[tuple[int, list[bytes]]]]]:
    """An aiosmtpd inbox that requires STARTTLS, with a trustme certificate for 127.0.0.1;
    trusted: its CA is the client's (OpenSSL reads SSL_CERT_FILE for the default context)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    servers: list[asyncio.Server] = []

    class Inbox:
        def __init__(self) -> None:
            self.got: list[bytes] = []

        async def handle_DATA(self, server, session, envelope) -> str:
            self.got.append(b"TLS" if session.ssl else b"plain")
            return "250 OK"

    async def start(trusted: bool) -> tuple[int, list[bytes]]:
        if trusted:
            monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        inbox = Inbox()
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(inbox, tls_context=context, require_starttls=True,
                         hostname="inbox.test"), "127.0.0.1", 0)
        servers.append(server)
        return server.sockets[0].getsockname()[1], inbox.got

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_starttls_when_offered_with_the_certificate_checked(tls_server) -> None:
    port, got = await tls_server(True)
    connection = await connect(port)
    assert "starttls" not in connection.extensions  # the EHLO after STARTTLS
    await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    await connection.quit()
    assert got == [b"TLS"]


async def test_starttls_with_an_untrusted_certificate_fails(tls_server) -> None:
    port, got = await tls_server(False)
    with pytest.raises(ssl.SSLCertVerificationError):
        await connect(port)
    assert got == []


@pytest.mark.parametrize("pipelining", [True, False])
async def test_a_refusal_then_a_hang_up_is_the_refusal(serve, pipelining) -> None:
    async def script(reader, writer, seen):
        await hello(reader, writer, seen, pipelining)
        seen.append(await reader.readline())
        writer.write(b"550 5.7.1 go away\r\n")  # then closes, RCPT and DATA unanswered

    port, _ = await serve(script)
    connection = await connect(port)
    with pytest.raises(Refused) as refused:
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert (refused.value.step, refused.value.reply.code) == ("mail", 550)
    if pipelining:  # the hang-up was read (for RCPT's reply): closed here too
        assert not connection.is_connected
    connection.close()


@pytest.mark.parametrize("pipelining", [True, False])
async def test_421_to_the_envelope_closes_the_connection(serve, pipelining) -> None:
    async def script(reader, writer, seen):
        await hello(reader, writer, seen, pipelining)
        seen.append(await reader.readline())
        writer.write(b"421 4.3.2 shutting down\r\n")

    port, _ = await serve(script)
    connection = await connect(port)
    with pytest.raises(Closed) as closed:
        await connection.send("a@relay.test", "b@example.net", MESSAGE, [])
    assert (closed.value.reply.code, closed.value.reply.text) == (421, "4.3.2 shutting down")
    assert not connection.is_connected


async def test_an_idle_timeout_said_with_421_is_retried_on_a_new_connection(serve) -> None:
    """A server that says 421 when a connection has waited too long, then hangs up (Postfix
    does): the reply waits in the idle connection; the next message goes on a new one, not
    deferred. A 421 on a new connection is the server's answer: deferred."""
    arrived, connections = [], []

    async def script(reader, writer, seen):
        connections.append(writer)
        await hello(reader, writer, seen)
        if len(connections) == 3:  # 421 to everything
            await reader.readline()
            writer.write(b"421 4.7.0 try again later\r\n")
            return
        for _ in range(3):
            await reader.readline()
        writer.write(replies("250 Ok", "250 Ok", "354 go"))
        arrived.append(await data(reader))
        writer.write(b"250 2.0.0 queued\r\n")
        await writer.drain()
        writer.write(b"421 4.4.2 idle timeout\r\n")  # while the client holds it idle

    port, _ = await serve(script)
    transport = SMTPTransport(DeliverySettings(mode="smtp", smtp_host="127.0.0.1",
                                               smtp_port=port, smtp_starttls="never"))
    first = await transport.send("a@relay.test", "b@example.net", MESSAGE, False)
    await asyncio.sleep(0.1)
    second = await transport.send("a@relay.test", "b@example.net", MESSAGE, False)
    assert (first.status, second.status) == ("delivered", "delivered")
    assert len(arrived) == 2 and len(connections) == 2
    # The same again (the idle connection said 421), but the new connection says 421 too.
    third = await transport.send("a@relay.test", "b@example.net", MESSAGE, False)
    await transport.close()
    assert (third.status, third.status_code, third.detail) == (
        "deferred", "4.7.0", "421 4.7.0 try again later")
    assert len(connections) == 3


async def test_starttls_always_and_a_server_without_it(serve) -> None:
    """smtp_starttls = "always": nothing goes in the clear to a server that cannot do TLS."""
    async def script(reader, writer, seen):
        await hello(reader, writer, seen)
        seen.append(await reader.read())

    port, seen = await serve(script)
    with pytest.raises(ClientError, match="does not offer STARTTLS"):
        await Connection.open("127.0.0.1", port, 5.0, "always", "relay.test")
    await asyncio.sleep(0.05)
    assert seen == [b"EHLO relay.test\r\n", b""]
