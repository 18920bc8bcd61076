"""Run the labelled corpus (tests/data/policy/) through the relay and print how it did.

Each case is sent over SMTP to a relay on a loopback port (real store, real stages); what
the relay would put on the wire is read back from the record. Printed: recall on contact
details and links (nothing of them left), the false-positive rate on ordinary order messages
(any change at all), the prohibited-content classifier's results, and what the policy stages
cost on a typical 20 KB HTML mail.

    make policy-report            (or: python -m tools.policy_report)
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiosmtplib

from relay import conversations
from relay.config import (
    APISettings,
    Config,
    DeliverySettings,
    DKIMSettings,
    LimitsSettings,
    RulesSettings,
    SMTPSettings,
    StoreSettings,
    SubmissionSettings,
)
from relay.pipeline import Envelope, Parcel, build
from relay.rules.text import TextRules
from relay.server import Relay

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "policy"
HTML_SAMPLE = ROOT / "tests" / "data" / "html" / "outlook_reply.html"
DOMAIN = "relay.test"
MARKETPLACE = "marketplace.example"
ORDER = "112-1234567-1234567"
BUYER = "bob.buyer@buyer-mail.example"
SELLER = "sally@seller-host.example"
POLICY_STAGES = ("check_attachments", "prohibited_content", "redact")


def load(name: str) -> list[dict[str, Any]]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def squash(text: str) -> str:
    """What is left of a text for comparing secrets: letters and digits, lower case."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


@dataclass
class Outcome:
    accepted: bool
    reasons: list[str]
    subject: str = ""
    plain: str = ""
    markup: str = ""

    def everything(self) -> str:
        return "\n".join((self.subject, self.plain, html.unescape(self.markup)))


@dataclass
class Report:
    contacts: int = 0
    leaked: list[str] = field(default_factory=list)
    refused_contacts: list[str] = field(default_factory=list)
    wrong_code: list[str] = field(default_factory=list)
    benign: int = 0
    changed: list[str] = field(default_factory=list)
    content: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    content_errors: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 1 - len(self.leaked) / self.contacts if self.contacts else 0.0

    @property
    def false_positive_rate(self) -> float:
        return len(self.changed) / self.benign if self.benign else 1.0

    @property
    def content_accuracy(self) -> float:
        return 1 - len(self.content_errors) / self.content if self.content else 0.0


def config(workdir: Path) -> Config:
    return Config(
        domain=DOMAIN, shutdown_grace=5.0,
        smtp=SMTPSettings(host="127.0.0.1", port=0),
        store=StoreSettings(path=workdir / "relay.db"),
        delivery=DeliverySettings(mode="maildir", maildir=workdir / "maildir",
                                  bounce_key=workdir / "bounce.key"),
        # No fixed ports: runs beside anything.
        submission=SubmissionSettings(enabled=False), api=APISettings(enabled=False),
        rules=RulesSettings(marketplace_domain=MARKETPLACE),
        dkim=DKIMSettings(key=workdir / "dkim.pem"),
        # Hundreds of messages in one conversation within a minute: not what limits are for.
        limits=LimitsSettings(sender_per_hour=100_000, conversation_per_hour=100_000),
    )


def compose(sender: str, to: str, subject: str, body: str, subtype: str = "plain",
            headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{time.time_ns()}@{sender.rpartition('@')[2]}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, subtype=subtype)
    return msg.as_bytes()


class Harness:
    """A relay on a loopback port, one conversation, and a reader of its record."""

    def __init__(self, workdir: Path) -> None:
        self.relay = Relay(config(workdir))
        self.db_path = workdir / "relay.db"

    async def __aenter__(self) -> Harness:
        await self.relay.start()
        try:
            assert self.relay.store is not None
            self.conv, _ = await conversations.open_conversation(
                self.relay.store, DOMAIN, ORDER, BUYER, [SELLER])
            self.client = aiosmtplib.SMTP(hostname="127.0.0.1", port=self.relay.smtp_port,
                                          start_tls=False, timeout=30)
            await self.client.connect()
            await self.client.ehlo(hostname="corpus.example")
        except BaseException:
            await self.relay.stop()
            raise
        self.db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.db.close()
        await self.client.quit()
        await self.relay.stop()

    async def question_for(self, direction: str) -> str:
        """Has the other party ask something; returns the Message-ID the author received."""
        other = "buyer_to_seller" if direction == "seller_to_buyer" else "seller_to_buyer"
        await self.send(other, lambda sender, alias: compose(
            sender, alias, f"Order {ORDER}", "Has it shipped yet, and when will it arrive?\n"))
        (relay_id,) = self.db.execute(
            "SELECT relay_message_id FROM messages ORDER BY seq DESC LIMIT 1").fetchone()
        return str(relay_id)

    async def send(self, direction: str, data_for: Any) -> Outcome:
        if direction == "seller_to_buyer":
            sender, alias = SELLER, self.conv.buyer_alias
        else:
            sender, alias = BUYER, self.conv.seller_alias
        data = data_for(sender, alias)
        # A refusal is read from the record like any other outcome.
        with contextlib.suppress(aiosmtplib.SMTPResponseException):
            await self.client.sendmail(sender, [alias], data)
        disposition, reasons, delivered = self.db.execute(
            "SELECT disposition, reasons, delivered FROM messages ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        outcome = Outcome(disposition.startswith("delivered"), json.loads(reasons))
        if delivered is None:
            return outcome
        message = BytesParser(policy=policy.SMTP).parsebytes(delivered)
        outcome.subject = str(message.get("Subject", ""))
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                outcome.plain = part.get_content()
            elif part.get_content_type() == "text/html":
                outcome.markup = part.get_content()
        return outcome


def _case_message(case: dict[str, Any]) -> Any:
    where, text = case["where"], case["text"]

    def data(sender: str, alias: str) -> bytes:
        if where == "subject":
            return compose(sender, alias, text, f"About order {ORDER}: see the subject.\n")
        subtype = "html" if where == "html" else "plain"
        return compose(sender, alias, f"Order {ORDER}", text, subtype)

    return data


async def run_corpus(workdir: Path, prefix: str = "") -> Report:
    """The corpus files, or with prefix="holdout_" the held-out set: cases written apart
    from the rules and never used to tune them (no content cases)."""
    report = Report()
    async with Harness(workdir) as harness:
        for i, case in enumerate(load(f"{prefix}contacts.jsonl")):
            direction = "buyer_to_seller" if i % 2 else "seller_to_buyer"
            outcome = await harness.send(direction, _case_message(case))
            report.contacts += 1
            if not outcome.accepted:
                report.refused_contacts.append(f"{case['id']}: {outcome.reasons}")
                continue
            left = squash(outcome.everything())
            if any(squash(secret) in left for secret in case["secret"]):
                report.leaked.append(f"{case['id']}: {case['text']!r}")
            elif case["code"] not in outcome.reasons:
                report.wrong_code.append(f"{case['id']}: {case['code']} -> {outcome.reasons}")
        for i, case in enumerate(load(f"{prefix}benign.jsonl")):
            direction = "buyer_to_seller" if i % 2 else "seller_to_buyer"
            outcome = await harness.send(direction, _case_message(case))
            report.benign += 1
            got = outcome.subject if case["where"] == "subject" else outcome.plain
            got = got.replace("\r\n", "\n")
            # The Subject as the relay got it: the stdlib's own folding may double a space.
            sent = _case_message(case)(BUYER, "x@" + DOMAIN)
            expected = str(BytesParser(policy=policy.SMTP).parsebytes(sent)["Subject"]) \
                if case["where"] == "subject" else case["text"]
            if not outcome.accepted or got.rstrip("\n") != expected.rstrip("\n"):
                report.changed.append(f"{case['id']}: {outcome.reasons} {got!r}")
        for case in load("content.jsonl") if not prefix else []:
            headers = dict(case.get("headers") or {})
            if "In-Reply-To" in headers:  # a reply: to a real message of the conversation
                headers["In-Reply-To"] = await harness.question_for(case["direction"])

            def data(sender: str, alias: str, case: dict[str, Any] = case,
                     headers: dict[str, str] = headers) -> bytes:
                return compose(sender, alias, case["subject"], case["text"], headers=headers)

            outcome = await harness.send(case["direction"], data)
            report.content += 1
            got = next((r for r in outcome.reasons if r.startswith("content.")), None)
            expected = case["expect"]
            report.confusion[(expected or "allowed", got or "allowed")] += 1
            if got != expected or (expected is None and not outcome.accepted):
                report.content_errors.append(f"{case['id']}: expected {expected}, got"
                                             f" {outcome.reasons} ({case['direction']})")
    return report


def typical_html_mail() -> bytes:
    """An Outlook reply carrying a thread of earlier messages, with its text alternative:
    about 20 KB on the wire, the size of an ordinary HTML mail."""
    markup = HTML_SAMPLE.read_text(encoding="utf-8")
    head, _, body = markup.partition("<div class=WordSection1>")
    thread = body.split("</div></body>")[0]
    markup = f"{head}<div class=WordSection1>{thread * 5}</div></body></html>"
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = SELLER
    msg["To"] = "alias@" + DOMAIN
    msg["Subject"] = f"RE: Order {ORDER}"
    msg["Message-ID"] = "<sample@seller-host.example>"
    text = "\n".join(line for line in html.unescape(thread).split("<") if line)[:5000]
    msg.set_content(text)
    msg.add_alternative(markup, subtype="html")
    return msg.as_bytes()


async def measure(workdir: Path, rounds: int = 200) -> dict[str, float]:
    """Messages per second through the policy stages alone, and through every stage."""
    relay = Relay(config(workdir))
    await relay.start()
    try:
        assert relay.store is not None
        conv, _ = await conversations.open_conversation(relay.store, DOMAIN, ORDER, BUYER,
                                                        [SELLER])
        raw = typical_html_mail()
        stages = build(relay.config, relay.store)
        parser = BytesParser(policy=policy.SMTP)
        spent: Counter[str] = Counter()
        started = time.perf_counter()
        for i in range(rounds):
            message = parser.parsebytes(raw)
            assert isinstance(message, EmailMessage)
            envelope = Envelope("127.0.0.1", "bench", SELLER, (conv.buyer_alias,), False)
            parcel = Parcel(id=f"m{i}", received_at="", envelope=envelope, raw=raw,
                            message=message, conversation=conv, addressed="buyer")
            for stage in stages:
                t0 = time.perf_counter()
                await stage(parcel)
                spent[stage.name] += time.perf_counter() - t0
        total = time.perf_counter() - started
    finally:
        await relay.stop()
    policy_time = sum(spent[name] for name in POLICY_STAGES)
    return {"size": len(raw), "policy_per_s": rounds / policy_time,
            "pipeline_per_s": rounds / total,
            **{f"ms.{k}": v / rounds * 1000 for k, v in spent.items()}}


# 100 KB texts built to make patterns backtrack; the slowest shows the worst case per message.
ADVERSARIAL = {
    "digits and dashes": "12-" * 33_000, "digits and dots": "1.2." * 25_000,
    "digits and slashes": "1/" * 50_000, "x dot x dot": "x dot " * 16_000, "a.a.a": "a." * 50_000,
    "at at at": "at " * 33_000, "@@@": "@" * 100_000, "(1) (1)": "(1) " * 25_000,
    "number words": "one two " * 12_500, "Main Street": "12 Main Street " * 6_600,
}


def worst_cases() -> dict[str, float]:
    rules = TextRules(RulesSettings(), DOMAIN)
    times = {}
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        rules.find(text)
        times[name] = (time.perf_counter() - started) * 1000
    return times


def _print(report: Report, title: str) -> None:
    print(f"== {title}")
    print(f"contact details and links: {report.contacts} cases")
    print(f"  recall (nothing left):      {report.recall:.2%}  (target >= 99%)")
    for line in report.leaked:
        print(f"    leaked   {line}")
    for line in report.refused_contacts:
        print(f"    refused  {line}")
    for line in report.wrong_code:
        print(f"    other code {line}")
    print(f"ordinary order messages: {report.benign} cases")
    print(f"  false positives (changed):  {report.false_positive_rate:.2%}  (target <= 1%)")
    for line in report.changed:
        print(f"    changed  {line}")
    if not report.content:
        return
    print(f"prohibited content: {report.content} cases")
    print(f"  accuracy:                   {report.content_accuracy:.2%}")
    for (expected, got), n in sorted(report.confusion.items()):
        print(f"    {expected:24} -> {got:24} {n}")
    for line in report.content_errors:
        print(f"    wrong    {line}")


def _print_speed(speed: dict[str, float]) -> None:
    print(f"== speed\npolicy stages on a {speed['size'] / 1024:.0f} KB HTML mail:"
          f" {speed['policy_per_s']:.0f} msg/s (all stages: {speed['pipeline_per_s']:.0f}"
          " msg/s, one core)")
    for key in sorted(k for k in speed if k.startswith("ms.")):
        print(f"    {key[3:]:20} {speed[key]:.2f} ms")
    print("text rules on 100 KB of adversarial text:")
    for name, ms in worst_cases().items():
        print(f"    {name:20} {ms:7.0f} ms")


async def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        report = await run_corpus(Path(tmp) / "corpus")
        holdout = await run_corpus(Path(tmp) / "holdout", prefix="holdout_")
        blind = await run_corpus(Path(tmp) / "eval2", prefix="eval2_")
        speed = await measure(Path(tmp) / "speed")
    _print(report, "corpus (tests/data/policy/{contacts,benign,content}.jsonl)")
    _print(holdout, "held-out corpus, written apart from the rules (holdout_*.jsonl)")
    _print(blind, "blind evaluation set, never used to change the rules (eval2_*.jsonl)")
    _print_speed(speed)
    ok = all(r.recall >= 0.99 and r.false_positive_rate <= 0.01 for r in (report, holdout))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
