"""The seller's message center (filters, marks) and the response-time metric."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from conftest import BUYER, DOMAIN, SELLER, compose, open_conv, run_cli, send, store_section

from relay.marketplace import buyers, message_center, response_time
from relay.marketplace.message_center import Filters
from relay.store import records

pytestmark = pytest.mark.backends  # the relays on SQLite, then on PostgreSQL

BIZ = "purchasing@company.example"
OTHER_SELLER = "hello@other-shop.example"


async def sent(relay, sender: str, alias: str, **headers) -> str:
    code, reply = await send(relay.smtp_port, sender, alias,
                             compose(sender, alias, body="About the lamp base, size 2.",
                                     **headers))
    assert code == 250, reply
    return reply.rsplit(" ", 1)[1]


async def ids(relay, **filters) -> set[str]:
    return {row["id"] for row in await message_center.query(relay.store, Filters(**filters))}


async def test_the_message_center_filters(relay, conv, capture):
    conv2 = await open_conv(relay, buyer=BIZ, sellers=(SELLER,), order="112-0000000-0000002")
    conv3 = await open_conv(relay, sellers=(OTHER_SELLER,), order="112-0000000-0000003")
    await buyers.record(relay.store, BIZ, DOMAIN, "business", "on")
    m1 = await sent(relay, BUYER, conv.seller_alias)
    m2 = await sent(relay, SELLER, conv.buyer_alias)
    m3 = await sent(relay, BUYER, conv.seller_alias)
    m4 = await sent(relay, BIZ, conv2.seller_alias)
    m5 = await sent(relay, SELLER, conv2.buyer_alias, Auto_Submitted="auto-replied")
    m6 = await sent(relay, BUYER, conv3.seller_alias)
    await message_center.mark(relay.store, m3, "read")
    # The auto-reply is relayed, marked as automatic in the record.
    auto = next(r for r in await records.summaries(relay.store, conv2.id) if r["id"] == m5)
    assert (auto["disposition"], auto["reasons"]) == ("delivered", ["auto_reply"])

    assert await ids(relay, seller=SELLER) == {m1, m2, m3, m4, m5}
    assert await ids(relay, seller=OTHER_SELLER) == {m6}
    assert await ids(relay, seller=SELLER, sent=True) == {m2, m5}
    assert await ids(relay, seller=SELLER, received=True) == {m1, m3, m4}
    # m1 was answered; m4's only answer is an auto-reply.
    assert await ids(relay, seller=SELLER, needs_response=True) == {m3, m4}
    assert await ids(relay, seller=SELLER, unread=True) == {m1, m2, m4, m5}
    assert await ids(relay, seller=SELLER, business_buyers=True) == {m4, m5}
    today = datetime.now(UTC).date()
    assert await ids(relay, seller=SELLER, since=(today + timedelta(days=1)).isoformat()) == set()
    assert await ids(relay, seller=SELLER, until=today.isoformat()) == set()
    await message_center.mark(relay.store, m4, "no_response_needed")
    assert await ids(relay, seller=SELLER, needs_response=True) == {m3}

    cfg = relay.config.store.path.parent / "cli.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n' + store_section(relay.config.store))
    listed = await asyncio.to_thread(run_cli, "--config", str(cfg), "messages", "list",
                                     "--seller", SELLER, "--received", "--unread",
                                     "--since", today.isoformat(), "--until", today.isoformat(),
                                     "--json")
    assert listed.returncode == 0, listed.stderr
    assert {row["id"] for row in json.loads(listed.stdout)} == {m1, m4}
    marked = await asyncio.to_thread(run_cli, "--config", str(cfg), "messages", "mark", m1,
                                     "read")
    assert marked.returncode == 0 and await ids(relay, seller=SELLER, unread=True) == {m2, m4, m5}
    bad = await asyncio.to_thread(run_cli, "--config", str(cfg), "messages", "mark", "nope",
                                  "read")
    assert bad.returncode == 2 and "no message 'nope'" in bad.stderr


NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def append(relay, conv, msg_id: str, when: datetime, direction: str,
                 auto: bool = False) -> None:
    head = "Auto-Submitted: auto-replied\r\n" if auto else ""
    raw = f"{head}Subject: order\r\n\r\nhello\r\n".encode()
    record = records.Record(
        id=msg_id, conversation_id=conv.id, received_at=when.isoformat(timespec="microseconds"),
        direction=direction, disposition="delivered", reasons=(), peer="127.0.0.1",
        helo="test", mail_from=SELLER if direction == "seller_to_buyer" else BUYER,
        rcpt_to=("x@" + DOMAIN,), recipient=BUYER, original_message_id=None,
        relay_message_id=f"<{msg_id}@{DOMAIN}>", raw=raw, delivered=raw)
    async with relay.store.write() as db:
        await records.append(db, record)


@pytest.fixture
async def scenario(relay, conv):
    """Hand-made history of one conversation, in time order, as of NOW."""
    b = "buyer_to_seller"
    s = "seller_to_buyer"
    for msg_id, when, direction, auto in [
        ("b6", NOW - timedelta(days=40), b, False),
        ("r6", NOW - timedelta(days=40) + timedelta(hours=10), s, False),  # 10 h
        ("b1", NOW - timedelta(days=10), b, False),
        ("s1", NOW - timedelta(days=10) + timedelta(hours=2), s, False),  # 2 h
        ("b2", NOW - timedelta(days=5), b, False),
        ("s2", NOW - timedelta(days=5) + timedelta(hours=1), s, True),  # auto-reply: no answer
        ("s3", NOW - timedelta(days=5) + timedelta(hours=30), s, False),  # 30 h: late
        ("b4", NOW - timedelta(days=3), b, False),  # never answered: late
        ("b5", NOW - timedelta(days=1), b, False),  # marked no response needed
        ("b3", NOW - timedelta(hours=2), b, False),  # not answered yet, not late yet
    ]:
        await append(relay, conv, msg_id, when, direction, auto)
    await message_center.mark(relay.store, "b5", "no_response_needed")
    return relay


async def test_response_time_on_a_hand_computed_scenario(scenario):
    week, month, quarter = await response_time.response_time(scenario.store, SELLER, NOW)
    assert (week.received, week.answered_within_24h, week.late, week.unanswered) == (3, 0, 2, 2)
    assert week.late_rate == pytest.approx(2 / 3)
    assert (week.average_hours, week.median_hours) == (pytest.approx(30), pytest.approx(30))
    assert (month.received, month.answered_within_24h, month.late, month.unanswered) == (
        4, 1, 2, 2)
    assert (month.average_hours, month.median_hours) == (pytest.approx(16), pytest.approx(16))
    assert (quarter.received, quarter.answered_within_24h, quarter.late) == (5, 2, 2)
    assert (quarter.average_hours, quarter.median_hours) == (pytest.approx(14),
                                                             pytest.approx(10))
    # A day later the message from two hours ago is late too.
    later = await response_time.response_time(scenario.store, SELLER, NOW + timedelta(days=1))
    assert later[0].late == 3


async def test_response_time_from_the_cli(scenario):
    cfg = scenario.config.store.path.parent / "cli.toml"
    cfg.write_text(f'domain = "{DOMAIN}"\n' + store_section(scenario.config.store))
    args = ["--config", str(cfg), "metrics", "response-time", "--seller", SELLER,
            "--now", NOW.isoformat()]
    shown = await asyncio.to_thread(run_cli, *args, "--json")
    assert shown.returncode == 0, shown.stderr
    week = json.loads(shown.stdout)["windows"][0]
    assert (week["days"], week["received"], week["late"]) == (7, 3, 2)
    text = await asyncio.to_thread(run_cli, *args)
    assert "     7 d         3        0     2           2        67%    30.0 h" in text.stdout


@pytest.fixture
async def long_history(relay, conv):
    """Hundreds of messages, most in one conversation, the rest in two others of the same
    seller interleaved with it: random but fixed (seeded), in time order, some after NOW."""
    others = [await open_conv(relay, buyer=BIZ, sellers=(SELLER,), order=order)
              for order in ("112-0000000-0000002", "112-0000000-0000004")]
    rng = random.Random(2026)
    history = []
    for i in range(320):
        where = conv if rng.random() < 0.8 else rng.choice(others)
        when = NOW - timedelta(minutes=rng.randrange(100 * 24 * 60 + 3000) - 3000)
        buyer = rng.random() < 0.55
        direction = "buyer_to_seller" if buyer else "seller_to_buyer"
        auto = not buyer and rng.random() < 0.15
        excused = buyer and rng.random() < 0.1
        history.append((when, f"m{i:03d}", where, direction, auto, excused))
    for when, msg_id, where, direction, auto, excused in sorted(history):
        await append(relay, where, msg_id, when, direction, auto)
        if excused:
            await message_center.mark(relay.store, msg_id, "no_response_needed")
    return relay


async def test_response_time_on_a_long_history(long_history):
    """The figures the metric gave when it scanned every reply for every message (pinned
    before it became one pass): as of NOW, and as of 45 days earlier, when the later
    replies are not there yet."""
    pinned = {
        NOW: [(7, 8, 3, 5, 3, 0.625, 33.453333, 17.716667),
              (30, 48, 27, 21, 4, 0.4375, 25.708712, 15.716667),
              (90, 133, 70, 63, 4, 0.473684, 41.476486, 21.5)],
        NOW - timedelta(days=45): [(7, 7, 4, 3, 0, 0.428571, 39.516667, 7.766667),
                                   (30, 49, 23, 26, 0, 0.530612, 49.689456, 28.116667),
                                   (90, 94, 53, 41, 0, 0.436170, 45.891312, 21.0)],
    }
    for now, expected in pinned.items():
        windows = await response_time.response_time(long_history.store, SELLER, now)
        assert [(w.days, w.received, w.answered_within_24h, w.late, w.unanswered,
                 round(w.late_rate, 6), round(w.average_hours, 6), round(w.median_hours, 6))
                for w in windows] == expected, now


async def test_awaiting_and_the_pages_agree_with_the_needs_response_filter(long_history, conv):
    """The seller's tally (awaiting(), counts(), and the needs_response filter of a seller:
    worked out whole once, then kept up to date from new rows) finds what the filter finds
    answer by answer, auto-replies, marks and a conversation joined later included; page()
    without it (a batch of conversations at a time) too."""
    store = long_history.store

    async def agree() -> set[str]:
        # The filter message by message (per conversation, not through the seller's tally).
        convs = {row["conversation_id"] for row in await message_center.query(
            store, Filters(seller=SELLER))}
        expected = set()
        for conv_id in convs:
            expected |= await ids(long_history, conversation=conv_id, needs_response=True)
        assert await message_center.awaiting(store, SELLER) == expected
        assert await ids(long_history, seller=SELLER, needs_response=True) == expected
        counts = await message_center.counts(store, SELLER)
        assert counts.needs_response == len(expected)
        assert counts.unread == len(await ids(long_history, seller=SELLER, received=True,
                                              unread=True))
        return expected

    await agree()  # worked out whole; what follows is kept up to date from the new rows
    rng = random.Random(18)
    for i in range(60):  # after the history: buyers asking, some answers, auto-replies
        buyer = rng.random() < 0.7
        await append(long_history, conv, f"n{i:02d}", NOW + timedelta(hours=1, minutes=i),
                     "buyer_to_seller" if buyer else "seller_to_buyer",
                     auto=not buyer and rng.random() < 0.5)
        if i % 7 == 0:
            await agree()
        if buyer and rng.random() < 0.3:
            await message_center.mark(store, f"n{i:02d}", rng.choice(
                ["read", "no_response_needed"]))
    # A conversation the seller is added to later brings its history along.
    later = await open_conv(long_history, buyer=BIZ, sellers=(OTHER_SELLER,),
                            order="112-0000000-0000009")
    await append(long_history, later, "late1", NOW + timedelta(hours=3), "buyer_to_seller")
    await agree()
    await open_conv(long_history, buyer=BIZ, sellers=(OTHER_SELLER, SELLER),
                    order="112-0000000-0000009")
    assert "late1" in await agree()
    expected = await agree()
    assert len(expected) >= 3, expected  # the newest questions are not answered yet
    for f in (Filters(seller=SELLER, needs_response=True),  # the seller's tally
              Filters(conversation=conv.id, needs_response=True)):  # each answer looked up
        paged, before = [], None
        while True:
            rows, before = await message_center.page(store, f, 7, before)
            paged += [row["id"] for row in rows]
            if before is None:
                break
        assert len(paged) == len(set(paged)), f
        assert set(paged) == (expected if f.seller else await ids(
            long_history, conversation=conv.id, needs_response=True)), f
    counts = await message_center.counts(store, SELLER)
    assert counts.needs_response == len(expected)
    assert counts.unread == len(await ids(long_history, seller=SELLER, received=True,
                                          unread=True))
    assert await message_center.awaiting(store, OTHER_SELLER) == {"late1"}


async def test_an_auto_reply_newest_is_no_answer(scenario, conv):
    """The newest seller message of a conversation is an auto-reply: the buyer messages
    before it still need a response (the bulk look-up falls back to the slow one)."""
    expected = await ids(scenario, conversation=conv.id, needs_response=True)
    assert expected == {"b3", "b4"} == await message_center.awaiting(scenario.store, SELLER)
    await append(scenario, conv, "s9", NOW - timedelta(hours=1), "seller_to_buyer", auto=True)
    assert await message_center.awaiting(scenario.store, SELLER) == expected == await ids(
        scenario, conversation=conv.id, needs_response=True)
    await append(scenario, conv, "s10", NOW - timedelta(minutes=30), "seller_to_buyer")
    assert await message_center.awaiting(scenario.store, SELLER) == set()


async def test_the_order_filter_takes_a_prefix(scenario):
    everything = await ids(scenario, seller=SELLER)
    assert await ids(scenario, seller=SELLER, order="112-1234567-1234567") == everything
    assert await ids(scenario, seller=SELLER, order="112-12345") == everything
    assert await ids(scenario, seller=SELLER, order="112-9") == set()
    assert await ids(scenario, seller=SELLER, order="%") == set()  # LIKE's wildcards: literal
    assert await ids(scenario, seller=SELLER, order="_12") == set()


async def test_the_response_time_report_counts_late_answers_per_day(scenario):
    """The web page's chart: each buyer message on the day it came, late when its answer
    came (or has not come) after 24 hours; the windows as response_time() gives them."""
    windows, days = await response_time.report(scenario.store, SELLER, NOW, 30)
    assert windows == await response_time.response_time(scenario.store, SELLER, NOW)
    assert len(days) == 30 and days[-1].day == NOW.date()
    by_day = {d.day: (d.received, d.late) for d in days}
    ago = {n: (NOW - timedelta(days=n)).date() for n in (1, 3, 5, 10, 40)}
    assert by_day[ago[10]] == (1, 0)  # answered in 2 h
    assert by_day[ago[5]] == (1, 1)  # an auto-reply after 1 h, the answer after 30 h
    assert by_day[ago[3]] == (1, 1)  # never answered
    assert by_day[ago[1]] == (0, 0)  # marked no response needed: not counted
    assert by_day[NOW.date()] == (1, 0)  # two hours old: not late yet
    assert ago[40] not in by_day
    assert sum(d.received for d in days) == windows[1].received
    assert sum(d.late for d in days) == windows[1].late


async def test_a_reply_slipped_in_past_the_relay_is_not_read(relay, conv):
    """A seller reply inserted without its chain entry (past the relay): not listed, not an
    answer to the buyer's question, by the filters nor by the seller's tally."""
    question = await sent(relay, BUYER, conv.seller_alias)
    async with relay.store.write() as db:
        await db.execute(
            "INSERT INTO messages (id, conversation_id, received_at, direction, disposition,"
            " reasons, peer, helo, mail_from, rcpt_to, raw, prev_hash, hash)"
            " SELECT 'fabricatedreply1', conversation_id, received_at || 'Z',"
            " 'seller_to_buyer', 'delivered', '[]', peer, helo, ?, rcpt_to, raw, hash, hash"
            " FROM messages WHERE id = ?", (SELLER, question))
    assert await ids(relay, seller=SELLER) == {question}
    assert await ids(relay, seller=SELLER, needs_response=True) == {question}
    assert await ids(relay, conversation=conv.id, needs_response=True) == {question}
    assert await message_center.awaiting(relay.store, SELLER) == {question}


async def test_the_sellers_tally_is_kept_between_reads(relay, conv):
    """Worked out once per store (PostgreSQL's reads each have a pooled connection of their
    own: a tally kept per connection was worked out whole on every page), then kept up to
    date: a question asked since is in it."""
    first = await sent(relay, BUYER, conv.seller_alias)
    assert await message_center.awaiting(relay.store, SELLER) == {first}
    tallies = message_center._TALLIES[relay.store]
    tally = next(iter(tallies.values()))
    second = await sent(relay, BUYER, conv.seller_alias)
    assert (await message_center.counts(relay.store, SELLER)).needs_response == 2
    assert list(message_center._TALLIES[relay.store].values()) == [tally]
    assert set(tally.where) == {first, second}
