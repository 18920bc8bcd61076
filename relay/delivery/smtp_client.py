"""Delivery through a smarthost with aiosmtplib; SMTP replies sorted into deferred/failed."""

from __future__ import annotations

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


class SMTPTransport:
    def __init__(self, settings: DeliverySettings) -> None:
        self.settings = settings

    async def send(self, mail_from: str, rcpt: str, data: bytes, smtputf8: bool) -> Result:
        options = ["SMTPUTF8"] if smtputf8 else []
        if not data.isascii():
            options.append("BODY=8BITMIME")
        tls = {"auto": None, "always": True, "never": False}[self.settings.smtp_starttls]
        client = aiosmtplib.SMTP(
            hostname=self.settings.smtp_host, port=self.settings.smtp_port,
            timeout=self.settings.smtp_timeout, start_tls=tls,
        )
        try:
            await client.connect()
            errors, reply = await client.sendmail(mail_from, [rcpt], data, mail_options=options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _classify(refused.code, refused.message, "5.1.1")
        except aiosmtplib.SMTPNotSupported as exc:
            # e.g. an internationalized address and a smarthost without SMTPUTF8.
            return Result("failed", str(exc), "5.6.7")
        except aiosmtplib.SMTPResponseException as exc:
            return _classify(exc.code, exc.message, "5.0.0")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Result("deferred", f"{type(exc).__name__}: {exc}", "4.4.1")
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
        if errors:
            code, message = next(iter(errors.values()))
            return _classify(code, message, "5.1.1")
        return Result("delivered", reply.strip(), "2.0.0")
