"""Sender authentication for mail arriving from other servers (SPF, DKIM, DMARC) and for
mail clients on the submission port (passwords)."""
