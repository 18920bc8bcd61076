"""Messages with attachments, and what became of them: the delivered files, the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import samples
from conftest import Capture, Received, RelayFactory, make_config, open_conv

from relay.config import RulesSettings
from relay.marketplace.conversations import Conversation
from relay.server import Relay
from relay.store import records

BODY = "Hello, the file for my order is attached. Could you have a look?\n"


def message(sender: str, to: str, files: list[tuple[str, bytes, str]],
            body: str = BODY) -> bytes:
    return samples.mime_with_attachments(sender, to, "Files for my order", body, files)


def attachments(received: Received) -> list[tuple[str | None, Any]]:
    """(filename, decoded bytes) of every attachment in the delivered message."""
    return [(part.get_filename(), part.get_payload(decode=True))
            for part in received.message.iter_attachments()]


async def last_record(relay: Relay, conv: Conversation) -> dict[str, Any]:
    assert relay.store is not None
    rows = await records.summaries(relay.store, conv.id)
    assert rows, "nothing was recorded"
    return rows[-1]


async def assert_refused(relay: Relay, conv: Conversation, capture: Capture,
                         reply: tuple[int, str], code: str, filename: str) -> str:
    """The 550 names the reason code and the file; the store has it rejected; no delivery."""
    got_code, text = reply
    prefix = f'5.7.1 {code}: "{filename}" '
    assert got_code == 550, (got_code, text)
    assert text.startswith(prefix), text
    assert len(text) > len(prefix) + 3, f"no explanation after the file name: {text!r}"
    row = await last_record(relay, conv)
    assert (row["disposition"], row["reasons"]) == ("rejected", [code])
    await assert_not_delivered(relay, capture, row)
    return text


async def assert_not_delivered(relay: Relay, capture: Capture, row: dict[str, Any]) -> None:
    """Never queued (no delivery event, no outbox row), and the inbox stays empty."""
    assert row["delivery"] is None
    assert relay.store is not None
    async with relay.store.read() as db:
        queued = await db.execute_fetchall("SELECT count(*) FROM outbox WHERE message_id = ?",
                                           (row["id"],))
    assert queued[0][0] == 0
    assert capture.messages == []


async def start_with_rules(relay_factory: RelayFactory, capture: Capture, tmp_path: Path,
                           **rules: Any) -> tuple[Relay, Conversation]:
    """A relay whose [rules] differ from the defaults, and a conversation on it."""
    config = make_config(tmp_path, capture.port).replace(rules=RulesSettings(**rules))
    relay = await relay_factory(config)
    return relay, await open_conv(relay)
