"""What a report run reads: the request, and opening its source (git, GitHub, compare JSON, patch).

A light module (no analysis or writer imports), so that a front end can start reading the
changes before it imports the rest of the pipeline (see :func:`start_source`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import sys
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from diff_insight.errors import SourceError
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


class SourceFuture(Future[OpenedSource]):
    """The future of :func:`start_source`; :meth:`discard` gives it up."""

    def __init__(self) -> None:
        super().__init__()
        self._child: int | None = None
        self._reaping = threading.Lock()
        """Held while the reading process is signalled or reaped (a reaped pid may be reused)."""

    def discard(self) -> None:
        """Give up the read: a reading process is stopped, the reader is closed once the read
        ends, and an error, if any, is dropped. Does not wait."""
        with self._reaping:
            if self._child is not None:
                with contextlib.suppress(OSError):
                    os.kill(self._child, signal.SIGTERM)

        def close(done: Future[OpenedSource]) -> None:
            if not done.cancelled() and done.exception() is None:
                done.result()[1].close()

        self.add_done_callback(close)


def _forkable() -> bool:
    # a fork copies only the calling thread: with other threads alive, a lock one of them holds
    # (the import lock, a logging handler's) would stay held in the child forever
    return sys.platform == "linux" and threading.active_count() == 1


def start_source(request: ReportRequest) -> SourceFuture:
    """Start :func:`open_source` in the background and return its future.

    Reading a range is mostly waiting for git; a caller that still has modules to import (the
    CLI, before the config, the analysis and the writers) does that meanwhile. A local
    repository is read by a forked process (on Linux, while this process has one thread), so
    that parsing the diff does not compete with the caller for the interpreter; other inputs,
    or when forking is not safe, by a thread. Errors come from ``result()``, as from
    :func:`open_source`. Exits never wait for the reading.
    """
    future = SourceFuture()
    if request.kind == "git" and _forkable():
        _read_in_child(request, future)
        return future

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(open_source(request))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            future.set_exception(exc)

    threading.Thread(target=run, name="diff-insight-source", daemon=True).start()
    return future


def _child_payload(request: ReportRequest) -> bytes:
    """What the reading process sends back: the pickled change set and a fresh reader, or the
    error (its text, when the error itself cannot be pickled)."""
    try:
        changeset, reader = open_source(request)
        reader.close()
        payload: tuple[bool, object] = (True, (changeset, reader.fresh()))
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, raised by result()
        payload = (False, exc)
    try:
        return pickle.dumps(payload, pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable error is sent as its text
        error = payload[1] if not payload[0] else None
        what = f"{type(error).__name__}: {error}" if error is not None else "the change set cannot be sent"
        return pickle.dumps((False, RuntimeError(what)), pickle.HIGHEST_PROTOCOL)


def _read_in_child(request: ReportRequest, future: SourceFuture) -> None:
    # imported before the fork: the child reads with it, and the reader it sends back unpickles
    # here without importing it then (that import would come after the read, adding to its time)
    import diff_insight.sources.git  # noqa: F401

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, send, and leave without running any of the parent's exit code
        code = 0
        try:
            os.close(read_end)
            data = _child_payload(request)
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        except BaseException:  # noqa: BLE001 - a broken pipe: the parent is gone or gave up
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    future._child = pid

    def collect() -> None:
        future.set_running_or_notify_cancel()
        try:
            with os.fdopen(read_end, "rb") as stream:
                data = stream.read()
            with future._reaping:
                _, status = os.waitpid(pid, 0)
                future._child = None
            if not data:
                how = (
                    f"was killed by signal {os.WTERMSIG(status)}"
                    if os.WIFSIGNALED(status)
                    else f"exited with status {os.waitstatus_to_exitcode(status)}"
                )
                raise SourceError(f"reading {request.source}: the reading process {how} before it was done")
            ok, value = pickle.loads(data)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            future.set_exception(exc)

    threading.Thread(target=collect, name="diff-insight-source", daemon=True).start()
