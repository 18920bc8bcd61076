"""Every SMTP reply the relay composes itself, in one table (dispositions raised by stages
carry their own: Reject and TempFail)."""

from __future__ import annotations

MAX_LINE = 64 * 1024

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


def queued(queue_id: str) -> str:
    return f"250 2.0.0 queued as {queue_id}"
