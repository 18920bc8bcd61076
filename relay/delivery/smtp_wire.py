"""One SMTP client connection to the smarthost, and its transactions, pipelined (RFC 2920)
when the server offers PIPELINING.

aiosmtplib sent MAIL, RCPT, DATA and the message one at a time, each after the last one's
reply: four round trips a message, each a wake-up of the event loop and a system call on
both sides, and it parsed every address again with the email package. Its reader keeps one
reply at a time (it drops what arrives while a reply waits to be read), so it cannot
pipeline. Here MAIL, RCPT and DATA go in one write and their three replies are read
together, then the message and its reply: two round trips, and a third of the CPU time
(docs/performance.md, 2026-12-07). Without PIPELINING each command waits for its reply, as
before.

What the connection does otherwise is what aiosmtplib did for the relay: the greeting, EHLO
(HELO when EHLO is refused) with the local host's name, STARTTLS when offered ("auto") or
required ("always") with the certificate checked against the smarthost's name, SIZE when
offered, the message's lines dot-stuffed and ended with CRLF.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from dataclasses import dataclass

from relay.message import line_ends

# A reply line longer than this is refused (RFC 5321 4.5.3.1.5: 512 with the code).
_LINE_LIMIT = 1 << 16
_FORBIDDEN = re.compile(r"[\r\n\0<>]")
_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class Reply:
    code: int
    text: str  # the reply's lines without their codes, joined by "\n"


class ClientError(Exception):
    """Delivery on this connection cannot go on (a malformed reply, STARTTLS missing)."""


class SMTPConnectError(ClientError):
    """The smarthost could not be reached, or closed before its greeting (named as
    aiosmtplib named it: a DSN's reason says it)."""


class SMTPConnectTimeoutError(SMTPConnectError):
    """No connection or no greeting in time."""


class Disconnected(ClientError, ConnectionError):
    """The server closed the connection."""


class Closed(Disconnected):
    """The server answered the envelope with 421 (it is closing the connection): nothing was
    taken. On a connection that waited idle this is often its idle timeout, said before it
    hung up (Postfix does), so the message may go at once on a new connection."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(f"{reply.code} {reply.text}")
        self.reply = reply


class Unsupported(ClientError):
    """The message needs an extension the server does not offer (SMTPUTF8)."""


class Refused(ClientError):
    """A reply that ends the transaction, at `step`: greeting, helo, starttls, mail, rcpt,
    data (the DATA command) or message (the reply after the message)."""

    def __init__(self, step: str, reply: Reply) -> None:
        super().__init__(f"{step}: {reply.code} {reply.text}")
        self.step = step
        self.reply = reply


def _address(address: str, utf8: bool) -> bytes:
    """<address> for MAIL or RCPT; nothing that could end the command or the path in it."""
    if _FORBIDDEN.search(address):
        raise ValueError(f"address {address!r} cannot go in an SMTP command")
    return b"<" + address.encode("utf-8" if utf8 else "ascii") + b">"


def wire_data(data: bytes) -> tuple[bytes, int]:
    """The message as it goes after DATA (CRLF line ends, a line that starts with a dot
    gets another one, then . CRLF), and its size for SIZE= (RFC 1870: the lines with their
    CRLFs, without the added dots and the final dot)."""
    data = line_ends.for_the_wire(data)
    size = len(data)
    if data.startswith(b".") or b"\n." in data:
        data = _DOT.sub(b"..", data)
    return data + b".\r\n", size


def _tls_context() -> ssl.SSLContext:
    # As aiosmtplib's default: the smarthost's certificate must be valid for its name.
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class Connection:
    """One connection, used by one delivery at a time (smtp_client.SMTPTransport's pool)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 timeout: float) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.extensions: dict[str, str] = {}  # EHLO keyword (lower case) -> its parameters

    @classmethod
    async def open(cls, host: str, port: int, timeout: float, starttls: str,
                   local_name: str) -> Connection:
        """Connected, greeted, EHLO said (and STARTTLS done when `starttls` is "auto" and the
        server offers it, or "always"). Raises Refused, ClientError, OSError, TimeoutError."""
        where = f"{host} on port {port}"
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, limit=_LINE_LIMIT)
        except TimeoutError as exc:
            raise SMTPConnectTimeoutError(f"Timed out connecting to {where}") from exc
        except OSError as exc:
            raise SMTPConnectError(f"Error connecting to {where}: {exc}") from exc
        self = cls(reader, writer, timeout)
        try:
            async with asyncio.timeout(timeout):
                try:
                    greeting = await self._reply()
                except Disconnected as exc:
                    raise SMTPConnectError(f"Error connecting to {where}: {exc}") from exc
                if greeting.code != 220:
                    raise Refused("greeting", greeting)
                await self._hello(local_name)
                if starttls == "always" or (starttls == "auto" and "starttls" in self.extensions):
                    if "starttls" not in self.extensions:
                        raise ClientError("the smarthost does not offer STARTTLS")
                    self.writer.write(b"STARTTLS\r\n")
                    reply = await self._reply()
                    if reply.code != 220:
                        raise Refused("starttls", reply)
                    await self.writer.start_tls(_tls_context(), server_hostname=host)
                    await self._hello(local_name)
        except BaseException:
            self.close()
            raise
        return self

    async def _hello(self, local_name: str) -> None:
        self.writer.write(b"EHLO " + local_name.encode("ascii") + b"\r\n")
        reply = await self._reply()
        if reply.code == 250:
            lines = reply.text.split("\n")[1:]
            self.extensions = {}
            for line in lines:
                keyword, _, params = line.strip().partition(" ")
                self.extensions[keyword.lower()] = params
            return
        self.writer.write(b"HELO " + local_name.encode("ascii") + b"\r\n")
        reply = await self._reply()
        if reply.code != 250:
            raise Refused("helo", reply)
        self.extensions = {}

    async def _reply(self) -> Reply:
        """One reply, its lines read up to the last one (a space after the code)."""
        texts: list[str] = []
        while True:
            try:
                line = await self.reader.readline()
            except ValueError as exc:  # longer than the limit
                raise ClientError("reply line too long") from exc
            if not line.endswith(b"\n"):
                raise Disconnected("the smarthost closed the connection")
            if len(line) < 4 or not line[:3].isdigit() or line[3:4] not in b" -\r\n":
                raise ClientError(f"malformed reply line {line[:80]!r}")
            texts.append(line[4:].strip(b" \t\r\n").decode("utf-8", "surrogateescape"))
            if line[3:4] != b"-":
                return Reply(int(line[:3]), "\n".join(texts))

    @property
    def is_connected(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    async def send(self, mail_from: str, rcpt: str, data: bytes, options: list[str]) -> Reply:
        """One transaction: the final reply (250). Raises Unsupported before anything is
        sent, Refused for a reply that ends it (the connection is then not to be used again),
        Disconnected, ClientError, OSError or TimeoutError."""
        utf8 = "SMTPUTF8" in options
        if utf8 and "smtputf8" not in self.extensions:
            raise Unsupported("SMTPUTF8 is not supported by the smarthost")
        payload, size = wire_data(data)
        mail = b"MAIL FROM:" + _address(mail_from, utf8)
        if "size" in self.extensions:
            mail += b" SIZE=%d" % size
        for option in options:
            mail += b" " + option.encode("ascii")
        commands = [mail + b"\r\n", b"RCPT TO:" + _address(rcpt, utf8) + b"\r\n", b"DATA\r\n"]
        steps = (("mail", (250,)), ("rcpt", (250, 251)), ("data", (354,)))
        replies: list[Reply] = []
        async with asyncio.timeout(self.timeout):
            try:
                if "pipelining" in self.extensions:
                    self.writer.write(b"".join(commands))
                    for _ in commands:
                        replies.append(await self._reply())
                else:  # each command after the last one's reply; none after a refusal
                    for command, (_, good) in zip(commands, steps, strict=True):
                        self.writer.write(command)
                        replies.append(await self._reply())
                        if replies[-1].code not in good:
                            break
            except Disconnected:
                # A server may refuse and hang up: the refusal says more than the hang-up.
                if all(r.code in good for r, (_, good) in zip(replies, steps, strict=False)):
                    raise
            for reply, (step, good) in zip(replies, steps, strict=False):
                if reply.code not in good:
                    if reply.code == 421 or replies[-1].code == 354 or not self.is_connected:
                        self.close()  # closing, or took DATA all the same: not to be used
                    if reply.code == 421:
                        raise Closed(reply)
                    raise Refused(step, reply)
        async with asyncio.timeout(self.timeout):
            self.writer.write(payload)
            reply = await self._reply()
        if reply.code != 250:
            raise Refused("message", reply)
        return reply

    async def quit(self) -> None:
        """QUIT and close; a server that does not answer (in time) is closed on all the same."""
        try:
            if self.is_connected:
                async with asyncio.timeout(self.timeout):
                    self.writer.write(b"QUIT\r\n")
                    await self._reply()
        except (ClientError, OSError, TimeoutError):
            pass
        finally:
            self.close()

    def close(self) -> None:
        self.writer.close()


async def local_name() -> str:
    """The name EHLO gives: the local host's fully qualified name, as aiosmtplib gave."""
    name = await asyncio.to_thread(socket.getfqdn)
    return name if name and name.isascii() and not re.search(r"[\s\0]", name) else "localhost"
