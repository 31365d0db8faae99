"""Recognising formatting-only edits."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_LIST = re.compile(r"^\s*(?:[-*+•·▪◦]|\d+[.)])\s+", re.MULTILINE)
_SUP = re.compile(r"<sup>[^<]*</sup>", re.IGNORECASE)
_REFNUM = re.compile(r"\[\d+\]")
_EMPH = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_PIPES = re.compile(r"\s*\|\s*")
_SEPCELL = re.compile(r":?-{2,}:?")
_REFLABEL = re.compile(r"(?<=\])\[[^\[\]]*\]|^([ \t]{0,3})\[[^\]]+\]:", re.MULTILINE)
"""The label of a reference link (``[text][label]``) or of a reference definition (``[label]: URL``)."""


_LETTERS = re.compile(r"[\W\d_]+")
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())


def _letters(s: str) -> str:
    """The letters of ``s``: without the characters ``_LETTERS`` matches (in ASCII text, all but
    ``A-Za-z``, removed by a byte table, many times faster than the Unicode pattern)."""
    if s.isascii():
        return s.encode("ascii").translate(None, _ASCII_NON_LETTERS).decode("ascii")
    return _LETTERS.sub("", s)


def _ws(s: str) -> str:
    return "".join(s.split())


def _lists(s: str) -> str:
    return _LIST.sub("", s)


def _footnotes(s: str) -> str:
    return _REFNUM.sub("[#]", _SUP.sub("<sup>#</sup>", s))


def _emphasis(s: str) -> str:
    return _EMPH.sub(r"\2", s)


def _table(s: str) -> str:
    return _SEPCELL.sub("-", _PIPES.sub("|", s))


def _link_references(s: str) -> str:
    if "][" not in s and "]:" not in s:  # what either alternative of the pattern needs
        return s
    return _REFLABEL.sub(lambda m: "[]" if m.group(1) is None else m.group(1) + "[]:", s)


STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("list-markers", _lists),
    ("footnotes", _footnotes),
    ("emphasis", _emphasis),
    ("table-alignment", _table),
    ("link-references", _link_references),
)


def formatting_kinds(removed: Sequence[str], added: Sequence[str]) -> tuple[str, ...] | None:
    """The formatting kinds that make ``removed`` and ``added`` equal, or None when the text differs.

    Line breaks and blank lines count as ``whitespace`` (``line-breaks`` when the text was re-wrapped).
    """
    r_lines = [ln for ln in removed if ln.strip()]
    a_lines = [ln for ln in added if ln.strip()]
    r = "\n".join(r_lines)
    a = "\n".join(a_lines)
    if not r_lines and not a_lines:
        return ("whitespace",) if (removed or added) else None
    if not r_lines or not a_lines:
        return None
    # every step below keeps the letters outside <sup> (whose content is a footnote number) and
    # outside reference labels: when they differ, the text differs (the common case)
    r_bare = _SUP.sub("", r) if "<" in r else r
    a_bare = _SUP.sub("", a) if "<" in a else a
    if _letters(r_bare) != _letters(a_bare) and (
        not any("][" in x or "]:" in x for x in (r_bare, a_bare))
        or _letters(_link_references(r_bare)) != _letters(_link_references(a_bare))
    ):
        return None
    what: list[str] = []
    rr, aa = _ws(r), _ws(a)
    if rr == aa:
        kind = "line-breaks" if len(r_lines) != len(a_lines) else "whitespace"
        return (kind,)
    if len(r_lines) != len(a_lines):
        what.append("line-breaks")
    elif r != a:
        what.append("whitespace")
    for name, fn in STEPS:
        r2, a2 = fn(r), fn(a)
        if (r2, a2) != (r, a):
            what.append(name)
            r, a = r2, a2
            if _ws(r) == _ws(a):
                return tuple(dict.fromkeys(what))
    return None
