"""The report model: what a writer produces and the Markdown renderer consumes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from diff_insight.analysis.facts import ChangeType, Classification, Cluster, FileAnalysis
from diff_insight.model import ChangeSet, FileChange


@lru_cache(maxsize=16384)
def anchor_for(path: str) -> str:
    """The seed's anchor rule: ``item-`` + the first 6 hex digits of md5(full path)."""
    return "item-" + hashlib.md5(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:6]


def anchor_numbers(paths: Sequence[str]) -> list[int]:
    """For the files of one report, in report order: 1 when a file's :func:`anchor_for` is free, else
    the ``n`` of the first free ``item-xxxxxx-n`` (n ≥ 2). An anchor is taken by an earlier file of
    the report: the same path changed twice (a ``git format-patch`` series) or another path whose
    md5 starts alike (with 6 hex digits, two of a few thousand paths often do)."""
    used: set[str] = set()
    out = []
    for path in paths:
        base = anchor = anchor_for(path)
        n = 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        out.append(n)
    return out


def numbered_anchor(path: str, n: int) -> str:
    """``item-xxxxxx`` for ``n`` 1, else ``item-xxxxxx-n``."""
    return anchor_for(path) if n == 1 else f"{anchor_for(path)}-{n}"


def unique_anchors(paths: Sequence[str]) -> list[str]:
    """The anchors of the files of one report, in report order (see :func:`anchor_numbers`)."""
    return [numbered_anchor(p, n) for p, n in zip(paths, anchor_numbers(paths), strict=True)]


@dataclass(frozen=True, slots=True, weakref_slot=True)
class FileEntry:
    """One changed file with everything the analysis decided about it. (Weak references allowed:
    writers cache what they derive from an entry for as long as it lives.)"""

    change: FileChange
    analysis: FileAnalysis
    classification: Classification
    cluster: Cluster | None = None
    occurrence: int = 1
    """The anchor's number in its report (see :func:`anchor_numbers`): 1 for the plain
    ``item-xxxxxx``, ``n`` > 1 for ``item-xxxxxx-n``."""

    @property
    def path(self) -> str:
        return self.change.path

    @property
    def anchor(self) -> str:
        return numbered_anchor(self.change.path, self.occurrence)

    def cluster_peers(self) -> tuple[str, ...]:
        """Other files carrying the same edit, in diff order."""
        if self.cluster is None:
            return ()
        return tuple(p for p in self.cluster.paths if p != self.change.path)


@dataclass(frozen=True, slots=True)
class FileText:
    """What a writer says about one file, in one locale."""

    title: str
    explanation: str
    engine: str = "facts"
    """Which engine wrote it: ``facts`` (deterministic) or ``llm``."""
    note: str | None = None
    """Machine-readable remark (e.g. why the LLM result was replaced by the facts engine)."""
    modification_type: ChangeType | None = None
    """The writer's type when it differs from the classifier's (the LLM must give a reason)."""
    type_reason: str | None = None
    method: str | None = None
    """How the text was written: ``whole``, ``parts`` (map-reduce), ``cluster``, ``facts``."""


@dataclass(frozen=True, slots=True)
class Highlights:
    """The ``# Highlights`` section. Empty lists are rendered with ``none_text``."""

    intro: str
    new_features: tuple[str, ...]
    breaking_changes: tuple[str, ...]
    other_updates: tuple[str, ...]
    none_text: str


@dataclass(frozen=True, slots=True)
class Overview:
    """The report-level prose a writer produces for one category in one locale."""

    summary: str
    """Plain text for the front matter (no Markdown, one paragraph)."""
    highlights: Highlights
    insights: tuple[str, ...]
    """Paragraphs of the ``# Insights`` section."""


@dataclass(frozen=True, slots=True)
class ReportFile:
    entry: FileEntry
    text: FileText

    @property
    def type(self) -> ChangeType:
        """The type shown: the writer's when it chose one, else the classifier's."""
        return self.text.modification_type or self.entry.classification.type


@dataclass(frozen=True, slots=True)
class Report:
    """One Diff Insight Report: one category, one locale."""

    category: str
    locale: str
    date: date
    changeset: ChangeSet
    files: tuple[ReportFile, ...]
    overview: Overview
    engine: str
    engine_version: str
    extra: dict[str, Any] = field(default_factory=dict)
    """More front-matter keys (usage figures, notes); rendered after ours."""

    @property
    def title(self) -> str:
        return f"[{self.locale}] Diff Insight Report - {self.category}"
