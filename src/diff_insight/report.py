"""The report model: what a writer produces and the Markdown renderer consumes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from diff_insight.analysis.facts import ChangeType, Classification, Cluster, FileAnalysis
from diff_insight.model import ChangeSet, FileChange


def anchor_for(path: str) -> str:
    """The seed's anchor rule: ``item-`` + the first 6 hex digits of md5(full path)."""
    return "item-" + hashlib.md5(path.encode("utf-8"), usedforsecurity=False).hexdigest()[:6]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One changed file with everything the analysis decided about it."""

    change: FileChange
    analysis: FileAnalysis
    classification: Classification
    cluster: Cluster | None = None

    @property
    def path(self) -> str:
        return self.change.path

    @property
    def anchor(self) -> str:
        return anchor_for(self.change.path)

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
