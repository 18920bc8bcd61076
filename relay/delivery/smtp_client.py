"""Delivery through a smarthost with aiosmtplib; SMTP replies sorted into deferred/failed.

Connections are kept open between messages and used again (after a completed transaction a
client may start the next with MAIL, RFC 5321 3.3), as MTAs do with their smarthost: a new
connection per message costs a TCP handshake and three more round trips (greeting, EHLO,
QUIT), and the most of delivery's CPU time.
"""

from __future__ import annotations

import contextlib
import time

import aiosmtplib

from relay.config import DeliverySettings
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
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (client, idle since)

    async def _connect(self) -> aiosmtplib.SMTP:
        tls = {"auto": None, "always": True, "never": False}[self.settings.smtp_starttls]
        client = aiosmtplib.SMTP(
            hostname=self.settings.smtp_host, port=self.settings.smtp_port,
            timeout=self.settings.smtp_timeout, start_tls=tls,
        )
        await client.connect()
        return client

    def _reusable(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < IDLE_REUSE:
                return client
            client.close()
        return None

    async def close(self) -> None:
        """QUIT every idle connection (at shutdown)."""
        idle, self._idle = self._idle, []
        for client, _ in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                if client.is_connected:
                    await client.quit()
            client.close()

    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result:
        client = self._reusable()
        if client is not None:
            try:
                return await self._send(client, mail_from, rcpt, data, smtputf8)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                pass  # it was closed while idle: once more on a new connection
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")
        try:
            client = await self._connect()
        except aiosmtplib.SMTPResponseException as exc:  # e.g. 421 or 554 at the greeting
            return _classify(exc.code, exc.message, "5.0.0")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")
        try:
            return await self._send(client, mail_from, rcpt, data, smtputf8)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")

    async def _send(self, client: aiosmtplib.SMTP, mail_from: str, rcpt: str, data: bytes,
                    smtputf8: bool) -> Result:
        """One transaction; the connection goes back to the idle ones only after a clean
        end. A disconnect escapes (the caller may try a new connection)."""
        options = ["SMTPUTF8"] if smtputf8 else []
        if not data.isascii():
            options.append("BODY=8BITMIME")
        clean = False
        try:
            errors, reply = await client.sendmail(mail_from, [rcpt], data, mail_options=options)
            clean = not errors
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _classify(refused.code, refused.message, "5.1.1")
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. an internationalized address and a smarthost without SMTPUTF8.
            return Result("failed", str(exc), "5.6.7")
        except aiosmtplib.SMTPResponseException as exc:
            return _classify(exc.code, exc.message, "5.0.0")
        finally:
            if clean and client.is_connected:
                self._idle.append((client, time.monotonic()))
            elif client.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    await client.quit()
                client.close()
            else:
                client.close()
        if errors:
            code, message = next(iter(errors.values()))
            return _classify(code, message, "5.1.1")
        return Result("delivered", reply.strip(), "2.0.0")
