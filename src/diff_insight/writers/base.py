"""The writer interface shared by the deterministic (facts) and the LLM engines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from diff_insight.report import FileEntry, FileText, Overview


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a writer may know about the report beyond its files."""

    category: str
    repository: str | None
    """``owner/name`` or a local name, for prose such as 'the azure-ai-docs repository'."""
    total_files_in_range: int
    """Files in the whole range (all categories), for 'N of M files' statements."""


class Writer(Protocol):
    """Turns analysed files into localized prose. Implementations must be deterministic given the
    same inputs (the LLM engine achieves this through its cache)."""

    name: str
    version: str

    def describe_files(self, entries: Sequence[FileEntry], locale: str) -> list[FileText]:
        """One :class:`FileText` per entry, same order."""
        ...

    def overview(
        self,
        entries: Sequence[FileEntry],
        texts: Sequence[FileText],
        locale: str,
        context: ReportContext,
    ) -> Overview:
        """Summary, highlights and insights for one report."""
        ...
