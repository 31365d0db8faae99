"""Classification of a change into one of four types, by an ordered table of documented rules.

The first rule whose predicate holds wins; its name is recorded with the result so the report can
say (machine-readably) why a file got its type. Thresholds were tuned on real ranges of a
documentation repository.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from diff_insight.analysis import facts as F
from diff_insight.analysis.facts import ChangeType, Classification, FileAnalysis, FileKind
from diff_insight.analysis.words import is_typo_fix
from diff_insight.model import FileChange, Status

SECTION_ADDED_MIN_LINES = 8
"""A new section of at least this many lines is a new feature."""
SECTION_REMOVED_MIN_LINES = 5
SUBSTANTIAL_ADDITIONS = 40
CODE_FIX_MAX_LINES = 10
_PARAM_TABLE = re.compile(
    r"\b(param(eter)?s?|propert(y|ies)|fields?|arguments?|options?|settings?|flags?|switch(es)?|"
    r"attributes?|keys?|variables?|headers?|name)\b",
    re.IGNORECASE,
)

# facts that never change the type by themselves
_NEUTRAL: tuple[type[F.Fact], ...] = (F.DateBumped, F.EncodingReplaced, F.FormattingOnly)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    type: ChangeType
    description: str
    applies: Callable[[FileChange, FileAnalysis], bool]


def _is_doc(a: FileAnalysis) -> bool:
    return a.file_kind in (FileKind.MARKDOWN, FileKind.YAML)


def _only(a: FileAnalysis, *types: type[F.Fact]) -> bool:
    """True when every fact is of ``types`` or neutral, and at least one is of ``types``."""
    allowed = types + _NEUTRAL
    return all(isinstance(f, allowed) for f in a.facts) and any(isinstance(f, types) for f in a.facts)


def _facts(a: FileAnalysis, t: type[F.Fact]) -> list[F.Fact]:
    return [f for f in a.facts if isinstance(f, t)]


def _param_table(f: F.TableRowsChanged) -> bool:
    return bool(_PARAM_TABLE.search(f.table) or any(_PARAM_TABLE.search(c) for c in f.columns[:1]))


def _section_removed(c: FileChange, a: FileAnalysis) -> bool:
    lines = sum(f.lines for f in _facts(a, F.SectionRemoved) if isinstance(f, F.SectionRemoved))
    return lines >= SECTION_REMOVED_MIN_LINES and c.deletions > c.additions


def _parameter_removed(c: FileChange, a: FileAnalysis) -> bool:
    return (
        any(
            isinstance(f, F.TableRowsChanged) and f.removed > 0 and f.added == 0 and _param_table(f)
            for f in a.facts
        )
        and c.deletions > c.additions
    )


def _section_added(c: FileChange, a: FileAnalysis) -> bool:
    lines = sum(f.lines for f in _facts(a, F.SectionAdded) if isinstance(f, F.SectionAdded))
    return lines >= SECTION_ADDED_MIN_LINES or bool(_facts(a, F.TableAdded))


def _parameter_added(c: FileChange, a: FileAnalysis) -> bool:
    return any(isinstance(f, F.TableRowsChanged) and f.added > 0 and _param_table(f) for f in a.facts)


def _substantial(c: FileChange, a: FileAnalysis) -> bool:
    # new text, code or links: a list of new links (a table of contents, "see also" items) is
    # new content too, though none of its items is a sentence
    new_text = (
        len(_facts(a, F.SentenceAdded)) + len(_facts(a, F.CodeBlockAdded)) + len(_facts(a, F.LinkAdded))
    )
    return c.additions >= SUBSTANTIAL_ADDITIONS and c.additions >= 2 * c.deletions and new_text >= 3


def _code_fix(c: FileChange, a: FileAnalysis) -> bool:
    if not _only(a, F.CodeBlockChanged):
        return False
    return (
        sum(f.added + f.removed for f in _facts(a, F.CodeBlockChanged) if isinstance(f, F.CodeBlockChanged))
        <= CODE_FIX_MAX_LINES
    )


def _typo_fix(c: FileChange, a: FileAnalysis) -> bool:
    if not _only(a, F.TermReplaced):
        return False
    return all(is_typo_fix(f.old, f.new) for f in _facts(a, F.TermReplaced) if isinstance(f, F.TermReplaced))


def _fixes(c: FileChange, a: FileAnalysis) -> bool:
    if not _only(a, F.LinkRetargeted, F.ImageRetargeted, F.CodeBlockChanged, F.TermReplaced):
        return False
    code = sum(f.added + f.removed for f in a.facts if isinstance(f, F.CodeBlockChanged))
    typos = all(is_typo_fix(f.old, f.new) for f in a.facts if isinstance(f, F.TermReplaced))
    return code <= CODE_FIX_MAX_LINES and typos


RULES: tuple[Rule, ...] = (
    Rule("article-added", ChangeType.NEW_FEATURE, "a new document (Markdown or YAML)",
         lambda c, a: c.status in (Status.ADDED, Status.COPIED) and _is_doc(a)),
    Rule("article-removed", ChangeType.BREAKING_CHANGE, "a document was deleted: its URL stops working",
         lambda c, a: c.status == Status.REMOVED and _is_doc(a)),
    Rule("article-renamed", ChangeType.BREAKING_CHANGE, "a document moved: its old URL needs a redirect",
         lambda c, a: c.status == Status.RENAMED and _is_doc(a)),
    Rule("media-added", ChangeType.MINOR_UPDATE, "an image or other binary file was added",
         lambda c, a: a.file_kind == FileKind.BINARY and c.status in (Status.ADDED, Status.COPIED)),
    Rule("media-removed", ChangeType.MINOR_UPDATE, "an image or other binary file was removed",
         lambda c, a: a.file_kind == FileKind.BINARY and c.status == Status.REMOVED),
    Rule("media-changed", ChangeType.MINOR_UPDATE, "an image or other binary file was replaced or moved",
         lambda c, a: a.file_kind == FileKind.BINARY),
    Rule("section-removed", ChangeType.BREAKING_CHANGE,
         f"whole sections of {SECTION_REMOVED_MIN_LINES}+ lines removed, and more removed than added",
         _section_removed),
    Rule("parameter-removed", ChangeType.BREAKING_CHANGE,
         "rows removed from a parameter/property table, none added", _parameter_removed),
    Rule("toc-entry-removed", ChangeType.BREAKING_CHANGE, "entries removed from a table of contents",
         lambda c, a: bool(_facts(a, F.TocEntryRemoved)) and not _facts(a, F.TocEntryAdded)),
    Rule("section-added", ChangeType.NEW_FEATURE,
         f"new sections of {SECTION_ADDED_MIN_LINES}+ lines in all, or a new table", _section_added),
    Rule("parameter-added", ChangeType.NEW_FEATURE, "rows added to a parameter/property table",
         _parameter_added),
    Rule("toc-entry-added", ChangeType.NEW_FEATURE, "entries added to a table of contents",
         lambda c, a: bool(_facts(a, F.TocEntryAdded)) and not _facts(a, F.TocEntryRemoved)),
    Rule("substantial-addition", ChangeType.NEW_FEATURE,
         f"{SUBSTANTIAL_ADDITIONS}+ lines added, twice the lines removed, with new text, code or links",
         _substantial),
    Rule("date-only", ChangeType.MINOR_UPDATE, "only a date in the front matter changed",
         lambda c, a: bool(a.facts) and all(isinstance(f, (F.DateBumped, F.EncodingReplaced)) for f in a.facts)
         and bool(_facts(a, F.DateBumped))),
    Rule("formatting-only", ChangeType.MINOR_UPDATE, "only formatting changed (white space, list markers, …)",
         lambda c, a: _only(a, F.FormattingOnly)),
    Rule("link-fix", ChangeType.BUG_FIX, "only link or image targets were corrected",
         lambda c, a: _only(a, F.LinkRetargeted, F.ImageRetargeted)),
    Rule("code-fix", ChangeType.BUG_FIX, f"only a few lines (≤ {CODE_FIX_MAX_LINES}) of sample code changed",
         _code_fix),
    Rule("typo-fix", ChangeType.BUG_FIX, "only spelling or punctuation corrections of single words",
         _typo_fix),
    Rule("fixes", ChangeType.BUG_FIX, "only corrections of the kinds above, together (links, small code edits, typos)",
         _fixes),
    Rule("default", ChangeType.MINOR_UPDATE, "any other edit: wording, small additions, metadata",
         lambda c, a: True),
)  # fmt: skip

RULES_BY_NAME = {r.name: r for r in RULES}


def classify(change: FileChange, analysis: FileAnalysis) -> Classification:
    """The type of the first rule that applies, with the rule's name."""
    for rule in RULES:
        if rule.applies(change, analysis):
            return Classification(rule.type, rule.name)
    raise AssertionError("the default rule always applies")  # pragma: no cover
