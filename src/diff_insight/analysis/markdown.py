"""A fast line scanner for Markdown with docfx/Learn extensions.

It assigns each line a kind (front matter, heading, code, table, alert, prose, …) and collects
headings, fenced code blocks and tables with their line ranges. It works on full texts and on the
partial text that patch hunks show (unknown lines are ``None`` and end every open block).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum

import yaml


class K(IntEnum):
    UNKNOWN = 0
    BLANK = 1
    FRONT_MATTER = 2
    HEADING = 3
    FENCE = 4
    """A fence delimiter line (opening or closing)."""
    CODE = 5
    TABLE = 6
    ALERT = 7
    """An alert marker line, e.g. ``> [!NOTE]``."""
    QUOTE = 8
    DIRECTIVE = 9
    """docfx ``:::`` lines (image, zone, row, column, moniker)."""
    PROSE = 10
    HTML_COMMENT = 11


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([^`\s{]*)")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_ALERT = re.compile(r"^\s*>\s*\[!(NOTE|TIP|IMPORTANT|CAUTION|WARNING)\]", re.IGNORECASE)
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$")
_TAB = re.compile(r"^\[[^\]]*\]\(#tab/[^)]*\)")
_HEADING_ID = re.compile(r"\s*\{#[^}]*\}\s*$")


@dataclass(slots=True)
class Heading:
    line: int
    level: int
    text: str


@dataclass(slots=True)
class Fence:
    start: int
    end: int
    """Line of the closing fence, or the last line of the block when unclosed."""
    lang: str


@dataclass(slots=True)
class Table:
    start: int
    end: int
    header: tuple[str, ...]
    name: str


@dataclass(slots=True)
class Doc:
    """Scan result. Line numbers are 1-based; ``kinds[n]`` is the kind of line ``n``."""

    lines: dict[int, str]
    kinds: dict[int, K] = field(default_factory=dict)
    block: dict[int, int] = field(default_factory=dict)
    """Line → index into ``fences`` (for FENCE/CODE lines) or ``tables`` (TABLE lines)."""
    headings: list[Heading] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    front_matter: dict[str, str] = field(default_factory=dict)
    front_matter_range: tuple[int, int] | None = None
    last_line: int = 0
    complete: bool = True
    """True when built from the full text, False from patch hunks."""

    def heading_before(self, line: int) -> Heading | None:
        best = None
        for h in self.headings:
            if h.line <= line:
                best = h
            else:
                break
        return best

    def heading_at(self, line: int) -> int | None:
        """The level of the heading on ``line``, or None."""
        if self.kinds.get(line) != K.HEADING:
            return None
        h = self.heading_before(line)
        return h.level if h is not None and h.line == line else None

    def section_end(self, heading: Heading) -> int:
        """Last line of the section that ``heading`` opens."""
        for h in self.headings:
            if h.line > heading.line and h.level <= heading.level:
                return h.line - 1
        return self.last_line

    def title(self) -> str | None:
        """Front matter ``title``, else the first H1 (in partial texts only near the top)."""
        t = self.front_matter.get("title")
        if t:
            return t
        for h in self.headings:
            if h.level == 1 and (self.complete or h.line <= 40):
                return h.text
        return None


def split_row(line: str) -> list[str]:
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells = re.split(r"(?<!\\)\|", s)
    return [c.strip() for c in cells]


def clean_heading(text: str) -> str:
    return _HEADING_ID.sub("", text).strip()


def _flat(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    if value is None:
        return ""
    return str(value)


_FM_LINE = re.compile(r"^([A-Za-z_][\w.\-]*)\s*:\s?(.*)$")


def parse_front_matter(lines: list[str]) -> dict[str, str]:
    """Front matter as flat strings; YAML first, a line parser when the YAML is broken."""
    text = "\n".join(lines)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict):
        return {str(k): _flat(v) for k, v in data.items()}
    out: dict[str, str] = {}
    for ln in lines:
        m = _FM_LINE.match(ln)
        if m:
            out[m.group(1)] = m.group(2).strip().strip("'\"")
    return out


def _table_name(doc: Doc, start: int, header: tuple[str, ...], seen: dict[str, int]) -> str:
    h = doc.heading_before(start)
    base = h.text if h else " | ".join(c for c in header if c)
    if not base:
        return ""
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base} ({seen[base]})"


def scan(
    lines: dict[int, str],
    *,
    complete: bool,
    last_line: int | None = None,
    front_matter: tuple[int, int] | None = None,
    open_fences: frozenset[int] = frozenset(),
) -> Doc:
    """Scan the given lines (by line number). Unknown line numbers end open blocks.

    ``front_matter`` forces a known front-matter line range (for partial texts);
    ``open_fences`` are line numbers at which a partial text starts inside a code block.
    """
    doc = Doc(lines=lines, complete=complete)
    if not lines:
        return doc
    first = min(lines)
    last = last_line if last_line is not None else max(lines)
    doc.last_line = last
    kinds = doc.kinds
    i = first
    if front_matter is not None:
        a, b = front_matter
        fm_lines = []
        for k in range(a, b + 1):
            if k in lines:
                kinds[k] = K.FRONT_MATTER
                if lines[k].strip() != "---":
                    fm_lines.append(lines[k])
        doc.front_matter_range = front_matter
        doc.front_matter = parse_front_matter(fm_lines)
        i = b + 1
    # front matter: only when line 1 is '---'
    elif lines.get(1) is not None and lines[1].strip() == "---":
        j = 2
        fm: list[str] = []
        while j <= last and lines.get(j) is not None and lines[j].strip() not in ("---", "..."):
            fm.append(lines[j])
            j += 1
        if lines.get(j) is not None:
            for k in range(1, j + 1):
                kinds[k] = K.FRONT_MATTER
            doc.front_matter_range = (1, j)
            doc.front_matter = parse_front_matter(fm)
            i = j + 1
    fence: Fence | None = None
    fence_char = ""
    fence_len = 0
    table_start = -1
    table_header: tuple[str, ...] = ()
    table_seen: dict[str, int] = {}
    prev_kind = K.UNKNOWN
    prev_text: str | None = None

    def close_table(end: int) -> None:
        nonlocal table_start
        if table_start >= 0:
            t = Table(table_start, end, table_header, "")
            doc.tables.append(t)
            idx = len(doc.tables) - 1
            for k in range(table_start, end + 1):
                doc.block[k] = idx
            table_start = -1

    while i <= last:
        text = lines.get(i)
        if i in open_fences and fence is None:
            fence = Fence(i, i, "")
            fence_char, fence_len = "`", 3
            doc.fences.append(fence)
        if text is None:
            if fence is not None:
                fence.end = i - 1
                fence = None
            close_table(i - 1)
            kinds[i] = K.UNKNOWN
            prev_kind, prev_text = K.UNKNOWN, None
            i += 1
            continue
        stripped = text.strip()
        if fence is not None:
            m = _FENCE.match(text)
            if (
                m
                and (m.group(1)[0] == fence_char or fence.start in open_fences)
                and len(m.group(1)) >= fence_len
                and not m.group(2)
            ):
                kinds[i] = K.FENCE
                fence.end = i
                doc.block[i] = len(doc.fences) - 1
                fence = None
            else:
                kinds[i] = K.CODE
                doc.block[i] = len(doc.fences) - 1
            prev_kind, prev_text = kinds[i], text
            i += 1
            continue
        if not stripped:
            close_table(i - 1)
            kinds[i] = K.BLANK
            prev_kind, prev_text = K.BLANK, text
            i += 1
            continue
        c = stripped[0]
        kind = K.PROSE
        if c in "`~":
            m = _FENCE.match(text)
            if m:
                close_table(i - 1)
                fence = Fence(i, i, m.group(2) or "")
                fence_char, fence_len = m.group(1)[0], len(m.group(1))
                doc.fences.append(fence)
                doc.block[i] = len(doc.fences) - 1
                kind = K.FENCE
        elif c == "#":
            m = _ATX.match(text)
            if m and _TAB.match(m.group(2) or ""):
                kind = K.DIRECTIVE  # a docfx tab marker, '# [Label](#tab/id)'
            elif m:
                close_table(i - 1)
                kind = K.HEADING
                doc.headings.append(Heading(i, len(m.group(1)), clean_heading(m.group(2) or "")))
        elif c == ">":
            kind = K.ALERT if _ALERT.match(text) else K.QUOTE
        elif c == ":" and stripped.startswith(":::"):
            kind = K.DIRECTIVE
        elif c == "<" and stripped.startswith("<!--"):
            kind = K.HTML_COMMENT
        elif c == "|" or "|" in stripped:
            if table_start >= 0:
                kind = K.TABLE
            elif _TABLE_SEP.match(text) and prev_kind == K.PROSE and prev_text and "|" in prev_text:
                # previous line was the header
                table_start = i - 1
                table_header = tuple(split_row(prev_text))
                kinds[i - 1] = K.TABLE
                kind = K.TABLE
            elif c == "|" and not complete and lines.get(i - 1) is None:
                # a hunk that starts inside a table
                table_start = i
                table_header = ()
                kind = K.TABLE
        elif set(stripped) <= {"="} and prev_kind == K.PROSE and prev_text is not None:
            # setext H1: 'Title' underlined with '==='
            kinds[i - 1] = K.HEADING
            doc.headings.append(Heading(i - 1, 1, clean_heading(prev_text)))
            kind = K.HEADING
        if kind != K.TABLE and table_start >= 0:
            close_table(i - 1)
        kinds[i] = kind
        prev_kind, prev_text = kind, text
        i += 1
    if fence is not None:
        fence.end = last
    close_table(last)
    doc.headings.sort(key=lambda h: h.line)
    for t in doc.tables:
        t.name = _table_name(doc, t.start, t.header, table_seen)
    return doc


def scan_text(text: str) -> Doc:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return scan({n: ln.rstrip("\r") for n, ln in enumerate(lines, 1)}, complete=True, last_line=len(lines))


_FM_KEY = re.compile(r"^[A-Za-z_][\w.\-]*\s*:")


def _segments(known: dict[int, str]) -> list[list[int]]:
    segs: list[list[int]] = []
    for no in sorted(known):
        if segs and no == segs[-1][-1] + 1:
            segs[-1].append(no)
        else:
            segs.append([no])
    return segs


def scan_partial(known: dict[int, str]) -> Doc:
    """Scan the lines that hunks show.

    Two heuristics stand in for the unseen text: a first segment that starts near the top and
    consists of ``key: value`` lines (up to a ``---``) is front matter; a segment with an odd number
    of fence lines whose first fence has no info string starts inside a code block.
    """
    if not known:
        return scan({}, complete=False)
    segs = _segments(known)
    fm: tuple[int, int] | None = None
    first = segs[0]
    if first[0] <= 20 and not (first[0] == 1 and known[1].strip() == "---"):
        n_keys = 0
        end = None
        for no in first:
            t = known[no]
            if t.strip() in ("---", "..."):
                end = no
                break
            if _FM_KEY.match(t):
                n_keys += 1
            elif not (t.startswith((" ", "\t", "-")) and t.strip()):
                end = -1
                break
        if end is None and n_keys >= 2:
            fm = (1, first[-1])
        elif end is not None and end > 0 and n_keys >= 1:
            fm = (1, end)
    open_at: set[int] = set()
    for seg in segs:
        fences = [no for no in seg if _FENCE.match(known[no])]
        if not fences or (fm is not None and seg[0] <= fm[1]):
            continue
        m = _FENCE.match(known[fences[0]])
        if m and not m.group(2):
            m2 = _FENCE.match(known[fences[1]]) if len(fences) > 1 else None
            if len(fences) % 2 == 1 or (m2 and m2.group(2)):
                open_at.add(seg[0])
    return scan(known, complete=False, front_matter=fm, open_fences=frozenset(open_at))
