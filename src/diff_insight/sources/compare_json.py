"""Read the JSON that GitHub's ``GET /repos/{owner}/{repo}/compare/{base}...{head}`` returns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diff_insight.errors import SourceError
from diff_insight.model import ChangeSet, FileChange, NoContent, Repository, Status

__all__ = [
    "BINARY_EXTENSIONS",
    "CompareCommit",
    "CompareFile",
    "CompareResponse",
    "file_change",
    "open_compare_json",
    "parse_compare_permalink",
    "validation_message",
]

BINARY_EXTENSIONS: Final = frozenset(
    {
        "png", "jpg", "jpeg", "gif", "svgz", "ico", "webp", "pdf", "zip", "bmp",
        "tiff", "woff", "woff2", "ttf", "eot", "mp4", "mp3",
    }
)  # fmt: skip
"""Extensions of files taken as binary when GitHub gives no patch for them."""

_PERMALINK = re.compile(
    r"^https?://(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<name>[A-Za-z0-9._-]+)"
    r"/compare/(?:[^/:]+:)?(?P<base>[^/]+?)\.\.\.(?:[^/:]+:)?(?P<head>[^/?#]+)/?(?:[?#].*)?$"
)
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)


class _Committer(_Model):
    date: datetime | None = None


class _CommitDetail(_Model):
    committer: _Committer | None = None


class CompareCommit(_Model):
    """A commit of a compare response (only what the reports use)."""

    sha: str
    commit: _CommitDetail | None = None


class CompareFile(_Model):
    """One entry of ``files[]`` in a compare response (also the GitHub source's pages)."""

    filename: str = Field(min_length=1)
    previous_filename: str | None = None
    status: Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]
    additions: int = Field(ge=0)
    deletions: int = Field(ge=0)
    changes: int | None = Field(default=None, ge=0)
    patch: str | None = None
    sha: str | None = None
    blob_url: str | None = None
    raw_url: str | None = None


class CompareResponse(_Model):
    """The parts of GitHub's compare response that diff-insight reads."""

    permalink_url: str | None = None
    html_url: str | None = None
    base_commit: CompareCommit | None = None
    merge_base_commit: CompareCommit | None = None
    commits: list[CompareCommit] = Field(default_factory=list)
    files: list[CompareFile]


def parse_compare_permalink(url: str | None) -> tuple[str, str | None, str | None] | None:
    """``(slug, base, head)`` from a GitHub compare URL; base/head only when they look like SHAs."""
    if not url:
        return None
    m = _PERMALINK.match(url)
    if m is None:
        return None
    base, head = m.group("base"), m.group("head")
    return (
        f"{m.group('owner')}/{m.group('name')}",
        base if _SHA.fullmatch(base) else None,
        head if _SHA.fullmatch(head) else None,
    )


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_message(name: str, exc: ValidationError) -> str:
    """One line naming ``name``, the first invalid field and the problem."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        detail = str(first.get("ctx", {}).get("error", first["msg"]))
        return f"{name}: malformed JSON: {detail}"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    msg = " ".join(str(first["msg"]).split())
    return f"{name}: {_loc(tuple(first['loc']))}: {msg}{more}"


def _binary(filename: str, patch: str | None) -> bool:
    if patch is not None:
        return False
    return PurePosixPath(filename).suffix.lower().lstrip(".") in BINARY_EXTENSIONS


def file_change(f: CompareFile) -> FileChange:
    """The change a ``files[]`` entry describes (binary when it has no patch and a binary suffix)."""
    status = Status(f.status)
    previous = f.previous_filename if status in (Status.RENAMED, Status.COPIED) else None
    return FileChange(
        path=f.filename,
        status=status,
        additions=f.additions,
        deletions=f.deletions,
        patch=f.patch,
        previous_path=previous,
        binary=_binary(f.filename, f.patch),
        new_id=f.sha if status is not Status.REMOVED else None,
        blob_url=f.blob_url,
    )


def open_compare_json(path: str | Path) -> tuple[ChangeSet, NoContent]:
    """Read a saved compare response. Malformed input raises :class:`SourceError` (one line)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        data = CompareResponse.model_validate_json(raw)
    except ValidationError as exc:
        raise SourceError(validation_message(str(p), exc)) from None

    permalink = data.permalink_url or data.html_url
    from_url = parse_compare_permalink(data.permalink_url) or parse_compare_permalink(data.html_url)
    slug = from_url[0] if from_url else None
    base_commit = data.merge_base_commit or data.base_commit
    base = base_commit.sha if base_commit else (from_url[1] if from_url else None)
    head = data.commits[-1].sha if data.commits else (from_url[2] if from_url else None)
    head_time: datetime | None = None
    if data.commits and data.commits[-1].commit and data.commits[-1].commit.committer:
        head_time = data.commits[-1].commit.committer.date
        if head_time is not None:
            offset = head_time.utcoffset()
            head_time = head_time.replace(tzinfo=timezone(offset) if offset else UTC)
    change_set = ChangeSet(
        files=tuple(file_change(f) for f in data.files),
        repository=Repository(slug=slug, url=f"https://github.com/{slug}" if slug else None),
        source="compare-json",
        base=base,
        head=head,
        head_time=head_time,
        permalink=permalink,
    )
    return change_set, NoContent()
