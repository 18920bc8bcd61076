"""The labelled corpus (tests/data/policy/) through a relay over SMTP: the targets of the
messaging rules, asserted. `make policy-report` prints the same run with its details."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tools.policy_report import Report, in_sample_sets, load, run_cases, run_corpus, squash


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    # One run for the module (about 550 messages): its own event loop, started and ended here.
    return asyncio.run(run_corpus(tmp_path_factory.mktemp("corpus")))


def test_the_corpus_is_big_enough_and_well_formed():
    contacts, benign = load("contacts.jsonl"), load("benign.jsonl")
    assert len(contacts) >= 150 and len(benign) >= len(contacts)
    for case in contacts:  # a secret that is not in the text would pass whatever happens
        assert all(squash(s) in squash(case["text"]) for s in case["secret"]), case["id"]
    assert len({c["id"] for c in contacts + benign}) == len(contacts) + len(benign)


@pytest.mark.slow
def test_contact_details_do_not_survive(report: Report):
    assert report.contacts >= 150
    assert report.recall >= 0.99, "\n".join(report.leaked)
    assert not report.refused_contacts  # redacted and delivered, not refused


@pytest.mark.slow
def test_ordinary_order_messages_survive_untouched(report: Report):
    assert report.benign >= 150
    assert report.false_positive_rate <= 0.01, "\n".join(report.changed)


@pytest.mark.slow
def test_prohibited_messages_are_refused_and_others_are_not(report: Report):
    assert report.content >= 80
    wrongly_refused = [e for e in report.content_errors if "expected None" in e]
    assert not wrongly_refused
    assert report.content_accuracy >= 0.95, "\n".join(report.content_errors)


def test_corpus_files_exist():
    root = Path(__file__).resolve().parents[1] / "data" / "policy"
    assert {p.name for p in root.glob("*.jsonl")} >= {
        "contacts.jsonl", "benign.jsonl", "content.jsonl", "holdout_contacts.jsonl",
        "holdout_benign.jsonl"}


@pytest.fixture(scope="module")
def holdout(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return asyncio.run(run_corpus(tmp_path_factory.mktemp("holdout"), prefix="holdout_"))


def test_the_held_out_corpus_meets_the_targets_too(holdout: Report):
    # Written apart from the rules. A message refused for another reason (a seller pushing
    # a discount off-platform is also a promotion) delivers nothing, so it leaks nothing.
    assert holdout.contacts >= 80 and holdout.benign >= 80
    assert holdout.recall >= 0.99, "\n".join(holdout.leaked)
    assert holdout.false_positive_rate <= 0.01, "\n".join(holdout.changed)


# The 14-language training sets (every where-form, attachments, calendars, cards), and the
# four blind sets of 2026-12-06/07, corpus since they were measured (87.5%, 87.8%, 86.3% and
# 87.1% recall, 4.3%, 4.8%, 15.0% and 4.0% changed, on the rules before each). Their figures
# as last measured, with the contact model trained on them (99.6/0, 100/0, 100/1.0,
# 97.9/2.1, 99.3/1.9, 97.3/2.5); a change to the rules may not lower them. (The eight sets
# the model was trained on besides, corpus14c-j, are read by `make policy-report`.)
CORPUS14 = {"corpus14a": (0.99, 0.01), "corpus14b": (0.97, 0.01), "blind14": (0.99, 0.015),
            "blind14b": (0.97, 0.035), "blind14c": (0.945, 0.02), "blind14d": (0.97, 0.03)}


@pytest.fixture(scope="module")
def corpus14(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    sets = {c.name: c for c in in_sample_sets() if c.name in CORPUS14}
    return {name: asyncio.run(run_cases(tmp_path_factory.mktemp(name), sets[name]))
            for name in CORPUS14}


def test_the_14_language_sets_are_well_formed():
    for name in CORPUS14:
        contacts = load(f"{name}_contacts.jsonl")
        benign = load(f"{name}_benign.jsonl")
        assert len(contacts) >= 200 and len(benign) >= 100
        assert {c["where"] for c in contacts} >= {"subject", "body", "html", "forwarded",
                                                  "attachment"}
        assert all(c["secret"] for c in contacts)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CORPUS14))
def test_the_14_language_sets_keep_their_figures(corpus14: dict[str, Report], name: str):
    report = corpus14[name]
    recall, changed = CORPUS14[name]
    assert report.recall >= recall, "\n".join(report.leaked)
    assert report.false_positive_rate <= changed, "\n".join(report.changed)


def test_the_rules_cost_figures_are_measured():
    # `make policy-report` prints them; a change to the redact stage's calls once broke this
    # silently (no test ran it). Figures only, no threshold: speed belongs to `make bench`.
    from tools.policy_report import rules_cost
    cost = rules_cost(rounds=2)
    assert {"reading_ms", "content_rules_ms", "text_rules_ms", "redact_stage_ms",
            "rules_ms"} <= set(cost)
    assert all(v > 0 for v in cost.values())
