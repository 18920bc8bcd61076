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
import threading
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
# Characters nearly every text has: needing one of them is needing nothing.
_EVERYWHERE = frozenset(" .,-'\":;!?()\n")
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
        if len(core) == 1 and not string.count(BOUNDARY):  # "@" tells more than "."
            return 0 if core in _EVERYWHERE else 1 + (not _word_char(core))
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
    if op is _c.LITERAL:
        return {_char(av, bool(flags & re.IGNORECASE))}
    if op is _c.AT:
        return {BOUNDARY} if av is _c.AT_BOUNDARY else {""}
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return {_gap(op, av, flags)}
    if op is _c.SUBPATTERN:
        return _exact_sequence(av[3], _ignores_case(flags, av))
    spell = _SPELLERS.get(op)
    return spell(av, flags) if spell is not None else None


def _exact_in(av: Any, flags: int) -> set[str] | None:
    """A class of a few characters: each of them (every space as one)."""
    chars = set()
    for member, value in av:
        if member is _c.LITERAL:
            chars.add(_char(value, bool(flags & re.IGNORECASE)))
        elif member is _c.CATEGORY and value in (_c.CATEGORY_SPACE, _c.CATEGORY_UNI_SPACE):
            chars.add(" ")
        else:
            return None
    return chars if len(chars) <= 8 else None


def _exact_branch(av: Any, flags: int) -> set[str] | None:
    found: set[str] = set()
    for branch in av[1]:
        strings = _exact_sequence(branch, flags)
        if strings is None or len(found | strings) > _LIMIT:
            return None
        found |= strings
    return found


def _exact_repeat(av: Any, flags: int) -> set[str] | None:
    """A repeat of at most three times: each count of it."""
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


_SPELLERS: dict[Any, Any] = {} if _parser is None else {
    _c.IN: _exact_in, _c.BRANCH: _exact_branch, _c.MAX_REPEAT: _exact_repeat,
    _c.MIN_REPEAT: _exact_repeat, _c.POSSESSIVE_REPEAT: _exact_repeat}


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

    def flush(strings: set[str] | None) -> None:
        if strings and all(_core(s) for s in strings):
            candidates.append(frozenset(strings))

    for index, (op, av) in enumerate(items):
        if run == {""} and (before := _lookbehind(op, av, flags)) is not None:
            run = before
            continue
        exact = _exact(op, av, flags)
        if exact is not None:
            longer = _product(run, exact)
            if longer is None:
                flush(run)
            run = exact if longer is None else longer
            continue
        candidates += _through_group(items, index, flags, run)
        flush(run)
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            body = _exact_sequence(av[2], flags)
            if body is not None:  # "\s+": one space at least, before what follows
                flush(_product(run, body))
                run = body
                continue
            run = _trailing(av[2], flags)  # "(?:x\.)+": the last time through ends in "."
        else:
            run = {""}
        needed = _item(op, av, flags)
        if needed is not None:
            candidates.append(needed)
    flush(run)
    return candidates


def _through_group(items: list[tuple[Any, Any]], index: int, flags: int,
                   run: set[str]) -> list[Strings]:
    """What a group needs with what stands before it (and, for an alternation, the exact
    items after it) taken into each way through it."""
    op, av = items[index]
    if op is _c.SUBPATTERN:  # a group that changes flags
        inner = _sequence(av[3], _ignores_case(flags, av), run)
        return [inner] if inner is not None else []
    if op is not _c.BRANCH:
        return []
    after = []
    for follower in items[index + 1:index + 5]:
        if _exact(*follower, flags) is None:
            break
        after.append(follower)
    ways = [_sequence([*branch, *after], flags, run) for branch in av[1]]
    if any(way is None for way in ways):
        return []
    return [frozenset().union(*ways)]  # type: ignore[arg-type]


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
        candidates = sorted((c for c in set(_candidates(sequence, flags)) if _strength(c)[0]),
                            key=lambda c: (_strength(c), sorted(c)), reverse=True)
        if not candidates:  # nothing, or only what every text has
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
# In ASCII text every character that is no word character, to split the words apart.
_ASCII_BREAKS = {c: 0x20 for c in range(128) if not _word_char(chr(c))}


def trie(strings: set[str]) -> str:
    """A pattern that finds the longest of the strings at a place (they share beginnings)."""
    root: dict[str, Any] = {}
    for string in strings:
        node = root
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        ways = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not ways:
            return ""
        body = ways[0] if len(ways) == 1 else "(?:" + "|".join(ways) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(root)


class _Atoms:
    """Every needed string of every gate, numbered once, and what finds the words among them
    in one pass over a text's words: a set of whole words, and patterns for the longest
    needed beginning of each word (and ending, over the words written backwards)."""

    def __init__(self) -> None:
        self.tests: list[_Test] = []
        self.numbers: dict[str, int] = {}
        self._built = -1
        self._lock = threading.Lock()
        self.words: dict[bool, dict[str, list[int]]] = {}
        self.parts: dict[tuple[bool, bool], tuple[re.Pattern[str], dict[str, list[int]]]] = {}

    def number(self, string: str) -> int:
        if string not in self.numbers:
            self.numbers[string] = len(self.tests)
            self.tests.append(_Test(string))
        return self.numbers[string]

    def build(self) -> None:
        """(Re)build the lookups for the strings numbered so far (once, when first asked)."""
        with self._lock:
            if self._built == len(self.tests):
                return
            words: dict[bool, dict[str, list[int]]] = {True: {}, False: {}}
            parts: dict[tuple[bool, bool], dict[str, list[int]]] = {
                (case, start): {} for case in (True, False) for start in (True, False)}
            for number, test in enumerate(self.tests):
                if test.kind == "word":
                    words[test.any_case].setdefault(test.word, []).append(number)
                elif test.kind in ("start", "end"):
                    part = test.word if test.kind == "start" else test.word[::-1]
                    parts[(test.any_case, test.kind == "start")].setdefault(part, []).append(
                        number)
            self.words = words
            self.parts = {}
            for key, found in parts.items():
                # A longest part found stands for every shorter one it begins with.
                closure = {p: [n for q, ns in found.items() if p.startswith(q) for n in ns]
                           for p in found}
                self.parts[key] = (re.compile(" " + trie(set(found))), closure)
            self._built = len(self.tests)
            _seen.cache_clear()  # what was seen before knew fewer strings
            _last.clear()


_ATOMS = _Atoms()


class _Seen:
    """What one text holds of all the needed strings: the words found at once, each string
    confirmed (or found) in the text only when a gate asks for it."""

    def __init__(self, text: str, like: _Seen | None = None) -> None:
        self.text = text
        self._known: dict[int, bool] = {}
        if like is not None:  # the same text but for white space: the same words
            self.words, self.spaced, self.present = like.words, like.spaced, like.present
            return
        words = set(text.translate(_ASCII_BREAKS).split() if text.isascii()
                    else _WORD.findall(text))
        joined = " ".join(words)
        folded = _folded(joined)  # a word stays one: folding keeps places, adds no space
        self.words = {False: words, True: set(folded.split(" "))}
        self.spaced = {False: f" {joined} ", True: f" {folded} "}
        present: set[int] = set()
        for any_case, these in self.words.items():
            wanted = _ATOMS.words[any_case]
            for word in these & wanted.keys():
                present.update(wanted[word])
            for start in (True, False):
                finder, closure = _ATOMS.parts[(any_case, start)]
                where = self.spaced[any_case] if start else self.spaced[any_case][::-1]
                for m in finder.finditer(where):
                    present.update(closure[m.group()[1:]])
        self.present = present  # strings whose word is there (the rest still to be checked)

    def holds(self, number: int) -> bool:
        known = self._known.get(number)
        if known is None:
            test = _ATOMS.tests[number]
            if test.kind == "find":
                known = test.holds(self.text)
            elif test.kind == "inner":
                known = test.probe in self.spaced[test.any_case] and test.holds(self.text)
            else:
                known = number in self.present and (test.whole or test.holds(self.text))
            self._known[number] = known
        return known


_last: list[_Seen] = []  # the one made last


@lru_cache(maxsize=16)
def _seen(text: str) -> _Seen:
    # The content rules read the body with its lines rejoined and the white space around it
    # gone: the same words as the body, which the reading has just seen.
    like = _last[0] if _last else None
    if like is not None and not (len(like.text) >= len(text) >= len(like.text) * 0.9 and (
            like.text.replace("\r\n", "\n").strip() == text
            or like.text.split() == text.split())):
        like = None
    seen = _Seen(text, like)
    _last[:] = [seen]
    return seen


def _seen_now(text: str) -> _Seen:
    if _ATOMS._built != len(_ATOMS.tests):
        _ATOMS.build()
    return _seen(text)


def distinct_words(text: str) -> str:
    """The text's different words (runs of word characters), each once, between spaces: what
    a pattern of word characters alone finds in the text, it finds here, in fewer steps."""
    return _seen_now(text).spaced[False]


class _Test:
    """How one needed string is looked for: first as a word of the text, or a word's
    beginning or ending (cheap, and most texts have none of them), then found in the text
    with what its marks say, unless the word says all of it."""

    def __init__(self, string: str) -> None:
        self.any_case = string[:1] == ANY_CASE
        items = list(string.removeprefix(ANY_CASE))
        self.core = _core(string)
        self.marks = _mark_places(items)
        self.kind, self.word, self.probe, self.whole = "find", "", "", False
        if self.any_case and any(c in _MIXED for c in self.core):
            return
        best = _best_word(items)
        if best is not None:
            self.kind, self.word = best
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


def _mark_places(items: list[str]) -> tuple[tuple[int, str], ...]:
    """Each mark of a needed string, with the place in its characters it stands at."""
    marks, offset = [], 0
    for item in items:
        if item in _MARKS:
            marks.append((offset, item))
        else:
            offset += 1
    return tuple(marks)


def _best_word(items: list[str]) -> tuple[str, str] | None:
    """The run of word characters of a needed string that best finds it among a text's
    words: a whole word (its ends marked or beside characters that are no word's), else a
    word's beginning or ending; the longer the better. None: there is no such run."""
    best: tuple[int, int, str, str] | None = None
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
        # "i", "a", "1" are in most texts: better found as part of what stands around them.
        if kind is not None and j - i >= 2 and j - i + left + right >= 3:
            rank = (j - i + left + right, ("end", "start", "word").index(kind), kind,
                    "".join(items[i:j]))
            if best is None or rank[:2] > best[:2]:
                best = rank
        i = j
    return None if best is None else (best[2], best[3])


def _closed(items: list[str], at: int, step: int, marks: tuple[str, ...]) -> bool:
    """Whether a run of word characters ends here: the string goes on with a character that
    is no word character, or with a mark that says no word character stands there."""
    while 0 <= at < len(items) and items[at] in _MARKS:
        if items[at] in marks:
            return True
        at += step
    return 0 <= at < len(items) and not _word_char(items[at])


class _Clause:
    """One set of needed strings, any of which will do: those found by their words (a set
    lookup in what the text holds), and the others, checked one by one."""

    def __init__(self, strings: tuple[str, ...]) -> None:
        self.numbers = frozenset(_ATOMS.number(s) for s in strings)
        self.by_word = frozenset(n for n in self.numbers
                                 if _ATOMS.tests[n].kind in ("word", "start", "end"))
        self.others = tuple(sorted(self.numbers - self.by_word))

    def found(self, seen: _Seen) -> bool:
        return any(seen.holds(n) for n in self.by_word & seen.present) or any(
            seen.holds(n) for n in self.others)


class WordIn:
    """A hint: the text has one of these words (as written), a word of its own."""

    def __init__(self, words: str) -> None:
        self.words = frozenset(words.split())

    def search(self, text: str) -> bool:
        return not self.words.isdisjoint(_seen_now(text).words[False])


class StartsAt:
    """A hint that is a pattern starting with one of a few characters: tried where they
    stand (found quickly) rather than at every place of the text."""

    def __init__(self, chars: str, pattern: re.Pattern[str]) -> None:
        self.chars, self.pattern = chars, pattern

    def search(self, text: str) -> bool:
        for char in self.chars:
            at = text.find(char)
            while at >= 0:
                if self.pattern.match(text, at):
                    return True
                at = text.find(char, at + 1)
        return False


class Words:
    """A hint asked of the text's different words, each once between single spaces (fewer
    than the text): " \\d{5} " finds whether one of its words is five digits."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(distinct_words(text))


def _hint_found(hint: Hint, text: str) -> bool:
    if isinstance(hint, tuple):  # all of them
        return all(h.search(text) for h in hint)
    return bool(hint.search(text))


def _unmarked(ways: Ways) -> Ways:
    """For searches that end early (endpos): there a word may end where the text goes on.
    The strings alone, no word boundary, stand for such a window too."""
    return tuple(tuple(_minimal(frozenset("".join(c for c in s if c not in _MARKS)
                                          for s in clause)) for clause in way) for way in ways)


class _Needs:
    """A pattern's ways and what each needs, asked of what a text holds: first the first
    set of every way at once (most texts have none of them), then, for the strings the text
    holds, only the ways those touch."""

    def __init__(self, ways: Ways) -> None:
        clauses = [[_Clause(c) for c in way] for way in ways]
        self._by_word = frozenset().union(*(c.by_word for way in clauses for c in way))
        self._others = tuple(sorted(frozenset().union(*(c.others for way in clauses
                                                         for c in way))))
        sets = sorted({c.numbers for way in clauses for c in way}, key=sorted)
        # Which sets each string is in, and which ways each set is part of.
        self._sets_of = {n: frozenset(i for i, c in enumerate(sets) if n in c)
                         for n in self._by_word | set(self._others)}
        self._ways = tuple(frozenset(sets.index(c.numbers) for c in way) for way in clauses)
        self._ways_of = {i: tuple(w for w in self._ways if i in w) for i in range(len(sets))}
        self._first = _Clause(_minimal(frozenset().union(*(w[0] for w in ways))))
        self._single = all(len(way) == 1 for way in self._ways)

    def held_by(self, seen: _Seen) -> bool:
        if not self._first.found(seen):
            return False
        if self._single:
            return True
        met: set[int] = set()  # the sets met by the strings the text holds
        for number in (*(self._by_word & seen.present), *self._others):
            if seen.holds(number):
                met |= self._sets_of[number]
        return any(way <= met for i in met for way in self._ways_of[i])


class Gated:
    """A pattern that is only run over a text that holds what it needs (needs()), and where
    one of its hints (each a pattern that any text it matches, or any match its caller keeps,
    also matches; a tuple: all of them) finds something. The whole text is asked, also for a
    search within a window of it."""

    def __init__(self, pattern: re.Pattern[str], *hints: Hint, windows: bool = False) -> None:
        self.pattern = pattern
        self.hints = hints
        self.ways = needs(pattern)
        if windows and self.ways is not None:
            self.ways = _unmarked(self.ways)
        self._needs = None if self.ways is None else _Needs(self.ways)
        self._last: tuple[str, bool] | None = None  # the text asked last, and the answer

    def may_match(self, text: str) -> bool:
        last = self._last
        if last is not None and last[0] is text:
            return last[1]
        # What it needs first (mostly set lookups in what the text holds), then the hints.
        answer = self._needs is None or self._needs.held_by(_seen_now(text))
        if answer and self.hints:
            answer = any(_hint_found(hint, text) for hint in self.hints)
        self._last = (text, answer)
        return answer

    # No endpos: a search that ends early can match where the text does not (a word cut
    # short there); a start further on only skips matches (what stands before is still seen).
    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.pattern.search(text, pos) if self.may_match(text) else None

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.pattern.match(text, pos) if self.may_match(text) else None

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text, pos) if self.may_match(text) else iter(())

    def sub(self, repl: Any, text: str) -> str:
        return self.pattern.sub(repl, text) if self.may_match(text) else text


# A hint: a pattern, a Words, WordIn, StartsAt or Gated searched, or a tuple of them all found.
Hint = re.Pattern[str] | Words | WordIn | StartsAt | Gated | tuple[
    re.Pattern[str] | Words | WordIn | StartsAt, ...]


class Gates:
    """Several gates asked at once, before any of them: where what they need (the first
    sets of all their ways together) is not in a text, each learns so without asking."""

    def __init__(self, *gates: Gated) -> None:
        self.gates = tuple(g for g in gates if g.ways is not None)
        self._first = _Clause(_minimal(frozenset().union(*(
            w[0] for g in self.gates for w in g.ways or ()))))
        self._last: str | None = None

    def ask(self, text: str) -> None:
        if self._last is text:
            return
        self._last = text
        if not self._first.found(_seen_now(text)):
            for gate in self.gates:
                gate._last = (text, False)
