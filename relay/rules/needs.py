"""What a pattern cannot match without: strings one of which any match must contain.

A pattern none of whose strings is in a text is not run over it: an ordinary message names no
coupon, no review, no street, and most patterns then cost nothing. The strings are read off the
pattern's own parse tree, so they cannot drift from it; they are compared the way the regex
engine compares (letters case-folded where the pattern ignores case, every white space as one
space, a word boundary checked where the pattern has one), so a text that a pattern matches
always passes its test: the test only ever skips work, never a match.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

try:  # the engine's own parser and case tables (CPython 3.11+)
    import re._casefix as _casefix
    import re._constants as _c
    import re._parser as _parser
except ImportError:  # pragma: no cover - another interpreter: every pattern just runs
    _parser = None  # type: ignore[assignment]

# In a needed string: a word boundary stands here (\b); no word character stands before
# this point, or after it; and, at its start: the string ignores case.
BOUNDARY = "\ue000"
GAP_BEFORE = "\ue002"
GAP_AFTER = "\ue003"
ANY_CASE = "\ue001"
_MARKS = (BOUNDARY, GAP_BEFORE, GAP_AFTER)
# Exact sets bigger than this are not worth spelling out.
_LIMIT = 128
# Words nearly every message has: no better a test than two letters.
_COMMON = frozenset({
    "the", "and", "you", "your", "our", "for", "with", "this", "that", "have", "here", "know",
    "need", "would", "will", "order", "next", "other", "items", "shop", "store", "hope", "good",
    "can", "please", "thank", "thanks", "hello", "from", "der", "die", "das", "und", "ich",
    "les", "des", "pour", "que", "por", "para", "con", "per", "che", "het", "een", "at", "on",
    "in", "to", "of", "is", "it", "an", "by", "up", "off", "or", "be", "as", "am", "are", "we",
    "me", "my", "so", "no", "not", "but", "all", "any", "out", "get", "one", "if", "into",
    "onto", "near", "down", "along", "de", "la", "le", "el", "en", "un", "una", "il", "di",
})

# The engine compares letters by their simple lower case, which str.lower() is but for "İ"
# (written as "i" and a combining dot: replaced first, so every character keeps its place),
# and treats a few more as one (dotless i and i, long s and s, final sigma and sigma, ...).
# Every kind of white space becomes one space, so that "\s" stands for a character too.
_SPACES = {c: 0x20 for c in range(sys.maxunicode + 1) if chr(c).isspace()}
_ASCII_SPACES = {c: 0x20 for c in _SPACES if c < 128}
_FOLD: dict[int, int] = dict(_SPACES)
if _parser is not None:
    for _char, _others in _casefix._EXTRA_CASES.items():
        _class = (_char, *_others)
        _FOLD[_char] = min((c for c in _class if chr(c).isalnum()), default=min(_class))


def _folded(text: str) -> str:
    if text.isascii():
        return text.lower().translate(_ASCII_SPACES)
    return text.replace("\u0130", "i").lower().translate(_FOLD)


@lru_cache(maxsize=64)
def fold(text: str) -> str:
    """The text as the engine's case-insensitive comparison sees it, white space as spaces,
    each character where it was (cached: every rule over one text asks for the same)."""
    return _folded(text)


@lru_cache(maxsize=64)
def spaced(text: str) -> str:
    """The text with every white space as one space, for the patterns that heed case."""
    return text.translate(_ASCII_SPACES if text.isascii() else _SPACES)


def _core(string: str) -> str:
    for mark in (*_MARKS, ANY_CASE):
        string = string.replace(mark, "")
    return string


def _fold_marked(string: str) -> str:
    """A needed string folded, its marks kept (folding keeps every character's place)."""
    return "".join(c if c in _MARKS else _folded(c) for c in string)


def _join(left: str, right: str) -> str:
    any_case = left[:1] == ANY_CASE or right[:1] == ANY_CASE
    joined = left.removeprefix(ANY_CASE) + right.removeprefix(ANY_CASE)
    # One half ignores case: the whole does (folding the other half only widens it).
    return ANY_CASE + _fold_marked(joined) if any_case else joined


Strings = frozenset[str]


def _strength(strings: Strings) -> tuple[int, int, int]:
    """How well a set of strings tells texts apart: its weakest string's length (up to 5; a
    common word counts as 2, a word boundary as a letter), then its shortest string's, then
    the fewer strings the better."""
    def length(string: str) -> int:
        core = _core(string)
        if core.strip().lower() in _COMMON:
            return 2
        return min(5, len(core) + sum(string.count(m) for m in _MARKS))

    weakest = min(map(length, strings))
    return weakest, min(len(_core(s)) for s in strings), -len(strings)


def _best(candidates: list[Strings]) -> Strings | None:
    return max(candidates, key=_strength) if candidates else None


def _product(left: set[str], right: set[str]) -> set[str] | None:
    if len(left) * len(right) > _LIMIT:
        return None
    return {_join(a, b) for a in left for b in right}


def _char(code: int, ci: bool) -> str:
    char = chr(code)
    if char.isspace():
        return " "
    return ANY_CASE + _folded(char) if ci else char


def _ignores_case(flags: int, av: Any) -> int:
    """The flags inside a group that adds or removes some."""
    _, add, remove, _ = av
    return (flags | add) & ~remove


def _exact(op: Any, av: Any, flags: int) -> set[str] | None:
    """Every string the item can match, if they are few; None otherwise."""
    ci = bool(flags & re.IGNORECASE)
    if op is _c.LITERAL:
        return {_char(av, ci)}
    if op is _c.AT:
        return {BOUNDARY} if av is _c.AT_BOUNDARY else {""}
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return {_gap(op, av, flags)}
    if op is _c.IN:
        chars = set()
        for member, value in av:
            if member is _c.LITERAL:
                chars.add(_char(value, ci))
            elif member is _c.CATEGORY and value in (_c.CATEGORY_SPACE,
                                                     _c.CATEGORY_UNI_SPACE):
                chars.add(" ")
            else:
                return None
        return chars if len(chars) <= 8 else None
    if op is _c.SUBPATTERN:
        return _exact_sequence(av[3], _ignores_case(flags, av))
    if op is _c.BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            strings = _exact_sequence(branch, flags)
            if strings is None or len(found | strings) > _LIMIT:
                return None
            found |= strings
        return found
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        low, high, body = av
        strings = _exact_sequence(body, flags)
        if strings is None or high > 3:
            return None
        found, power = set(), {""}
        for count in range(high + 1):
            if count >= low:
                found |= power
            if count < high:
                longer = _product(power, strings)
                if longer is None:
                    return None
                power = longer
        return found if len(found) <= _LIMIT else None
    return None


def _gap(op: Any, av: Any, flags: int) -> str:
    """What a lookaround says of the character beside it: that it is no word character (it
    is one of a few that are none, or it is none of a set that holds every word character);
    "" for anything else."""
    direction, body = av
    items = list(body)
    if op is _c.ASSERT:
        chars = _exact_sequence(items, flags)
        if not chars or not all(len(_core(c)) == 1 and not _word_char(_core(c)) for c in chars):
            return ""
    elif not (len(items) == 1 and items[0][0] is _c.IN and any(
            member is _c.CATEGORY and value in (_c.CATEGORY_WORD, _c.CATEGORY_UNI_WORD)
            for member, value in items[0][1])):
        return ""
    return GAP_BEFORE if direction == -1 else GAP_AFTER


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _exact_sequence(items: Any, flags: int) -> set[str] | None:
    strings: set[str] | None = {""}
    for op, av in items:
        exact = _exact(op, av, flags)
        if exact is None:
            return None
        strings = _product(strings, exact)  # type: ignore[arg-type]
        if strings is None:
            return None
    return strings


def _trailing(items: Any, flags: int) -> set[str]:
    """Strings one of which every match of the sequence ends with ({""}: none is known)."""
    strings = {""}
    for op, av in reversed(_flat(items)):
        exact = _exact(op, av, flags)
        if exact is None:
            break
        longer = _product(exact, strings)
        if longer is None:
            break
        strings = longer
    return strings


def _lookbehind(op: Any, av: Any, flags: int) -> set[str] | None:
    """The characters a one-character lookbehind ("(?<=\\s)") wants before the match."""
    if op is not _c.ASSERT or av[0] != -1:
        return None
    return _exact_sequence(av[1], flags)


def _flat(items: Any) -> list[tuple[Any, Any]]:
    """The items, with groups that change no flag opened up (a group only numbers a part)."""
    out: list[tuple[Any, Any]] = []
    for op, av in items:
        if op is _c.SUBPATTERN and not av[1] and not av[2]:
            out.extend(_flat(av[3]))
        else:
            out.append((op, av))
    return out


def _sequence(items: Any, flags: int, run: set[str] | None = None) -> Strings | None:
    """Strings one of which every match of the sequence holds; None: none is known. `run`:
    what stands right before the sequence, in every way it can."""
    return _best(_candidates(items, flags, run))


def _candidates(items: Any, flags: int, run: set[str] | None = None) -> list[Strings]:
    """Sets of strings each of which every match of the sequence holds one of."""
    items = _flat(items)
    candidates: list[Strings] = []
    run = run or {""}  # what the items since the last break spell, in every way they can

    def flush(strings: set[str]) -> None:
        if strings and all(_core(s) for s in strings):
            candidates.append(frozenset(strings))

    for index, (op, av) in enumerate(items):
        if run == {""} and (before := _lookbehind(op, av, flags)) is not None:
            run = before
            continue
        exact = _exact(op, av, flags)
        if exact is not None:
            longer = _product(run, exact)
            if longer is not None:
                run = longer
                continue
            flush(run)
            run = exact
            continue
        if op is _c.BRANCH:  # each way through, with what stands before and after it
            after = []
            for follower in items[index + 1:index + 5]:
                if _exact(*follower, flags) is None:
                    break
                after.append(follower)
            ways = [_sequence([*branch, *after], flags, run) for branch in av[1]]
            if all(way is not None for way in ways):
                candidates.append(frozenset().union(*ways))  # type: ignore[arg-type]
        if op is _c.SUBPATTERN:  # a group that changes flags: what stands before goes in
            inner = _sequence(av[3], _ignores_case(flags, av), run)
            if inner is not None:
                candidates.append(inner)
        flush(run)
        before_item, run = run, {""}
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            body = _exact_sequence(av[2], flags)
            if body is not None:  # "\s+": one space at least, before what follows
                joined = _product(before_item, body)
                if joined is not None:
                    flush(joined)
                run = body
                continue
            run = _trailing(av[2], flags)  # "(?:x\.)+": the last time through ends in "."
        needed = _item(op, av, flags)
        if needed is not None:
            candidates.append(needed)
    flush(run)
    return candidates


def _item(op: Any, av: Any, flags: int) -> Strings | None:
    if op is _c.SUBPATTERN:
        return _sequence(av[3], _ignores_case(flags, av))
    if op is _c.ATOMIC_GROUP:
        return _sequence(av, flags)
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        low, _, body = av
        return _sequence(body, flags) if low >= 1 else None
    if op is _c.BRANCH:
        found: set[str] = set()
        for branch in av[1]:
            needed = _sequence(branch, flags)
            if needed is None:
                return None
            found |= needed
        return frozenset(found)
    return None


def _holds(longer: str, shorter: str) -> bool:
    """Wherever `longer` is found, `shorter` is too."""
    if shorter[:1] == ANY_CASE:
        where = longer[1:] if longer[:1] == ANY_CASE else _fold_marked(longer)
        return shorter[1:] in where
    return longer[:1] != ANY_CASE and shorter in longer


def _minimal(strings: Strings) -> tuple[str, ...]:
    """A string that holds another adds nothing: the shorter one is found wherever it is."""
    return tuple(sorted(s for s in strings if not any(
        t != s and _holds(s, t) for t in strings)))


Ways = tuple[tuple[tuple[str, ...], ...], ...]


def _ways(pattern: re.Pattern[str]) -> Ways | None:
    """Each way through the pattern's one alternation at the top (or the pattern itself), with
    the two best sets of strings it needs (both of them); None: none is known."""
    flags = pattern.flags
    items = _flat(_parser.parse(pattern.pattern, flags).data)
    branches = [i for i, (op, _) in enumerate(items) if op is _c.BRANCH]
    if len(branches) == 1:
        at = branches[0]
        sequences = [[*items[:at], *way, *items[at + 1:]] for way in items[at][1][1]]
    else:
        sequences = [items]
    ways = []
    for sequence in sequences:
        candidates = sorted(set(_candidates(sequence, flags)), key=_strength, reverse=True)
        if not candidates:
            return None
        ways.append(tuple(_minimal(c) for c in candidates[:2]))
    return tuple(ways)


def needs(pattern: re.Pattern[str]) -> Ways | None:
    """For each way through the pattern, sets of strings (all of them) one string of each
    of which every match that way holds (ANY_CASE first: compare folded; BOUNDARY, GAP_BEFORE,
    GAP_AFTER: what stands there); None: nothing is known."""
    if _parser is None or any(m in pattern.pattern for m in (*_MARKS, ANY_CASE)):
        return None
    try:
        return _ways(pattern)
    except Exception:  # an unknown tree: no shortcut, the pattern runs
        return None


def _is_word(text: str, at: int) -> bool:
    return 0 <= at < len(text) and _word_char(text[at])


def _marks_hold(text: str, at: int, marks: tuple[tuple[int, str], ...]) -> bool:
    """The marks of a string found at `at`, judged on the text itself (folding keeps every
    character's place)."""
    for offset, mark in marks:
        before, after = _is_word(text, at + offset - 1), _is_word(text, at + offset)
        if (before == after) if mark == BOUNDARY else (before if mark == GAP_BEFORE else after):
            return False
    return True


# Characters that the engine takes for one another though one is a word character and the
# other is not (the Greek iota and its subscript): a word test cannot stand for them.
_MIXED = frozenset(chr(c) for cls in ((k, *v) for k, v in (
    _casefix._EXTRA_CASES.items() if _parser is not None else ()))
    if len({_word_char(chr(x)) for x in cls}) > 1 for c in cls)
if _parser is not None:
    _MIXED = _MIXED | {_folded(c) for c in _MIXED}
_WORD = re.compile(r"\w+")


class _Words:
    """The different words of a text (runs of word characters), as written and folded: as
    sets, and each between spaces in one string, where " pre" finds a word's beginning and
    "fix " a word's ending."""

    def __init__(self, text: str) -> None:
        cased = set(_WORD.findall(text))
        self.cased = frozenset(cased)
        joined = " ".join(cased)
        self.cased_spaced = f" {joined} "
        folded = _folded(joined)  # a word stays one: folding keeps places, adds no space
        self.folded = frozenset(folded.split(" "))
        self.folded_spaced = f" {folded} "


@lru_cache(maxsize=16)
def _words(text: str) -> _Words:
    return _Words(text)


def distinct_words(text: str) -> str:
    """The text's different words (runs of word characters), each once, between spaces: what
    a pattern of word characters alone finds in the text, it finds here, in fewer steps."""
    return _words(text).cased_spaced


class _Test:
    """How one needed string is looked for: first as a word of the text, or a word's
    beginning or ending (cheap, and most texts have none of them), then found in the text
    with what its marks say, unless the word says all of it."""

    def __init__(self, string: str) -> None:
        self.any_case = string[:1] == ANY_CASE
        items = list(string.removeprefix(ANY_CASE))
        self.core = _core(string)
        marks, offset = [], 0
        for item in items:
            if item in _MARKS:
                marks.append((offset, item))
            else:
                offset += 1
        self.marks = tuple(marks)
        self.kind, self.word, self.probe, self.whole = "find", "", "", False
        if self.any_case and any(c in _MIXED for c in self.core):
            return
        best: tuple[int, int, str, str, int, int] | None = None
        i = 0
        while i < len(items):
            if items[i] in _MARKS or not _word_char(items[i]):
                i += 1
                continue
            j = i
            while j < len(items) and items[j] not in _MARKS and _word_char(items[j]):
                j += 1
            left = _closed(items, i - 1, -1, (BOUNDARY, GAP_BEFORE))
            right = _closed(items, j, 1, (BOUNDARY, GAP_AFTER))
            kind = {(True, True): "word", (True, False): "start", (False, True): "end"}.get(
                (left, right))
            if kind is not None and j - i >= 2 and j - i + left + right >= 3:  # "i", "a", "1"
                # are in most texts: better found as part of what stands around them
                rank = (j - i + left + right, ("end", "start", "word").index(kind), kind,
                        "".join(items[i:j]), i, j)
                if best is None or rank[:2] > best[:2]:
                    best = rank
            i = j
        if best is not None:
            self.kind, self.word = best[2], best[3]
            self.probe = {"word": "", "start": " " + self.word, "end": self.word + " "}[self.kind]
            # The word is the whole string (marks only at its ends): finding it says all.
            self.whole = len(self.word) == len(self.core) and all(
                m in (0, len(self.core)) for m, _ in self.marks)
        elif len(self.core) >= 3 and all(map(_word_char, self.core)):
            # Word characters only: inside one word, so among the words (fewer than the text).
            self.kind, self.probe = "inner", self.core

    def holds(self, text: str) -> bool:
        """Whether the text holds the string, with what its marks say there."""
        where = fold(text) if self.any_case else spaced(text)
        if not self.marks:
            return self.core in where
        at = where.find(self.core)
        while at >= 0:
            if _marks_hold(text, at, self.marks):
                return True
            at = where.find(self.core, at + 1)
        return False


def _closed(items: list[str], at: int, step: int, marks: tuple[str, ...]) -> bool:
    """Whether a run of word characters ends here: the string goes on with a character that
    is no word character, or with a mark that says no word character stands there."""
    while 0 <= at < len(items) and items[at] in _MARKS:
        if items[at] in marks:
            return True
        at += step
    return 0 <= at < len(items) and not _word_char(items[at])


class _Clause:
    """One set of needed strings, looked for together: whole words by one set lookup per
    case, beginnings and endings of words in the string of the text's words."""

    def __init__(self, strings: tuple[str, ...]) -> None:
        tests = [_Test(s) for s in strings]
        self._words: dict[bool, dict[str, list[_Test]]] = {}
        for test in tests:
            if test.kind == "word":
                self._words.setdefault(test.any_case, {}).setdefault(test.word, []).append(test)
        self._word_sets = tuple((any_case, frozenset(found), found)
                                for any_case, found in self._words.items())
        self._parts = tuple(t for t in tests if t.kind in ("start", "end", "inner"))
        self._finds = tuple(t for t in tests if t.kind == "find")

    def found(self, text: str) -> bool:
        if self._word_sets or self._parts:
            words = _words(text)
            for any_case, wanted, tests in self._word_sets:
                present = (words.folded if any_case else words.cased) & wanted
                for word in present:
                    if any(t.whole or t.holds(text) for t in tests[word]):
                        return True
            for test in self._parts:
                if test.probe in (words.folded_spaced if test.any_case else words.cased_spaced) \
                        and (test.whole or test.holds(text)):
                    return True
        return any(test.holds(text) for test in self._finds)


class Gated:
    """A pattern that is only run over a text that holds what it needs (needs()), and where
    one of its hints (patterns that any text it matches also matches) finds something. The
    whole text is asked, also for a search within a window of it."""

    def __init__(self, pattern: re.Pattern[str], *hints: re.Pattern[str] | Gated) -> None:
        self.pattern = pattern
        self.hints = hints
        self.ways = needs(pattern)
        clauses: dict[tuple[str, ...], _Clause] = {}
        self._ways = tuple(tuple(clauses.setdefault(c, _Clause(c)) for c in way)
                           for way in self.ways or ())
        # First the first set of every way at once: most texts have none of them.
        self._first = _Clause(_minimal(frozenset().union(*(w[0] for w in self.ways or ()))))
        self._last: tuple[str, bool] | None = None  # the text asked last, and the answer

    def _holds_what_it_needs(self, text: str) -> bool:
        if not self._first.found(text):
            return False
        if all(len(way) == 1 for way in self._ways):
            return True
        known: dict[int, bool] = {}

        def found(clause: _Clause) -> bool:
            if id(clause) not in known:
                known[id(clause)] = clause.found(text)
            return known[id(clause)]

        return any(all(found(c) for c in way) for way in self._ways)

    def may_match(self, text: str) -> bool:
        last = self._last
        if last is not None and last[0] is text:
            return last[1]
        # The hints first: each is one quick search.
        answer = not self.hints or any(hint.search(text) for hint in self.hints)
        if answer and self.ways is not None:
            answer = self._holds_what_it_needs(text)
        self._last = (text, answer)
        return answer

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.pattern.search(text, pos, endpos) if self.may_match(text) else None

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.pattern.match(text, pos, endpos) if self.may_match(text) else None

    def finditer(self, text: str, pos: int = 0,
                 endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text, pos, endpos) if self.may_match(text) else iter(())

    def sub(self, repl: Any, text: str) -> str:
        return self.pattern.sub(repl, text) if self.may_match(text) else text
