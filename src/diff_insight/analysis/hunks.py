"""Hunks of a unified diff with line numbers, and the change blocks inside them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class HunkLine(NamedTuple):
    """One line of a hunk (a named tuple: patches have hundreds of thousands of lines, and a tuple
    is several times cheaper to make than a frozen dataclass)."""

    tag: str
    """``' '`` context, ``'-'`` removed, ``'+'`` added."""
    text: str
    old_no: int | None
    """1-based line number on the old side (context and removed lines)."""
    new_no: int | None


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[HunkLine, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """A run of removed and/or added lines between context lines."""

    removed: tuple[HunkLine, ...]
    added: tuple[HunkLine, ...]
    hunk: int


def parse_hunks(patch: str) -> list[Hunk]:
    """Parse the hunks of one file's patch (from the first ``@@`` on). Tolerates junk lines."""
    hunks: list[Hunk] = []
    lines = patch.split("\n")
    crlf = "\r" in patch  # else no line has a CR to drop
    i = 0
    n = len(lines)
    while i < n:
        m = _HEADER.match(lines[i])
        if not m:
            i += 1
            continue
        old_start = int(m.group(1))
        old_len = int(m.group(2)) if m.group(2) is not None else 1
        new_start = int(m.group(3))
        new_len = int(m.group(4)) if m.group(4) is not None else 1
        i += 1
        o, nn = old_start, new_start
        old_left, new_left = old_len, new_len
        out: list[HunkLine] = []
        while i < n and (old_left > 0 or new_left > 0):
            raw = lines[i]
            tag = raw[:1]
            text = raw[1:].rstrip("\r") if crlf else raw[1:]
            if tag == "\\":
                i += 1
                continue
            if tag == "-":
                out.append(HunkLine("-", text, o, None))
                o += 1
                old_left -= 1
            elif tag == "+":
                out.append(HunkLine("+", text, None, nn))
                nn += 1
                new_left -= 1
            elif tag == " " or raw == "":
                out.append(HunkLine(" ", text, o, nn))
                o += 1
                nn += 1
                old_left -= 1
                new_left -= 1
            else:
                break
            i += 1
        hunks.append(Hunk(old_start, old_len, new_start, new_len, tuple(out)))
    return hunks


def blocks_of(hunks: list[Hunk]) -> list[Block]:
    """Split hunks into change blocks (maximal runs of ``-``/``+`` lines)."""
    blocks: list[Block] = []
    for hi, h in enumerate(hunks):
        rem: list[HunkLine] = []
        add: list[HunkLine] = []
        for ln in h.lines:
            if ln.tag == " ":
                if rem or add:
                    blocks.append(Block(tuple(rem), tuple(add), hi))
                    rem, add = [], []
            elif ln.tag == "-":
                rem.append(ln)
            else:
                add.append(ln)
        if rem or add:
            blocks.append(Block(tuple(rem), tuple(add), hi))
    return blocks


def side_lines(hunks: list[Hunk], side: str) -> dict[int, str]:
    """The lines of one side (``old`` or ``new``) that the hunks show, by line number."""
    out: dict[int, str] = {}
    for h in hunks:
        for ln in h.lines:
            no = ln.old_no if side == "old" else ln.new_no
            if no is not None:
                out[no] = ln.text
    return out
