# ruff: noqa: RUF001  (dotless i, long s, the Kelvin sign: what folding is about)
"""The shortcuts of the rules (relay/rules/needs.py) skip work, never a match: wherever a
pattern matches a text, its gate lets it run there. Checked on every text of the labelled
corpus and of the test data, and on the same texts with their letters' case, white space and
look-alike letters changed (what case-insensitive matching takes as the same)."""

from __future__ import annotations

import ast
import html
import importlib
import json
import random
import re
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

import nh3
import pytest

from relay.rules import needs, phone, reading

DATA = Path(__file__).resolve().parents[1] / "data"
MODULES = ("view", "email", "phone", "address", "social", "links", "text", "promotion",
           "review", "thanks", "confirmation", "reading")
# Gates whose hints speak of the matches their caller keeps, not of every match.
KEPT = {"phone._KEYPAD": lambda m: sum(c.isalpha() for c in m.group("tail")) >= 3}


def _gates() -> dict[str, needs.Gated]:
    found = {}
    for name in MODULES:
        module = importlib.import_module(f"relay.rules.{name}")
        for attr, value in vars(module).items():
            items = value if isinstance(value, tuple) else (value,)
            for i, item in enumerate(items):
                if isinstance(item, needs.Gated):
                    found[f"{name}.{attr}" + (f"[{i}]" if isinstance(value, tuple) else "")] = item
    return found


GATES = _gates()


def _corpus_texts() -> list[str]:
    texts = []
    for path in sorted((DATA / "policy").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            texts += [case[k] for k in ("text", "subject") if case.get(k)]
            texts += [v for v in (case.get("attachment") or {}).get("fields", {}).values()
                      if isinstance(v, str)] if isinstance(
                (case.get("attachment") or {}).get("fields"), dict) else []
    # The tests' own examples, in every folder of tests/.
    for path in sorted(Path(__file__).resolve().parents[1].rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        texts += [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and isinstance(node.value, str) and 8 <= len(node.value) <= 5000]
    texts += [p.read_text(encoding="utf-8", errors="replace")[:20000]
              for p in sorted(DATA.glob("**/*")) if p.suffix in (".html", ".eml")]
    return texts


# What matching ignoring case takes as the same, and white space of other kinds.
_SWAPS = {"i": "İı", "s": "ſ", "k": "\u212a", "I": "ı", "S": "ſ", "σ": "ςΣ", "ι": "\u0345\u1fbe",
          " ": "\u00a0\u2003\t", "\n": "\r\n\u2028", "a": "A", "e": "E"}


def _variants(text: str, rng: random.Random) -> list[str]:
    swapped = "".join(rng.choice(_SWAPS[c]) if c in _SWAPS and rng.random() < 0.3 else c
                      for c in text)
    return [text.upper(), text.swapcase(), swapped]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = random.Random(7)
    base = _corpus_texts()
    return base + [v for t in rng.sample(base, min(len(base), 1500)) for v in _variants(t, rng)]


def test_gates_were_found_and_most_know_what_they_need():
    assert len(GATES) > 40
    assert sum(g.ways is not None for g in GATES.values()) > 30


def test_a_gate_never_stops_a_pattern_where_it_matches(texts: list[str]):
    missed = []
    for name, gate in GATES.items():
        keep = KEPT.get(name, lambda m: True)
        for text in texts:
            if any(keep(m) for m in gate.pattern.finditer(text)) and not gate.may_match(text):
                missed.append((name, text[:80]))
    assert not missed


def test_gates_for_windows_stand_for_every_window(texts: list[str]):
    # A search that ends early may find a word cut short: the gate on the whole text still
    # lets it run (and the calling words hold for the text with its order numbers masked).
    rng = random.Random(3)
    for text in texts[:4000]:
        for _ in range(3):
            a = rng.randrange(len(text) + 1)
            b = rng.randrange(a, len(text) + 1)
            if phone.PHONE_WORDS.search(text, a, b):
                assert phone._PHONE_TALK.may_match(text), text
            if phone._CALL_BEFORE.search(phone._mask_order_ids(text), a, b):
                assert phone._CALL_TALK.may_match(text), text


def test_a_gate_does_turn_patterns_away():
    # Tests that cannot fail are no tests: an ordinary message is kept from most patterns.
    text = ("Hello, the parcel arrived today but the lid of the teapot is cracked. Could you "
            "send a replacement lid, or should I return the whole set? Thanks a lot!")
    assert sum(not g.may_match(text) for g in GATES.values()) > len(GATES) // 2


@pytest.mark.parametrize(("a", "b"), [("İstanbul", "istanbul"), ("kılıf", "kilif"),
                                      ("ſale", "sale"), ("\u212aontakt", "kontakt"),
                                      ("ΟΔΟΣ ΟΔΟΣ", "οδοσ οδοσ"), ("a\u00a0b\u2003c", "a b c")])
def test_fold_takes_as_the_same_what_the_engine_does_and_keeps_every_place(a: str, b: str):
    assert len(needs.fold(a)) == len(a)
    assert needs.fold(a) == needs.fold(b)
    pattern = re.compile(re.escape(b).replace("\\ ", r"\s"), re.IGNORECASE)
    assert pattern.fullmatch(a)


def test_needed_strings_are_read_off_the_pattern():
    ways = needs.needs(re.compile(r"\b(?:coupon|promo)\s+code\b|\bnewsletter\b", re.I))
    assert ways is not None and len(ways) == 2
    strings = {needs._core(s) for way in ways for clause in way for s in clause}
    assert {" code", "newsletter"} <= strings or {"code", "newsletter"} <= strings
    assert needs.needs(re.compile(r"\d+")) is None  # nothing to look for: always runs


def test_order_numbers_masked_as_the_pattern_would():
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice("0123456789-- a") for _ in range(rng.randrange(60)))
        if rng.random() < 0.5:
            text = text[:9] + "112-1234567-1234567" + text[9:]
        expected = phone._ORDER_ID.sub(lambda m: phone.MASK * len(m.group(0)), text)
        assert phone._mask_order_ids(text) == expected


def test_compound_number_words_found_as_one_by_one():
    words = ["drieënveertig", "sextiosju", "sześćset", "yüz", "elli", "altmış", "hello", "tio",
             "zwanzig", "vingt", "tjugofem", "abctjugo", "seven", "x"]
    rng = random.Random(11)
    for _ in range(2000):
        chosen = set(rng.sample(words, 3))
        assert phone._any_compound(chosen) == any(map(phone._compound, chosen))


def _body_as_before(message: Message) -> str:
    """The reading's body as it was taken before each header of a part was parsed once."""
    plain = html_text = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            continue
        try:
            content = part.get_content()  # type: ignore[attr-defined]
        except (LookupError, ValueError, AttributeError):
            content = (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")
        if part.get_content_subtype() == "plain" and plain is None:
            plain = content
        elif part.get_content_subtype() == "html" and html_text is None:
            html_text = content
    if plain is not None:
        return plain
    if html_text is None:
        return ""
    markup = nh3.clean(html_text, tags=reading._LINE_TAGS, attributes={},
                       clean_content_tags={"blockquote", "script", "style", "title"})
    return html.unescape(reading._TAG.sub("\n", markup))


def test_the_content_rules_read_the_body_as_before():
    paths = sorted(DATA.glob("*.eml"))
    assert len(paths) >= 3
    for path in paths:
        for parse_policy in (policy.SMTP, policy.compat32):
            message = BytesParser(policy=parse_policy).parsebytes(path.read_bytes())
            assert reading._body(message) == _body_as_before(message), path
