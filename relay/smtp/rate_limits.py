"""Message rates per sender and per conversation, counted from the record (so they hold
across restarts and for every process that shares the store).

Only accepted messages count there: a refused one is anybody's (a stranger can name any
sender in MAIL FROM and write to any alias), so counting it would let strangers use up the
real buyer's and seller's hour. Refusals count per client instead: the network they came
from (relay.smtp.networks), or the submission account that sent them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from relay.config import LimitsSettings
from relay.marketplace.conversations import address_key
from relay.smtp.networks import client_network
from relay.store import limits as counts
from relay.store import messages
from relay.store.db import Connection, Store

# Not a client: what the relay's own commands (the CLI, the API) send. The API has limits
# of its own (tokens, the send lock), and a refusal there is nobody's attempt at the port.
LOCAL_PEER = "local"
def _hour_ago() -> str:
    """The start of the rolling hour, in the record's timestamp form."""
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="microseconds")


async def exceeded(store: Store, limits: LimitsSettings, conversation_id: str,
                   sender: str) -> str | None:
    """Why a new message must wait, or None."""
    since = _hour_ago()
    async with store.read() as db:
        per_conversation = await messages.accepted_in_conversation(
            db, conversation_id, since, limits.conversation_per_hour)
        per_sender = await messages.accepted_from_sender(
            db, sender, since, limits.sender_per_hour) if sender else 0
    if per_conversation >= limits.conversation_per_hour:
        return f"{limits.conversation_per_hour} messages an hour in one conversation"
    if per_sender >= limits.sender_per_hour:
        return f"{limits.sender_per_hour} messages an hour from one sender"
    return None


async def reports_exceeded(store: Store, limits: LimitsSettings, message_id: str) -> str | None:
    """Mail to a bounce address, counted per conversation of the message it names (reports
    are recorded as that conversation's system messages without a recipient)."""
    since = _hour_ago()
    async with store.read() as db:
        conversation_id = await messages.conversation_of(db, message_id)
        if conversation_id is None:
            return None  # DATA answers for a message that is not there
        reports = await messages.reports(db, conversation_id, since,
                                         limits.conversation_per_hour)
    if reports >= limits.conversation_per_hour:
        return f"{limits.conversation_per_hour} reports an hour about one conversation"
    return None


def refusal_client(peer: str, login: str) -> str | None:
    """Whom a refused message counts against: the submission account that sent it (it has
    proved who it is, so a stranger on its network cannot use up its count), else the
    client network; None for the relay's own commands."""
    if peer == LOCAL_PEER:
        return None
    return f"account {address_key(login)}" if login else client_network(peer)


async def refusals_exceeded(store: Store, limits: LimitsSettings, client: str) -> str | None:
    """Why the client's next message must wait, or None: it had too many refused messages,
    or too many refused bytes, in the last hour."""
    async with store.read() as db:
        count, size = await counts.refusals(db, client, _hour_ago(),
                                            limits.refused_per_network_per_hour)
    whose = "your account" if client.startswith("account ") else "your network"
    if count >= limits.refused_per_network_per_hour:
        return f"{limits.refused_per_network_per_hour} refused messages an hour from {whose}"
    if size >= limits.refused_bytes_per_network_per_hour:
        return (f"{limits.refused_bytes_per_network_per_hour} bytes of refused mail an hour"
                f" from {whose}")
    return None


async def count_refusal(db: Connection, client: str, at: str, size: int,
                        message_id: str | None) -> None:
    """In the transaction that records the refused message: counted if and only if it is
    on the record."""
    await counts.add_refusal(db, client, at, size, message_id)
