"""Split unified diffs into per-file sections.

Understands ``git diff`` output, ``git format-patch`` mails (one or several in a row) and plain
``diff -u`` output (only ``---``/``+++`` headers). The parser works on byte lines so that a caller
can stream a diff of any size; each file's patch is decoded as UTF-8 (with U+FFFD replacements,
flagged) only once its section is complete.

Hunk header line counts decide where a hunk ends, so content lines that start with ``---``,
``+++`` or ``diff --git`` are never taken for headers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from diff_insight.model import Status

__all__ = [
    "FileDiff",
    "count_changes",
    "decode_utf8",
    "iter_file_diffs",
    "parse_diff",
    "unquote_c_path",
]

_HUNK_RE = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")

_C_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}

# (old, new) path prefixes git may use: the default, and the ``diff.mnemonicPrefix`` pairs.
_PREFIX_PAIRS = {
    (b"a/", b"b/"),
    (b"c/", b"w/"),
    (b"c/", b"i/"),
    (b"i/", b"w/"),
    (b"o/", b"w/"),
    (b"c/", b"o/"),
    (b"1/", b"2/"),
}


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file's section of a diff.

    ``patch`` is the text from the first ``@@`` line on, exactly as in the input except that the
    final line's ``\\n`` is dropped (as in GitHub's ``patch`` field); ``None`` when the section has
    no hunks (binary, mode-only change, pure rename).
    """

    path: str
    previous_path: str | None
    status: Status
    binary: bool
    patch: str | None
    additions: int
    deletions: int
    old_mode: str | None = None
    new_mode: str | None = None
    encoding_replaced: bool = False
    """The patch or a path was not valid UTF-8 and was decoded with replacements."""


def decode_utf8(data: bytes) -> tuple[str, bool]:
    """Decode UTF-8, replacing invalid bytes; return the text and whether anything was replaced."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def unquote_c_path(quoted: bytes) -> bytes:
    """Undo git's C-style quoting of a path (``"a/f\\303\\251 \\"q\\".md"`` → raw bytes).

    Unquoted input is returned unchanged.
    """
    if len(quoted) < 2 or quoted[:1] != b'"' or quoted[-1:] != b'"':
        return quoted
    body = quoted[1:-1]
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c != 0x5C or i + 1 >= n:  # not a backslash
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if 0x30 <= nxt <= 0x37:  # octal escape, up to three digits
            j = i + 1
            value = 0
            while j < n and j < i + 4 and 0x30 <= body[j] <= 0x37:
                value = value * 8 + (body[j] - 0x30)
                j += 1
            out.append(value & 0xFF)
            i = j
        else:
            out.append(_C_ESCAPES.get(nxt, nxt))
            i += 2
    return bytes(out)


def _read_quoted(data: bytes, start: int) -> int | None:
    """Return the index just past the C-quoted string starting at ``start``, or ``None``."""
    i = start + 1
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x5C:
            i += 2
            continue
        if c == 0x22:
            return i + 1
        i += 1
    return None


def _split_git_header(rest: bytes) -> tuple[bytes, bytes] | None:
    """Split the two (still prefixed) paths of a ``diff --git`` line."""
    if rest[:1] == b'"':
        end = _read_quoted(rest, 0)
        if end is None or rest[end : end + 1] != b" ":
            return None
        return unquote_c_path(rest[:end]), unquote_c_path(rest[end + 1 :])
    if rest.endswith(b'"'):
        # unquoted old path, quoted new path: find where a quoted string runs to the end
        pos = rest.find(b' "')
        while pos != -1:
            end = _read_quoted(rest, pos + 1)
            if end == len(rest):
                return rest[:pos], unquote_c_path(rest[pos + 1 :])
            pos = rest.find(b' "', pos + 1)
    n = len(rest)
    if n % 2 == 1:  # the same path on both sides: "<p1>X <p2>X"
        mid = n // 2
        left, right = rest[:mid], rest[mid + 1 :]
        if rest[mid : mid + 1] == b" " and _strip_any_prefix(left) == _strip_any_prefix(right):
            return left, right
    pos = rest.find(b" b/")
    if pos != -1:
        return rest[:pos], rest[pos + 1 :]
    return None


def _strip_any_prefix(path: bytes) -> bytes:
    return path[2:] if len(path) > 2 and path[1:2] == b"/" else path


def _header_path(value: bytes) -> bytes:
    """A path from a ``---``/``+++`` line: unquote, or cut at the tab git/diff may append."""
    if value[:1] == b'"':
        end = _read_quoted(value, 0)
        if end is not None:
            return unquote_c_path(value[:end])
    tab = value.find(b"\t")
    return value[:tab] if tab != -1 else value


class _HunkCounter:
    """Follows hunk headers' line counts to know which lines belong to a hunk."""

    __slots__ = ("old_left", "new_left", "additions", "deletions", "hunks", "after_content")

    def __init__(self) -> None:
        self.old_left = 0
        self.new_left = 0
        self.additions = 0
        self.deletions = 0
        self.hunks = 0
        self.after_content = False

    def start(self, line: bytes) -> bool:
        """Begin a hunk if ``line`` is a hunk header."""
        m = _HUNK_RE.match(line)
        if m is None:
            return False
        self.old_left = int(m.group(2)) if m.group(2) is not None else 1
        self.new_left = int(m.group(4)) if m.group(4) is not None else 1
        self.hunks += 1
        self.after_content = True
        return True

    def feed(self, line: bytes) -> bool:
        """Take ``line`` if it belongs to the current hunk; return whether it did."""
        c = line[:1]
        if c == b"\\":  # "\ No newline at end of file" after a content line
            return self.after_content
        if self.old_left <= 0 and self.new_left <= 0:
            self.after_content = False
            return False
        if c == b"-":
            if self.old_left <= 0:
                return self._stop()
            self.old_left -= 1
            self.deletions += 1
        elif c == b"+":
            if self.new_left <= 0:
                return self._stop()
            self.new_left -= 1
            self.additions += 1
        elif c == b" " or line in (b"\n", b"\r\n", b""):
            if self.old_left <= 0 or self.new_left <= 0:
                return self._stop()
            self.old_left -= 1
            self.new_left -= 1
        else:
            return self._stop()
        self.after_content = True
        return True

    def _stop(self) -> bool:
        self.old_left = self.new_left = 0
        self.after_content = False
        return False

    def take(self, lines: Iterator[bytes], out: list[bytes]) -> bytes | None:
        """Right after :meth:`start`: append to ``out`` the lines of ``lines`` that :meth:`feed`
        takes as plain content of the hunk, in one loop without a call per line (hunk bodies are
        nearly all of a patch); return the first other line, for :meth:`feed` and the caller (None
        at the end)."""
        old_left, new_left = self.old_left, self.new_left
        additions = deletions = 0
        pending: bytes | None = None
        append = out.append
        for line in lines:
            c = line[:1]
            if c == b"-" and old_left > 0:
                old_left -= 1
                deletions += 1
            elif c == b"+" and new_left > 0:
                new_left -= 1
                additions += 1
            elif old_left > 0 and new_left > 0 and (c == b" " or line in (b"\n", b"\r\n", b"")):
                old_left -= 1
                new_left -= 1
            else:
                pending = line
                break
            append(line)
        self.old_left, self.new_left = old_left, new_left
        self.additions += additions
        self.deletions += deletions
        return pending  # after_content stays as start() left it: True


@dataclass(slots=True)
class _Section:
    git: bool
    git_old: bytes | None = None
    git_new: bytes | None = None
    minus: bytes | None = None
    plus: bytes | None = None
    minus_seen: bool = False
    plus_seen: bool = False
    old_null: bool = False
    new_null: bool = False
    rename_from: bytes | None = None
    rename_to: bytes | None = None
    copy_from: bytes | None = None
    copy_to: bytes | None = None
    new_file: bool = False
    deleted: bool = False
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    lines: list[bytes] = field(default_factory=list)
    counter: _HunkCounter = field(default_factory=_HunkCounter)

    def header(self, hdr: bytes) -> bool:
        """Take a git extended header line; return whether it was one."""
        if not self.git or self.counter.hunks:
            return False
        if hdr.startswith(b"index "):
            parts = hdr.split(b" ")
            if len(parts) >= 3 and self.old_mode is None and self.new_mode is None:
                self.old_mode = self.new_mode = parts[2].decode("ascii", "replace")
        elif hdr.startswith(b"old mode "):
            self.old_mode = hdr[9:].decode("ascii", "replace")
        elif hdr.startswith(b"new mode "):
            self.new_mode = hdr[9:].decode("ascii", "replace")
        elif hdr.startswith(b"new file mode "):
            self.new_file = True
            self.new_mode = hdr[14:].decode("ascii", "replace")
        elif hdr.startswith(b"deleted file mode "):
            self.deleted = True
            self.old_mode = hdr[18:].decode("ascii", "replace")
        elif hdr.startswith(b"rename from "):
            self.rename_from = unquote_c_path(hdr[12:])
        elif hdr.startswith(b"rename to "):
            self.rename_to = unquote_c_path(hdr[10:])
        elif hdr.startswith(b"rename old "):
            self.rename_from = unquote_c_path(hdr[11:])
        elif hdr.startswith(b"rename new "):
            self.rename_to = unquote_c_path(hdr[11:])
        elif hdr.startswith(b"copy from "):
            self.copy_from = unquote_c_path(hdr[10:])
        elif hdr.startswith(b"copy to "):
            self.copy_to = unquote_c_path(hdr[8:])
        elif hdr.startswith((b"Binary files ", b"GIT binary patch")):
            self.binary = True
        elif hdr.startswith((b"similarity index ", b"dissimilarity index ")):
            pass
        else:
            return False
        return True

    def finish(self) -> FileDiff | None:
        """Build the :class:`FileDiff`, or ``None`` when this was not a real file section."""
        if not self.git and not (self.minus_seen and self.plus_seen):
            return None
        old, new = self._paths()
        if old is None and new is None:
            return None
        if self.new_file or (self.old_null and not self.new_null):
            status = Status.ADDED
        elif self.deleted or (self.new_null and not self.old_null):
            status = Status.REMOVED
        elif self.rename_from is not None or self.rename_to is not None:
            status = Status.RENAMED
        elif self.copy_from is not None or self.copy_to is not None:
            status = Status.COPIED
        elif (
            self.git
            and not self.counter.hunks
            and not self.binary
            and self.old_mode is not None
            and self.new_mode is not None
            and self.old_mode != self.new_mode
        ):
            status = Status.CHANGED
        else:
            status = Status.MODIFIED
        # the path the file has after the change, or before it for a removal; a contradictory header
        # (a deleted file that also names a rename target) keeps whichever path it names
        first, second = (old, new) if status is Status.REMOVED else (new, old)
        path_bytes = first if first is not None else second
        if path_bytes is None:  # excluded above; kept explicit so that -O cannot turn it into a crash
            return None
        path, replaced = decode_utf8(path_bytes)
        previous: str | None = None
        if status in (Status.RENAMED, Status.COPIED) and old is not None:
            previous, prev_replaced = decode_utf8(old)
            replaced = replaced or prev_replaced
        patch: str | None = None
        if self.lines and not self.binary:
            data = b"".join(self.lines)
            if data.endswith(b"\n"):
                data = data[:-1]
            patch, patch_replaced = decode_utf8(data)
            replaced = replaced or patch_replaced
        return FileDiff(
            path=path,
            previous_path=previous,
            status=status,
            binary=self.binary,
            patch=patch,
            additions=self.counter.additions,
            deletions=self.counter.deletions,
            old_mode=None if status is Status.ADDED else self.old_mode,
            new_mode=None if status is Status.REMOVED else self.new_mode,
            encoding_replaced=replaced,
        )

    def _paths(self) -> tuple[bytes | None, bytes | None]:
        """Old and new path without prefixes (``None`` for ``/dev/null``)."""
        old_pre = new_pre = b""
        if self.git:
            if self.git_old is None or self.git_new is None:
                old_pre, new_pre = b"a/", b"b/"
            elif (self.git_old[:2], self.git_new[:2]) in _PREFIX_PAIRS:
                old_pre, new_pre = self.git_old[:2], self.git_new[:2]
        else:
            # plain diff: strip one leading directory when every named side has one (like patch -p1)
            named = [p for p in (self.minus, self.plus) if p is not None]
            if named and all(b"/" in p for p in named):
                old_pre = self.minus[: self.minus.index(b"/") + 1] if self.minus else b""
                new_pre = self.plus[: self.plus.index(b"/") + 1] if self.plus else b""

        def strip(p: bytes | None, prefix: bytes) -> bytes | None:
            if p is None:
                return None
            return p[len(prefix) :] if prefix and p.startswith(prefix) else p

        old = self.rename_from or self.copy_from
        if old is None and not self.old_null:
            old = strip(self.minus, old_pre) if self.minus is not None else strip(self.git_old, old_pre)
        new = self.rename_to or self.copy_to
        if new is None and not self.new_null:
            new = strip(self.plus, new_pre) if self.plus is not None else strip(self.git_new, new_pre)
        return old, new


def iter_file_diffs(lines: Iterable[bytes]) -> Iterator[FileDiff]:
    """Yield one :class:`FileDiff` per file section of a diff given as byte lines (with ends).

    Lines must be split on ``\\n`` only (so ``\\r`` stays in content), as iterating a binary file
    or pipe does. Holds one section at a time.
    """
    sec: _Section | None = None
    it = iter(lines)
    pending: bytes | None = None
    while True:
        if pending is None:
            line = next(it, None)
            if line is None:
                break
        else:
            line, pending = pending, None
        if sec is not None and sec.counter.hunks and sec.counter.feed(line):
            sec.lines.append(line)
            continue
        hdr = line[:-1] if line.endswith(b"\n") else line
        if hdr.endswith(b"\r"):
            hdr = hdr[:-1]
        if hdr.startswith(b"diff --git "):
            if sec is not None and (done := sec.finish()) is not None:
                yield done
            sec = _Section(git=True)
            split = _split_git_header(hdr[11:])
            if split is not None:
                sec.git_old, sec.git_new = split
        elif hdr.startswith(b"@@ ") and sec is not None and (sec.git or sec.plus_seen):
            if sec.binary or not sec.counter.start(hdr):
                continue
            sec.lines.append(line)
            pending = sec.counter.take(it, sec.lines)
        elif hdr.startswith(b"--- "):
            if sec is None or sec.counter.hunks or sec.minus_seen or sec.binary:
                if sec is not None and (done := sec.finish()) is not None:
                    yield done
                sec = _Section(git=False)
            sec.minus_seen = True
            value = _header_path(hdr[4:])
            if value == b"/dev/null":
                sec.old_null = True
            else:
                sec.minus = value
        elif hdr.startswith(b"+++ ") and sec is not None and sec.minus_seen and not sec.plus_seen:
            sec.plus_seen = True
            value = _header_path(hdr[4:])
            if value == b"/dev/null":
                sec.new_null = True
            else:
                sec.plus = value
        elif sec is not None:
            sec.header(hdr)
    if sec is not None and (done := sec.finish()) is not None:
        yield done


def _byte_lines(data: str | bytes) -> Iterator[bytes]:
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    return iter(io.BytesIO(raw))


def parse_diff(data: str | bytes) -> list[FileDiff]:
    """Parse a whole diff held in memory (text or bytes) into its file sections."""
    return list(iter_file_diffs(_byte_lines(data)))


def count_changes(patch: str) -> tuple[int, int]:
    """Count ``(additions, deletions)`` in hunk text (from the first ``@@`` on).

    Only lines inside hunks, as delimited by the hunk headers' line counts, are counted.
    """
    counter = _HunkCounter()
    for line in _byte_lines(patch):
        if counter.hunks and counter.feed(line):
            continue
        counter.start(line)
    return counter.additions, counter.deletions
