"""Delivery through a smarthost; SMTP replies sorted into deferred/failed.

Connections are kept open between messages and used again (after a completed transaction a
client may start the next with MAIL, RFC 5321 3.3), as MTAs do with their smarthost: a new
connection per message costs a TCP handshake and three more round trips (greeting, EHLO,
QUIT), and the most of delivery's CPU time. Each transaction is pipelined when the smarthost
offers PIPELINING (relay.delivery.smtp_wire).
"""

from __future__ import annotations

import contextlib
import time

from relay.config import DeliverySettings
from relay.delivery.smtp_wire import (
    ClientError,
    Closed,
    Connection,
    Disconnected,
    Refused,
    Unsupported,
    local_name,
)
from relay.delivery.transport import Result


def _classify(code: int, message: str, default_status: str) -> Result:
    words = message.split()
    enhanced = words[0] if words and words[0][:1] in "245" and words[0].count(".") == 2 else ""
    detail = f"{code} {message}".strip()
    if 400 <= code < 500 or code < 200:
        return Result("deferred", detail, enhanced or "4.0.0")
    if code >= 500:
        return Result("failed", detail, enhanced or default_status)
    return Result("deferred", detail, "4.0.0")


# An idle connection is used again only this long (servers close idle ones, Postfix after
# 300 s), and a server that closed one meanwhile costs a retry on a new connection.
IDLE_REUSE = 30.0


class SMTPTransport:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings
        self._idle: list[tuple[Connection, float]] = []  # (connection, idle since)
        self._local_name = ""  # for EHLO, looked up once

    async def _connect(self) -> Connection:
        if not self._local_name:
            self._local_name = await local_name()
        s = self.settings
        return await Connection.open(s.smtp_host, s.smtp_port, s.smtp_timeout, s.smtp_starttls,
                                     self._local_name)

    def _reusable(self) -> Connection | None:
        now = time.monotonic()
        while self._idle:
            connection, since = self._idle.pop()
            if connection.is_connected and now - since < IDLE_REUSE:
                return connection
            connection.close()
        return None

    async def close(self) -> None:
        """QUIT every idle connection (at shutdown)."""
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            with contextlib.suppress(ClientError, OSError, TimeoutError):
                await connection.quit()

    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result:
        connection = self._reusable()
        if connection is not None:
            try:
                return await self._send(connection, mail_from, rcpt, data, smtputf8)
            except (Disconnected, ConnectionError):
                pass  # closed while idle (with a 421 or without): once more on a new one
            except (ClientError, OSError, TimeoutError) as exc:
                return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")
        try:
            connection = await self._connect()
        except Refused as exc:  # e.g. 421 or 554 at the greeting
            return _classify(exc.reply.code, exc.reply.text, "5.0.0")
        except (ClientError, OSError, TimeoutError) as exc:
            return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")
        try:
            return await self._send(connection, mail_from, rcpt, data, smtputf8)
        except Closed as exc:  # 421 on a new connection: the server's own word
            return _classify(exc.reply.code, exc.reply.text, "4.0.0")
        except (ClientError, OSError, TimeoutError) as exc:
            return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")

    async def _send(self, connection: Connection, mail_from: str, rcpt: str, data: bytes,
                    smtputf8: bool) -> Result:
        """One transaction; the connection goes back to the idle ones only after a clean
        end. A disconnect escapes (the caller may try a new connection)."""
        options = ["SMTPUTF8"] if smtputf8 else []
        if not data.isascii():
            options.append("BODY=8BITMIME")
        clean = False
        try:
            reply = await connection.send(mail_from, rcpt, data, options)
            clean = True
        except Refused as exc:
            default = "5.1.1" if exc.step == "rcpt" else "5.0.0"
            return _classify(exc.reply.code, exc.reply.text, default)
        except Unsupported as exc:
            # e.g. an internationalized address and a smarthost without SMTPUTF8.
            return Result("failed", str(exc), "5.6.7")
        finally:
            if clean and connection.is_connected:
                self._idle.append((connection, time.monotonic()))
            elif connection.is_connected:
                with contextlib.suppress(ClientError, OSError, TimeoutError):
                    await connection.quit()
            else:
                connection.close()
        return Result("delivered", reply.text.strip(), "2.0.0")
