"""Read a patch file: ``git diff`` output, or one or more ``git format-patch`` mails.

Each file section becomes one :class:`FileChange`, in order. When a path appears in more than one
mail of a series, each occurrence stays its own entry (the patches are not combined), so the
caller sees every step.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO, Final

from diff_insight.errors import SourceError
from diff_insight.model import ChangeSet, EntryKind, FileChange, NoContent
from diff_insight.sources.diffparse import FileDiff, iter_file_diffs

__all__ = ["open_patch"]

_FROM_LINE: Final = re.compile(rb"^From ([0-9a-f]{40}|[0-9a-f]{64}) Mon Sep 17 00:00:00 2001\r?\n?$")
_BASE_LINE: Final = re.compile(rb"^base-commit: ([0-9a-f]{40}|[0-9a-f]{64})\r?\n?$")


class _MailScanner:
    """Passes lines through while noting each mail's commit, ``Date:`` header and base commit."""

    def __init__(self) -> None:
        self.head: str | None = None
        self.head_time: datetime | None = None
        self.base: str | None = None
        self._in_header = False

    def scan(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        for line in lines:
            if line.startswith(b"From "):
                m = _FROM_LINE.match(line)
                if m is not None:
                    self.head = m.group(1).decode("ascii")
                    self.head_time = None
                    self._in_header = True
                    yield line
                    continue
            if self._in_header:
                if not line.strip():
                    self._in_header = False
                elif line[:6].lower() == b"date: ":
                    self.head_time = _mail_date(line[6:])
            elif line.startswith(b"base-commit: "):
                m = _BASE_LINE.match(line)
                if m is not None and self.base is None:
                    self.base = m.group(1).decode("ascii")
            yield line


def _mail_date(value: bytes) -> datetime | None:
    try:
        when = parsedate_to_datetime(value.decode("utf-8", "replace").strip())
    except (TypeError, ValueError, IndexError):
        return None
    offset = when.utcoffset()
    return when.replace(tzinfo=timezone(offset) if offset else UTC)


def _kind(diff: FileDiff) -> EntryKind:
    mode = diff.old_mode if diff.new_mode is None else diff.new_mode
    if mode == "120000":
        return EntryKind.SYMLINK
    if mode == "160000":
        return EntryKind.SUBMODULE
    return EntryKind.FILE


def _change(diff: FileDiff) -> FileChange:
    return FileChange(
        path=diff.path,
        status=diff.status,
        additions=diff.additions,
        deletions=diff.deletions,
        patch=diff.patch,
        previous_path=diff.previous_path,
        binary=diff.binary,
        kind=_kind(diff),
        encoding_replaced=diff.encoding_replaced,
    )


def open_patch(path: str | Path, *, stdin: BinaryIO | None = None) -> tuple[ChangeSet, NoContent]:
    """Read the patch at ``path``, or standard input (``stdin``, else ``sys.stdin``) for ``"-"``.

    Input that is not UTF-8 is decoded with replacements (flagged per file). The head commit and
    its time come from the last mail's ``From <sha>`` line and ``Date:`` header, when present.
    Raises :class:`SourceError` when the input cannot be read or holds no diff.
    """
    if str(path) == "-":
        name = "<stdin>"
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read()
        except OSError as exc:
            raise SourceError(f"cannot read standard input: {exc.strerror or exc}") from None
    else:
        name = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {name}: {exc.strerror or exc}") from None
    scanner = _MailScanner()
    files = tuple(_change(d) for d in iter_file_diffs(scanner.scan(io.BytesIO(data))))
    if not files:
        raise SourceError(f"no changes found in {name}")
    change_set = ChangeSet(
        files=files,
        source="patch",
        base=scanner.base,
        head=scanner.head,
        head_time=scanner.head_time,
    )
    return change_set, NoContent()
