"""The deterministic writer: localized prose built only from the analysis facts.

Every sentence comes from the locale's message catalog (:mod:`diff_insight.writers.i18n`); this
module decides which facts to mention, in which order, grouped how. Same input, same output.
"""

from __future__ import annotations

import re
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import islice
from pathlib import PurePosixPath
from typing import Any, TypeVar

import msgspec

from diff_insight.analysis import facts as F
from diff_insight.analysis.facts import ChangeType, Cluster, FileKind
from diff_insight.model import Status
from diff_insight.report import FileEntry, FileText, Highlights, Overview
from diff_insight.writers.base import ReportContext
from diff_insight.writers.i18n import Catalog, catalog, resolve_locale

MAX_TITLE_DOC = 48
"""Longest document title used to name a document; longer ones are named by their file name."""
MAX_FACT_SENTENCES = 7
"""Fact sentences per explanation (after the opening sentence)."""
LIST_LIMIT = 4
"""Items shown in a list before "and N more"."""
PEER_LIMIT = 5
"""Cluster peers named in an explanation."""
MAX_QUOTED_SENTENCES = 2
TITLE_QUOTE = 40
"""Longest quoted text in a title."""
MAX_BULLETS = 12
MAX_NOTABLE = 3

_TYPE_ORDER = (
    ChangeType.NEW_FEATURE,
    ChangeType.BREAKING_CHANGE,
    ChangeType.BUG_FIX,
    ChangeType.MINOR_UPDATE,
)
_IMAGE_EXT = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico", ".tif", ".tiff"}
_MAIN_FRONT_MATTER = ("title", "description")
_ALERTS = {"NOTE", "TIP", "IMPORTANT", "CAUTION", "WARNING"}
_MD_SPECIAL = re.compile(r"([\\`*\[\]<~]|(?<!\w)_|_(?!\w))")
_TABLE_FALLBACK = re.compile(r"^table(?: \(\d+\))?$")
_TABLE_COPY = re.compile(r" \(\d+\)$")
_FULLWIDTH_SPACE = re.compile(r"\s+(?=[「」『』（）：、。，；《》])|(?<=[「」『』（）：、。，；《》])\s+")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")

# Explanation order: whole documents, sections, headings, tables, code, alerts and includes,
# structure of YAML files, links and images, term replacements and words inserted or removed within
# sentences, sentences, edits, dates, formatting.
_EXPLAIN_ORDER = (
    "document_added", "document_removed", "document_renamed",
    "binary_added", "binary_removed", "binary_replaced", "front_matter_main",
    "section_added", "section_removed", "heading_renamed", "heading_added", "heading_removed",
    "table_added", "table_removed", "table_rows_changed",
    "code_block_added", "code_block_removed", "code_block_changed",
    "alert_added", "alert_removed", "include_added", "include_removed",
    "toc_entry_added", "toc_entry_removed", "toc_entry_renamed", "toc_entry_retargeted", "yaml_value_changed",
    "link_added", "link_removed", "link_retargeted", "link_relabeled",
    "image_added", "image_removed", "image_retargeted",
    "term_replaced", "words_inserted", "words_deleted",
    "sentence_added", "sentence_removed", "front_matter_other",
    "text_edited", "lines_changed", "date_bumped", "formatting_only",
)  # fmt: skip

# Title order: the most telling change names the file.
_TITLE_ORDER = (
    "document_added", "document_removed", "binary_added", "binary_removed", "binary_replaced",
    "document_renamed", "section_added", "section_removed", "table_added", "table_removed",
    "heading_renamed", "heading_added", "heading_removed",
    "toc_entry_added", "toc_entry_removed", "toc_entry_renamed",
    "code_block_added", "code_block_removed", "alert_added", "alert_removed",
    "include_added", "include_removed", "table_rows_grown", "front_matter_main", "term_replaced",
    "words_inserted", "words_deleted",
    "table_rows_changed", "code_block_changed", "toc_entry_retargeted", "yaml_value_changed",
    "sentence_added", "link_retargeted", "link_added", "link_removed", "link_relabeled",
    "image_added", "image_removed", "image_retargeted", "sentence_removed", "front_matter_other",
    "text_edited", "lines_changed", "date_bumped", "formatting_only", "encoding_replaced",
)  # fmt: skip
# The title names a change of the kind that made the file's type: a removal for a breaking change,
# an addition for a new feature (a file can both gain and lose sections).
_TYPE_PREFERRED = {
    ChangeType.BREAKING_CHANGE: frozenset({
        "document_removed", "document_renamed", "section_removed", "table_removed", "heading_removed",
        "toc_entry_removed", "code_block_removed", "include_removed", "binary_removed",
    }),
    ChangeType.NEW_FEATURE: frozenset({
        "document_added", "section_added", "table_added", "heading_added", "toc_entry_added",
        "code_block_added", "include_added", "table_rows_grown",
    }),
}  # fmt: skip
_EXPLAIN_RANK = {k: i for i, k in enumerate(_EXPLAIN_ORDER)}
_TITLE_RANK = {k: i for i, k in enumerate(_TITLE_ORDER)}


# --- rendering helpers -----------------------------------------------------------------------


def _md_escape(text: str) -> str:
    """Backslash-escape the characters that would turn document text into Markdown markup."""
    return _MD_SPECIAL.sub(r"\\\1", text)


@lru_cache(maxsize=8192)
def _styled_text(text: str, markdown: bool, limit: int | None) -> str:
    """Document text on one line, cut to ``limit`` and escaped for Markdown (the same in every
    locale, so cached for all)."""
    text = " ".join(text.split())
    if limit is not None:
        text = F.quote(text, limit)
    return _md_escape(text) if markdown else text


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path


def _type_key(t: ChangeType) -> str:
    return str(t.value).replace(" ", "_")


_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Style:
    """One catalog in one output context: Markdown (explanations, highlights, insights) or plain
    text (titles, the summary). ``limit`` cuts quoted text (titles stay short)."""

    cat: Catalog
    markdown: bool
    limit: int | None = None

    def msg(self, key: str, /, **values: Any) -> str:
        return self.cat.msg(key, **values)

    def _text(self, text: str) -> str:
        return _styled_text(text, self.markdown, self.limit)

    def q(self, text: str) -> str:
        """Quoted document text."""
        return self.cat.quote(self._text(text))

    def title(self, text: str) -> str:
        """A document title in title marks."""
        return self.cat.doc_title(self._text(text))

    def code(self, text: str) -> str:
        """A key, path, URL or language name: inline code, or quoted in plain text."""
        return self.cat.code(text) if self.markdown else self.cat.quote(" ".join(text.split()))

    def file(self, path: str) -> str:
        """A file, by its name."""
        return self.cat.code(_basename(path)) if self.markdown else _basename(path)

    def value(self, text: str | None) -> str:
        return self.msg("fmt.empty") if text is None else self.q(text)

    def join(self, items: Iterable[str]) -> str:
        return self.cat.join(items)

    def capped(
        self, items: Sequence[str], limit: int = LIST_LIMIT, counts: Sequence[int] | None = None
    ) -> str:
        """``A, B, C, D, and 5 more`` (never "and 1 more": then the last item is shown). With
        ``counts`` (how many things each item stands for), "more" adds up those of the items left out."""
        return self.capped_map(items, str, limit, counts)

    def capped_map(
        self,
        things: Sequence[_T],
        show: Callable[[_T], str],
        limit: int = LIST_LIMIT,
        counts: Sequence[int] | None = None,
    ) -> str:
        """:meth:`capped` of ``[show(t) for t in things]``, calling ``show`` only for the items shown."""
        if len(things) <= limit + 1:
            return self.join([show(t) for t in things])
        left = sum(counts[limit:]) if counts is not None else len(things) - limit
        return self.join([*(show(t) for t in things[:limit]), self.msg("list.more", count=left)])

    def unit(self, name: str, count: int) -> str:
        return self.msg(f"unit.{name}", count=count)

    def clauses(self, parts: Sequence[str]) -> str:
        """Clauses of one sentence: the locale's list join, or ``fmt.clause_sep`` when it is set."""
        sep = self.msg("fmt.clause_sep")
        return sep.join(parts) if sep else self.join(parts)

    def sentences(self, parts: Iterable[str]) -> str:
        return self.msg("fmt.sentence_sep").join(p for p in parts if p)

    def delta(self, added: int, removed: int) -> str:
        if added and removed:
            return self.msg(
                "delta.both", added=self.unit("lines", added), removed=self.unit("lines", removed)
            )
        if removed:
            return self.msg("delta.removed", removed=self.unit("lines", removed))
        return self.msg("delta.added", added=self.unit("lines", added))

    def date_value(self, key: str, value: str) -> str:
        """A date as the locale writes it when the value is unambiguous, else as written."""
        d = _parse_date(key, value)
        return self.cat.date(d) if d is not None else self.code(value)

    def size(self, n: int) -> str:
        return self.cat.size(n)


def _parse_date(key: str, value: str) -> date | None:
    """ISO dates everywhere; ``MM/DD/YYYY`` only for ``ms.date`` (Microsoft Learn's documented format)."""
    value = value.strip().strip("'\"")
    m = _ISO_DATE.match(value)
    parts: tuple[int, int, int] | None = None
    if m:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        m = _US_DATE.match(value)
        if m and key.lower() == "ms.date":
            parts = (int(m.group(3)), int(m.group(1)), int(m.group(2)))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


# --- facts of one entry ------------------------------------------------------------------------


def _completed_facts(entry: FileEntry) -> list[F.Fact]:
    """The entry's facts, completed from the change where the analysis left something implicit
    (a rename, a binary file, word replacements without TermReplaced facts)."""
    facts = list(entry.analysis.facts)
    ch = entry.change
    kinds = {f.kind for f in facts}
    if ch.status == Status.RENAMED and ch.previous_path and "document_renamed" not in kinds:
        facts.insert(0, F.DocumentRenamed(ch.previous_path, ch.path, ch.changes > 0))
    binary_kinds = {"binary_added", "binary_removed", "binary_replaced"}
    if (ch.binary or entry.analysis.file_kind == FileKind.BINARY) and not kinds & binary_kinds:
        if ch.status in (Status.ADDED, Status.COPIED):
            facts.append(F.BinaryAdded(ch.new_size))
        elif ch.status == Status.REMOVED:
            facts.append(F.BinaryRemoved(ch.old_size))
        elif not (ch.status == Status.RENAMED and ch.old_id and ch.old_id == ch.new_id):
            facts.append(F.BinaryReplaced(ch.old_size, ch.new_size))
    if "term_replaced" not in kinds and entry.analysis.replacements:
        counts = Counter(entry.analysis.replacements)
        for (old, new), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            facts.append(F.TermReplaced(old, new, n))
    return facts


def _group_key(fact: F.Fact) -> str:
    if isinstance(fact, F.FrontMatterChanged):
        return "front_matter_main" if fact.key in _MAIN_FRONT_MATTER else "front_matter_other"
    return fact.kind


def _groups(facts: Iterable[F.Fact]) -> dict[str, list[F.Fact]]:
    out: dict[str, list[F.Fact]] = {}
    for f in facts:
        out.setdefault(_group_key(f), []).append(f)
    return out


def _title_rank(key: str, facts: Sequence[F.Fact]) -> int:
    if key == "table_rows_changed" and any(
        isinstance(f, F.TableRowsChanged) and (f.added or f.removed) for f in facts
    ):
        return _TITLE_RANK["table_rows_grown"]
    return _TITLE_RANK.get(key, len(_TITLE_RANK))


def _title_key(entry: FileEntry, groups: dict[str, list[F.Fact]]) -> str | None:
    """The group whose facts name the file in its title (None when there are no facts)."""
    if not groups:
        return None
    preferred = _TYPE_PREFERRED.get(entry.classification.type, frozenset())
    order = list(groups)

    def rank(k: str) -> tuple[int, int, int]:
        r = _title_rank(k, groups[k])
        return (
            0 if (k in preferred or _TITLE_ORDER[min(r, len(_TITLE_ORDER) - 1)] in preferred) else 1,
            r,
            order.index(k),
        )

    return min(groups, key=rank)


def _explain_order(groups: dict[str, list[F.Fact]]) -> tuple[str, ...]:
    """The groups in the order an explanation tells them."""
    order = list(groups)
    return tuple(
        sorted(
            (k for k in groups if k != "encoding_replaced"),
            key=lambda k: (_EXPLAIN_RANK.get(k, len(_EXPLAIN_RANK)), order.index(k)),
        )
    )


def _doc_name_of(entry: FileEntry) -> str | None:
    """See :func:`_doc_name`."""
    title = entry.analysis.title
    if title and len(" ".join(title.split())) <= MAX_TITLE_DOC:
        return " ".join(title.split())
    return None


def _noun_of(entry: FileEntry) -> str:
    """See :func:`_noun`."""
    if entry.change.binary or entry.analysis.file_kind == FileKind.BINARY:
        return "image" if PurePosixPath(entry.path).suffix.lower() in _IMAGE_EXT else "binary"
    return "article" if entry.analysis.file_kind == FileKind.MARKDOWN else "file"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What the writer reads from an entry, the same in every locale (see :func:`_prepared`)."""

    facts: tuple[F.Fact, ...]
    """The completed facts (:func:`_completed_facts`)."""
    groups: dict[str, list[F.Fact]]
    """The facts by group key, in the order of each group's first fact (read only)."""
    explain_order: tuple[str, ...]
    title_key: str | None
    doc_name: str | None
    noun: str


_PREPARED: dict[int, tuple[weakref.ref[FileEntry], _Prepared]] = {}
"""Prepared entries by ``id`` of the entry, for as long as the entry lives: each holds a weak
reference to its entry whose callback drops it (so an id is never reused while cached)."""


def _prepared(entry: FileEntry) -> _Prepared:
    """The entry's facts, grouped and ordered, computed once for the titles, explanations and
    overview of every locale (entries are immutable)."""
    key = id(entry)
    known = _PREPARED.get(key)
    if known is not None and known[0]() is entry:
        return known[1]
    facts = tuple(_completed_facts(entry))
    groups = _groups(facts)
    prepared = _Prepared(
        facts,
        groups,
        _explain_order(groups),
        _title_key(entry, groups),
        _doc_name_of(entry),
        _noun_of(entry),
    )
    _PREPARED[key] = (weakref.ref(entry, lambda _ref: _PREPARED.pop(key, None)), prepared)
    return prepared


def _facts_of(entry: FileEntry) -> tuple[F.Fact, ...]:
    """The entry's facts, completed from the change (see :func:`_completed_facts`)."""
    return _prepared(entry).facts


def _doc_name(entry: FileEntry) -> str | None:
    """The document's title when it is short enough to name the document, else None."""
    return _prepared(entry).doc_name


def _noun(entry: FileEntry) -> str:
    """``article``, ``file``, ``image`` or ``binary``."""
    return _prepared(entry).noun


def _display_names(paths: Sequence[str]) -> list[str]:
    """File names, or full paths where two of the given files share a name."""
    return list(_display_names_cached(tuple(paths)))


def _disambiguated(paths: Sequence[str]) -> tuple[str, ...]:
    names = [_basename(p) for p in paths]
    dup = {n for n, c in Counter(names).items() if c > 1}
    return tuple(p if n in dup else n for p, n in zip(paths, names, strict=True))


_display_names_cached = lru_cache(maxsize=256)(_disambiguated)


# --- items and sentences per fact kind ---------------------------------------------------------

_Values = dict[str, Any]


def _table_naming(name: str, columns: Sequence[str]) -> tuple[str, list[str]]:
    """How a table can be named: ``("named", [heading])``, ``("columns", header cells)`` or
    ``("none", [])``. The analysis names a table after the heading above it, else after its header
    cells joined with `` | ``, else it is empty (a hunk that shows neither); a second table of the same
    name gets `` (2)``."""
    if not name.strip() or _TABLE_FALLBACK.match(name):
        cols = [c for c in columns if c.strip()]
        return ("columns", cols[:4]) if cols else ("none", [])
    if " | " not in name:
        return "named", [_TABLE_COPY.sub("", name)]
    cols = [c for c in columns if c.strip()] or [c for c in name.split(" | ") if c.strip()]
    return ("columns", cols[:4]) if cols else ("none", [])


def _table_place(st: _Style, name: str, columns: Sequence[str]) -> str:
    """The table as a modifier of "table" in a sentence (``under “X”``, ``“X”部分的``, ``「X」の``)."""
    how, parts = _table_naming(name, columns)
    if how == "named":
        return st.msg("table.place_named", name=st.q(parts[0]))
    if how == "columns":
        return st.msg("table.place_columns", columns=st.join(st.q(c) for c in parts))
    return st.msg("table.place_none")


def _table_item(st: _Style, name: str, columns: Sequence[str]) -> str:
    """The table as a list item."""
    how, parts = _table_naming(name, columns)
    if how == "named":
        return st.q(parts[0])
    if how == "columns":
        return st.msg("table.item_columns", columns=st.join(st.q(c) for c in parts))
    return st.msg("table.item_none")


def _code_block(st: _Style, lang: str) -> str:
    return st.msg("code.block_lang", lang=st.code(lang)) if lang.strip() else st.msg("code.block")


def _code_lang(st: _Style, lang: str) -> str:
    return st.code(lang) if lang.strip() else st.msg("code.nolang")


def _alert(st: _Style, kind: str) -> str:
    k = kind.strip().upper()
    return st.msg(f"alert.{k.lower()}") if k in _ALERTS else st.code(kind)


def _link_item(st: _Style, text: str, url: str) -> str:
    return st.q(text) if text.strip() else st.code(url)


def _pair(st: _Style, old: str, new: str) -> str:
    return st.msg("fmt.pair", old=old, new=new)


def _replacements(st: _Style, cluster: Cluster, limit: int = 3) -> str:
    """A cluster's shared replacements as a list of ``“old” → “new”``."""
    return st.capped_map(cluster.replacements, lambda r: _pair(st, st.q(r[0]), st.q(r[1])), limit)


def _clusters(entries: Sequence[FileEntry]) -> list[tuple[Cluster, list[FileEntry]]]:
    """The clusters with two members or more among ``entries``, in the order of their first member."""
    members: dict[str, list[FileEntry]] = {}
    first: dict[str, Cluster] = {}
    for e in entries:
        if e.cluster is not None:
            members.setdefault(e.cluster.id, []).append(e)
            first.setdefault(e.cluster.id, e.cluster)
    return [(first[cid], ms) for cid, ms in members.items() if len(ms) >= 2]


def _item(st: _Style, f: F.Fact) -> str:
    """The fact as one list item."""
    match f:
        case (
            F.HeadingAdded(text=t)
            | F.HeadingRemoved(text=t)
            | F.SentenceAdded(text=t)
            | F.SentenceRemoved(text=t)
        ):
            return st.q(t)
        case F.SectionAdded(heading=h) | F.SectionRemoved(heading=h):
            return st.q(h)
        case F.HeadingRenamed(old=o, new=n) | F.TocEntryRenamed(old=o, new=n):
            return _pair(st, st.q(o), st.q(n))
        case F.TableAdded(table=t, columns=c):
            return _table_item(st, t, c)
        case F.TableRemoved(table=t):
            return _table_item(st, t, ())
        case F.LinkAdded(text=t, url=u) | F.LinkRemoved(text=t, url=u):
            return _link_item(st, t, u)
        case F.LinkRetargeted(text=t, new=u):
            return _link_item(st, t, u)
        case F.LinkRelabeled(old=o, new=n):
            return _pair(st, st.q(o), st.q(n))
        case F.ImageAdded(alt=a, src=s) | F.ImageRemoved(alt=a, src=s) | F.ImageRetargeted(alt=a, new=s):
            return st.q(a) if a.strip() else st.code(s)
        case F.CodeBlockAdded(lang=lang, lines=n) | F.CodeBlockRemoved(lang=lang, lines=n):
            return st.msg("fmt.detail", text=_code_lang(st, lang), detail=st.unit("lines", n))
        case F.CodeBlockChanged(lang=lang, added=a, removed=r):
            return st.msg("fmt.detail", text=_code_lang(st, lang), detail=st.delta(a, r))
        case F.AlertAdded(alert=a) | F.AlertRemoved(alert=a):
            return _alert(st, a)
        case F.IncludeAdded(target=t) | F.IncludeRemoved(target=t):
            return st.code(t)
        case F.TocEntryAdded(name=n) | F.TocEntryRemoved(name=n) | F.TocEntryRetargeted(name=n):
            return st.q(n)
        case F.YamlValueChanged(path=p):
            return st.code(p)
        case F.FrontMatterChanged(key=k):
            return st.code(k)
        case F.DateBumped(key=k, new=n):
            return _pair(st, st.code(k), st.date_value(k, n))
        case F.TermReplaced(old=o, new=n, count=c):
            pair = _pair(st, st.q(o), st.q(n))
            return st.msg("fmt.detail", text=pair, detail=st.unit("times", c)) if c > 1 else pair
        case F.WordsInserted(text=t, count=c) | F.WordsDeleted(text=t, count=c):
            return st.msg("fmt.detail", text=st.q(t), detail=st.unit("times", c)) if c > 1 else st.q(t)
    return st.code(f.kind)


def _single(st: _Style, f: F.Fact) -> tuple[str, _Values]:
    """The variant and values of the sentence (or title) about one fact."""
    v: _Values = {"item": _item(st, f)}
    match f:
        case F.SectionAdded(lines=n) | F.SectionRemoved(lines=n):
            v["lines"] = st.unit("lines", n)
        case F.HeadingRenamed(old=o, new=n) | F.TocEntryRenamed(old=o, new=n) | F.LinkRelabeled(old=o, new=n):
            v.update(old=st.q(o), new=st.q(n))
            if isinstance(f, F.LinkRelabeled):
                v["url"] = st.code(f.url)
        case F.TableAdded(table=t, rows=r, columns=c):
            v.update(place=_table_place(st, t, c), rows=st.unit("rows", r))
        case F.TableRemoved(table=t, rows=r):
            v.update(place=_table_place(st, t, ()), rows=st.unit("rows", r))
        case F.LinkAdded(url=u) | F.LinkRemoved(url=u):
            v["url"] = st.code(u)
            return ("single" if f.text.strip() else "single_bare"), v
        case F.LinkRetargeted(old=o, new=n) | F.ImageRetargeted(old=o, new=n):
            v.update(old=st.code(o), new=st.code(n))
        case F.ImageAdded(src=s) | F.ImageRemoved(src=s):
            v["src"] = st.code(s)
            return ("single" if f.alt.strip() else "single_bare"), v
        case F.CodeBlockAdded(lang=lang, lines=n) | F.CodeBlockRemoved(lang=lang, lines=n):
            v.update(block=_code_block(st, lang), lines=st.unit("lines", n))
        case F.CodeBlockChanged(lang=lang, added=a, removed=r):
            v.update(block=_code_block(st, lang), delta=st.delta(a, r))
        case F.AlertAdded(alert=a, text=t) | F.AlertRemoved(alert=a, text=t):
            v.update(alert=_alert(st, a), text=st.q(t))
            return ("single" if t.strip() else "single_bare"), v
        case F.TocEntryAdded(href=h) | F.TocEntryRemoved(href=h):
            if h:
                v["href"] = st.code(h)
                return "single", v
            return "single_bare", v
        case (
            F.TocEntryRetargeted(old=o, new=n)
            | F.YamlValueChanged(old=o, new=n)
            | F.FrontMatterChanged(old=o, new=n)
        ):
            is_link = isinstance(f, F.TocEntryRetargeted)
            v.update(
                old=st.code(o) if is_link and o else st.value(o),
                new=st.code(n) if is_link and n else st.value(n),
            )
            if isinstance(f, F.FrontMatterChanged | F.YamlValueChanged):
                v["key"] = st.code(f.key if isinstance(f, F.FrontMatterChanged) else f.path)
            if o is None:
                return "single_added", v
            if n is None:
                return "single_removed", v
        case F.DateBumped(key=k, old=o, new=n):
            v.update(key=st.code(k), old=st.date_value(k, o), new=st.date_value(k, n))
        case F.TermReplaced(old=o, new=n, count=c):
            v.update(old=st.q(o), new=st.q(n), times=st.unit("times", c))
            return ("single" if c > 1 else "single_once"), v
        case F.WordsInserted(text=t, count=c) | F.WordsDeleted(text=t, count=c):
            v.update(item=st.q(t), times=st.unit("times", c))
            return ("single" if c > 1 else "single_once"), v
    return "single", v


def _list_sentence(st: _Style, key: str, facts: Sequence[F.Fact], limit: int = LIST_LIMIT) -> str:
    if len(facts) == 1:
        variant, values = _single(st, facts[0])
        return st.msg(f"fact.{key}.{variant}", **values)
    return st.msg(f"fact.{key}.group", count=len(facts), items=_counted_items(st, facts, limit))


def _counted_items(st: _Style, facts: Sequence[F.Fact], limit: int) -> str:
    """:meth:`_Style.capped` of the facts' items, an item that several facts read the same (two
    removed sections both named “Examples”) once, with how many times; "and N more" counts the
    facts not shown."""
    counts: dict[str, int] = {}
    for f in facts:
        item = _item(st, f)
        counts[item] = counts.get(item, 0) + 1
    items = [
        st.msg("fmt.detail", text=i, detail=st.unit("times", n)) if n > 1 else i for i, n in counts.items()
    ]
    return st.capped(items, limit, list(counts.values()))


def _merge_rows(rows: Sequence[F.TableRowsChanged]) -> list[F.TableRowsChanged]:
    """Row changes of tables that read the same (two untitled tables, say) as one change."""
    merged: dict[tuple[str, tuple[str, ...]], F.TableRowsChanged] = {}
    for r in rows:
        how, parts = _table_naming(r.table, r.columns)
        key = (how, tuple(parts))
        m = merged.get(key)
        merged[key] = r if m is None else msgspec.structs.replace(
            m, added=m.added + r.added, removed=m.removed + r.removed, changed=m.changed + r.changed,
            added_keys=m.added_keys + r.added_keys, removed_keys=m.removed_keys + r.removed_keys,
            changed_keys=m.changed_keys + r.changed_keys,
        )  # fmt: skip
    return list(merged.values())


def _rows_sentence(st: _Style, f: F.TableRowsChanged) -> str:
    parts: list[str] = []
    for what, n, keys in (("added", f.added, f.added_keys), ("removed", f.removed, f.removed_keys),
                          ("changed", f.changed, f.changed_keys)):  # fmt: skip
        if not n:
            continue
        part = st.msg(f"table.rows_{what}", rows=st.unit("rows", n), count=n)
        if keys:
            part = st.msg("fmt.detail", text=part, detail=st.capped_map(keys, st.q, 3))
        parts.append(part)
    if not parts:
        return ""
    return st.msg(
        "fact.table_rows_changed.single", place=_table_place(st, f.table, f.columns), parts=st.clauses(parts)
    )


def _document_sentence(st: _Style, entry: FileEntry, f: F.Fact) -> str:
    what = st.msg(f"noun.{_noun(entry)}")
    match f:
        case F.DocumentAdded(lines=n, headings=hs) if hs:
            return st.msg(
                "fact.document_added.sections",
                what=what,
                lines=st.unit("lines", n),
                items=st.capped_map(hs, st.q, 5),
                count=len(hs),
            )
        case F.DocumentAdded(lines=n):
            return st.msg("fact.document_added.single", what=what, lines=st.unit("lines", n))
        case F.DocumentRemoved(lines=n):
            return st.msg("fact.document_removed.single", what=what, lines=st.unit("lines", n))
        case F.DocumentRenamed(old_path=o, content_changed=True):
            return st.msg("fact.document_renamed.single", old=st.code(o), what=what)
    return ""


def _binary_sentence(st: _Style, entry: FileEntry, doc: str, f: F.Fact) -> str:
    what = st.msg(f"noun.{_noun(entry)}")
    match f:
        case F.BinaryAdded(size=s) | F.BinaryRemoved(size=s):
            verb = "added" if isinstance(f, F.BinaryAdded) else "removed"
            if s is None:
                return st.msg(f"fact.binary_{verb}.bare", doc=doc, what=what)
            return st.msg(f"fact.binary_{verb}.single", doc=doc, what=what, size=st.size(s))
        case F.BinaryReplaced(old_size=o, new_size=n):
            if o is None or n is None:
                return st.msg("fact.binary_replaced.bare", doc=doc, what=what)
            return st.msg("fact.binary_replaced.single", doc=doc, what=what, old=st.size(o), new=st.size(n))
    return ""


def _group_sentences(
    st: _Style, entry: FileEntry, doc: str, key: str, facts: list[F.Fact], *, after: bool = False
) -> list[str]:
    """The sentences about one group of facts of the same kind (``after``: other facts were told)."""
    if key in ("document_added", "document_removed", "document_renamed"):
        return [_document_sentence(st, entry, f) for f in facts[:1]]
    if key.startswith("binary_"):
        return [_binary_sentence(st, entry, doc, f) for f in facts[:1]]
    if key == "front_matter_main":
        out = []
        for f in facts:
            variant, values = _single(st, f)
            out.append(st.msg(f"fact.front_matter_changed.{variant}", **values))
        return out
    if key == "front_matter_other":
        return [_list_sentence(st, "front_matter_changed", facts)]
    if key == "table_rows_changed":
        rows = _merge_rows([f for f in facts if isinstance(f, F.TableRowsChanged)])
        out = [_rows_sentence(st, f) for f in rows[:2]]
        if len(rows) > 2:
            out.append(st.msg("fact.table_rows_changed.more", count=len(rows) - 2))
        return out
    if key in ("sentence_added", "sentence_removed"):
        texts = [f.text for f in facts if isinstance(f, F.SentenceAdded | F.SentenceRemoved)]
        if len(texts) == 1:
            return [st.msg(f"fact.{key}.single", item=st.q(texts[0]))]
        shown = st.join(st.q(t) for t in list(dict.fromkeys(texts))[:MAX_QUOTED_SENTENCES])
        return [st.msg(f"fact.{key}.group", count=len(texts), items=shown)]
    if key == "text_edited":
        a = sum(f.added for f in facts if isinstance(f, F.TextEdited))
        r = sum(f.removed for f in facts if isinstance(f, F.TextEdited))
        variant = "also" if after else "single"
        return [
            st.msg(f"fact.text_edited.{variant}", delta=st.delta(a, r), lines=st.unit("lines", max(a, r)))
        ]
    if key == "lines_changed":
        a = sum(f.added for f in facts if isinstance(f, F.LinesChanged))
        r = sum(f.removed for f in facts if isinstance(f, F.LinesChanged))
        return [st.msg("fact.lines_changed.single", delta=st.delta(a, r))] if a or r else []
    if key == "formatting_only":
        what = list(dict.fromkeys(w for f in facts if isinstance(f, F.FormattingOnly) for w in f.what))
        return [st.msg("fact.formatting_only.single", items=st.join(_formatting(st, w) for w in what))]
    if key == "encoding_replaced":
        return []
    return [_list_sentence(st, key, facts)]


def _formatting(st: _Style, what: str) -> str:
    key = what.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return st.msg(f"formatting.{key}")
    except KeyError:
        return st.code(what)


# --- titles ----------------------------------------------------------------------------------


def _title_doc(st: _Style, entry: FileEntry) -> str:
    name = _doc_name(entry)
    if name is None:
        return st.msg("fmt.title_file", text=_basename(entry.path))
    return st.msg("fmt.title_doc", text=name)


def _headline(st: _Style, entry: FileEntry, doc: str) -> str:
    """The file's title: the document and its most telling change (white space collapsed, and none
    next to full-width punctuation, where a file name or a value in a title may have left some)."""
    text = " ".join(_headline_text(st, entry, doc).split())
    return _FULLWIDTH_SPACE.sub("", text) if " " in text and not text.isascii() else text


def _headline_text(st: _Style, entry: FileEntry, doc: str) -> str:
    prepared = _prepared(entry)
    what = st.msg(f"noun.{prepared.noun}")
    key = prepared.title_key
    if key is None:
        return _status_title(st, entry, doc, what)
    fs = prepared.groups[key]
    f = fs[0]
    base: _Values = {"doc": doc, "what": what, "count": len(fs)}
    match f:
        case F.DocumentAdded() | F.DocumentRemoved():
            return st.msg(f"title.{key}", **base)
        case F.DocumentRenamed(old_path=o):
            return st.msg("title.document_renamed", old=_basename(o), **base)
        case F.BinaryAdded(size=s) | F.BinaryRemoved(size=s):
            if s is None:
                return st.msg(f"title.{key}_bare", **base)
            return st.msg(f"title.{key}", size=st.size(s), **base)
        case F.BinaryReplaced(old_size=o, new_size=n):
            if o is None or n is None:
                return st.msg("title.binary_replaced_bare", **base)
            return st.msg("title.binary_replaced", old=st.size(o), new=st.size(n), **base)
        case F.TableRowsChanged():
            rows = [x for x in fs if isinstance(x, F.TableRowsChanged)]
            r = rows[0]
            place = _table_place(st, r.table, r.columns)
            if r.added and not r.removed and r.added_keys:
                return st.msg(
                    "title.table_rows_changed.added",
                    place=place,
                    items=st.capped_map(r.added_keys, st.q, 2),
                    count=r.added,
                    doc=doc,
                )
            if r.removed and not r.added and r.removed_keys:
                return st.msg(
                    "title.table_rows_changed.removed",
                    place=place,
                    items=st.capped_map(r.removed_keys, st.q, 2),
                    count=r.removed,
                    doc=doc,
                )
            return st.msg(
                "title.table_rows_changed.single", place=place, doc=doc, count=r.added + r.removed + r.changed
            )
        case F.TextEdited():
            a = sum(x.added for x in fs if isinstance(x, F.TextEdited))
            r2 = sum(x.removed for x in fs if isinstance(x, F.TextEdited))
            return st.msg("title.text_edited", lines=st.unit("lines", max(a, r2)), **base)
        case F.LinesChanged():
            a = sum(x.added for x in fs if isinstance(x, F.LinesChanged))
            r2 = sum(x.removed for x in fs if isinstance(x, F.LinesChanged))
            if not (a or r2):
                return _status_title(st, entry, doc, what)
            return st.msg("title.lines_changed", delta=st.delta(a, r2), **base)
        case F.FormattingOnly():
            what_ = list(dict.fromkeys(w for x in fs if isinstance(x, F.FormattingOnly) for w in x.what))
            return st.msg("title.formatting_only", items=st.join(_formatting(st, w) for w in what_), **base)
        case F.EncodingReplaced():
            return st.msg("title.encoding_replaced", **base)
        case F.TermReplaced(old=o, new=n):
            if len(fs) == 1:
                return st.msg("title.term_replaced.single", old=st.q(o), new=st.q(n), **base)
            return st.msg("title.term_replaced.group", old=st.q(o), new=st.q(n), **base)
        case F.WordsInserted() | F.WordsDeleted():
            # the words themselves, without how often: a title stays short
            quoted = [st.q(x.text) for x in fs if isinstance(x, F.WordsInserted | F.WordsDeleted)]
            if len(quoted) == 1:
                return st.msg(f"title.{key}.single", item=quoted[0], **base)
            return st.msg(f"title.{key}.group", items=st.capped(quoted, 2), first=st.join(quoted[:2]), **base)
        case F.FrontMatterChanged() if key == "front_matter_main":
            variant, values = _single(st, f)
            return st.msg(f"title.front_matter_main.{variant}", **{**values, **base})
    title_key = "front_matter_changed" if key == "front_matter_other" else key
    if len(fs) == 1:
        variant, values = _single(st, f)
        return st.msg(f"title.{title_key}.{variant}", **{**values, **base})
    # a title names each thing once (docfx zones repeat headings such as "Prerequisites" per language)
    items = list(dict.fromkeys(_item(st, x) for x in fs))
    return st.msg(f"title.{title_key}.group", items=st.capped(items, 2), first=st.join(items[:2]), **base)


def _status_title(st: _Style, entry: FileEntry, doc: str, what: str) -> str:
    """The title of a file without facts: what its status says (renames always have a fact)."""
    ch = entry.change
    old = _basename(ch.previous_path) if ch.previous_path else ""
    status = "modified"
    if ch.status in (Status.ADDED, Status.REMOVED, Status.CHANGED) or (ch.status == Status.COPIED and old):
        status = ch.status.value
    return st.msg(f"title.status.{status}", doc=doc, what=what, old=old)


# --- explanations ----------------------------------------------------------------------------


def _moved_only(facts: Sequence[F.Fact]) -> F.DocumentRenamed | None:
    """The rename of a file whose content did not change, if that is the case."""
    return next((f for f in facts if isinstance(f, F.DocumentRenamed) and not f.content_changed), None)


def _lead(st: _Style, entry: FileEntry, doc: str, facts: Sequence[F.Fact]) -> str:
    """The opening sentence: the document and the nature of its change."""
    ch = entry.change
    what = st.msg(f"noun.{_noun(entry)}")
    moved = _moved_only(facts)
    if moved is not None:
        return st.msg("lead.moved", doc=doc, what=what, old=st.code(moved.old_path))
    if ch.status == Status.ADDED:
        return st.msg("lead.added", doc=doc, what=what)
    if ch.status == Status.COPIED and ch.previous_path:
        return st.msg("lead.copied", doc=doc, what=what, old=st.code(ch.previous_path))
    if ch.status == Status.REMOVED:
        return st.msg("lead.removed", doc=doc, what=what)
    if ch.status == Status.CHANGED:
        return st.msg("lead.mode_changed", doc=doc, what=what)
    return st.msg(f"lead.{_type_key(entry.classification.type)}", doc=doc, what=what)


def _explain_doc(st: _Style, entry: FileEntry) -> str:
    name = _doc_name(entry)
    return st.title(name) if name is not None else st.file(entry.path)


_CLUSTER_NAMES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {}
"""Display names per cluster id, with the paths tuple they were computed for (checked by identity)."""


def _cluster_names(cluster: Cluster) -> dict[str, str]:
    cached = _CLUSTER_NAMES.get(cluster.id)
    if cached is None or cached[0] is not cluster.paths:
        if len(_CLUSTER_NAMES) > 256:
            _CLUSTER_NAMES.clear()
        names = _disambiguated(cluster.paths)
        cached = (cluster.paths, dict(zip(cluster.paths, names, strict=True)))
        _CLUSTER_NAMES[cluster.id] = cached
    return cached[1]


def _cluster_sentence(st: _Style, entry: FileEntry) -> str:
    cluster = entry.cluster
    if cluster is None:
        return ""
    # the other files: a path changed twice in a patch series is not its own peer either time
    n_peers = len(cluster.paths) - cluster.paths.count(entry.change.path)
    if n_peers <= 0:
        return ""
    # names are disambiguated across the whole cluster (computed once per cluster), and only the
    # shown ones are formatted: the sentence costs the same in a cluster of 9 or of 20,000 files
    shown = _cluster_names(cluster)
    peers = list(islice((p for p in cluster.paths if p != entry.change.path), PEER_LIMIT + 1))
    head = [st.code(shown[p]) for p in peers]
    if n_peers > PEER_LIMIT + 1:
        head = head[:PEER_LIMIT]
        files = st.join([*head, st.msg("list.more", count=n_peers - PEER_LIMIT)])
    else:
        files = st.join(head)
    if cluster.replacements:
        return st.msg(
            "cluster.replacements", count=n_peers, files=files, replacements=_replacements(st, cluster)
        )
    return st.msg("cluster.identical" if cluster.identical else "cluster.similar", count=n_peers, files=files)


def _explain(st: _Style, entry: FileEntry) -> str:
    doc = _explain_doc(st, entry)
    prepared = _prepared(entry)
    facts, groups = prepared.facts, prepared.groups
    has_binary = any(k.startswith("binary_") for k in groups)
    first: list[str] = [] if has_binary else [_lead(st, entry, doc, facts)]
    body: list[str] = []
    left = 0
    for k in prepared.explain_order:
        sentences = [s for s in _group_sentences(st, entry, doc, k, groups[k], after=bool(body)) if s]
        if len(body) + len(sentences) > MAX_FACT_SENTENCES:
            left += len(groups[k])
            continue
        body.extend(sentences)
    if left:
        body.append(st.msg("note.more", count=left))
    notes = [_cluster_sentence(st, entry)]
    if "encoding_replaced" in groups:
        notes.append(st.msg("note.encoding"))
    if entry.analysis.basis == "patch":
        notes.append(st.msg("note.patch"))
    elif entry.analysis.basis == "metadata" and not has_binary and not entry.change.binary:
        notes.append(st.msg("note.metadata"))
    paragraphs = [st.sentences([*first, *body]), st.sentences(notes)]
    return "\n\n".join(p for p in paragraphs if p)


# --- the report level ------------------------------------------------------------------------


def _type_counts(st: _Style, entries: Sequence[FileEntry]) -> str:
    counts = Counter(e.classification.type for e in entries)
    return st.join(st.msg(f"count.{_type_key(t)}", count=counts[t]) for t in _TYPE_ORDER if counts[t])


def _real(facts: Sequence[F.Fact]) -> list[F.Fact]:
    """The facts that are changes (not the note that the text was decoded with replacements)."""
    return [f for f in facts if f.kind != "encoding_replaced"]


def _only(facts: Sequence[F.Fact], kinds: set[str]) -> bool:
    real = _real(facts)
    return bool(real) and all(f.kind in kinds for f in real)


_MetadataChange = tuple[str, str, str | None]
"""A metadata change as files share it: (``added``/``removed``/``changed``, key, new value); the
old values of a removed or changed field may differ from file to file."""


def _metadata_change(f: F.FrontMatterChanged) -> _MetadataChange:
    if f.old is None:
        return "added", f.key, f.new
    if f.new is None:
        return "removed", f.key, None
    return "changed", f.key, f.new


def _metadata_groups(
    entries: Sequence[FileEntry], *, sole: bool, skip: set[int] | None = None
) -> list[tuple[_MetadataChange, list[FileEntry]]]:
    """The metadata changes made in two files or more, most files first (then in diff order), with
    their files; ``sole``: only files whose one fact is that change (``skip``: ids left out)."""
    groups: dict[_MetadataChange, list[FileEntry]] = {}
    for e in entries:
        if skip is not None and id(e) in skip:
            continue
        facts = _real(_facts_of(e))
        if sole and not (len(facts) == 1 and isinstance(facts[0], F.FrontMatterChanged)):
            continue
        for f in facts:
            if isinstance(f, F.FrontMatterChanged):
                members = groups.setdefault(_metadata_change(f), [])
                if not members or members[-1] is not e:
                    members.append(e)
    shared = [(change, members) for change, members in groups.items() if len(members) >= 2]
    shared.sort(key=lambda cm: -len(cm[1]))  # stable: diff order on ties
    return shared


def _metadata_text(st: _Style, section: str, change: _MetadataChange, count: int, files: str = "") -> str:
    action, key, new = change
    return st.msg(
        f"{section}.metadata_{action}", count=count, files=files, key=st.code(key), new=st.value(new)
    )


def _bullet_doc(st: _Style, entry: FileEntry) -> str:
    link = f"[{st.cat.code(_basename(entry.path))}](#{entry.anchor})"
    name = _doc_name(entry)
    return link if name is None else st.msg("fmt.doc_with_file", doc=st.title(name), file=link)


@dataclass(frozen=True, slots=True)
class _Bullet:
    rank: int
    order: int
    text: str
    files: int
    entry: FileEntry | None = None
    """A one-file bullet: its text (the file's title) is written only if the bullet is kept."""


def _bullets(st: _Style, entries: Sequence[FileEntry], *, group_minor: bool) -> tuple[str, ...]:
    """Highlight bullets: one per file, one per cluster, and (``group_minor``) one for date-only and
    one for formatting-only files; at most :data:`MAX_BULLETS` with a final "N more files".

    Among new features and breaking changes (not ``group_minor``) only clusters of identical edits
    get one bullet: files that share replacements but differ otherwise are listed one by one, since
    what made each a new feature or a breaking change is not the replacement they share."""
    order = {id(e): i for i, e in enumerate(entries)}
    done: set[int] = set()
    out: list[_Bullet] = []
    for cluster, members in _clusters(entries):
        if not group_minor and not cluster.identical:
            continue
        done.update(id(m) for m in members)
        names = [st.code(n) for n in _display_names([m.path for m in members])]
        if cluster.replacements:
            text = st.msg(
                "highlights.cluster_replacements",
                count=len(members),
                files=st.capped(names),
                replacements=_replacements(st, cluster),
            )
        else:
            example = _headline(_Style(st.cat, True, TITLE_QUOTE), members[0], _bullet_doc(st, members[0]))
            text = st.msg("highlights.cluster", count=len(members), files=st.capped(names), example=example)
        rank = 0 if any(m.classification.type == ChangeType.BUG_FIX for m in members) else 1
        out.append(_Bullet(rank, order[id(members[0])], text, len(members)))
    if group_minor:
        dated = [e for e in entries if id(e) not in done and _only(_facts_of(e), {"date_bumped"})]
        if len(dated) >= 2:
            done.update(id(e) for e in dated)
            bumps = [f for e in dated for f in _facts_of(e) if isinstance(f, F.DateBumped)]
            keys = list(dict.fromkeys(f.key for f in bumps))
            dates = list(dict.fromkeys(st.date_value(f.key, f.new) for f in bumps))
            out.append(
                _Bullet(
                    3,
                    order[id(dated[0])],
                    st.msg(
                        "highlights.dates",
                        count=len(dated),
                        keys=st.join(st.code(k) for k in keys),
                        dates=st.capped(dates, 3),
                        files=st.capped([st.code(n) for n in _display_names([e.path for e in dated])]),
                    ),
                    len(dated),
                )
            )
        for change, members in _metadata_groups(entries, sole=True, skip=done):
            done.update(id(e) for e in members)
            files = st.capped([st.code(n) for n in _display_names([e.path for e in members])])
            text = _metadata_text(st, "highlights", change, len(members), files)
            out.append(_Bullet(3, order[id(members[0])], text, len(members)))
        fmt = [
            e
            for e in entries
            if id(e) not in done and _only(_facts_of(e), {"formatting_only", "date_bumped"})
        ]
        if len(fmt) >= 2:
            done.update(id(e) for e in fmt)
            out.append(
                _Bullet(
                    4,
                    order[id(fmt[0])],
                    st.msg(
                        "highlights.formatting",
                        count=len(fmt),
                        files=st.capped([st.code(n) for n in _display_names([e.path for e in fmt])]),
                    ),
                    len(fmt),
                )
            )
    for e in entries:
        if id(e) in done:
            continue
        rank = 0 if e.classification.type == ChangeType.BUG_FIX else 2
        out.append(_Bullet(rank, order[id(e)], "", 1, e))
    out.sort(key=lambda b: (b.rank, b.order))
    title_st = _Style(st.cat, True, TITLE_QUOTE)

    def written(b: _Bullet) -> str:
        return b.text if b.entry is None else _headline(title_st, b.entry, _bullet_doc(st, b.entry))

    if len(out) > MAX_BULLETS:
        kept = out[: MAX_BULLETS - 1]
        rest = sum(b.files for b in out[MAX_BULLETS - 1 :])
        return (*(written(b) for b in kept), st.msg("highlights.more", count=rest))
    return tuple(written(b) for b in out)


def _term_table(entries: Sequence[FileEntry]) -> dict[tuple[str, str], list[tuple[FileEntry, int]]]:
    table: dict[tuple[str, str], list[tuple[FileEntry, int]]] = {}
    for e in entries:
        for f in _facts_of(e):
            if isinstance(f, F.TermReplaced):
                table.setdefault((f.old, f.new), []).append((e, f.count))
    return table


_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "nor", "to", "of", "in", "on", "at", "by", "for", "from",
    "with", "as", "into", "than", "that", "this", "these", "those", "is", "are", "was", "were", "be",
    "been", "it", "its", "you", "your", "we", "our", "they", "their",
))  # fmt: skip
"""Words whose insertion or removal in several files is grammar, not a pattern worth an insight."""


@lru_cache(maxsize=4096)
def _function_words_only(text: str) -> bool:
    return all(w in _FUNCTION_WORDS for w in text.casefold().replace(",", " ").split())


def _word_table(entries: Sequence[FileEntry]) -> dict[tuple[str, str], list[tuple[FileEntry, int]]]:
    """Words inserted into or removed from sentences, by ``(kind, text)``; phrases made only of
    function words (``the``, ``and a``) are left out."""
    table: dict[tuple[str, str], list[tuple[FileEntry, int]]] = {}
    for e in entries:
        for f in _facts_of(e):
            if isinstance(f, F.WordsInserted | F.WordsDeleted):
                if _function_words_only(f.text):
                    continue
                table.setdefault((f.kind, f.text), []).append((e, f.count))
    return table


def _insights(st: _Style, entries: Sequence[FileEntry], context: ReportContext) -> tuple[str, ...]:
    paras: list[str] = []
    n = len(entries)
    names = {
        id(e): st.code(d) for e, d in zip(entries, _display_names([e.path for e in entries]), strict=True)
    }

    def doc_item(e: FileEntry) -> str:
        name = _doc_name(e)
        return (
            names[id(e)]
            if name is None
            else st.msg("fmt.doc_with_file", doc=st.title(name), file=names[id(e)])
        )

    # new and removed articles
    added = [e for e in entries if e.change.status in (Status.ADDED, Status.COPIED) and _noun(e) == "article"]
    removed = [e for e in entries if e.change.status == Status.REMOVED and _noun(e) == "article"]
    art = []
    if added:
        art.append(
            st.msg("insights.new_articles", count=len(added), items=st.capped([doc_item(e) for e in added]))
        )
    if removed:
        art.append(
            st.msg(
                "insights.removed_articles",
                count=len(removed),
                items=st.capped([doc_item(e) for e in removed]),
            )
        )
    paras.append(st.sentences(art))

    # clusters
    shown = sorted(_clusters(entries), key=lambda cm: -len(cm[1]))[:3]
    covered: set[tuple[tuple[str, str], frozenset[str]]] = set()
    cl = []
    for cluster, members in shown:
        files = st.capped([names[id(m)] for m in members], PEER_LIMIT)
        paths = frozenset(m.path for m in members)
        if cluster.replacements:
            covered.update((r, paths) for r in cluster.replacements)
            reps = _replacements(st, cluster)
            cl.append(
                st.msg("insights.cluster_replacements", count=len(members), files=files, replacements=reps)
            )
        else:
            cl.append(st.msg("insights.cluster", count=len(members), files=files))
    paras.append(st.sentences(cl))

    # terms replaced in two files or more
    terms = [
        (pair, hits) for pair, hits in _term_table(entries).items()
        if len({e.path for e, _ in hits}) >= 2 and (pair, frozenset(e.path for e, _ in hits)) not in covered
    ]  # fmt: skip
    terms.sort(key=lambda t: (-len(t[1]), -sum(c for _, c in t[1]), t[0]))
    tm = []
    for (old, new), hits in terms[:3]:
        tm.append(
            st.msg(
                "insights.term",
                old=st.q(old),
                new=st.q(new),
                count=len(hits),
                times=st.unit("times", sum(c for _, c in hits)),
                files=st.capped([names[id(e)] for e, _ in hits], PEER_LIMIT),
            )
        )
    if len(terms) > 3:
        tm.append(st.msg("insights.more_terms", count=len(terms) - 3))
    paras.append(st.sentences(tm))

    # words inserted into or removed from sentences in two files or more
    words = [(kt, hits) for kt, hits in _word_table(entries).items() if len({e.path for e, _ in hits}) >= 2]
    words.sort(key=lambda t: (-len(t[1]), -sum(c for _, c in t[1]), _EXPLAIN_RANK[t[0][0]], t[0][1]))
    wd = []
    for (kind, text), hits in words[:3]:
        wd.append(
            st.msg(
                f"insights.{kind}",
                item=st.q(text),
                count=len(hits),
                times=st.unit("times", sum(c for _, c in hits)),
                files=st.capped([names[id(e)] for e, _ in hits], PEER_LIMIT),
            )
        )
    if len(words) > 3:
        wd.append(st.msg("insights.more_words", count=len(words) - 3))
    paras.append(st.sentences(wd))

    # renamed files
    renamed = [e for e in entries if e.change.status == Status.RENAMED and e.change.previous_path]
    if renamed:
        moves = [_pair(st, st.code(e.change.previous_path or ""), st.code(e.path)) for e in renamed]
        paras.append(st.msg("insights.renamed", count=len(renamed), items=st.capped(moves, 3)))

    # date bumps
    bumps: dict[str, list[tuple[FileEntry, F.DateBumped]]] = {}
    for e in entries:
        for f in _facts_of(e):
            if isinstance(f, F.DateBumped):
                bumps.setdefault(f.key, []).append((e, f))
    dt = []
    for key, bumped in sorted(bumps.items(), key=lambda kv: (-len({e.path for e, _ in kv[1]}), kv[0])):
        n_files = len({e.path for e, _ in bumped})
        if n_files < 2:
            continue
        values = Counter(st.date_value(key, f.new) for _, f in bumped)
        ranked = sorted(values.items(), key=lambda kv: -kv[1])  # stable: first seen first on ties
        if len(ranked) == 1:
            dates = ranked[0][0]
        else:
            dates = st.capped(
                [st.msg("insights.date_value", date=d, files=st.unit("files", c)) for d, c in ranked], 3
            )
        dt.append(st.msg("insights.dates", key=st.code(key), count=n_files, dates=dates))
    paras.append(st.sentences(dt))

    # the same metadata change in two files or more
    meta = _metadata_groups(entries, sole=False)
    md = [
        _metadata_text(
            st, "insights", change, len(members), st.capped([names[id(e)] for e in members], PEER_LIMIT)
        )
        for change, members in meta[:3]
    ]
    if len(meta) > 3:
        md.append(st.msg("insights.more_metadata", count=len(meta) - 3))
    paras.append(st.sentences(md))

    # the share of minor updates
    minor = sum(1 for e in entries if e.classification.type == ChangeType.MINOR_UPDATE)
    if n >= 2 and minor:
        if minor == n:
            paras.append(st.msg("insights.all_minor", count=n))
        else:
            paras.append(
                st.msg("insights.minor_share", count=minor, total=n, percent=st.cat.percent(minor / n))
            )
    paras = [p for p in paras if p]
    if not paras:
        if n:
            paras.append(
                st.msg(
                    "insights.mix", count=n, types=_type_counts(st, entries), category=st.q(context.category)
                )
            )
        else:
            paras.append(st.msg("insights.empty", category=st.q(context.category)))
    return tuple(paras)


def _summary(st: _Style, entries: Sequence[FileEntry], context: ReportContext) -> str:
    n = len(entries)
    category = st.q(context.category)
    if not n:
        return st.msg("summary.empty", category=category)
    types = _type_counts(st, entries)
    if context.total_files_in_range > n:
        first = st.msg(
            "summary.files_of_total",
            count=n,
            total=context.total_files_in_range,
            category=category,
            types=types,
        )
    else:
        first = st.msg("summary.files", count=n, category=category, types=types)
    rank = {
        ChangeType.BREAKING_CHANGE: 0,
        ChangeType.NEW_FEATURE: 1,
        ChangeType.BUG_FIX: 3,
        ChangeType.MINOR_UPDATE: 4,
    }
    title_st = _Style(st.cat, False, TITLE_QUOTE)
    order = {id(e): i for i, e in enumerate(entries)}
    # (weight, -size of the change, diff order, text or file): one candidate per file or per
    # cluster; the diff order is unique, so a file's title is written only if it is chosen
    candidates: list[tuple[int, int, int, str | FileEntry]] = []
    grouped: set[int] = set()
    for cluster, members in _clusters(entries):
        grouped.update(id(m) for m in members)
        weight = min(rank[m.classification.type] for m in members)
        size = sum(m.change.changes for m in members)
        if cluster.replacements:
            reps = _replacements(title_st, cluster, 2)
            text = st.msg("summary.cluster_replacements", count=len(members), replacements=reps)
        else:
            text = st.msg("summary.cluster", count=len(members))
        candidates.append((min(weight, 2), -size, order[id(members[0])], text))
    for change, members in _metadata_groups(entries, sole=True, skip=grouped):
        grouped.update(id(m) for m in members)
        weight = min(rank[m.classification.type] for m in members)
        size = sum(m.change.changes for m in members)
        text = _metadata_text(title_st, "summary", change, len(members))
        candidates.append((weight, -size, order[id(members[0])], text))
    for e in entries:
        if id(e) in grouped:
            continue
        weight = rank[e.classification.type]
        if e.change.status in (Status.ADDED, Status.REMOVED) and weight > 2:
            weight = 2
        candidates.append((weight, -e.change.changes, order[id(e)], e))
    chosen = [c[3] for c in sorted(candidates, key=lambda c: c[:3])[:MAX_NOTABLE]]
    items = [c if isinstance(c, str) else _headline(title_st, c, _title_doc(title_st, c)) for c in chosen]
    key = "summary.notable" if len(entries) > 1 else "summary.only"
    return st.sentences(
        [first, st.msg(key, items=st.msg("fmt.list_semicolon").join(items), count=len(items))]
    )


class FactsWriter:
    """The deterministic engine: titles, explanations and the report overview from the facts."""

    name = "facts"
    parallel_safe = True
    """Pure and stateless: may run in forked worker processes."""
    overview_uses_texts = False
    """:meth:`overview` recomputes everything from the facts (the pipeline may run it before the
    file texts exist)."""
    version = "1"

    def cluster_sentence(self, entry: FileEntry, locale: str) -> str:
        """The sentence naming the other files that carry the same edit ('' when there are none)."""
        return _cluster_sentence(_Style(catalog(resolve_locale(locale)[0]), True), entry)

    def describe_files(self, entries: Sequence[FileEntry], locale: str) -> list[FileText]:
        """One title and explanation per entry, in the entry order."""
        cat = catalog(resolve_locale(locale)[0])
        plain = _Style(cat, False, TITLE_QUOTE)
        md = _Style(cat, True)
        return [
            FileText(
                title=_headline(plain, e, _title_doc(plain, e)), explanation=_explain(md, e), engine=self.name
            )
            for e in entries
        ]

    def overview(
        self,
        entries: Sequence[FileEntry],
        texts: Sequence[FileText],
        locale: str,
        context: ReportContext,
    ) -> Overview:
        """Summary, highlights and insights. Recomputed from the facts (``texts`` is not needed), so
        the overview stays verifiable whichever engine wrote the file texts."""
        cat = catalog(resolve_locale(locale)[0])
        md = _Style(cat, True)
        plain = _Style(cat, False)
        by_type: dict[ChangeType, list[FileEntry]] = {t: [] for t in _TYPE_ORDER}
        for e in entries:
            by_type[e.classification.type].append(e)
        others = [
            e for e in entries if e.classification.type in (ChangeType.BUG_FIX, ChangeType.MINOR_UPDATE)
        ]
        intro_key = "highlights.intro" if entries else "highlights.intro_empty"
        highlights = Highlights(
            intro=md.msg(
                intro_key,
                count=len(entries),
                types=_type_counts(md, entries),
                category=md.q(context.category),
            ),
            new_features=_bullets(md, by_type[ChangeType.NEW_FEATURE], group_minor=False),
            breaking_changes=_bullets(md, by_type[ChangeType.BREAKING_CHANGE], group_minor=False),
            other_updates=_bullets(md, others, group_minor=True),
            none_text=md.msg("highlights.none"),
        )
        return Overview(
            summary=_summary(plain, entries, context),
            highlights=highlights,
            insights=_insights(md, entries, context),
        )


__all__ = ["FactsWriter"]
