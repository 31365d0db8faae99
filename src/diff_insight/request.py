"""What a report run reads: the request, and opening its source (git, GitHub, compare JSON, patch).

A light module (no analysis or writer imports), so that a front end can start reading the
changes before it imports the rest of the pipeline (see :func:`start_source`).
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from diff_insight.model import ChangeSet, ContentReader

log = logging.getLogger("diff_insight")

InputKind = Literal["git", "compare-json", "patch", "github"]


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What to report on: one input and the options that are not in the config."""

    kind: InputKind
    source: str
    """Repository path, ``owner/name`` on GitHub, compare-JSON file, or patch file (``-`` for stdin)."""
    base: str | None = None
    head: str | None = None
    day: date | None = None
    """The report date; default: the head commit's date in the configured time zone, else today."""
    out_root: Path = field(default_factory=Path.cwd)
    """The directory the output template is relative to (and must stay inside)."""


def open_source(request: ReportRequest) -> tuple[ChangeSet, ContentReader]:
    """The change set of ``request`` and a reader of its full texts (close it when done)."""
    if request.kind == "git":
        from diff_insight.sources.git import open_git

        if request.base is None or request.head is None:
            raise ValueError("git input needs BASE and HEAD")
        return open_git(request.source, request.base, request.head)
    if request.kind == "github":
        from diff_insight.sources.github import open_github

        if request.base is None or request.head is None:
            raise ValueError("github input needs BASE and HEAD")
        from diff_insight.sources.github import ComparisonTooLarge

        # GITHUB_API_URL is what GitHub Actions sets (GitHub Enterprise Server has its own)
        api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        try:
            return open_github(request.source, request.base, request.head, api_url=api)
        except ComparisonTooLarge as big:
            # never lose files to the API's cap: read the same range from a git mirror instead
            from diff_insight.mirror import DEFAULT_MIRROR_DIR, ensure_mirror, github_url
            from diff_insight.sources.git import open_git

            log.warning("%s; reading the range from a git mirror", big)
            mirror = ensure_mirror(github_url(big.slug), request.out_root / DEFAULT_MIRROR_DIR, branch=None)
            return open_git(mirror, big.base, big.head)
    if request.kind == "compare-json":
        from diff_insight.sources.compare_json import open_compare_json

        return open_compare_json(request.source)
    from diff_insight.sources.patchfile import open_patch

    return open_patch(request.source)


OpenedSource = tuple[ChangeSet, ContentReader]


def start_source(request: ReportRequest) -> Future[OpenedSource]:
    """Start :func:`open_source` in a background thread and return its future.

    Reading a range is mostly waiting for ``git diff``; a caller that still has modules to import
    (the CLI, before the analysis and the writers) does that meanwhile. Errors come from
    ``result()``, as from :func:`open_source`. The thread is a daemon: an exit never waits for it.
    """
    future: Future[OpenedSource] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(open_source(request))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            future.set_exception(exc)

    threading.Thread(target=run, name="diff-insight-source", daemon=True).start()
    return future
