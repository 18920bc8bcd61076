"""A learned second look: sentences that pass a contact detail in a form no pattern knows.

The pattern rules recognise a detail by its shape, and the intent layer by a cue word next to
a weaker shape. Out of sample both miss the same kinds of sentence: a number written with
letters for digits or backwards, a name to search on another site, a street described by its
landmarks, a handle after a marketplace's name in another language. What those sentences have
in common is the way they are said, so a linear model over each sentence's words, word pairs,
character 4-grams (digits folded to "0") and the shapes of its words (capitals: a name)
scores it; a sentence above the threshold is removed whole, under the code a second, smaller
model gives it.

The weights (`data/contact_model.json.gz`) are trained by `tools/train_contact_model.py` on the
labelled corpus in tests/data/policy; nothing is downloaded or trained at run time. The
threshold was chosen on sets held out of the training (docs/rules.md has the figures).
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise

from relay.rules.phone import MASK, mask, mask_shapes

# A sentence ends at a line break, at ". " "! " "? ", or at a CJK full stop.
_BREAK = re.compile(r"\n\s*|(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])")
_TOKEN = re.compile(r"\w+|[^\w\s]")
_ABBREVIATION_END = re.compile(
    r"(?<![^\W\d_])(?:inkl|zzgl|ca|bzw|ggf|evtl|approx|aprox|env|incl|excl|max|min|nr|no|"
    r"ref|art|vol|st|stk|pcs|pz|ud|uds|sz|kb|ok|cca|tj|pribl)\.$",
    re.IGNORECASE)
# A street word's short form before the street's name is no sentence's end either ("el punto
# de Andreani de Av. Cabildo", "Jl. Kemang Raya").
_STREET_ABBREVIATION_END = re.compile(
    r"(?<![^\W\d_])(?:av|avda|ave|rd|str|blvd|bd|ul|jl|jln|pl|al|bul|pr|sq|hwy|pk|dr|sr|sra|"
    r"mr|mrs|ms|dr|prof|ing|arq|lic|dott|dtt|sig|hr|fr|mme|mlle)\.$", re.IGNORECASE)
_MASKED = re.compile(MASK + "+")
# Every script's digits read as "0": the model learns how many digits, not which.
_DIGIT = re.compile(r"\d")
_RUN = re.compile(r"0+")
# Month names and their short forms in the languages with the most corpus text.
_MONTH_NAMES = (
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june "
    "july august september october november december januar februar märz mai juni juli "
    "oktober dezember janvier février mars avril juin juillet août septembre octobre novembre "
    "décembre enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre "
    "noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre ottobre "
    "dicembre janeiro fevereiro março maio junho julho setembro outubro dezembro januari "
    "februari maart mei augustus okt dez déc févr ene dic set ott out mrt "
    # Nordic, Finnish, Polish, Czech, Hungarian, Romanian, Turkish, Indonesian and Malay
    "marts augusti desember tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta "
    "kesäkuuta heinäkuuta elokuuta syyskuuta lokakuuta marraskuuta joulukuuta stycznia "
    "lutego marca kwietnia maja czerwca lipca sierpnia września października listopada "
    "grudnia ledna února března dubna května června července srpna září října listopadu "
    "prosince január február március április május június július augusztus szeptember "
    "október ianuarie februarie martie aprilie iunie iulie septembrie octombrie noiembrie "
    "decembrie ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık "  # noqa: RUF001
    "maret agustus desember mac julai ogos disember "
    # Welsh, Basque, Catalan
    "ion chwe maw ebr meh gorff medi hyd tach rhag ionawr chwefror mawrth ebrill mehefin "
    "gorffennaf awst hydref tachwedd rhagfyr urtarrila otsaila martxoa apirila maiatza ekaina "
    "uztaila abuztua iraila urria azaroa abendua gener febrer març maig juny juliol agost "
    "setembre desembre")
# Words that say a day, month or year by its number ("ngày 14 tháng 3 năm 2025").
_DATE_WORDS = frozenset(("ngày", "tháng", "năm"))
_MONTHS = frozenset(_MONTH_NAMES.split())
_WORD = re.compile(r"[^\W\d_]{3,13}")
_SHAPE_WORD = re.compile(r"[^\W\d_]+|\d+")
_NUMBER_AFTER = re.compile(r"\s\d{1,4}(?!\d)")
# "12 March", "3. März", "5 de mayo" before the name; "12, 2025", "5th 2026" after it.
_DAY_BEFORE = re.compile(r"(?<!\d)\d{1,2}(?:st|nd|rd|th|er|º)?\.?\s(?:de\s)?$")
_DAY_AFTER = re.compile(
    r"\.?(?:,?\s\d{1,2}(?!\d)(?:st|nd|rd|th)?)?(?:,?\s(?:de\s)?(?:19|20)\d\d\b)?")
_CJK_DATE = re.compile(r"(?=\d)(?:\d{2,4}\s?[年년]\s?)?\d{1,2}\s?[月월]\s?(?:\d{1,2}\s?[日일])?")
CODES = ("contact.email", "contact.phone", "contact.address", "contact.social")
# Letters and digits a sentence needs to pass a detail: "Kb." (an abbreviation cut off as a
# sentence of its own) holds none, the shortest handle or number has five.
_LEAST = 5


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank sentence of `text`. An abbreviation's period before a
    number is no sentence's end ("inkl. 2 Akkus", "ca. 5 cm", "approx. 3 kg", "Nr. 12"): the
    number is read in its sentence; nor is a street word's or a title's before a name
    ("Av. Cabildo", "Mr. Bello")."""
    last = 0
    for m in _BREAK.finditer(text):
        if m.end() < len(text) and "\n" not in m.group() and (
                (text[m.end()].isdigit() and _ABBREVIATION_END.search(
                    text, max(0, m.start() - 7), m.start()))
                or (text[m.end()].isupper() and _STREET_ABBREVIATION_END.search(
                    text, max(0, m.start() - 6), m.start()))):
            continue
        if m.start() > last and not text[last:m.start()].isspace():
            yield last, m.start()
        last = m.end()
    if last < len(text) and not text[last:].isspace():
        yield last, len(text)


def features(sentence: str) -> list[str]:
    """What the model reads of a sentence: its character 4-grams (white space runs as one
    space), its words and word pairs (digit runs longer than 12 cut to 12), its count of
    digits in steps of three, and the shapes of its words in twos and threes. A masked run
    (an allowed link, a date, a price, a labelled number) reads as one mark. The grams are the
    text's own slices; the other features start with a line break, which no gram holds, so
    one table keeps them all apart."""
    return _features(_DIGIT.sub("0", sentence.lower()), sentence)


def _shape(word: str) -> str:
    if word[0].isdigit():
        return "0"
    if word.islower():
        return "x"
    if word[0].isupper():
        return "X" if word.isupper() and len(word) > 1 else "Xx"
    return "?"


def _shapes(sentence: str) -> list[str]:
    """The shapes of the sentence's words in twos and threes ("Xx Xx" for "Kovács Bence"):
    the rest is read in lower case, and a name to look up elsewhere is told by its capitals."""
    shapes = list(map(_shape, _SHAPE_WORD.findall(sentence)))
    return ["\ns2 " + " ".join(shapes[i:i + 2]) for i in range(len(shapes) - 1)] + \
        ["\ns3 " + " ".join(shapes[i:i + 3]) for i in range(len(shapes) - 2)]


def _features(low: str, sentence: str) -> list[str]:
    """features() of `sentence`, given it in lower case with its digits read as "0" (`low`)."""
    if MASK in low:
        low = _MASKED.sub(MASK, low)
    flat = " " + " ".join((_RUN.sub("0", low) if "00" in low else low).split()) + " "
    found = [flat[i:i + 4] for i in range(len(flat) - 3)]
    words = [w if len(w) <= 12 or w.strip("0") else "000000000000"
             for w in _TOKEN.findall(low)]
    found += ["\n" + w for w in words]
    found += ["\n" + a + " " + b for a, b in pairwise(words)]
    found.append(f"\n#{min(low.count('0') // 3, 6)}")
    found += _shapes(sentence)
    # Each once: a long run of digits is not twenty times the evidence of a short one.
    return list(dict.fromkeys(found))


def _mask_dates(text: str) -> str:
    """Dates with a month's name ("March 12, 2025", "3. März 2026", "5 de mayo de 2026",
    "2025年3月12日") masked: "12, 2025" has the shape of a house number and a postcode. The
    text's words are looked up once; only a month's name has its neighbours read."""
    spans = []
    for m in _WORD.finditer(text):
        word = m.group().lower()
        if word in _DATE_WORDS:
            if (number := _NUMBER_AFTER.match(text, m.end())) is not None:
                spans.append((m.start(), number.end()))
            continue
        if word not in _MONTHS:
            continue
        start, end = m.span()
        if (day := _DAY_BEFORE.search(text, max(0, start - 9), start)) is not None:
            start = day.start()
        if (day := _DAY_AFTER.match(text, end)) is not None and day.group().strip(". "):
            end = day.end()
        if (start, end) != m.span():
            spans.append((start, end))
    for start, end in reversed(spans):
        text = text[:start] + MASK * (end - start) + text[end:]
    return _CJK_DATE.sub(lambda m: MASK * len(m.group(0)), text) if "月" in text or "월" in text \
        else text


def read(text: str) -> Iterator[tuple[int, int, list[str]]]:
    """Each sentence of `text` (the rules' view) with its features; the numbers the phone rule
    knows for ordinary by their shape (dates, times, prices, sizes) and dates with a month's
    name are masked first."""
    protected = _mask_dates(mask_shapes(text))
    # Lower case and digits once for the whole text, where that keeps every position
    # (lower() lengthens a few letters, "İ" among them).
    low = protected.lower()
    if len(low) != len(protected):
        for start, end in sentences(protected):
            yield start, end, features(protected[start:end])
        return
    low = _DIGIT.sub("0", low)
    for start, end in sentences(protected):
        yield start, end, _features(low[start:end], protected[start:end])


@dataclass(frozen=True)
class ContactModel:
    weights: dict[str, float]
    bias: float
    threshold: float
    # Below this a sentence reads as plainly ordinary: the weakest findings stay out of it.
    ordinary_below: float
    # Per code, the weights that tell which kind of detail a flagged sentence passes.
    code_weights: dict[str, dict[str, float]]
    # Below this a bare digit run (no "+", no brackets) stays: part, serial and reference
    # numbers after labels no list knows have that shape, so it needs a sentence that reads
    # less ordinary than the other weak findings do (None: `ordinary_below`).
    bare_below: float | None = None

    @classmethod
    @cache  # read once per process: the rules of every stage share it
    def load(cls) -> ContactModel:
        data = resources.files("relay.rules").joinpath("data/contact_model.json.gz")
        return cls.from_dict(json.loads(gzip.decompress(data.read_bytes())))

    @classmethod
    def from_dict(cls, raw: dict) -> ContactModel:  # type: ignore[type-arg]
        return cls(raw["weights"], raw["bias"], raw["threshold"], raw["ordinary_below"],
                   raw["code_weights"], raw.get("bare_below"))

    def score(self, found: list[str]) -> float:
        # filter(None, ...) drops the features the table does not know: the sum stays in C.
        return self.bias + sum(filter(None, map(self.weights.get, found)))

    def code(self, found: list[str]) -> str:
        def score(code: str) -> float:
            weights = self.code_weights[code]
            return weights.get("", 0.0) + sum(filter(None, map(weights.get, found)))
        return max(CODES, key=score)

    def scored(self, text: str) -> list[tuple[int, int, float, list[str]]]:
        """Each sentence of `text`: (start, end, score, features)."""
        return [(start, end, self.score(found), found) for start, end, found in read(text)]

    def passes_without(self, sentence: str, found: list[tuple[int, int]]) -> bool:
        """Whether `sentence` still passes a detail once the spans the rules found in it are
        masked: what the rules took may have been all of it."""
        for start, end in found:
            sentence = sentence[:start] + MASK * (end - start) + sentence[end:]
        return self.passes(sentence, self.score(features(sentence)))

    def passes(self, sentence: str, score: float) -> bool:
        """Whether a sentence scored `score` passes a contact detail: above the threshold, also
        once every number the phone rule keeps as ordinary (a number after a label, as in
        "Vergleichsnummer 0 281 002 754") is masked. That masking costs too much to run on
        every sentence; it runs on the few above the threshold. A sentence of fewer than five
        letters and digits holds no detail."""
        return score > self.threshold and sum(map(str.isalnum, sentence)) >= _LEAST and \
            self.score(features(mask(_mask_dates(sentence)))) > self.threshold
