"""The fact vocabulary: small, verifiable statements about one file's change.

Writers turn facts into sentences per locale, prompts serialise them, tests assert them.
Every fact is a frozen :class:`msgspec.Struct` with a ``kind`` string; quoted document text is kept
verbatim (and short: see :data:`MAX_QUOTE`). Structs rather than dataclasses: the kinds (over forty) are
defined at every start, which takes a dataclass about a millisecond each and a Struct a few
microseconds, and a range holds thousands of facts, which Structs make, compare and pickle faster.
Like a frozen dataclass, a fact is immutable, hashable, equal to a fact of its kind with the same
values, and matches positional patterns (``__match_args__``); :func:`msgspec.structs.replace`
copies one with other values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal

import msgspec

MAX_QUOTE = 160
"""Longest verbatim document text a fact carries; longer text is cut with an ellipsis."""


def quote(text: str, limit: int = MAX_QUOTE) -> str:
    """Collapse white space and cut ``text`` to ``limit`` characters (with ``…``)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


class ChangeType(StrEnum):
    NEW_FEATURE = "new feature"
    BREAKING_CHANGE = "breaking change"
    BUG_FIX = "bug fix"
    MINOR_UPDATE = "minor update"


class FileKind(StrEnum):
    MARKDOWN = "markdown"
    YAML = "yaml"
    TEXT = "text"
    BINARY = "binary"


Basis = Literal["full-text", "patch", "metadata"]
"""What the facts were computed from: both full texts, only the patch hunks, or only the file list."""


class Fact(msgspec.Struct, frozen=True):
    kind: ClassVar[str] = "fact"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **msgspec.structs.asdict(self)}


# --- whole documents -------------------------------------------------------------------------


class DocumentAdded(Fact, frozen=True):
    """A new document. ``title`` from front matter or the first H1."""

    kind: ClassVar[str] = "document_added"
    title: str | None
    lines: int
    headings: tuple[str, ...] = ()
    """Level-2 headings of the new document, in order (at most 12)."""


class DocumentRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "document_removed"
    title: str | None
    lines: int


class DocumentRenamed(Fact, frozen=True):
    kind: ClassVar[str] = "document_renamed"
    old_path: str
    new_path: str
    content_changed: bool


# --- front matter ----------------------------------------------------------------------------


class FrontMatterChanged(Fact, frozen=True):
    """A front-matter key changed; ``old`` is None when added, ``new`` is None when removed."""

    kind: ClassVar[str] = "front_matter_changed"
    key: str
    old: str | None
    new: str | None


class DateBumped(Fact, frozen=True):
    """A date key (``ms.date`` and similar) changed. Values as written in the document."""

    kind: ClassVar[str] = "date_bumped"
    key: str
    old: str
    new: str


# --- headings and sections -------------------------------------------------------------------


class HeadingAdded(Fact, frozen=True):
    kind: ClassVar[str] = "heading_added"
    level: int
    text: str


class HeadingRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "heading_removed"
    level: int
    text: str


class HeadingRenamed(Fact, frozen=True):
    kind: ClassVar[str] = "heading_renamed"
    level: int
    old: str
    new: str


class SectionAdded(Fact, frozen=True):
    """A whole section (heading and body up to the next heading of the same or higher level) added."""

    kind: ClassVar[str] = "section_added"
    heading: str
    level: int
    lines: int


class SectionRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "section_removed"
    heading: str
    level: int
    lines: int


# --- tables ----------------------------------------------------------------------------------


class TableAdded(Fact, frozen=True):
    kind: ClassVar[str] = "table_added"
    table: str
    rows: int
    columns: tuple[str, ...]


class TableRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "table_removed"
    table: str
    rows: int


class TableRowsChanged(Fact, frozen=True):
    """Rows of one table added, removed or changed. Keys are the rows' first cells (at most 8 each)."""

    kind: ClassVar[str] = "table_rows_changed"
    table: str
    added: int
    removed: int
    changed: int
    added_keys: tuple[str, ...] = ()
    removed_keys: tuple[str, ...] = ()
    changed_keys: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    """The table's header cells, when known."""


# --- links and images ------------------------------------------------------------------------


class LinkAdded(Fact, frozen=True):
    kind: ClassVar[str] = "link_added"
    text: str
    url: str


class LinkRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "link_removed"
    text: str
    url: str


class LinkRetargeted(Fact, frozen=True):
    """The same link text now points elsewhere."""

    kind: ClassVar[str] = "link_retargeted"
    text: str
    old: str
    new: str


class LinkRelabeled(Fact, frozen=True):
    """The same URL now has another link text."""

    kind: ClassVar[str] = "link_relabeled"
    url: str
    old: str
    new: str


class ImageAdded(Fact, frozen=True):
    kind: ClassVar[str] = "image_added"
    alt: str
    src: str


class ImageRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "image_removed"
    alt: str
    src: str


class ImageRetargeted(Fact, frozen=True):
    kind: ClassVar[str] = "image_retargeted"
    alt: str
    old: str
    new: str


# --- code, alerts, includes ------------------------------------------------------------------


class CodeBlockAdded(Fact, frozen=True):
    kind: ClassVar[str] = "code_block_added"
    lang: str
    lines: int


class CodeBlockRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "code_block_removed"
    lang: str
    lines: int


class CodeBlockChanged(Fact, frozen=True):
    """Lines changed inside an existing fenced code block."""

    kind: ClassVar[str] = "code_block_changed"
    lang: str
    added: int
    removed: int


class AlertAdded(Fact, frozen=True):
    """A docfx alert (``> [!NOTE]``, ``[!IMPORTANT]``, …) added; ``alert`` is NOTE, TIP, …"""

    kind: ClassVar[str] = "alert_added"
    alert: str
    text: str


class AlertRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "alert_removed"
    alert: str
    text: str


class IncludeAdded(Fact, frozen=True):
    kind: ClassVar[str] = "include_added"
    target: str


class IncludeRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "include_removed"
    target: str


# --- prose -----------------------------------------------------------------------------------


class SentenceAdded(Fact, frozen=True):
    """A whole new sentence or paragraph of prose, verbatim (quoted, short)."""

    kind: ClassVar[str] = "sentence_added"
    text: str


class SentenceRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "sentence_removed"
    text: str


class TermReplaced(Fact, frozen=True):
    """The same phrase replaced by the same phrase ``count`` times in this file."""

    kind: ClassVar[str] = "term_replaced"
    old: str
    new: str
    count: int


class WordsInserted(Fact, frozen=True):
    """Words added inside existing sentences (not whole new sentences), ``count`` times in this file."""

    kind: ClassVar[str] = "words_inserted"
    text: str
    count: int


class WordsDeleted(Fact, frozen=True):
    """Words removed from sentences that otherwise stay, ``count`` times in this file."""

    kind: ClassVar[str] = "words_deleted"
    text: str
    count: int


class TextEdited(Fact, frozen=True):
    """Prose lines edited that no more specific fact accounts for."""

    kind: ClassVar[str] = "text_edited"
    added: int
    removed: int


class FormattingOnly(Fact, frozen=True):
    """The change alters only formatting; ``what`` names the kinds: whitespace, list-markers,
    footnotes, line-breaks, emphasis, table-alignment, link-references."""

    kind: ClassVar[str] = "formatting_only"
    what: tuple[str, ...]


# --- YAML (toc.yml, index.yml, …) ------------------------------------------------------------


class TocEntryAdded(Fact, frozen=True):
    kind: ClassVar[str] = "toc_entry_added"
    name: str
    href: str | None


class TocEntryRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "toc_entry_removed"
    name: str
    href: str | None


class TocEntryRenamed(Fact, frozen=True):
    kind: ClassVar[str] = "toc_entry_renamed"
    old: str
    new: str
    href: str | None


class TocEntryRetargeted(Fact, frozen=True):
    kind: ClassVar[str] = "toc_entry_retargeted"
    name: str
    old: str | None
    new: str | None


class YamlValueChanged(Fact, frozen=True):
    """A scalar at a YAML key path changed (non-TOC YAML, e.g. index.yml, faq.yml)."""

    kind: ClassVar[str] = "yaml_value_changed"
    path: str
    old: str | None
    new: str | None


# --- other files -----------------------------------------------------------------------------


class LinesChanged(Fact, frozen=True):
    """Line statistics for a text file that has no richer analysis."""

    kind: ClassVar[str] = "lines_changed"
    added: int
    removed: int


class BinaryAdded(Fact, frozen=True):
    kind: ClassVar[str] = "binary_added"
    size: int | None


class BinaryRemoved(Fact, frozen=True):
    kind: ClassVar[str] = "binary_removed"
    size: int | None


class BinaryReplaced(Fact, frozen=True):
    kind: ClassVar[str] = "binary_replaced"
    old_size: int | None
    new_size: int | None


class EncodingReplaced(Fact, frozen=True):
    """Some bytes were not valid UTF-8 and were shown as U+FFFD."""

    kind: ClassVar[str] = "encoding_replaced"


ALL_FACT_TYPES: tuple[type[Fact], ...] = (
    DocumentAdded, DocumentRemoved, DocumentRenamed, FrontMatterChanged, DateBumped,
    HeadingAdded, HeadingRemoved, HeadingRenamed, SectionAdded, SectionRemoved,
    TableAdded, TableRemoved, TableRowsChanged,
    LinkAdded, LinkRemoved, LinkRetargeted, LinkRelabeled, ImageAdded, ImageRemoved, ImageRetargeted,
    CodeBlockAdded, CodeBlockRemoved, CodeBlockChanged, AlertAdded, AlertRemoved,
    IncludeAdded, IncludeRemoved, SentenceAdded, SentenceRemoved, TermReplaced, WordsInserted, WordsDeleted,
    TextEdited,
    FormattingOnly, TocEntryAdded, TocEntryRemoved, TocEntryRenamed, TocEntryRetargeted,
    YamlValueChanged, LinesChanged, BinaryAdded, BinaryRemoved, BinaryReplaced, EncodingReplaced,
)  # fmt: skip
FACT_KINDS: dict[str, type[Fact]] = {t.kind: t for t in ALL_FACT_TYPES}


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    """Everything the analysis knows about one file's change (before classification)."""

    path: str
    file_kind: FileKind
    basis: Basis
    facts: tuple[Fact, ...]
    title: str | None = None
    """The document's title (front matter ``title``, else the first H1), new side first."""
    replacements: tuple[tuple[str, str], ...] = ()
    """Word-level replacements (old phrase, new phrase) in body text, one entry per occurrence."""
    change_key: str | None = None
    """Digest of the changed lines without line numbers or context, for clustering identical edits."""

    def of(self, fact_type: type[Fact]) -> list[Fact]:
        return [f for f in self.facts if isinstance(f, fact_type)]


@dataclass(frozen=True, slots=True)
class Classification:
    type: ChangeType
    rule: str
    """The name of the rule that fired (see ``analysis.classify.RULES``)."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """Files that carry the same edit. ``replacements`` is the shared set (may be empty when the
    members have byte-identical changed lines)."""

    id: str
    paths: tuple[str, ...]
    replacements: tuple[tuple[str, str], ...]
    identical: bool
    """True when every member's changed lines are identical."""
