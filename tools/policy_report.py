"""Run the labelled corpus (tests/data/policy/) through the relay and print how it did.

Each case is sent over SMTP to a relay on a loopback port (real store, real stages); what
the relay would put on the wire is read back from the record, attachments included (their
text and metadata: tools/corpus_files.py). Printed: recall on contact details and links
(nothing of them left), the changed rate on ordinary order messages (any change at all), both
per category and per language and for every set side by side (the in-sample sets in
tests/data/policy/, and blind sets given on the command line), the prohibited-content
classifier's results, and what the policy stages cost.

    make policy-report                     (or: python -m tools.policy_report)
    python -m tools.policy_report --blind DIR [--blind DIR2]   (DIR holds contacts.jsonl and
                                           benign.jsonl, or sub-directories that do)
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import sqlite3
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiosmtplib

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
from relay.marketplace import conversations
from relay.pipeline.order import build
from relay.pipeline.parcel import Envelope, Parcel
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
    texts: list[str] = field(default_factory=list)  # every text part, forwarded ones too
    files: dict[str, bytes] = field(default_factory=dict)  # attachments by file name
    forwarded: str = ""  # the text of a forwarded message's body

    def everything(self) -> str:
        """What the reader gets, as one text: headers shown, text, HTML, file names,
        attachments' text and metadata."""
        from tools.corpus_files import read_back
        return "\n".join((self.subject, self.plain, html.unescape(self.markup), *self.texts,
                          *(html.unescape(t) for t in self.texts), *self.files,
                          *(read_back(data) for data in self.files.values())))


@dataclass
class Tally:
    total: int = 0
    failed: int = 0

    def rate(self) -> float:
        return self.failed / self.total if self.total else 0.0


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
    # Contacts: failed = leaked; benign: failed = changed. Keys: category, language.
    by_category: dict[str, Tally] = field(default_factory=dict)
    by_lang: dict[str, Tally] = field(default_factory=dict)
    benign_by_category: dict[str, Tally] = field(default_factory=dict)
    benign_by_lang: dict[str, Tally] = field(default_factory=dict)
    # Per case, what the relay did and what the reader got: for --dump, to diff two runs.
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return 1 - len(self.leaked) / self.contacts if self.contacts else 0.0

    @property
    def false_positive_rate(self) -> float:
        return len(self.changed) / self.benign if self.benign else 1.0

    @property
    def content_accuracy(self) -> float:
        return 1 - len(self.content_errors) / self.content if self.content else 0.0


def _keep(report: Report, case_id: str, outcome: Outcome) -> None:
    from tools.corpus_files import read_back, zip_text
    # A zip's own bytes hold the time it was written: its members' text stands for it.
    files = {name: "\n".join(zip_text(data)) if data.startswith(b"PK") else read_back(data)
             for name, data in outcome.files.items()}
    report.outcomes.append({"id": case_id, "accepted": outcome.accepted,
                            "reasons": outcome.reasons, "subject": outcome.subject,
                            "plain": outcome.plain, "markup": outcome.markup,
                            "texts": outcome.texts, "files": files})


def _count(tallies: dict[str, Tally], key: str, failed: bool) -> None:
    tally = tallies.setdefault(key, Tally())
    tally.total += 1
    tally.failed += failed


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
        # Hundreds of messages in one conversation within a minute, a hundred refused from one
        # network (a set's calendar invites and cards): not what limits are for.
        limits=LimitsSettings(sender_per_hour=100_000, conversation_per_hour=100_000,
                              refused_per_network_per_hour=100_000),
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
        (before,) = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
        # A refusal is read from the record like any other outcome.
        refusal = ""
        try:
            await self.client.sendmail(sender, [alias], data)
        except aiosmtplib.SMTPResponseException as e:
            refusal = f"{e.code} {e.message}"
        row = self.db.execute(
            "SELECT disposition, reasons, delivered FROM messages WHERE seq > ?"
            " ORDER BY seq DESC LIMIT 1", (before,)).fetchone()
        if refusal.startswith("4"):
            # Deferred (a limit, the store busy): the relay judged nothing, and counting it as
            # refused would count a contact detail as caught.
            raise RuntimeError(f"deferred, not judged: {refusal}")
        if row is None:  # refused before anything was recorded
            return Outcome(False, [refusal or "not recorded"])
        disposition, reasons, delivered = row
        outcome = Outcome(disposition.startswith("delivered"), json.loads(reasons))
        if delivered is None:
            return outcome
        read_delivered(BytesParser(policy=policy.SMTP).parsebytes(delivered), outcome)
        return outcome


def read_delivered(message: Message, outcome: Outcome) -> None:
    """Fill outcome with what the reader sees: the main text, every text part, the headers
    of forwarded messages, and attachments by name."""
    outcome.subject = str(message.get("Subject", ""))
    nested = False
    for part in message.walk():
        if part is not message and part.get_content_type() == "message/rfc822":
            nested = True
            for inner in part.get_payload():
                outcome.texts.extend(f"{k}: {v}" for k, v in inner.items())
            continue
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name or part.get_content_disposition() == "attachment" \
                or part.get_content_maintype() not in ("text",):
            outcome.files[name or f"part{len(outcome.files)}"] = \
                part.get_payload(decode=True) or b""
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
        outcome.texts.append(content)
        if nested and part.get_content_type() == "text/plain" and not outcome.forwarded:
            outcome.forwarded = content
        elif part.get_content_type() == "text/plain" and not outcome.plain and not nested:
            outcome.plain = content
        elif part.get_content_type() == "text/html" and not outcome.markup and not nested:
            outcome.markup = content


NOTE = f"Please see the attached file about order {ORDER}.\n"
FORWARD_NOTE = f"Forwarding the message below about order {ORDER}.\n"


def _message(sender: str, alias: str, case: dict[str, Any]) -> EmailMessage:
    where, text = case["where"], case["text"]
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = alias
    msg["Subject"] = text if where == "subject" else f"Order {ORDER}"
    msg["Message-ID"] = f"<{time.time_ns()}@{sender.rpartition('@')[2]}>"
    if where == "subject":
        msg.set_content(f"About order {ORDER}: see the subject.\n")
    elif where == "html":
        msg.set_content(text, subtype="html")
    elif where in ("body-qp", "body-base64"):
        cte = "quoted-printable" if where == "body-qp" else "base64"
        msg.set_content(text, cte=cte)
    elif where == "forwarded":
        msg.set_content(FORWARD_NOTE)
        inner = EmailMessage(policy=policy.SMTP)
        inner["From"] = case.get("forwarded_from") or sender
        inner["To"] = sender
        inner["Subject"] = f"Order {ORDER}"
        inner["Date"] = "Mon, 10 Nov 2025 09:30:00 +0000"
        inner.set_content(text)
        msg.add_attachment(inner)
    elif where == "attachment":
        from tools.corpus_files import build as build_file
        msg.set_content(NOTE)
        maintype, subtype, name, data = build_file(case["attachment"])
        if maintype == "text":
            msg.add_attachment(data.decode("utf-8"), subtype=subtype, filename=name)
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    else:
        msg.set_content(text)
    return msg


def _case_message(case: dict[str, Any]) -> Any:
    return lambda sender, alias: _message(sender, alias, case).as_bytes()


_TAGS = re.compile(r"<[^>]*>")
# What a mail client shows nothing of: a style sheet, a script, the head, a comment.
_UNSEEN = re.compile(r"<(style|script|head)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)


def _visible(markup: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", _UNSEEN.sub(" ", markup))).split())


def _expected_subject(case: dict[str, Any]) -> str:
    # The Subject as the relay got it: the stdlib's own folding may double a space.
    sent = _case_message(case)(BUYER, "x@" + DOMAIN)
    return str(BytesParser(policy=policy.SMTP).parsebytes(sent)["Subject"])


def unchanged(case: dict[str, Any], outcome: Outcome) -> bool:
    """A benign case arrives as it was written."""
    if not outcome.accepted:
        return False
    where, text = case["where"], case["text"]

    def same(got: str, sent: str) -> bool:
        return got.replace("\r\n", "\n").rstrip("\n") == sent.replace("\r\n", "\n").rstrip("\n")

    if where == "subject":
        # The relay writes each header as one line of its own making, runs of white space
        # collapsed (the stdlib's folding may have doubled one): words are what must survive.
        return outcome.subject.split() == _expected_subject(case).split()
    if where == "html":
        return _visible(outcome.markup) == _visible(text)
    if where == "forwarded":
        return same(outcome.forwarded, text) and same(outcome.plain, FORWARD_NOTE)
    if where == "attachment":
        from tools.corpus_files import build as build_file
        _, _, name, data = build_file(case["attachment"])
        got = outcome.files.get(name)
        if got is None or not same(outcome.plain, NOTE):
            return False
        if case["attachment"]["kind"] in ("txt", "ics", "vcf"):
            return same(got.decode("utf-8", "replace"), data.decode("utf-8"))
        return True
    return same(outcome.plain, text)


def describe(case: dict[str, Any]) -> str:
    extra = ""
    if case.get("attachment"):
        extra = f" [{case['attachment'].get('kind')}: {case['attachment'].get('fields')}]"
    return f"{case['id']} ({case.get('category', '-')}/{case.get('lang', '-')}/" \
           f"{case['where']}): {case['text']!r}{extra}"


@dataclass
class CaseSet:
    name: str
    contacts: list[dict[str, Any]]
    benign: list[dict[str, Any]]
    content: list[dict[str, Any]] = field(default_factory=list)
    blind: bool = False


def in_sample_sets() -> list[CaseSet]:
    """Every pair of files in tests/data/policy/: contacts.jsonl + benign.jsonl (with the
    content cases), and each PREFIXcontacts.jsonl + PREFIXbenign.jsonl."""
    sets = []
    for path in sorted(CORPUS.glob("*contacts.jsonl")):
        prefix = path.name.removesuffix("contacts.jsonl")
        benign = CORPUS / f"{prefix}benign.jsonl"
        sets.append(CaseSet(prefix.rstrip("_") or "corpus", load(path.name),
                            load(benign.name) if benign.exists() else [],
                            load("content.jsonl") if not prefix else []))
    return sets


def blind_sets(directory: Path) -> list[CaseSet]:
    """A directory with contacts.jsonl/benign.jsonl, or sub-directories that have them."""
    found = []
    for contacts in sorted([directory / "contacts.jsonl", *directory.glob("*/contacts.jsonl")]):
        if not contacts.exists():
            continue
        benign = contacts.with_name("benign.jsonl")
        found.append(CaseSet(f"blind:{contacts.parent.name}", _read(contacts),
                             _read(benign) if benign.exists() else [], blind=True))
    return found


def _read(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


async def run_cases(workdir: Path, cases: CaseSet) -> Report:
    report = Report()
    async with Harness(workdir) as harness:
        for i, case in enumerate(cases.contacts):
            direction = case.get("direction") or ("buyer_to_seller" if i % 2 else
                                                  "seller_to_buyer")
            outcome = await harness.send(direction, _case_message(case))
            _keep(report, case["id"], outcome)
            report.contacts += 1
            category = case.get("category") or case["code"]
            left = squash(outcome.everything()) if outcome.accepted else ""
            leaked = any(squash(secret) in left for secret in case["secret"])
            _count(report.by_category, category, leaked)
            _count(report.by_lang, case.get("lang", "?"), leaked)
            if not outcome.accepted:
                report.refused_contacts.append(f"{case['id']}: {outcome.reasons}")
            if leaked:
                report.leaked.append(describe(case))
            elif case["code"] not in outcome.reasons:
                report.wrong_code.append(f"{case['id']}: {case['code']} -> {outcome.reasons}")
        for i, case in enumerate(cases.benign):
            direction = case.get("direction") or ("buyer_to_seller" if i % 2 else
                                                  "seller_to_buyer")
            outcome = await harness.send(direction, _case_message(case))
            _keep(report, case["id"], outcome)
            report.benign += 1
            changed = not unchanged(case, outcome)
            _count(report.benign_by_category, case.get("category") or "-", changed)
            _count(report.benign_by_lang, case.get("lang", "?"), changed)
            if changed:
                got = outcome.subject if case["where"] == "subject" else (
                    outcome.forwarded or outcome.plain or _visible(outcome.markup))
                report.changed.append(f"{describe(case)}\n             -> {outcome.reasons}"
                                      f" {got!r}")
        for case in cases.content:
            headers = dict(case.get("headers") or {})
            if "In-Reply-To" in headers:  # a reply: to a real message of the conversation
                headers["In-Reply-To"] = await harness.question_for(case["direction"])

            def data(sender: str, alias: str, case: dict[str, Any] = case,
                     headers: dict[str, str] = headers) -> bytes:
                return compose(sender, alias, case["subject"], case["text"], headers=headers)

            outcome = await harness.send(case["direction"], data)
            _keep(report, case["id"], outcome)
            report.content += 1
            got = next((r for r in outcome.reasons if r.startswith("content.")), None)
            expected = case["expect"]
            report.confusion[(expected or "allowed", got or "allowed")] += 1
            if got != expected or (expected is None and not outcome.accepted):
                report.content_errors.append(f"{case['id']}: expected {expected}, got"
                                             f" {outcome.reasons} ({case['direction']})")
    return report


async def run_corpus(workdir: Path, prefix: str = "") -> Report:
    """One in-sample set: the corpus files (prefix ""), or PREFIXcontacts/benign.jsonl."""
    chosen = next(c for c in in_sample_sets() if (c.name == "corpus" and not prefix)
                  or c.name == prefix.rstrip("_"))
    return await run_cases(workdir, chosen)


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
    # A cue every few words: the contact-intent layer's clauses overlap everywhere.
    "call me 0176": "call me 0176 1234 " * 5_600, "my insta a_b1": "my insta a_b1 " * 7_200,
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
    print(f"  recall (nothing left):      {report.recall:.2%}  (target >= 97%)")
    for line in report.leaked:
        print(f"    leaked   {line}")
    for line in report.refused_contacts:
        print(f"    refused  {line}")
    for line in report.wrong_code:
        print(f"    other code {line}")
    print(f"ordinary order messages: {report.benign} cases")
    print(f"  changed:                    {report.false_positive_rate:.2%}  (target <= 2%)")
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


def _cell(tally: Tally | None, good_is_low: bool) -> str:
    if tally is None or not tally.total:
        return "-"
    share = tally.rate() if good_is_low else 1 - tally.rate()
    return f"{share:.0%} ({tally.total - tally.failed if not good_is_low else tally.failed}/" \
           f"{tally.total})"


def side_by_side(named: list[tuple[str, Report]]) -> None:
    """Per category and per language, every set in a column: recall for contacts (kept
    out/cases), changed rate for ordinary messages (changed/cases)."""
    def table(title: str, pick: Any, good_is_low: bool) -> None:
        keys = sorted({k for _, r in named for k in pick(r)})
        if not keys:
            return
        width = max(16, *(len(n) for n, _ in named))
        print(f"-- {title}")
        print(f"    {'':24}" + "".join(f"{n:>{width + 2}}" for n, _ in named))
        for key in keys:
            print(f"    {key:24}" + "".join(
                f"{_cell(pick(r).get(key), good_is_low):>{width + 2}}" for _, r in named))
        total = "recall" if not good_is_low else "changed"
        print(f"    {'ALL (' + total + ')':24}" + "".join(
            f"{_cell(_all(pick(r)), good_is_low):>{width + 2}}" for _, r in named))

    print("== side by side (in-sample sets, then blind sets)")
    table("contacts: recall per category", lambda r: r.by_category, False)
    table("contacts: recall per language", lambda r: r.by_lang, False)
    table("ordinary messages: changed per category", lambda r: r.benign_by_category, True)
    table("ordinary messages: changed per language", lambda r: r.benign_by_lang, True)


def _all(tallies: dict[str, Tally]) -> Tally:
    return Tally(sum(t.total for t in tallies.values()), sum(t.failed for t in tallies.values()))


def plain_message(size: int = 2048) -> str:
    """An ordinary 2 KB buyer message: order talk, a tracking number, prices, dates."""
    paragraph = (f"Hello, about order {ORDER}: the parcel (UPS 1Z999AA10123456784) arrived on "
                 "14.11.2025 but the lid of the teapot is cracked. It cost $24.99 plus 4,90 EUR"
                 " shipping; the box says 32 x 20 x 15 cm, 1.2 kg, model TP-2000. Could you "
                 "send a replacement lid, or should I return the whole set? Thanks a lot!\n")
    return (paragraph * (size // len(paragraph) + 1))[:size]


def rules_cost(rounds: int = 300) -> dict[str, float]:
    """CPU ms per 2 KB plain message (process time: what one core spends, not the wall clock),
    each message a different one (an order number of its own: the rules keep what they worked
    out for the texts they saw last): the content check (reading the message, then the four
    content rules), the text rules of the redaction (over the Subject and the body, timed
    inside the redact stage), and the redact stage in all."""
    from relay.rules import confirmation, promotion, review, thanks
    from relay.rules.reading import read
    from relay.stages.redact import Redact
    redact = Redact(RulesSettings(marketplace_domain=MARKETPLACE), DOMAIN)
    spent: Counter[str] = Counter()
    text_rules = redact.text.redact

    def timed(text: str, whole_sentences: bool = True) -> Any:
        started = time.process_time()
        try:
            return text_rules(text, whole_sentences)
        finally:
            spent["text_rules"] += time.process_time() - started

    redact.text.redact = timed  # type: ignore[method-assign]
    raws = []
    for i in range(rounds + 20):
        order = f"{100 + i % 900}-{i:07d}-1234567"
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"], msg["To"], msg["Subject"] = BUYER, "x@" + DOMAIN, f"Order {order}"
        msg.set_content(plain_message().replace(ORDER, order))
        raws.append(msg.as_bytes())
    parser = BytesParser(policy=policy.SMTP)

    async def run() -> None:
        for i, raw in enumerate(raws):
            if i == 20:  # the first ones only warm up
                spent.clear()
            message = parser.parsebytes(raw)
            assert isinstance(message, EmailMessage)
            t0 = time.process_time()
            reading = read(message, "seller_to_buyer", is_reply=False)
            t1 = time.process_time()
            for rule in (review, promotion, confirmation, thanks):
                rule.judge(reading)
            t2 = time.process_time()
            parcel = Parcel(id=f"m{i}", received_at="", raw=raw, message=message,
                            envelope=Envelope("127.0.0.1", "bench", BUYER, ("x",), False),
                            conversation=None, addressed="seller")  # type: ignore[arg-type]
            await redact(parcel)
            spent["reading"] += t1 - t0
            spent["content_rules"] += t2 - t1
            spent["redact_stage"] += time.process_time() - t2

    asyncio.run(run())
    cost = {f"{k}_ms": v / rounds * 1000 for k, v in spent.items()}
    cost["rules_ms"] = cost["reading_ms"] + cost["content_rules_ms"] + cost["text_rules_ms"]
    return cost


def _print_speed(speed: dict[str, float]) -> None:
    print(f"== speed\npolicy stages on a {speed['size'] / 1024:.0f} KB HTML mail:"
          f" {speed['policy_per_s']:.0f} msg/s (all stages: {speed['pipeline_per_s']:.0f}"
          " msg/s, one core)")
    for key in sorted(k for k in speed if k.startswith("ms.")):
        print(f"    {key[3:]:20} {speed[key]:.2f} ms")
    print("text rules on 100 KB of adversarial text:")
    for name, ms in worst_cases().items():
        print(f"    {name:20} {ms:7.0f} ms")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blind", type=Path, action="append", default=[],
                        help="a directory with contacts.jsonl and benign.jsonl (or subdirs)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the in-sample sets with these names")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed figures")
    parser.add_argument("--dump", type=Path, help="write every case's outcome (refusal reasons"
                        " and what the reader gets) to this file, one JSON line each: diff"
                        " two runs to see that a change to the rules changed no outcome")
    args = parser.parse_args(argv)
    sets = [c for c in in_sample_sets() if not args.only or c.name in args.only]
    for directory in args.blind:
        found = blind_sets(directory)
        if not found:
            print(f"{directory}: no contacts.jsonl there", file=sys.stderr)
            return 2
        sets += found
    named: list[tuple[str, Report]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, case_set in enumerate(sets):
            named.append((case_set.name, await run_cases(Path(tmp) / f"set{i}", case_set)))
        speed = None if args.no_speed else await measure(Path(tmp) / "speed")
    if args.dump is not None:
        with args.dump.open("w", encoding="utf-8") as out:
            for name, report in named:
                for row in report.outcomes:
                    out.write(json.dumps({"set": name, **row}, ensure_ascii=False) + "\n")
    for (name, report), case_set in zip(named, sets, strict=True):
        _print(report, f"{name} ({'blind' if case_set.blind else 'in-sample'})")
    side_by_side(named)
    if speed is not None:
        _print_speed(speed)
        cost = await asyncio.to_thread(rules_cost)
        print(f"rules on a 2 KB plain message: {cost['rules_ms']:.3f} ms CPU (content check:"
              f" reading {cost['reading_ms']:.3f} + content rules {cost['content_rules_ms']:.3f};"
              f" redaction: text rules {cost['text_rules_ms']:.3f}); redact stage in all"
              f" {cost['redact_stage_ms']:.3f} ms")
    ok = all(r.recall >= 0.97 and r.false_positive_rate <= 0.02 for r in
             (r for (_, r), c in zip(named, sets, strict=True) if not c.blind))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
