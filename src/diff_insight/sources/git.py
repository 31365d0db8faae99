"""Read the changes between two commits of a local repository with the ``git`` CLI.

A handful of processes whatever the size of the range: ``rev-parse`` and ``cat-file`` to validate
and resolve, one streamed ``git diff -z --raw --numstat -p`` for the metadata and the patches,
one ``cat-file --batch-check`` for blob sizes, and (lazily) one long-lived
``cat-file --batch`` for file contents. Git runs with a clean configuration and explicit diff
flags so that results do not depend on the user's settings.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, Final
from urllib.parse import urlsplit, urlunsplit

from diff_insight.errors import SourceError
from diff_insight.model import (
    ChangeSet,
    EntryKind,
    FileChange,
    Repository,
    Side,
    Status,
    TextContent,
)
from diff_insight.sources.diffparse import FileDiff, decode_utf8, iter_file_diffs

__all__ = [
    "DEFAULT_MAX_BYTES",
    "GitContentReader",
    "GitSource",
    "compare_permalink",
    "git_env",
    "github_slug",
    "open_git",
    "strip_credentials",
]

DEFAULT_MAX_BYTES: Final = 4 * 1024 * 1024
"""Blobs larger than this are not read by :class:`GitContentReader`."""

_CONFIG_OVERRIDES: Final = (
    "core.quotepath=false",
    "core.attributesFile=/dev/null",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.suppressBlankEmpty=false",
    "color.ui=never",
)
_DIFF_FLAGS: Final = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--no-relative",
    "-M",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "-O/dev/null",
    "--submodule=short",
    "--diff-algorithm=myers",
    "--indent-heuristic",
)
_PATCH_FLAGS: Final = ("-p", "-U3", "--inter-hunk-context=0")
_RECORD_FLAGS: Final = ("-z", "--raw", "--numstat", "--no-abbrev")
"""Before the patch, a NUL-terminated record per file: modes, blob ids, status, paths, counts."""
_SYMLINK_MODE: Final = "120000"
_SUBMODULE_MODE: Final = "160000"
_HEX_ID = re.compile(r"[0-9a-f]{4,64}")
_GITHUB_URL = re.compile(
    r"""^(?:
        [a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?:www\.)?github\.com(?::\d+)?/   # https://, ssh://, git://
      | (?:[^@/:]+@)?github\.com:                                         # scp-like git@github.com:
    )
    (?P<owner>[a-z0-9][a-z0-9-]*)/(?P<name>[a-z0-9._-]+?)(?:\.git)?/*$""",
    re.IGNORECASE | re.VERBOSE,
)


def git_env() -> dict[str, str]:
    """The environment git runs in: the caller's, minus ``GIT_*`` variables, plus fixed settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


def github_slug(url: str | None) -> str | None:
    """``owner/name`` when ``url`` is a GitHub repository URL in any usual form, else ``None``."""
    if not url:
        return None
    m = _GITHUB_URL.match(url.strip())
    if m is None or m.group("name") in (".", ".."):
        return None
    return f"{m.group('owner')}/{m.group('name')}"


def strip_credentials(url: str) -> str:
    """Remove credentials from a URL: the whole user info for http(s), the password otherwise."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    keep_user = parts.scheme.lower() not in ("http", "https")
    netloc = f"{userinfo.split(':', 1)[0]}@{host}" if keep_user else host
    return urlunsplit(parts._replace(netloc=netloc))


def compare_permalink(slug: str, base: str, head: str) -> str:
    """GitHub's compare URL for a range, in the ``owner:sha7...owner:sha7`` form."""
    owner = slug.split("/", 1)[0]
    return f"https://github.com/{slug}/compare/{owner}:{base[:7]}...{owner}:{head[:7]}"


class _Git:
    """Runs git commands in one repository with the clean environment and fixed options."""

    def __init__(self, repo: Path, executable: str = "git") -> None:
        self.repo = repo
        self.executable = executable
        self.env = git_env()

    def argv(self, *args: str) -> list[str]:
        argv = [self.executable, "--no-pager"]
        for override in _CONFIG_OVERRIDES:
            argv += ["-c", override]
        return [*argv, *args]

    def run(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                self.argv(*args),
                cwd=self.repo,
                env=self.env,
                input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            raise SourceError(f"git executable not found: {self.executable}") from None
        except OSError as exc:
            raise SourceError(f"cannot run {self.executable}: {exc.strerror or exc}") from None

    def check(self, *args: str, input: bytes | None = None) -> bytes:
        proc = self.run(*args, input=input)
        if proc.returncode != 0:
            raise SourceError(f"git {args[0]} failed in {_show(self.repo)}: {_first_line(proc.stderr)}")
        return proc.stdout

    def popen(
        self, *args: str, stdin: int | None = None, stderr: IO[bytes] | int | None = None
    ) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                self.argv(*args),
                cwd=self.repo,
                env=self.env,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr if stderr is not None else subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise SourceError(f"git executable not found: {self.executable}") from None
        except OSError as exc:
            raise SourceError(f"cannot run {self.executable}: {exc.strerror or exc}") from None


def _show(path: Path) -> str:
    """A path for a one-line message: as is, or quoted when it holds control characters."""
    text = str(path)
    return repr(text) if any(ord(c) < 32 for c in text) else text


def _first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[0] if lines else "no error message"


def _is_null_id(oid: str) -> bool:
    return not oid.strip("0")


@dataclass(slots=True)
class _Entry:
    """One record of ``git diff --raw`` with its ``--numstat`` counts."""

    letter: str
    old_mode: str
    new_mode: str
    old_id: str | None
    new_id: str | None
    old_path: bytes
    new_path: bytes
    additions: int = 0
    deletions: int = 0
    binary: bool = False

    @property
    def typechange(self) -> bool:
        return self.letter == "T"


def _parse_metadata(out: bytes) -> list[_Entry]:
    """Parse ``git diff -z --raw --numstat`` output (raw records first, then numstat records)."""
    tokens = out.split(b"\0")
    entries: list[_Entry] = []
    counted = 0
    i = 0
    n = len(tokens)
    try:
        while i < n:
            tok = tokens[i]
            i += 1
            if not tok:
                continue
            if tok.startswith(b":"):
                old_mode, new_mode, old_id, new_id, status = tok[1:].decode("ascii").split(" ")
                old_path = tokens[i]
                i += 1
                new_path = old_path
                if status[:1] in ("R", "C"):
                    new_path = tokens[i]
                    i += 1
                entries.append(
                    _Entry(
                        letter=status[:1],
                        old_mode=old_mode,
                        new_mode=new_mode,
                        old_id=None if _is_null_id(old_id) else old_id,
                        new_id=None if _is_null_id(new_id) else new_id,
                        old_path=old_path,
                        new_path=new_path,
                    )
                )
                continue
            added, deleted, path = tok.split(b"\t", 2)
            if path:
                old_path = new_path = path
            else:
                old_path, new_path = tokens[i], tokens[i + 1]
                i += 2
            entry = entries[counted]
            if (entry.old_path, entry.new_path) != (old_path, new_path):
                raise SourceError("git diff --numstat and --raw disagree on the order of files")
            counted += 1
            if added == b"-" or deleted == b"-":
                entry.binary = True
            else:
                entry.additions, entry.deletions = int(added), int(deleted)
    except (ValueError, IndexError, UnicodeDecodeError):
        raise SourceError("unexpected output from git diff --raw --numstat") from None
    if counted != len(entries):
        raise SourceError(f"git diff printed {len(entries)} raw records but {counted} numstat records")
    return entries


def _kind(mode: str) -> EntryKind:
    if mode == _SYMLINK_MODE:
        return EntryKind.SYMLINK
    if mode == _SUBMODULE_MODE:
        return EntryKind.SUBMODULE
    return EntryKind.FILE


def _status(entry: _Entry) -> Status:
    letter = entry.letter
    if letter == "A":
        return Status.ADDED
    if letter == "D":
        return Status.REMOVED
    if letter == "R":
        return Status.RENAMED
    if letter == "C":
        return Status.COPIED
    if letter == "T":
        return Status.CHANGED
    if letter == "M" and entry.old_id == entry.new_id and entry.old_mode != entry.new_mode:
        return Status.CHANGED
    return Status.MODIFIED


def _join_sections(sections: Sequence[FileDiff]) -> tuple[str | None, bool, int, int]:
    patches = [s.patch for s in sections if s.patch is not None]
    patch = "\n".join(patches) if patches else None
    return (
        patch,
        any(s.encoding_replaced for s in sections),
        sum(s.additions for s in sections),
        sum(s.deletions for s in sections),
    )


_CHUNK = 1 << 16


def _split_metadata(stream: IO[bytes]) -> tuple[bytes, bytes]:
    """Read ``stream`` (``git diff -z --raw --numstat -p``) up to the end of its NUL-terminated
    records: the records, and the bytes of the patch read after them. Git ends the records with
    an empty one (two NULs in a row, which no record holds) before the patch."""
    buf = bytearray()
    searched = 0
    while True:
        at = buf.find(b"\0\0", max(0, searched - 1))
        if at >= 0:
            return bytes(buf[: at + 1]), bytes(buf[at + 2 :])
        searched = len(buf)
        chunk = stream.read(_CHUNK)
        if not chunk:  # no change at all prints nothing; records without a patch are an error later
            return bytes(buf), b""
        buf += chunk


def _lines_from(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """The lines (ends kept) of ``head`` followed by the rest of ``stream``."""
    lines = head.split(b"\n")
    last = lines.pop()
    for line in lines:
        yield line + b"\n"
    if last:
        first = stream.readline()
        yield last + first
        if not first.endswith(b"\n"):
            return
    yield from stream


class GitSource:
    """The changes between two commits of a local repository, read with the git CLI."""

    def __init__(self, repo_path: str | Path, *, git: str = "git") -> None:
        path = Path(repo_path)
        if not path.exists():
            raise SourceError(f"repository path does not exist: {_show(path)}")
        if not path.is_dir():
            raise SourceError(f"repository path is not a directory: {_show(path)}")
        self._git = _Git(path, git)
        self.path = path
        self.git_dir, self.toplevel = self._locate()

    def _locate(self) -> tuple[Path, Path]:
        proc = self._git.run("rev-parse", "--absolute-git-dir")
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            if "dubious ownership" in err:
                raise SourceError(
                    f"git refuses to read {_show(self.path)}: "
                    "it is owned by another user (see git's safe.directory)"
                )
            raise SourceError(f"not a git repository: {_show(self.path)}")
        git_dir = Path(os.fsdecode(proc.stdout.rstrip(b"\n")))
        top = self._git.run("rev-parse", "--show-toplevel")
        toplevel = Path(os.fsdecode(top.stdout.rstrip(b"\n"))) if top.returncode == 0 else git_dir
        return git_dir, toplevel

    def resolve(self, rev: str, role: str) -> str:
        """The full SHA of commit ``rev``; ``role`` (``BASE``/``HEAD``) names it in errors."""
        if not rev or rev.startswith("-") or "\n" in rev or "\0" in rev:
            raise SourceError(f"{role} is not a known commit in {_show(self.path)}: {rev!r}")
        proc = self._git.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        sha = proc.stdout.decode("ascii", "replace").strip()
        if proc.returncode != 0 or not _HEX_ID.fullmatch(sha):
            raise SourceError(f"{role} is not a known commit in {_show(self.path)}: {rev!r}")
        return sha

    def commit_time(self, sha: str) -> datetime | None:
        """The committer time of commit ``sha``, timezone-aware."""
        out = self._git.check("cat-file", "commit", sha)
        for line in out.split(b"\n"):
            if not line:
                break
            if line.startswith(b"committer "):
                try:
                    ts, tz = line.rsplit(b" ", 2)[1:]
                    sign = -1 if tz.startswith(b"-") else 1
                    offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
                    return datetime.fromtimestamp(int(ts), timezone(offset) if offset else UTC)
                except (ValueError, OverflowError):
                    return None
        return None

    def repository(self) -> Repository:
        """The repository: GitHub slug and credential-free URL of ``origin``, and the local path."""
        proc = self._git.run("config", "--get", "remote.origin.url")
        url = proc.stdout.decode("utf-8", "replace").strip() if proc.returncode == 0 else ""
        return Repository(
            slug=github_slug(url),
            url=strip_credentials(url) if url else None,
            local_path=str(self.toplevel),
        )

    def sizes(self, ids: set[str]) -> dict[str, int]:
        """Sizes of blobs, with one ``cat-file --batch-check``."""
        if not ids:
            return {}
        out = self._git.check(
            "cat-file", "--batch-check", input="".join(f"{i}\n" for i in sorted(ids)).encode()
        )
        sizes: dict[str, int] = {}
        for line in out.decode("ascii", "replace").splitlines():
            parts = line.split(" ")
            if len(parts) == 3 and parts[1] == "blob":
                sizes[parts[0]] = int(parts[2])
        return sizes

    def _diff(self, base: str, head: str) -> tuple[list[_Entry], deque[FileDiff]]:
        """The raw and numstat records and the file sections of the patch, from one streamed
        ``git diff -z --raw --numstat -p`` (git finds renames and diffs each file once)."""
        with tempfile.TemporaryFile() as err:
            proc = self._git.popen(
                "diff", *_RECORD_FLAGS, *_PATCH_FLAGS, *_DIFF_FLAGS, base, head, stderr=err
            )
            assert proc.stdout is not None
            unparsed: SourceError | None = None
            try:
                try:
                    records, rest = _split_metadata(proc.stdout)
                    entries = _parse_metadata(records)
                    parsed = deque(iter_file_diffs(_lines_from(rest, proc.stdout)))
                except SourceError as exc:  # output cut short: git's own error says why, if it failed
                    unparsed = exc
                    proc.stdout.read()
                proc.stdout.close()
                code = proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if code != 0:
                err.seek(0)
                raise SourceError(f"git diff failed in {_show(self.path)}: {_first_line(err.read())}")
            if unparsed is not None:
                raise unparsed
        return entries, parsed

    def changes(self, base: str, head: str) -> tuple[FileChange, ...]:
        """All changed files between the two (resolved) commits, in diff order."""
        entries, parsed = self._diff(base, head)
        wanted: set[str] = set()
        for e in entries:
            if e.old_id and e.old_mode != _SUBMODULE_MODE:
                wanted.add(e.old_id)
            if e.new_id and e.new_mode != _SUBMODULE_MODE:
                wanted.add(e.new_id)
        sizes = self.sizes(wanted)
        files: list[FileChange] = []
        try:
            for entry in entries:
                # taken off the queue one by one: each section's bytes are freed once decoded
                parts = [parsed.popleft() if parsed else None for _ in range(2 if entry.typechange else 1)]
                got = [p for p in parts if p is not None]
                if len(got) != len(parts):
                    raise SourceError(
                        f"git diff -p printed fewer file sections than git diff --raw in {_show(self.path)}"
                    )
                files.append(self._change(entry, got, sizes))
            if parsed:
                raise SourceError(
                    f"git diff -p printed more file sections than git diff --raw in {_show(self.path)}"
                )
        finally:
            parsed.clear()
        return tuple(files)

    def _change(self, entry: _Entry, sections: list[FileDiff], sizes: dict[str, int]) -> FileChange:
        status = _status(entry)
        new_path, new_replaced = decode_utf8(entry.new_path)
        old_path, old_replaced = decode_utf8(entry.old_path)
        patch, patch_replaced, additions, deletions = _join_sections(sections)
        counted = (entry.additions, entry.deletions)
        # a type change is printed as a deletion plus an addition; numstat diffs the two blobs
        if not entry.binary and not entry.typechange and (additions, deletions) != counted:
            raise SourceError(
                f"patch of {new_path!r} counts +{additions} -{deletions} but git diff --numstat "
                f"says +{entry.additions} -{entry.deletions}"
            )
        mode = entry.old_mode if status is Status.REMOVED else entry.new_mode
        kind = _kind(mode)
        return FileChange(
            path=old_path if status is Status.REMOVED else new_path,
            status=status,
            additions=entry.additions,
            deletions=entry.deletions,
            patch=None if entry.binary else patch,
            previous_path=old_path if status in (Status.RENAMED, Status.COPIED) else None,
            binary=entry.binary,
            old_size=sizes.get(entry.old_id) if entry.old_id else None,
            new_size=sizes.get(entry.new_id) if entry.new_id else None,
            old_id=entry.old_id,
            new_id=entry.new_id,
            kind=kind,
            encoding_replaced=new_replaced or old_replaced or (patch_replaced and not entry.binary),
        )

    def open(
        self, base: str, head: str, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> tuple[ChangeSet, GitContentReader]:
        """Resolve ``base`` and ``head`` and read the change set and a content reader."""
        # git's empty tree stands for "before the first commit" (a root commit's own change)
        base_sha = EMPTY_TREE if base == EMPTY_TREE else self.resolve(base, "BASE")
        head_sha = self.resolve(head, "HEAD")
        repository = self.repository()
        if not repository.slug:
            permalink = None
        elif base_sha == EMPTY_TREE:
            permalink = f"https://github.com/{repository.slug}/commit/{head_sha}"
        else:
            permalink = compare_permalink(repository.slug, base_sha, head_sha)
        change_set = ChangeSet(
            files=self.changes(base_sha, head_sha),
            repository=repository,
            source="git",
            base=base_sha,
            head=head_sha,
            head_time=self.commit_time(head_sha),
            permalink=permalink,
        )
        return change_set, GitContentReader(self.path, max_bytes=max_bytes, git=self._git.executable)


def open_git(
    repo_path: str | Path,
    base: str,
    head: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    git: str = "git",
) -> tuple[ChangeSet, GitContentReader]:
    """Read the changes from ``base`` to ``head`` in the local repository at ``repo_path``.

    Raises :class:`SourceError` (one-line message) for a missing path, a directory that is not a
    repository, an unknown commit or a missing git executable. Close the reader when done.
    """
    return GitSource(repo_path, git=git).open(base, head, max_bytes=max_bytes)


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
"""The id of git's empty tree (SHA-1 repositories), accepted as BASE."""


class GitContentReader:
    """Full file texts from one long-lived ``git cat-file --batch`` process (started lazily).

    After :meth:`prefetch`, a thread sends the announced blob ids to git at once, so git unpacks
    the next blob while the caller works on this one (one round trip per blob otherwise)."""

    def __init__(
        self, repo_path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, git: str = "git"
    ) -> None:
        self._git = _Git(Path(repo_path), git)
        self.max_bytes = max_bytes
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._ahead: deque[str] = deque()
        """Blob ids sent to git whose answers are not read yet, in order."""
        self._feeder: threading.Thread | None = None

    def __enter__(self) -> GitContentReader:
        return self

    def fresh(self) -> GitContentReader:
        """An equivalent reader with no process of its own yet (for a worker process)."""
        return GitContentReader(self._git.repo, max_bytes=self.max_bytes, git=self._git.executable)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _process(self) -> subprocess.Popen[bytes]:
        if self._closed:
            raise SourceError("the git content reader is closed")
        if self._proc is None:
            self._proc = self._git.popen("cat-file", "--batch", stdin=subprocess.PIPE)
        return self._proc

    def _blob_id(self, change: FileChange, side: Side) -> str | None:
        """The blob that :meth:`read` fetches for ``change`` on ``side``, or None (nothing to fetch)."""
        if change.binary or change.kind is EntryKind.SUBMODULE:
            return None
        oid = change.old_id if side == "old" else change.new_id
        known_size = change.old_size if side == "old" else change.new_size
        if not oid or not _HEX_ID.fullmatch(oid) or _is_null_id(oid):
            return None
        if known_size is not None and known_size > self.max_bytes:
            return None
        return oid

    def read(self, change: FileChange, side: Side) -> TextContent | None:
        """The text of ``change`` on ``side``; ``None`` for binary, submodule, absent or too large."""
        oid = self._blob_id(change, side)
        if oid is None:
            return None
        data = self._fetch(oid)
        if data is None:
            return None
        text, replaced = decode_utf8(data)
        return TextContent(text=text, size=len(data), replaced=replaced)

    def prefetch(self, reads: Sequence[tuple[FileChange, Side]]) -> None:
        """Send git the blob ids of the coming :meth:`read` calls now (see the class)."""
        oids = [oid for change, side in reads if (oid := self._blob_id(change, side)) is not None]
        if not oids:
            return
        proc = self._process()
        self._settle()
        stdin = proc.stdin
        assert stdin is not None
        payload = "".join(f"{oid}\n" for oid in oids).encode("ascii")

        def feed() -> None:
            # an error here (git gone) shows up in the reads, as the end of git's output
            with contextlib.suppress(OSError, ValueError):
                stdin.write(payload)
                stdin.flush()

        self._ahead.extend(oids)
        self._feeder = threading.Thread(target=feed, name="git-cat-file-feeder", daemon=True)
        self._feeder.start()

    def _settle(self) -> None:
        """Read and drop the answers to announced blobs that were not read, so that the next
        request's answer comes first."""
        self._skip_until(None)
        if self._feeder is not None:
            self._feeder.join()
            self._feeder = None

    def _skip_until(self, oid: str | None) -> None:
        """Drop the answers to announced blobs before ``oid`` (all of them for None): they were
        not read."""
        proc = self._process()
        while self._ahead and self._ahead[0] != oid:
            self._ahead.popleft()
            self._answer(proc, keep=False)

    def _fetch(self, oid: str) -> bytes | None:
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        self._skip_until(oid)
        if self._ahead:
            self._ahead.popleft()  # already asked for
        else:
            self._settle()
            try:
                proc.stdin.write(oid.encode("ascii") + b"\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError):
                self.close()
                raise SourceError(f"git cat-file stopped unexpectedly in {_show(self._git.repo)}") from None
        return self._answer(proc)

    def _answer(self, proc: subprocess.Popen[bytes], *, keep: bool = True) -> bytes | None:
        """Read git's answer to the oldest request: the blob (None when it is missing, not a blob,
        too large, or ``keep`` is false)."""
        assert proc.stdout is not None
        try:
            header = proc.stdout.readline()
        except OSError:
            header = b""
        parts = header.rstrip(b"\n").split(b" ")
        if len(parts) != 3:
            if not header:
                self.close()
                raise SourceError(f"git cat-file stopped unexpectedly in {_show(self._git.repo)}")
            return None  # "<oid> missing" or "<oid> ambiguous"
        size = int(parts[2])
        if not keep or size > self.max_bytes or parts[1] != b"blob":
            remaining = size + 1
            while remaining > 0:
                chunk = proc.stdout.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                remaining -= len(chunk)
            return None
        data = proc.stdout.read(size)
        proc.stdout.read(1)  # the newline after the contents
        if len(data) != size:
            self.close()
            raise SourceError(f"git cat-file stopped unexpectedly in {_show(self._git.repo)}")
        return data

    def close(self) -> None:
        """End the ``cat-file`` process. Safe to call more than once."""
        self._closed = True
        proc, self._proc = self._proc, None
        feeder, self._feeder = self._feeder, None
        self._ahead.clear()
        if proc is None:
            return
        if feeder is not None and feeder.is_alive():
            # the feeder may be blocked writing to git, which may be blocked writing answers
            # nobody reads: end git first (closing stdin would wait for the feeder's lock)
            with contextlib.suppress(OSError):
                proc.kill()
            feeder.join()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
