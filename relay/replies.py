"""Every SMTP reply the relay gives, in one table: the fixed replies by name, and the status a
refusal is answered with by its reason code (stages raise Reject or TempFail with a reason
code and a reason; `refusal` and `temporary` format them). docs/smtp.md's reply table is
checked against this module by tests/test_docs.py."""

from __future__ import annotations

MAX_LINE = 64 * 1024

OK = "250 OK"
SENDER_OK = "250 2.1.0 sender ok"
RCPT_OK = "250 2.1.5 recipient ok"
CANNOT_VRFY = "252 2.1.5 cannot verify here; aliases are checked at RCPT"
SHUTTING_DOWN = "421 4.3.2 relay is shutting down, try again later"
TEMPFAIL = "451 4.3.0 temporary failure, please try again later"
RATE_LIMITED = "450 4.7.1 rate.limit: {}; try again later"
RATE_NETWORK = "450 4.7.1 rate.network: {}; try again later"
TOO_MANY_CONNECTIONS = "421 4.7.0 too many connections from your address; try again later"
TOO_BUSY = "421 4.3.2 too many connections; try again later"
TOO_MANY_FROM_NETWORK = "421 4.7.0 too many connections from your network; try again later"
IDLE_COMMANDS = "421 4.7.0 too many commands without a message; closing"
SESSION_TOO_LONG = "421 4.4.2 connection time limit reached; closing"
# RFC 3463 4.3.1: "mail system full"; RFC 5321 452: "insufficient system storage".
IN_FLIGHT_FULL = "452 4.3.1 too much mail in progress; try again later"
ONE_CONVERSATION = (
    "452 4.5.3 one conversation per message: send to this alias in a separate transaction"
)
# DATA, worded as aiosmtpd words them (the relay reads the body itself: relay.smtp.session).
START_DATA = "354 End data with <CR><LF>.<CR><LF>"
NEED_RCPT = "503 Error: need RCPT command"
DATA_SYNTAX = "501 Syntax: DATA"
BAD_RECIPIENT = "501 5.1.3 the null address is not a recipient"
UNKNOWN_ALIAS = "550 5.1.1 no such conversation alias"
NOT_YOUR_CONVERSATION = (
    "550 5.7.1 your account may write only to the buyer aliases of its own conversations"
)
BAD_BOUNCE_ADDRESS = "550 5.1.1 this bounce address is unknown or has expired"
LOGIN_THROTTLED = "454 4.7.0 too many failed logins; try again later"
AUTH_FAILED = "535 5.7.8 authentication failed: wrong account or password"
CLOSED_ALIAS = "550 5.1.1 this conversation is closed"
RELAY_DENIED = "550 5.7.1 relaying denied: this server only accepts mail for its own aliases"
TOO_BIG = "552 5.3.4 message size exceeds the relay's fixed maximum"
LINE_TOO_LONG = f"552 5.3.4 a line of the message is longer than {MAX_LINE} octets"


# The status of a refusal, by reason code (RFC 3463 enhanced codes); any other reason code is a
# messaging rule or a sender check: policy, 550 5.7.1.
POLICY = "550 5.7.1"
REFUSAL_STATUS = {
    "alias.closed": "550 5.1.1",  # as for an unknown alias: the address no longer takes mail
    "loop": "554 5.4.6",  # routing loop detected
    "mime.malformed": "550 5.6.0",  # other or undefined media error
    "mime.depth": "550 5.6.0",
    "mime.parts": "550 5.6.0",
    "mime.encrypted": "550 5.6.0",
    "mime.headers": "552 5.3.4",  # message too big for system
    "mime.header_count": "552 5.3.4",
    "sender.auth_failed": "550 5.7.26",  # RFC 7372: multiple authentication checks failed
}
TEMPORARY = "451 4.3.0"
TEMPORARY_STATUS = {
    "sender.auth_temperror": "451 4.4.3",  # directory server failure (DNS)
}


def refusal(code: str, reason: str) -> str:
    return f"{REFUSAL_STATUS.get(code, POLICY)} {code}: {reason}"


def temporary(code: str, reason: str) -> str:
    return f"{TEMPORARY_STATUS.get(code, TEMPORARY)} {code}: {reason}"


def queued(queue_id: str) -> str:
    return f"250 2.0.0 queued as {queue_id}"
