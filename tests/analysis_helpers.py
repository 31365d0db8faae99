"""Build FileChange objects from two texts with the real `git diff --no-index`."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from diff_insight.analysis.analyze import analyze_file
from diff_insight.analysis.facts import FileAnalysis
from diff_insight.model import FileChange, Status, TextContent

_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}


def git_patch(old: str, new: str) -> tuple[str, int, int]:
    """(hunks from the first @@ on, additions, deletions) as git computes them."""
    with tempfile.TemporaryDirectory() as d:
        a, b = Path(d, "a"), Path(d, "b")
        a.write_text(old, encoding="utf-8", newline="")
        b.write_text(new, encoding="utf-8", newline="")
        out = subprocess.run(
            ["git", "diff", "--no-index", "--no-color", "--no-ext-diff", str(a), str(b)],
            capture_output=True,
            env=_ENV,
        ).stdout.decode("utf-8")
        stat = subprocess.run(
            ["git", "diff", "--no-index", "--numstat", str(a), str(b)], capture_output=True, env=_ENV
        ).stdout.decode()
    patch = out[out.index("@@") :] if "@@" in out else ""
    if stat.strip():
        add, dele = stat.split("\t")[:2]
        return patch, int(add), int(dele)
    return patch, 0, 0


def change_from(
    old: str | None,
    new: str | None,
    path: str = "docs/article.md",
    status: Status | None = None,
    previous_path: str | None = None,
) -> FileChange:
    patch, add, dele = git_patch(old or "", new or "")
    if status is None:
        status = Status.ADDED if old is None else Status.REMOVED if new is None else Status.MODIFIED
    return FileChange(
        path=path, status=status, additions=add, deletions=dele, patch=patch, previous_path=previous_path
    )


def analyze(
    old: str | None,
    new: str | None,
    path: str = "docs/article.md",
    *,
    full: bool = True,
    status: Status | None = None,
    previous_path: str | None = None,
) -> FileAnalysis:
    ch = change_from(old, new, path, status, previous_path)
    if full and old is not None and new is not None:
        return analyze_file(ch, TextContent(old, len(old.encode())), TextContent(new, len(new.encode())))
    return analyze_file(ch)
