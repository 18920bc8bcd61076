"""What a message of many header fields costs the event loop: 1k ... 20k distinct fields.

For each count, a message of that many fields (X-A0: b ... the shape of the report, plus the
usual From/To/Subject...) goes through what runs on the event loop for a message under
256 KiB: the prescan, the parse and every stage (relay.pipeline.intake.Intake.process), with the
header-count limit (smtp.max_header_count) raised past the count. A temporary store and
DKIM key; no network. Prints milliseconds per message (median of --runs) and per 1,000
fields: a linear cost keeps the second column flat. Asserts nothing.

    python -m tools.header_bench [--counts 1000,2000,5000,10000,20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from relay.config import Config, DeliverySettings, DKIMSettings, SMTPSettings, StoreSettings
from relay.delivery.dkim_sign import generate
from relay.marketplace import conversations
from relay.pipeline.intake import Intake
from relay.pipeline.parcel import Envelope
from relay.store.startup import open_store

BUYER = "bob.buyer@buyer-mail.example"
SELLER = "sally@seller-host.example"


def message(fields: int, alias: str) -> bytes:
    head = [f"From: {BUYER}", f"To: {alias}", "Subject: Where is my parcel?",
            "Date: Thu, 26 Nov 2026 10:00:00 +0100", "Message-ID: <m@buyer-mail.example>",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    extra = [f"X-A{i}: b" for i in range(max(0, fields - len(head)))]
    return ("\r\n".join(head + extra) + "\r\n\r\nHello, when will it ship?\r\n").encode()


async def measure(counts: list[int], runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate(work / "dkim.pem")
        config = Config(
            domain="relay.test",
            smtp=SMTPSettings(max_header_count=max(counts) + 1, max_header_size=10_000_000,
                              max_message_size=50_000_000),
            store=StoreSettings(path=work / "relay.db"),
            dkim=DKIMSettings(key=work / "dkim.pem"),
            delivery=DeliverySettings(maildir=work / "maildir", bounce_key=work / "bounce.key"),
        )
        store = await open_store(config.store)
        try:
            conv, _ = await conversations.open_conversation(
                store, config.domain, "112-1234567-1234567", BUYER, [SELLER])
            intake = Intake.for_config(config, store, on_queued=lambda: None)
            envelope = Envelope(peer="127.0.0.1", helo="client.example", mail_from=BUYER,
                                rcpt_to=(conv.seller_alias,), smtputf8=False)
            print(f"{'fields':>8} {'KiB':>7} {'ms/message':>11} {'ms/1k fields':>13}  reply")
            for count in counts:
                raw = message(count, conv.seller_alias)
                seconds = []
                reply = ""
                for _ in range(runs):
                    start = time.perf_counter()
                    outcome = await intake.process(envelope, raw)
                    seconds.append(time.perf_counter() - start)
                    reply = outcome.reply[:9]
                ms = statistics.median(seconds) * 1000
                print(f"{count:>8,} {len(raw) / 1024:>7.0f} {ms:>11.1f} {ms / count * 1000:>13.2f}"
                      f"  {reply}")
        finally:
            await store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,2000,5000,10000,20000",
                        help="field counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="runs per count (the median)")
    args = parser.parse_args(argv)
    asyncio.run(measure([int(c) for c in args.counts.split(",")], args.runs))


if __name__ == "__main__":
    main()
