"""Word-level comparison of changed lines: replacements, insertions, deletions, and pairing of
removed with added lines."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate

_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]", re.UNICODE)
_TOKEN_SPLIT = re.compile(f"({_TOKEN.pattern})", re.UNICODE)
""":data:`_TOKEN` as a split pattern: the text as white space, token, white space, …, white space."""
MAX_TERM_TOKENS = 6
"""A replacement longer than this on either side is a rewrite, not a term replacement."""


@dataclass(frozen=True, slots=True)
class WordDiff:
    replacements: tuple[tuple[str, str], ...]
    inserted: tuple[str, ...]
    deleted: tuple[str, ...]
    rewrite: bool
    """True when the lines differ by more than short term replacements."""
    short_replacements: tuple[tuple[str, str], ...] = ()
    """The replacements of at most :data:`MAX_TERM_TOKENS` tokens on each side."""
    mostly_new: bool = False
    """True when less than half of the shorter text is kept: a rewrite, not an edit (text only
    added to, or only cut from, a paragraph keeps all of the shorter side)."""


def _tokenize(text: str) -> tuple[list[str], list[int]]:
    """The tokens of ``text`` and the end offsets of its split parts: token ``i`` spans
    ``ends[2i]:ends[2i+1]`` (one split and one running sum, both in C: word diffs compare many
    lines, and one match object per token cost more than the comparison)."""
    parts = _TOKEN_SPLIT.split(text)
    return parts[1::2], list(accumulate(map(len, parts)))


@lru_cache(maxsize=4096)
def _bag(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text))


def similarity(a: str, b: str) -> float:
    """Share of words two lines have in common (2·|A∩B| / (|A|+|B|) over word multisets): the
    order-free upper bound of difflib's ratio, cheap enough to pair every line of large blocks."""
    if a == b:
        return 1.0
    ba, bb = _bag(a), _bag(b)
    total = ba.total() + bb.total()
    if not total:
        return 0.0
    if len(bb) < len(ba):
        ba, bb = bb, ba
    common = 0
    for word, n in ba.items():  # |A ∩ B| without building the intersection Counter
        m = bb.get(word)
        if m:
            common += n if n < m else m
    return 2 * common / total


def _span(text: str, ends: list[int], i: int, j: int) -> str:
    """The text of tokens ``i`` to ``j - 1`` (see :func:`_tokenize`)."""
    return text[ends[2 * i] : ends[2 * j - 1]]


def word_diff(old: str, new: str) -> WordDiff:
    """Compare two versions of a line word by word."""
    (ta, ea), (tb, eb) = _tokenize(old), _tokenize(new)
    sm = SequenceMatcher(None, ta, tb, autojunk=False)
    reps: list[tuple[str, str]] = []
    short: list[tuple[str, str]] = []
    ins: list[str] = []
    dels: list[str] = []
    changed_tokens = 0
    kept = 0
    rewrite = False
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            kept += i2 - i1
            continue
        changed_tokens += max(i2 - i1, j2 - j1)
        if op == "replace":
            pair = (_span(old, ea, i1, i2), _span(new, eb, j1, j2))
            if i2 - i1 > MAX_TERM_TOKENS or j2 - j1 > MAX_TERM_TOKENS:
                rewrite = True
            else:
                short.append(pair)
            reps.append(pair)
        elif op == "insert":
            ins.append(_span(new, eb, j1, j2))
        else:
            dels.append(_span(old, ea, i1, i2))
    total = max(len(ta), len(tb), 1)
    mostly_new = kept < 0.5 * min(len(ta), len(tb))
    rewrite = rewrite or changed_tokens / total > 0.5
    return WordDiff(tuple(reps), tuple(ins), tuple(dels), rewrite, tuple(short), mostly_new)


def pair_lines(removed: list[str], added: list[str], threshold: float = 0.5) -> list[tuple[int, int]]:
    """Pair removed with added lines of one change block: in order when the counts match and each
    pair is similar enough, else greedily by best similarity (keeping order)."""
    if not removed or not added:
        return []
    if len(removed) == len(added):
        pairs = [(i, i) for i in range(len(removed)) if similarity(removed[i], added[i]) >= threshold]
        if len(pairs) == len(removed):
            return pairs
    if len(removed) * len(added) > 400:
        # large blocks: only pair in order
        return [
            (i, i)
            for i in range(min(len(removed), len(added)))
            if similarity(removed[i], added[i]) >= threshold
        ]
    out: list[tuple[int, int]] = []
    j0 = 0
    for i, r in enumerate(removed):
        best, best_j = threshold, -1
        for j in range(j0, len(added)):
            s = similarity(r, added[j])
            if s > best:
                best, best_j = s, j
        if best_j >= 0:
            out.append((i, best_j))
            j0 = best_j + 1
    return out


_SMALL_EDIT_RATIO = 0.75


def is_typo_fix(old: str, new: str) -> bool:
    """A replacement that corrects spelling or punctuation: one or two words, mostly the same
    letters (``recieve`` → ``receive``, ``it's`` → ``its``)."""
    if len(old.split()) > 2 or len(new.split()) > 2:
        return False
    if not (any(c.isalpha() for c in old) and any(c.isalpha() for c in new)):
        return False  # a changed number (a version, a limit) is content, not a spelling fix
    if old.lower() == new.lower():
        return old != new and len(old) > 1
    return SequenceMatcher(None, old.lower(), new.lower()).ratio() >= _SMALL_EDIT_RATIO
