"""The learned second look (relay/rules/contact_model.py): what it adds to the pattern rules,
what it keeps out of them, and that the weights shipped are the ones the corpus trains."""

from __future__ import annotations

import gzip
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from relay.config import RulesSettings
from relay.rules.contact_model import CODES, ContactModel, sentences
from relay.rules.findings import CONTACT_MARKER, apply
from relay.rules.text import TextRules
from tools.policy_report import squash
from tools.train_contact_model import OUT, case_sets, texts
from tools.train_contact_model import main as train

RULES = TextRules(RulesSettings(), "relay.test")
PATTERNS = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")


def redacted(rules: TextRules, text: str) -> str:
    return apply(text, rules.find(text))


def test_a_sentence_the_patterns_miss_goes_whole():
    # The mechanism, with a model of one weight: the sentence above the threshold goes whole
    # under the code the second table names; its neighbours stay.
    rules = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")
    rules.model = ContactModel({"\nbackwards": 10.0}, -5.0, 2.0, -4.0,
                               {c: {"": 1.0 if c == "contact.phone" else 0.0} for c in CODES})
    text = ("The parcel arrived today. If the app eats my number, it's the order number"
            " backwards without the dashes, text me there. Thanks again.")
    assert "order number backwards" in redacted(PATTERNS, text)
    got = redacted(rules, text)
    assert got == f"The parcel arrived today. {CONTACT_MARKER} Thanks again."
    assert {f.code for f in rules.find(text)} == {"contact.phone"}


def test_a_sentence_too_short_to_hold_a_detail_stays():
    # "Kb." (about) cut off as a sentence of its own: fewer than five letters and digits.
    rules = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")
    rules.model = ContactModel({"\nkb": 10.0, "\nhandle": 10.0}, -5.0, 2.0, -4.0,
                               {c: {} for c in CODES})
    assert not rules.find("Kb. negyven üzemóra, utolsó szerviz 2024-ben.")
    assert rules.find("My handle is in the bio.")


def test_an_abbreviation_before_a_number_ends_no_sentence():
    text = "Es stand „inkl. 2 Akkus“ da. Kb. 40 üzemóra. Fertig. 2 Stück fehlen."
    assert [text[s:e] for s, e in sentences(text)] == [
        "Es stand „inkl. 2 Akkus“ da.", "Kb. 40 üzemóra.", "Fertig.", "2 Stück fehlen."]


# The shipped model on the corpus it was trained on: of the contact cases whose detail the
# patterns leave in the text (2,312 when written), it takes the detail out of 84%. Held out
# it does less (docs/rules.md); this holds the weights to having learnt their data.
def _leaks(rules: TextRules, found: list[str], secrets: list[str]) -> bool:
    left = squash("\n".join(redacted(rules, t) for t in found))
    return any(squash(s) in left for s in secrets)


@pytest.mark.slow
def test_the_model_takes_most_of_what_the_patterns_miss():
    missed = caught = 0
    for contacts, _benign in case_sets().values():
        for case in contacts:
            found = list(texts(case))
            if not all(squash(s) in squash("\n".join(found)) for s in case["secret"]):
                continue  # the secret is in a header or a file's metadata
            if _leaks(PATTERNS, found, case["secret"]):
                missed += 1
                caught += not _leaks(RULES, found, case["secret"])
    assert missed > 1000 and caught >= 0.75 * missed, (caught, missed)


def _one_weight(word: str) -> TextRules:
    """Rules with a model of one weight: a sentence holding `word` reads as passing a detail,
    any other as neither passing one nor plainly ordinary (weak findings stay)."""
    rules = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")
    rules.model = ContactModel({"\n" + word: 10.0}, -3.0, 2.0, -4.0,
                               {c: {"": 1.0 if c == "contact.social" else 0.0} for c in CODES})
    return rules


def test_what_the_patterns_find_keeps_its_extent():
    # Where a rule found the detail, the rule's span goes and the rest of the sentence stays:
    # in a sentence the model reads as ordinary, and in one it reads as passing a detail
    # only for what the rule found (here the model's one weight is the address's "gmail").
    text = "Mail bob@gmail.com after six, the door code is on the parcel."
    for rules in (_one_weight("discord"), _one_weight("gmail")):
        assert redacted(rules, text) == redacted(PATTERNS, text)
        assert redacted(rules, text).endswith(" after six, the door code is on the parcel.")
    assert redacted(_one_weight("door"), text) == CONTACT_MARKER


def test_a_sentence_the_model_flags_goes_whole_around_what_the_patterns_find():
    # The patterns find the address; the rest of the sentence still reads as passing a
    # detail (here the model's one weight is "sister").
    rules = _one_weight("sister")
    text = ("The lamp ships Monday. Mail me at bob.k@gmail.com, or my sister Anna Kovacs at "
            "the same place. Thanks!")
    assert "Anna Kovacs" in redacted(PATTERNS, text)
    assert redacted(rules, text) == f"The lamp ships Monday. {CONTACT_MARKER} Thanks!"


@pytest.mark.parametrize("text", [
    "On Tue, 3 Mar 2026 at 14:02, Sally wrote:",
    "Am Dienstag, 3. März 2026 um 14:02 schrieb Sally:",
    "Le mar. 3 mars 2026 à 14:02, Sally a écrit :",
    "The blue mug from order 112-1234567-1234567 arrived with a chipped handle.",
    "It cost $24.99 plus 4,90 EUR shipping; the box says 32 x 20 x 15 cm, 1.2 kg.",
    # Dates with a month's name or a date word: "12, 2025" has the shape of a house number
    # and a postcode, so the model reads them masked.
    "Your order left our warehouse on March 12, 2025.",
    "Paczka wyszła 14 marca 2025 r. z magazynu.",
    "Mua hàng năm 2025, ngày 14 tháng 3.",
    "Could you send a replacement lid, or should I return the whole set?",
])
def test_ordinary_sentences_stay_as_written(text: str):
    assert not RULES.find(text)


# A bare digit run after a label the phone rule's lists lack: the rule alone takes it for a
# phone; in a sentence the model reads as plainly ordinary it stays. On the corpus's ordinary
# texts (7,191 when written) the rules alone changed 235, with the model 136, 100 of those
# 235 kept whole.
@pytest.mark.slow
def test_the_model_keeps_ordinary_texts_the_patterns_would_change():
    kept = changed = patterns_changed = 0
    for _contacts, benign in case_sets().values():
        for case in benign:
            for text in texts(case):
                alone, both = bool(PATTERNS.find(text)), bool(RULES.find(text))
                patterns_changed += alone
                changed += both
                kept += alone and not both
    assert kept >= 50 and changed < patterns_changed * 0.75, (kept, changed, patterns_changed)


def test_only_bare_digit_runs_and_the_intent_layer_give_way():
    # The same rules with a model that reads every sentence as plainly ordinary.
    rules = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")
    rules.model = ContactModel({}, -10.0, 2.0, -4.0, {c: {} for c in CODES})
    assert not rules.find("Seri numarası 7114120300 olan makine servise gitti.")  # noqa: RUF001
    kept = "Ruf an: +49 176 2345 6789, bitte."  # an international number is never bare
    assert "2345" not in redacted(rules, kept)
    assert "bob.buyer@gmail.com" not in redacted(rules, "Mail bob.buyer@gmail.com please.")


def test_a_bare_digit_run_needs_a_sentence_that_reads_less_ordinary():
    # Every sentence scores -3: not plainly ordinary (-4), but below the bare runs' -2.
    # A run bracketed whole is bare too; an area code in brackets makes a phone number.
    texts = ("Seri numarası 7114120300 olan makine servise gitti.",  # noqa: RUF001
             "1 x Logitech MX Master 3S (910-006559) 69.00 GBP")
    for bare_below, found in ((None, True), (-2.0, False)):
        rules = TextRules(replace(RulesSettings(), contact_model=False), "relay.test")
        rules.model = ContactModel({}, -3.0, 2.0, -4.0, {c: {} for c in CODES}, bare_below)
        assert [bool(rules.find(text)) for text in texts] == [found, found]
        assert "2345" not in redacted(rules, "Ruf an: +49 176 2345 6789, bitte.")
        assert "2345" not in redacted(rules, "Ruf an: (0176) 2345 6789, bitte.")
    shipped = ContactModel.load()
    assert shipped.bare_below is not None and \
        shipped.ordinary_below < shipped.bare_below < shipped.threshold


def test_a_number_someone_offers_still_goes():
    text = "Ring me on 07700 900 461, the app keeps failing."
    assert "900 461" not in redacted(RULES, text)


def test_the_setting_turns_it_off():
    assert PATTERNS.model is None and RULES.model is not None
    assert not TextRules(replace(RulesSettings(), contact_phone="off", contact_email="off",
                                 contact_address="off", contact_social="off"),
                         "relay.test").model


def test_sentences_cover_the_text_in_order():
    text = "One. Two!  Three?\n\nFour。五\nsix"
    spans = list(sentences(text))
    assert [text[s:e] for s, e in spans] == ["One.", "Two!", "Three?", "Four。", "五", "six"]
    assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_the_shipped_weights_are_what_the_corpus_trains(tmp_path: Path):
    """The model is data built from tests/data/policy by tools/train_contact_model.py: a
    change to the corpus or to what the rules mask needs `make contact-model`."""
    out = tmp_path / "model.json.gz"
    assert train(["--out", str(out)]) == 0
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(OUT.read_bytes())
    assert ContactModel.load().threshold > ContactModel.load().ordinary_below
