"""The fact vocabulary: small, verifiable statements about one file's change.

Writers turn facts into sentences per locale, prompts serialise them, tests assert them.
Every fact is a frozen dataclass with a ``kind`` string; quoted document text is kept verbatim
(and short: see :data:`MAX_QUOTE`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal

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


@dataclass(frozen=True, slots=True)
class Fact:
    kind: ClassVar[str] = "fact"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}


# --- whole documents -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentAdded(Fact):
    """A new document. ``title`` from front matter or the first H1."""

    kind: ClassVar[str] = "document_added"
    title: str | None
    lines: int
    headings: tuple[str, ...] = ()
    """Level-2 headings of the new document, in order (at most 12)."""


@dataclass(frozen=True, slots=True)
class DocumentRemoved(Fact):
    kind: ClassVar[str] = "document_removed"
    title: str | None
    lines: int


@dataclass(frozen=True, slots=True)
class DocumentRenamed(Fact):
    kind: ClassVar[str] = "document_renamed"
    old_path: str
    new_path: str
    content_changed: bool


# --- front matter ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FrontMatterChanged(Fact):
    """A front-matter key changed; ``old`` is None when added, ``new`` is None when removed."""

    kind: ClassVar[str] = "front_matter_changed"
    key: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class DateBumped(Fact):
    """A date key (``ms.date`` and similar) changed. Values as written in the document."""

    kind: ClassVar[str] = "date_bumped"
    key: str
    old: str
    new: str


# --- headings and sections -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadingAdded(Fact):
    kind: ClassVar[str] = "heading_added"
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class HeadingRemoved(Fact):
    kind: ClassVar[str] = "heading_removed"
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class HeadingRenamed(Fact):
    kind: ClassVar[str] = "heading_renamed"
    level: int
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class SectionAdded(Fact):
    """A whole section (heading and body up to the next heading of the same or higher level) added."""

    kind: ClassVar[str] = "section_added"
    heading: str
    level: int
    lines: int


@dataclass(frozen=True, slots=True)
class SectionRemoved(Fact):
    kind: ClassVar[str] = "section_removed"
    heading: str
    level: int
    lines: int


# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableAdded(Fact):
    kind: ClassVar[str] = "table_added"
    table: str
    rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableRemoved(Fact):
    kind: ClassVar[str] = "table_removed"
    table: str
    rows: int


@dataclass(frozen=True, slots=True)
class TableRowsChanged(Fact):
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


@dataclass(frozen=True, slots=True)
class LinkAdded(Fact):
    kind: ClassVar[str] = "link_added"
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class LinkRemoved(Fact):
    kind: ClassVar[str] = "link_removed"
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class LinkRetargeted(Fact):
    """The same link text now points elsewhere."""

    kind: ClassVar[str] = "link_retargeted"
    text: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class LinkRelabeled(Fact):
    """The same URL now has another link text."""

    kind: ClassVar[str] = "link_relabeled"
    url: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ImageAdded(Fact):
    kind: ClassVar[str] = "image_added"
    alt: str
    src: str


@dataclass(frozen=True, slots=True)
class ImageRemoved(Fact):
    kind: ClassVar[str] = "image_removed"
    alt: str
    src: str


@dataclass(frozen=True, slots=True)
class ImageRetargeted(Fact):
    kind: ClassVar[str] = "image_retargeted"
    alt: str
    old: str
    new: str


# --- code, alerts, includes ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeBlockAdded(Fact):
    kind: ClassVar[str] = "code_block_added"
    lang: str
    lines: int


@dataclass(frozen=True, slots=True)
class CodeBlockRemoved(Fact):
    kind: ClassVar[str] = "code_block_removed"
    lang: str
    lines: int


@dataclass(frozen=True, slots=True)
class CodeBlockChanged(Fact):
    """Lines changed inside an existing fenced code block."""

    kind: ClassVar[str] = "code_block_changed"
    lang: str
    added: int
    removed: int


@dataclass(frozen=True, slots=True)
class AlertAdded(Fact):
    """A docfx alert (``> [!NOTE]``, ``[!IMPORTANT]``, …) added; ``alert`` is NOTE, TIP, …"""

    kind: ClassVar[str] = "alert_added"
    alert: str
    text: str


@dataclass(frozen=True, slots=True)
class AlertRemoved(Fact):
    kind: ClassVar[str] = "alert_removed"
    alert: str
    text: str


@dataclass(frozen=True, slots=True)
class IncludeAdded(Fact):
    kind: ClassVar[str] = "include_added"
    target: str


@dataclass(frozen=True, slots=True)
class IncludeRemoved(Fact):
    kind: ClassVar[str] = "include_removed"
    target: str


# --- prose -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentenceAdded(Fact):
    """A whole new sentence or paragraph of prose, verbatim (quoted, short)."""

    kind: ClassVar[str] = "sentence_added"
    text: str


@dataclass(frozen=True, slots=True)
class SentenceRemoved(Fact):
    kind: ClassVar[str] = "sentence_removed"
    text: str


@dataclass(frozen=True, slots=True)
class TermReplaced(Fact):
    """The same phrase replaced by the same phrase ``count`` times in this file."""

    kind: ClassVar[str] = "term_replaced"
    old: str
    new: str
    count: int


@dataclass(frozen=True, slots=True)
class WordsInserted(Fact):
    """Words added inside existing sentences (not whole new sentences), ``count`` times in this file."""

    kind: ClassVar[str] = "words_inserted"
    text: str
    count: int


@dataclass(frozen=True, slots=True)
class WordsDeleted(Fact):
    """Words removed from sentences that otherwise stay, ``count`` times in this file."""

    kind: ClassVar[str] = "words_deleted"
    text: str
    count: int


@dataclass(frozen=True, slots=True)
class TextEdited(Fact):
    """Prose lines edited that no more specific fact accounts for."""

    kind: ClassVar[str] = "text_edited"
    added: int
    removed: int


@dataclass(frozen=True, slots=True)
class FormattingOnly(Fact):
    """The change alters only formatting; ``what`` names the kinds: whitespace, list-markers,
    footnotes, line-breaks, emphasis, table-alignment, link-references."""

    kind: ClassVar[str] = "formatting_only"
    what: tuple[str, ...]


# --- YAML (toc.yml, index.yml, …) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TocEntryAdded(Fact):
    kind: ClassVar[str] = "toc_entry_added"
    name: str
    href: str | None


@dataclass(frozen=True, slots=True)
class TocEntryRemoved(Fact):
    kind: ClassVar[str] = "toc_entry_removed"
    name: str
    href: str | None


@dataclass(frozen=True, slots=True)
class TocEntryRenamed(Fact):
    kind: ClassVar[str] = "toc_entry_renamed"
    old: str
    new: str
    href: str | None


@dataclass(frozen=True, slots=True)
class TocEntryRetargeted(Fact):
    kind: ClassVar[str] = "toc_entry_retargeted"
    name: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class YamlValueChanged(Fact):
    """A scalar at a YAML key path changed (non-TOC YAML, e.g. index.yml, faq.yml)."""

    kind: ClassVar[str] = "yaml_value_changed"
    path: str
    old: str | None
    new: str | None


# --- other files -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinesChanged(Fact):
    """Line statistics for a text file that has no richer analysis."""

    kind: ClassVar[str] = "lines_changed"
    added: int
    removed: int


@dataclass(frozen=True, slots=True)
class BinaryAdded(Fact):
    kind: ClassVar[str] = "binary_added"
    size: int | None


@dataclass(frozen=True, slots=True)
class BinaryRemoved(Fact):
    kind: ClassVar[str] = "binary_removed"
    size: int | None


@dataclass(frozen=True, slots=True)
class BinaryReplaced(Fact):
    kind: ClassVar[str] = "binary_replaced"
    old_size: int | None
    new_size: int | None


@dataclass(frozen=True, slots=True)
class EncodingReplaced(Fact):
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
