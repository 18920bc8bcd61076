"""The append-only message record and its per-conversation hash chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from dataclasses import fields as dataclass_fields
from typing import Any

import aiosqlite

from relay.store import chain, dialect
from relay.store.db import Store
from relay.store.quick import QUICK_BYTES, Quick

_SMALL_RECORD = Quick("SELECT * FROM messages WHERE id = ?"
                      " AND length(raw) + COALESCE(length(delivered), 0) <= ?")

GENESIS = "0" * 64

DIRECTIONS = ("buyer_to_seller", "seller_to_buyer", "system")
DISPOSITIONS = ("delivered", "delivered_redacted", "rejected", "deferred")


@dataclass(frozen=True)
class Record:
    id: str
    conversation_id: str
    received_at: str
    direction: str
    disposition: str
    reasons: tuple[str, ...]
    peer: str
    helo: str
    mail_from: str
    rcpt_to: tuple[str, ...]
    recipient: str | None
    original_message_id: str | None
    relay_message_id: str | None
    raw: bytes  # what is kept: every byte, or the start of a refused message (see trimmed)
    delivered: bytes | None
    # The whole message as received: its size and SHA-256. append() fills them in; None
    # only in records made before they were kept (their raw is whole).
    size: int | None = None
    sha256: str | None = None

    @property
    def truncated(self) -> bool:
        """Whether raw is only the start of the message (a refused one, trimmed)."""
        return self.size is not None and self.size > len(self.raw)


_FIELDS = dataclass_fields(Record)


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


# An empty line of a message as received: lines end at a LF, with any CRs before it, as the
# pipeline reads them (relay.message.line_ends).
_BLANK_LINE = re.compile(rb"(?:\A|\n)\r*\n")


def header_end(raw: bytes) -> int:
    """Where the body starts: after the first empty line; len(raw) if none."""
    found = _BLANK_LINE.search(raw)
    return found.end() if found else len(raw)


def trimmed(record: Record, body_keep: int, header_cap: int) -> Record:
    """A refused message as recorded: its header section (at most header_cap bytes) and the
    first body_keep bytes of its body, with the size and digest of the whole. Refused mail
    is kept for evidence, and the record is never deleted: whoever knows one alias could
    otherwise fill the disk with 25 MB refusals."""
    whole = record.raw
    cut = min(header_end(whole), header_cap) + body_keep
    if cut >= len(whole):
        return record
    return replace(record, raw=whole[:cut], size=len(whole), sha256=_digest(whole))


def record_hash(record: Record, prev_hash: str) -> str:
    """SHA-256 over every field (bodies by their own digest) and the previous hash. size
    and sha256 count when set (every record since they are kept; a trimmed record's digest
    of the whole message is in its hash)."""
    # Its fields as they are (asdict() would copy each value, and every value here is a str,
    # an int, None, bytes or a tuple of str replaced below).
    fields: dict[str, Any] = {f.name: getattr(record, f.name) for f in _FIELDS}
    for name in ("size", "sha256"):
        if fields[name] is None:  # older records: hashed as they were
            del fields[name]
    fields["raw"] = _digest(record.raw)
    fields["delivered"] = _digest(record.delivered)
    fields["reasons"] = list(record.reasons)
    fields["rcpt_to"] = list(record.rcpt_to)
    fields["prev_hash"] = prev_hash
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


async def append(db: aiosqlite.Connection, record: Record) -> str:
    """Insert `record` at the end of its conversation's chain; call inside store.write()."""
    if record.size is None:
        record = replace(record, size=len(record.raw), sha256=_digest(record.raw))
    await dialect.lock_chain(db)  # the last hash stays the last until this commits
    rows = await db.execute_fetchall(
        Quick("SELECT hash FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1"),
        (record.conversation_id,),
    )
    prev = rows[0][0] if rows else GENESIS
    digest = record_hash(record, prev)
    await chain.insert(db, "messages", {
        "id": record.id, "conversation_id": record.conversation_id,
        "received_at": record.received_at, "direction": record.direction,
        "disposition": record.disposition, "reasons": json.dumps(list(record.reasons)),
        "peer": record.peer, "helo": record.helo, "mail_from": record.mail_from,
        "rcpt_to": json.dumps(list(record.rcpt_to)), "recipient": record.recipient,
        "original_message_id": record.original_message_id,
        "relay_message_id": record.relay_message_id, "raw": record.raw,
        "delivered": record.delivered, "prev_hash": prev, "hash": digest,
        "size": record.size, "sha256": record.sha256,
    })
    return digest


async def add_authentication_results(db: aiosqlite.Connection, message_id: str,
                                     value: str) -> None:
    """The Authentication-Results the relay found for a recorded message (in its
    transaction)."""
    await chain.insert(db, "authentication_results", {"message_id": message_id, "value": value})


def from_row(row: aiosqlite.Row) -> Record:
    return Record(
        id=row["id"], conversation_id=row["conversation_id"], received_at=row["received_at"],
        direction=row["direction"], disposition=row["disposition"],
        reasons=tuple(json.loads(row["reasons"])), peer=row["peer"], helo=row["helo"],
        mail_from=row["mail_from"], rcpt_to=tuple(json.loads(row["rcpt_to"])),
        recipient=row["recipient"], original_message_id=row["original_message_id"],
        relay_message_id=row["relay_message_id"], raw=bytes(row["raw"]),
        delivered=None if row["delivered"] is None else bytes(row["delivered"]),
        size=row["size"], sha256=row["sha256"],
    )


async def get(store: Store, message_id: str, chained: bool = False) -> Record | None:
    """The record; chained=True: only as the chain holds it (None if it was added or
    changed past the relay), for what is about to be sent."""
    async with store.read() as db:
        # A record of a small message is read in place (relay.store.quick); SQLite reads a
        # blob's length from the row's header, without its bytes.
        rows = await db.execute_fetchall(_SMALL_RECORD, (message_id, QUICK_BYTES))
        if not rows:
            rows = await db.execute_fetchall("SELECT * FROM messages WHERE id = ?", (message_id,))
        if chained:
            rows = await chain.chained(db, "messages", rows)
    return from_row(rows[0]) if rows else None


@dataclass(frozen=True)
class Broken:
    seq: int
    message_id: str
    conversation_id: str
    problem: str


async def _chain_rows(store: Store) -> AsyncIterator[aiosqlite.Row]:
    last = 0
    while True:  # in pages, so a big store is never held in memory at once
        async with store.read() as db:
            rows = await db.execute_fetchall(
                "SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT 200", (last,)
            )
        if not rows:
            return
        for row in rows:
            yield row
        last = rows[-1]["seq"]


@dataclass(frozen=True)
class Audit:
    count: int
    broken: list[Broken]
    # "<last seq>:<digest over every chain's last hash>". A chain cannot show that its
    # newest records were cut off; an anchor written down elsewhere earlier can.
    anchor: str
    anchor_at: str | None = None  # the anchor recomputed as of an earlier seq, if asked


def _anchor(seq: int, heads: dict[str, str]) -> str:
    lines = "".join(f"{conv}:{head}\n" for conv, head in sorted(heads.items()))
    return f"{seq}:{hashlib.sha256(lines.encode()).hexdigest()}"


async def verify(store: Store, at_seq: int | None = None) -> Audit:
    """Recompute every chain; broken records are listed in store order."""
    heads: dict[str, str] = {}
    anchor_at = _anchor(0, heads) if at_seq == 0 else None
    last_seq = 0
    broken: list[Broken] = []
    count = 0
    async for row in _chain_rows(store):
        count += 1
        conv = row["conversation_id"]
        expected_prev = heads.get(conv, GENESIS)
        problem = None
        if row["prev_hash"] != expected_prev:
            problem = (
                "previous-hash link does not match the record before it"
                " (a record was removed or altered)"
            )
        elif record_hash(from_row(row), row["prev_hash"]) != row["hash"]:
            problem = "content does not match its hash (record altered)"
        if problem:
            broken.append(Broken(row["seq"], row["id"], conv, problem))
        heads[conv] = row["hash"]
        last_seq = row["seq"]
        if last_seq == at_seq:
            anchor_at = _anchor(last_seq, heads)
    return Audit(count, broken, _anchor(last_seq, heads), anchor_at)


async def verify_conversation(store: Store, conversation_id: str) -> list[Broken]:
    """One conversation's records checked as `verify` and `relay audit verify` check them:
    the hash chain recomputed, and each record against its entry in the keyed chain."""
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT * FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,))
        in_chain = {row["id"] for row in await chain.chained(db, "messages", rows)}
    broken: list[Broken] = []
    prev = GENESIS
    for row in rows:
        problem = None
        if row["prev_hash"] != prev:
            problem = ("previous-hash link does not match the record before it"
                       " (a record was removed or altered)")
        elif record_hash(from_row(row), row["prev_hash"]) != row["hash"]:
            problem = "content does not match its hash (record altered)"
        elif row["id"] not in in_chain:
            problem = "not in the keyed chain as it is (added or changed past the relay)"
        if problem:
            broken.append(Broken(row["seq"], row["id"], conversation_id, problem))
        prev = row["hash"]
    return broken


async def summaries(store: Store, conversation_id: str | None = None) -> list[dict[str, object]]:
    """The record without its bodies, with each message's latest delivery event."""
    where, params = ("", ())
    if conversation_id:
        where, params = ("WHERE m.conversation_id = ?", (conversation_id,))
    async with store.read() as db:
        rows = await db.execute_fetchall(
            "SELECT m.seq, m.id, m.conversation_id, m.received_at, m.direction, m.disposition,"
            " m.reasons, m.relay_message_id, COALESCE(m.size, length(m.raw)) AS size,"
            " length(m.raw) AS kept,"
            " (SELECT kind FROM message_events e WHERE e.message_id = m.id"
            "  ORDER BY e.seq DESC LIMIT 1) AS delivery"
            f" FROM messages m {where} ORDER BY m.seq",
            params,
        )
    return [
        {
            "id": r["id"], "conversation_id": r["conversation_id"],
            "received_at": r["received_at"], "direction": r["direction"],
            "disposition": r["disposition"], "reasons": json.loads(r["reasons"]),
            "relay_message_id": r["relay_message_id"], "size": r["size"],
            "truncated": r["kept"] < r["size"], "delivery": r["delivery"],
        }
        for r in rows
    ]
