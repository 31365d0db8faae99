"""The change set: what a source reads, as frozen dataclasses. No behaviour beyond small helpers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, Protocol


class Status(StrEnum):
    """A file's change status, in GitHub's words."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"
    RENAMED = "renamed"
    COPIED = "copied"
    CHANGED = "changed"  # mode or type change only
    UNCHANGED = "unchanged"


class EntryKind(StrEnum):
    """What kind of tree entry changed."""

    FILE = "file"
    SYMLINK = "symlink"
    SUBMODULE = "submodule"


@dataclass(frozen=True, slots=True)
class FileChange:
    """One changed file.

    ``patch`` holds the unified-diff hunks from the first ``@@`` line on (as GitHub's
    ``patch`` field does), or ``None`` for binary files and when no patch is known.
    ``additions`` / ``deletions`` equal ``git diff --numstat`` for text files.
    """

    path: str
    status: Status
    additions: int
    deletions: int
    patch: str | None
    previous_path: str | None = None
    binary: bool = False
    old_size: int | None = None
    new_size: int | None = None
    old_id: str | None = None
    new_id: str | None = None
    kind: EntryKind = EntryKind.FILE
    encoding_replaced: bool = False
    """The patch (or a path) was not valid UTF-8 and was decoded with U+FFFD replacements."""
    blob_url: str | None = None

    @property
    def changes(self) -> int:
        return self.additions + self.deletions


@dataclass(frozen=True, slots=True)
class Repository:
    """Where the changes come from. ``slug`` is ``owner/name`` when the repository is on GitHub."""

    slug: str | None = None
    url: str | None = None
    local_path: str | None = None

    @property
    def owner(self) -> str | None:
        return self.slug.split("/", 1)[0] if self.slug else None


SourceKind = Literal["git", "compare-json", "patch", "github"]


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """All changed files of one range, in diff order."""

    files: tuple[FileChange, ...]
    repository: Repository = field(default_factory=Repository)
    source: SourceKind = "git"
    base: str | None = None
    head: str | None = None
    head_time: datetime | None = None
    """The head commit's committer time (timezone-aware) when known."""
    permalink: str | None = None
    """GitHub compare URL of the range, when the repository is on GitHub."""

    def __iter__(self) -> Iterator[FileChange]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


@dataclass(frozen=True, slots=True)
class TextContent:
    """A file's full text on one side of the change."""

    text: str
    size: int
    """Size in bytes before decoding."""
    replaced: bool = False
    """The bytes were not valid UTF-8 and were decoded with U+FFFD replacements."""


Side = Literal["old", "new"]


class ContentReader(Protocol):
    """Gives the full text of a changed file on either side, when the source can."""

    def read(self, change: FileChange, side: Side) -> TextContent | None:
        """Return the text, or ``None`` when unavailable (patch-only sources, binary, too large)."""
        ...

    def prefetch(self, reads: Sequence[tuple[FileChange, Side]]) -> None:
        """Announce the next calls of :meth:`read`, in order, so the reader may fetch ahead.

        Reads that differ from the announcement (skipped or extra) still give the right text."""
        ...

    def close(self) -> None: ...

    def fresh(self) -> ContentReader:
        """An equivalent, unstarted reader, safe to use in another process."""
        ...


class NoContent:
    """A :class:`ContentReader` for sources that only know the patch."""

    def read(self, change: FileChange, side: Side) -> TextContent | None:
        return None

    def prefetch(self, reads: Sequence[tuple[FileChange, Side]]) -> None:
        return None

    def close(self) -> None:
        return None

    def fresh(self) -> NoContent:
        return self
