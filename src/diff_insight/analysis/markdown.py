"""A fast line scanner for Markdown with docfx/Learn extensions.

It assigns each line a kind (front matter, heading, code, table, alert, prose, …) and collects
headings, fenced code blocks and tables with their line ranges. It works on full texts and on the
partial text that patch hunks show (unknown lines are ``None`` and end every open block).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache

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


class KindMap:
    """The kind of every line, without storing one per line: only the "special" lines (those a
    Markdown construct can start on) are stored; other lines are prose, blank, code (inside a
    fence) or front matter, which ranges and the text tell."""

    __slots__ = ("_doc", "_known", "special")

    def __init__(self, doc: Doc) -> None:
        self._doc = doc
        self.special: dict[int, K] = {}
        self._known: dict[int, K] = {}
        """The kinds :meth:`get` worked out (the facts ask for each changed line several times)."""

    def __setitem__(self, line: int, kind: K) -> None:
        self.special[line] = kind
        self._known.clear()

    def get(self, line: int, default: K = K.UNKNOWN) -> K:
        """The kind of ``line``; ``default`` for lines the text does not show."""
        k = self._known.get(line)
        if k is None:
            k = self._known[line] = self._kind(line)
        return default if k is K.UNKNOWN else k

    def _kind(self, line: int) -> K:
        """The kind of ``line``; UNKNOWN for lines the text does not show."""
        doc = self._doc
        fm = doc.front_matter_range
        if fm is not None and fm[0] <= line <= fm[1]:
            return K.FRONT_MATTER if line in doc.lines else K.UNKNOWN
        k = self.special.get(line)
        if k is not None:
            return k
        text = doc.lines.get(line)
        if text is None:
            return K.UNKNOWN
        if doc.fence_at(line) is not None:
            return K.CODE
        return K.PROSE if text.strip() else K.BLANK


class BlockMap:
    """Line → index of the fence or table it belongs to."""

    __slots__ = ("_doc",)

    def __init__(self, doc: Doc) -> None:
        self._doc = doc

    def _find(self, line: int) -> int | None:
        f = self._doc.fence_at(line)
        if f is not None:
            return f
        return self._doc.table_at(line)

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self._find(line) is not None

    def __getitem__(self, line: int) -> int:
        idx = self._find(line)
        if idx is None:
            raise KeyError(line)
        return idx


@dataclass(slots=True)
class Doc:
    """Scan result. Line numbers are 1-based; ``kinds[n]`` is the kind of line ``n``."""

    lines: dict[int, str]
    kinds: KindMap = field(init=False)
    """Line → kind, computed on demand from the special lines, fences and front matter."""
    block: BlockMap = field(init=False)
    """Line → index into ``fences`` (for FENCE/CODE lines) or ``tables`` (TABLE lines)."""
    headings: list[Heading] = field(default_factory=list)
    fences: list[Fence] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    front_matter_lines: list[str] = field(default_factory=list)
    front_matter_range: tuple[int, int] | None = None
    _front_matter: dict[str, str] | None = None
    last_line: int = 0
    first: int = 1
    complete: bool = True
    """True when built from the full text, False from patch hunks."""
    _fence_starts: list[int] | None = field(default=None, repr=False, compare=False)
    _heading_levels: dict[int, int] | None = field(default=None, repr=False, compare=False)
    _indexed: tuple[int, int] = field(default=(-1, -1), repr=False, compare=False)
    """How many fences and headings the two indexes above were built from (rebuilt when it changes)."""

    def __post_init__(self) -> None:
        self.kinds = KindMap(self)
        self.block = BlockMap(self)

    def heading_before(self, line: int) -> Heading | None:
        best = None
        for h in self.headings:
            if h.line <= line:
                best = h
            else:
                break
        return best

    @property
    def front_matter(self) -> dict[str, str]:
        """The front matter as flat strings (parsed on first use)."""
        if self._front_matter is None:
            self._front_matter = (
                parse_front_matter(self.front_matter_lines) if self.front_matter_lines else {}
            )
        return self._front_matter

    def _index(self) -> None:
        # built after the scan, on first use: fence starts for bisection, heading levels by line
        # (the last heading of a line wins, as in heading_before)
        if self._indexed != (len(self.fences), len(self.headings)):
            self._fence_starts = [f.start for f in self.fences]
            self._heading_levels = {h.line: h.level for h in self.headings}
            self._indexed = (len(self.fences), len(self.headings))

    def heading_levels(self, lines: Iterable[int]) -> dict[int, int]:
        """The level of each heading among ``lines``, by line."""
        self._index()
        levels = self._heading_levels
        assert levels is not None
        kinds = self.kinds
        # most lines are no heading: the cheap test first
        return {no: lv for no in lines if (lv := levels.get(no)) is not None and kinds.get(no) == K.HEADING}

    def fence_at(self, line: int) -> int | None:
        """Index of the fenced block that contains ``line`` (delimiters included)."""
        fences = self.fences
        if len(fences) <= 8:
            for k, f in enumerate(fences):
                if f.start <= line <= f.end:
                    return k
            return None
        self._index()
        assert self._fence_starts is not None
        i = bisect_right(self._fence_starts, line) - 1
        if i >= 0 and fences[i].start <= line <= fences[i].end:
            return i
        return None

    def table_at(self, line: int) -> int | None:
        for k, t in enumerate(self.tables):
            if t.start <= line <= t.end:
                return k
        return None

    def section_end(self, heading: Heading) -> int:
        """Last line of the section that ``heading`` opens."""
        for h in self.headings:
            if h.line > heading.line and h.level <= heading.level:
                return h.line - 1
        return self.last_line

    def title(self) -> str | None:
        """Front matter ``title``, else the first H1 (in partial texts only near the top)."""
        t = _quick_title(self.front_matter_lines)
        if t is None and self.front_matter_lines:
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
    if isinstance(value, bool):
        return "true" if value else "false"  # as written, like the fast path
    return str(value)


_FM_LINE = re.compile(r"^([A-Za-z_][\w.\-]*)\s*:\s?(.*)$")


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TITLE = re.compile(r"^title:[ \t]*([^'\"#|>&*!%@`{\[\s][^#]*?)[ \t]*$")


def _quick_title(lines: list[str]) -> str | None:
    """The ``title:`` of the front matter when it is a plain one-line scalar, without a YAML parse."""
    for ln in lines:
        if ln.startswith("title:"):
            m = _TITLE.match(ln)
            return m.group(1) if m and ": " not in m.group(1) else None
    return None


_SIMPLE_FM = re.compile(r"^([A-Za-z_][\w.\-]*):[ \t]+([^'\"#|>&*!%@`{\[\s][^#]*?)[ \t]*$")


_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _same_as_yaml(value: str) -> bool:
    """Whether YAML's reading of a plain scalar, flattened by :func:`_flat`, is the text itself."""
    if value in ("true", "false"):
        return True
    tag = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if tag == "tag:yaml.org,2002:int":  # 3 and 2024 are the same either way; 012 and 0x1F are not
        return value.isdigit() and (value == "0" or not value.startswith("0"))
    return bool(tag == _STR_TAG)


def _simple_front_matter(lines: list[str]) -> dict[str, str] | None:
    """The front matter when every line is a one-line ``key: plain value`` (the usual case), without
    a YAML parse; None when anything needs YAML (quotes, lists, blocks, comments, empty values, and
    plain values YAML reads as something else than the text: ``yes``, ``0x1F``, ``1.50``, dates …),
    so both ways give the same strings."""
    out: dict[str, str] = {}
    for ln in lines:
        m = _SIMPLE_FM.match(ln)
        if m is None or ": " in m.group(2):
            return None
        value = m.group(2)
        if not _same_as_yaml(value):
            return None
        out[m.group(1)] = value
    return out


def parse_front_matter(lines: list[str]) -> dict[str, str]:
    """Front matter as flat strings; YAML first, a line parser when the YAML is broken."""
    simple = _simple_front_matter(lines)
    if simple is not None:
        return simple
    text = "\n".join(lines)
    try:
        data = yaml.load(text, Loader=_SafeLoader)
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


_SPECIAL = re.compile(r"^[ \t]*(?:[`~#>:=<|]|[^\n]*\|)", re.MULTILINE)
"""Lines on which a construct other than a paragraph can start or go on (all others are prose,
blank, or code inside a fence)."""


@lru_cache(maxsize=64)
def _closing_fence(char: str, length: int, any_char: bool) -> re.Pattern[str]:
    chars = "`~" if any_char else char
    return re.compile(rf"^ {{0,3}}[{re.escape(chars)}]{{{length},}}[ \t]*$", re.MULTILINE)


def _segments_of(lines: dict[int, str], first: int, last: int) -> list[tuple[int, int]]:
    """Runs of consecutive known line numbers as (start, end)."""
    out: list[tuple[int, int]] = []
    keys = sorted(k for k in lines if first <= k <= last)
    if not keys:
        return out
    start = prev = keys[0]
    for k in keys[1:]:
        if k != prev + 1:
            out.append((start, prev))
            start = k
        prev = k
    out.append((start, prev))
    return out


def scan(
    lines: dict[int, str],
    *,
    complete: bool,
    last_line: int | None = None,
    front_matter: tuple[int, int] | None = None,
    open_fences: frozenset[int] = frozenset(),
    text: str | None = None,
) -> Doc:
    """Scan the given lines (by line number). Unknown line numbers end open blocks.

    ``front_matter`` forces a known front-matter line range (for partial texts);
    ``open_fences`` are line numbers at which a partial text starts inside a code block;
    ``text`` is the whole text of a complete document (lines joined with ``\\n``), to save a join.

    Only the "special" lines are visited one by one (found with one regular expression over each
    run of known lines); the kind of the others follows from the ranges (see :class:`KindMap`).
    """
    doc = Doc(lines=lines, complete=complete)
    if not lines:
        return doc
    first = min(lines)
    last = last_line if last_line is not None else max(lines)
    doc.last_line = last
    doc.first = first
    kinds = doc.kinds
    start_at = first
    if front_matter is not None:
        a, b = front_matter
        doc.front_matter_range = front_matter
        doc.front_matter_lines = [
            lines[k] for k in range(a, b + 1) if k in lines and lines[k].strip() != "---"
        ]
        start_at = b + 1
    elif lines.get(1) is not None and lines[1].strip() == "---":
        j = 2
        while j <= last and lines.get(j) is not None and lines[j].strip() not in ("---", "..."):
            j += 1
        if lines.get(j) is not None:
            doc.front_matter_range = (1, j)
            doc.front_matter_lines = [lines[k] for k in range(2, j)]
            start_at = j + 1
    table_seen: dict[str, int] = {}
    segments = [(start_at, last)] if complete and start_at <= last else _segments_of(lines, start_at, last)
    for seg_start, seg_end in segments:
        if text is not None and complete and seg_start == 1 and seg_end == last:
            seg_text = text
        elif text is not None and complete:
            # skip the front matter: find where seg_start begins in the text
            offset = 0
            for _ in range(seg_start - 1):
                offset = text.index("\n", offset) + 1
            seg_text = text[offset:]
        else:
            seg_text = "\n".join(lines[k] for k in range(seg_start, seg_end + 1))
        _scan_segment(doc, lines, kinds, seg_start, seg_end, seg_text, open_fences)
    doc.headings.sort(key=lambda h: h.line)
    doc.fences.sort(key=lambda f: f.start)
    doc.tables.sort(key=lambda t: t.start)
    for t in doc.tables:
        t.name = _table_name(doc, t.start, t.header, table_seen)
    return doc


def _scan_segment(
    doc: Doc,
    lines: dict[int, str],
    kinds: KindMap,
    seg_start: int,
    seg_end: int,
    seg_text: str,
    open_fences: frozenset[int],
) -> None:
    fence: Fence | None = None
    fence_char = ""
    fence_len = 0
    if seg_start in open_fences:
        fence = Fence(seg_start, seg_start, "")
        fence_char, fence_len = "`", 3
        doc.fences.append(fence)
    table_start = -1
    table_end = -1
    table_header: tuple[str, ...] = ()
    prev_special = -10
    prev_kind = K.UNKNOWN

    def close_table() -> None:
        nonlocal table_start
        if table_start >= 0:
            doc.tables.append(Table(table_start, table_end, table_header, ""))
            table_start = -1

    lineno = seg_start
    pos = 0
    n = len(seg_text)
    while pos <= n:
        if fence is not None:
            # jump to the closing fence: the lines in between are code, known from the range
            closing = _closing_fence(fence_char, fence_len, fence.start in open_fences)
            cm = closing.search(seg_text, pos)
            if cm is None:
                break
            lineno += seg_text.count("\n", pos, cm.start())
            pos = cm.start()
            if lineno > seg_end:
                break
            kinds[lineno] = K.FENCE
            fence.end = lineno
            fence = None
            prev_special, prev_kind = lineno, K.FENCE
            nl = seg_text.find("\n", pos)
            if nl < 0:
                break
            lineno += 1
            pos = nl + 1
            continue
        m = _SPECIAL.search(seg_text, pos)
        if m is None:
            break
        lineno += seg_text.count("\n", pos, m.start())
        pos = m.start()
        i = lineno
        if i > seg_end:
            break
        nl = seg_text.find("\n", pos)
        if nl < 0:
            pos = n + 1
        else:
            pos = nl + 1
            lineno += 1
        line = lines[i]
        stripped = line.strip()
        if table_start >= 0 and i != table_end + 1:
            close_table()
        c = stripped[0]
        kind = K.PROSE
        if c in "`~":
            fm_ = _FENCE.match(line)
            if fm_:
                close_table()
                fence = Fence(i, i, fm_.group(2) or "")
                fence_char, fence_len = fm_.group(1)[0], len(fm_.group(1))
                doc.fences.append(fence)
                kind = K.FENCE
        elif c == "#":
            hm = _ATX.match(line)
            if hm and _TAB.match(hm.group(2) or ""):
                kind = K.DIRECTIVE  # a docfx tab marker, '# [Label](#tab/id)'
            elif hm:
                close_table()
                kind = K.HEADING
                doc.headings.append(Heading(i, len(hm.group(1)), clean_heading(hm.group(2) or "")))
        elif c == ">":
            kind = K.ALERT if _ALERT.match(line) else K.QUOTE
        elif c == ":" and stripped.startswith(":::"):
            kind = K.DIRECTIVE
        elif c == "<" and stripped.startswith("<!--"):
            kind = K.HTML_COMMENT
        elif c == "=" and set(stripped) <= {"="}:
            prev_text = lines.get(i - 1)
            prev_is_prose = (prev_special == i - 1 and prev_kind == K.PROSE) or (
                prev_special != i - 1
                and prev_text is not None
                and prev_text.strip() != ""
                and i - 1 >= seg_start
            )
            if prev_is_prose and prev_text is not None:
                # setext H1: 'Title' underlined with '==='
                kinds[i - 1] = K.HEADING
                doc.headings.append(Heading(i - 1, 1, clean_heading(prev_text)))
                kind = K.HEADING
        if kind == K.PROSE and "|" in stripped:
            if table_start >= 0:
                kind = K.TABLE
                table_end = i
            elif (
                _TABLE_SEP.match(line)
                and prev_special == i - 1
                and prev_kind == K.PROSE
                and "|" in lines[i - 1]
            ):
                table_start, table_end = i - 1, i
                table_header = tuple(split_row(lines[i - 1]))
                kinds[i - 1] = K.TABLE
                kind = K.TABLE
            elif c == "|" and not doc.complete and i == seg_start:
                # a hunk that starts inside a table
                table_start, table_end = i, i
                table_header = ()
                kind = K.TABLE
        if kind != K.PROSE:
            kinds[i] = kind
        elif kinds.special.get(i) is None:
            kinds[i] = K.PROSE
        prev_special, prev_kind = i, kinds.special[i]
    if fence is not None:
        fence.end = seg_end
    close_table()


def _lines_text(text: str) -> str:
    """The text as the scanner numbers its lines: CRLF as LF, without the final line break."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def scan_text(text: str) -> Doc:
    text = _lines_text(text)
    parts = text.split("\n") if text else []
    return scan(
        dict(zip(range(1, len(parts) + 1), parts, strict=True)),
        complete=True,
        last_line=len(parts),
        text=text,
    )


def scan_front_matter(text: str, changed: Iterable[int]) -> Doc | None:
    """What :func:`scan_text` finds for a change whose lines (``changed``, line numbers of this
    side) are all in the front matter, scanning the front matter only: the body is the same on both
    sides and no fact reads it, except for the title when the front matter has none.

    None when the text has no front matter, a changed line lies outside it, or the front matter
    names no title (then scan the whole text)."""
    text = _lines_text(text)
    if not text.startswith("---"):
        return None
    lines: dict[int, str] = {}
    pos, no = 0, 0
    while True:  # the lines up to the closing delimiter, as scan() finds it
        nl = text.find("\n", pos)
        no += 1
        line = text[pos:] if nl < 0 else text[pos:nl]
        lines[no] = line
        if no == 1 and line.strip() != "---":
            return None
        if no > 1 and line.strip() in ("---", "..."):
            break
        if nl < 0:
            return None  # never closed: no front matter
        pos = nl + 1
    if any(k > no for k in changed):
        return None
    doc = Doc(lines=lines, complete=True)
    doc.last_line = text.count("\n") + 1
    doc.front_matter_range = (1, no)
    doc.front_matter_lines = [lines[k] for k in range(2, no)]
    return doc if doc.title() else None


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
