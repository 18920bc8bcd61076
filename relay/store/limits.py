"""Failed submission logins and refused messages, counted per client (a network, or an
account) in a sliding window. Work tables, not the record: neither is chained."""

from __future__ import annotations

from relay.store.db import Connection
from relay.store.quick import QUICK_ROWS, Quick


async def login_failures(db: Connection, network: str, account: str,
                         since: str) -> tuple[int, int]:
    """The network's failures since `since`, and how many of them were for `account`."""
    # Rows of the network in the window: bounded by the per-network limit (past it no
    # failure is counted), whatever the history.
    (from_network, for_account), = await db.execute_fetchall(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN account = ? THEN 1 ELSE 0 END), 0)"
        " FROM login_failures"
        " WHERE network = ? AND at >= ?", (account, network, since))
    return int(from_network), int(for_account)


async def add_login_failure(db: Connection, at: str, network: str, account: str) -> None:
    await db.execute("INSERT INTO login_failures (at, network, account) VALUES (?, ?, ?)",
                     (at, network, account))


async def network_login_failures(db: Connection, network: str, since: str) -> int:
    (count,), = await db.execute_fetchall(
        "SELECT COUNT(*) FROM login_failures WHERE network = ? AND at >= ?", (network, since))
    return int(count)


async def refusals(db: Connection, client: str, since: str, limit: int) -> tuple[int, int]:
    """The client's refused messages since `since` and their bytes, counted up to `limit`
    messages only (past it the answer is the same; below it the byte sum is complete)."""
    sql = ("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM (SELECT bytes FROM refusals"
           " WHERE client = ? AND at >= ? LIMIT ?) AS counted")
    (count, size), = await db.execute_fetchall(Quick(sql) if limit <= QUICK_ROWS else sql,
                                               (client, since, limit))
    return int(count), int(size)


async def add_refusal(db: Connection, client: str, at: str, size: int,
                      message_id: str | None) -> None:
    await db.execute(Quick("INSERT INTO refusals (at, client, bytes, message_id)"
                           " VALUES (?, ?, ?, ?)"),
                     (at, client, size, message_id))
