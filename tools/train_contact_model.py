"""Train the contact model (relay/rules/contact_model.py) on the labelled corpus, or measure it
on sets held out of its training.

    python -m tools.train_contact_model              # writes relay/rules/data/contact_model.json.gz
    python -m tools.train_contact_model --hold blind14d   # trains without blind14d, measures on it

Each sentence of each case's text is one example: a sentence of a contact case that holds a
secret is positive, every other sentence (the rest of a contact case, every ordinary message)
is negative. Sentences are cut from the view the rules read (tools and relay share
`TextRules.prepare`), so training and run time see the same text. Logistic regression by
stochastic gradient descent, seeded: the same corpus gives the same weights.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import math
import random
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from relay.config import RulesSettings
from relay.rules.contact_model import CODES, ContactModel, read
from relay.rules.findings import apply
from relay.rules.phone import MASK, mask_shapes
from relay.rules.text import TextRules
from relay.rules.view import View
from tools.policy_report import in_sample_sets, squash

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "relay" / "rules" / "data" / "contact_model.json.gz"
DOMAIN = "relay.test"
# Chosen on held-out sets (docs/rules.md): the score above which a sentence goes, and the
# one below which it reads as plainly ordinary.
THRESHOLD = 2.0
ORDINARY_BELOW = -4.0
# ... and the one below which a bare digit run found by the phone rule stays.
BARE_BELOW = -2.0
_TAGS = re.compile(r"<[^>]*>")


@dataclass
class Example:
    words: list[str]
    positive: bool
    code: str


def case_sets() -> dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Every contact/ordinary pair of the corpus by name, the first set ("corpus":
    contacts/benign) first, then the others in the order of their names (the order the
    examples are trained in)."""
    sets = sorted(in_sample_sets(), key=lambda case_set: case_set.name != "corpus")
    return {c.name: (c.contacts, c.benign) for c in sets}


def texts(case: dict[str, Any]) -> Iterator[str]:
    """The texts of a case the text rules read: HTML as its visible text, an attachment's
    covering note and the text of a PDF, DOCX, XLSX or TXT file."""
    if case["where"] == "html":
        yield html.unescape(_TAGS.sub(" ", case["text"]))
        return
    yield case["text"]
    spec = case.get("attachment") or {}
    fields = spec.get("fields") or {}
    if spec.get("kind") in ("pdf", "docx", "txt") and fields.get("body"):
        yield str(fields["body"])
    if spec.get("kind") == "xlsx" and fields.get("cells"):
        yield "\n".join(" ".join(map(str, row)) for row in fields["cells"])


def located(secret: str, text: str) -> Iterator[tuple[int, int]]:
    """Where `secret` stands in `text`: written as it is, or (the older sets give a secret
    squashed, "07723418805" for "07723 418805") its letters and digits in a row."""
    found = [(m.start(), m.end()) for m in re.finditer(re.escape(secret), text)]
    if found:
        yield from found
        return
    letters, at = [], []
    for i, char in enumerate(text):
        for c in unicodedata.normalize("NFKC", char).lower():
            if c.isalnum():
                letters.append(c)
                at.append(i)
    squashed, wanted = "".join(letters), squash(secret)
    if not wanted:
        return
    start = squashed.find(wanted)
    while start >= 0:
        yield at[start], at[start + len(wanted) - 1] + 1
        start = squashed.find(wanted, start + 1)


def examples(rules: TextRules, contacts: list[dict[str, Any]],
             benign: list[dict[str, Any]]) -> Iterator[Example]:
    for case, positive_case in [(c, True) for c in contacts] + [(c, False) for c in benign]:
        for text in texts(case):
            secrets = [span for s in case.get("secret", ()) if s for span in located(s, text)]
            if positive_case and not secrets:
                continue  # the secret is elsewhere (a header, a file's metadata)
            seen, masked, _ = rules.prepare(text)
            shown = mask_shapes(masked)  # what the model reads, before it is cut in sentences
            for start, end, words in read(masked):
                o_start, o_end = seen.span(start, end)
                hit = any(s < o_end and o_start < e for s, e in secrets)
                if hit and not _unmasked_hit(seen, shown, secrets, start, end):
                    continue  # the secret is in what the model does not read (a masked link)
                yield Example(words, hit, case.get("code", ""))


def _unmasked_hit(seen: View, masked: str, secrets: list[tuple[int, int]], start: int,
                  end: int) -> bool:
    """Whether a secret shows in the sentence outside what is masked."""
    for i in range(start, end):
        if masked[i] != MASK:
            o_start, o_end = seen.span(i, i + 1)
            if any(s < o_end and o_start < e for s, e in secrets):
                return True
    return False


def fit(data: list[tuple[list[str], bool]], epochs: int = 8, rate: float = 0.2,
        l2: float = 1e-5) -> tuple[dict[str, float], float]:
    """Logistic regression by SGD with a decaying step, L2 applied lazily per feature.

    The words are numbered once and the weights kept in a list: the same additions and
    products in the same order as with a dict of words (the same weights to the last bit),
    in about half the time (`make test` trains the model again to check the shipped one)."""
    numbers: dict[str, int] = {}
    rows = [([numbers.setdefault(w, len(numbers)) for w in words], label)
            for words, label in data]
    weights = [0.0] * len(numbers)
    first_seen: dict[int, None] = {}  # the order the words were first updated in
    bias = 0.0
    order = list(range(len(rows)))
    shuffle = random.Random(1).shuffle
    exp = math.exp
    for epoch in range(epochs):
        shuffle(order)
        step = rate / (1 + epoch)
        keep = 1 - step * l2
        for i in order:
            ids, label = rows[i]
            z = bias + sum([weights[n] for n in ids])
            p = 1 / (1 + exp(-max(-30.0, min(30.0, z))))
            g = step * (p - label)
            bias -= g
            for n in ids:
                weights[n] = weights[n] * keep - g
            if epoch == 0:
                first_seen.update(dict.fromkeys(ids))
    words = list(numbers)
    return {words[n]: weights[n] for n in first_seen}, bias


def _pruned(weights: dict[str, float], least: float = 0.05) -> dict[str, float]:
    """The weights that move a score: below 0.05 held out figures do not change (1.6 MB
    compressed, where 0.01 keeps 3.2 MB)."""
    return {w: round(v, 4) for w, v in weights.items() if abs(v) >= least}


def train(sets: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]],
          threshold: float, ordinary_below: float,
          bare_below: float = BARE_BELOW) -> ContactModel:
    rules = TextRules(replace(RulesSettings(), contact_model=False), DOMAIN)
    found = [e for contacts, benign in sets for e in examples(rules, contacts, benign)]
    weights, bias = fit([(e.words, e.positive) for e in found])
    positives = [e for e in found if e.positive and e.code in CODES]
    code_weights = {}
    for code in CODES:
        w, b = fit([(e.words, e.code == code) for e in positives], epochs=5)
        # Read only for the few sentences that go: the larger weights name the code (98% as
        # the full table does on the corpus) in a tenth of the memory.
        code_weights[code] = {**_pruned(w, least=0.2), "": round(b, 4)}
    return ContactModel(_pruned(weights), round(bias, 4), threshold, ordinary_below,
                        code_weights, bare_below)


@dataclass
class HeldOut:
    cases: int = 0
    rules_caught: int = 0
    caught: int = 0
    ordinary: int = 0
    rules_changed: int = 0
    changed: int = 0


def measure(model: ContactModel, contacts: list[dict[str, Any]],
            benign: list[dict[str, Any]]) -> HeldOut:
    """Contact cases whose secrets are all gone, ordinary messages changed: by the rules
    alone and with the model, on the cases' texts (attachments' metadata left out)."""
    plain = TextRules(replace(RulesSettings(), contact_model=False), DOMAIN)
    both = TextRules(replace(RulesSettings(), contact_model=False), DOMAIN)
    both.model = model
    out = HeldOut()

    def redacted(rules: TextRules, case: dict[str, Any]) -> str:
        return "\n".join(apply(t, rules.find(t)) for t in texts(case))

    for case in contacts:
        whole = squash("\n".join(texts(case)))
        if not all(squash(s) in whole for s in case["secret"]):
            continue  # the secret is elsewhere (a header, a file's metadata)
        out.cases += 1
        for rules, field in ((plain, "rules_caught"), (both, "caught")):
            left = squash(redacted(rules, case))
            if not any(squash(s) in left for s in case["secret"]):
                setattr(out, field, getattr(out, field) + 1)
    for case in benign:
        out.ordinary += 1
        for rules, field in ((plain, "rules_changed"), (both, "changed")):
            if any(rules.find(t) for t in texts(case)):
                setattr(out, field, getattr(out, field) + 1)
    return out


def save(model: ContactModel, path: Path) -> None:
    raw = {"weights": model.weights, "bias": model.bias, "threshold": model.threshold,
           "ordinary_below": model.ordinary_below, "code_weights": model.code_weights,
           "bare_below": model.bare_below}
    text = json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hold", action="append", default=[],
                        help="leave this set out of the training and measure on it")
    parser.add_argument("--threshold", type=float, action="append", default=[],
                        help=f"score above which a sentence goes (default {THRESHOLD})")
    parser.add_argument("--ordinary-below", type=float, default=ORDINARY_BELOW,
                        help="score below which a sentence reads as plainly ordinary"
                             f" (default {ORDINARY_BELOW})")
    parser.add_argument("--bare-below", type=float, default=BARE_BELOW,
                        help="score below which a bare digit run the phone rule found stays"
                             f" (default {BARE_BELOW})")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    everything = case_sets()
    unknown = [name for name in args.hold if name not in everything]
    if unknown:
        parser.error(f"no such set: {', '.join(unknown)} (sets: {', '.join(everything)})")
    thresholds = args.threshold or [THRESHOLD]
    model = train([s for name, s in everything.items() if name not in args.hold],
                  thresholds[0], args.ordinary_below, args.bare_below)
    if not args.hold:
        save(model, args.out)
        print(f"{args.out}: {len(model.weights)} weights, threshold {model.threshold}")
        return 0
    print("set       threshold  contact cases  rules alone  with the model"
          "  ordinary  changed (rules)  changed (with the model)")
    for name in args.hold:
        for threshold in thresholds:
            got = measure(replace(model, threshold=threshold), *everything[name])
            print(f"{name:10}{threshold:>9.1f}{got.cases:>15}"
                  f"{got.rules_caught / got.cases:>13.1%}{got.caught / got.cases:>16.1%}"
                  f"{got.ordinary:>10}{got.rules_changed / got.ordinary:>17.1%}"
                  f"{got.changed / got.ordinary:>26.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
