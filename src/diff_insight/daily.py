"""Incremental daily runs and backfill by day, for local git repositories.

Two entry points, both library functions that a front end (the CLI) calls:

* :func:`run_incremental` reports what is new on a branch since the last successful run. The last
  processed commit is kept in a small JSON *state file* per (repository, branch) under
  ``<out_root>/.diff-insight/state/``; it is written atomically, and only after every report of
  the run has been written.
* :func:`backfill` writes one report set per calendar day (in the configured time zone) for a range
  of days, from the first-parent history of the branch. It does not read or move the state.

Both hold a lock (``fcntl.flock`` on ``<out_root>/.diff-insight/locks/<name>.lock``) for the whole
run so that two runs on the same repository never write at the same time.

The rules, in short (see ``docs/daily.md``):

* no state: report the head commit's own change (``head^..head``; ``since..head`` when ``since`` is
  given; a root commit is compared with git's empty tree);
* state equal to the head: nothing to do;
* state an ancestor of the head: report ``state..head``;
* otherwise (force push, rewritten history, or a state commit git no longer has): warn, and report
  ``merge-base(state, head)..head`` when there is a merge base, else the head commit's own change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final

from diff_insight.config import Config
from diff_insight.errors import InputError, SourceError, first_line
from diff_insight.locks import file_lock
from diff_insight.paths import atomic_write_text, is_safe_component, render_out_path
from diff_insight.pipeline import (
    EngineOptions,
    Progress,
    RunResult,
    WrittenReport,
    generate_reports,
)
from diff_insight.request import ReportRequest
from diff_insight.sources.git import EMPTY_TREE, GitSource, git_env, strip_credentials

__all__ = [
    "EMPTY_TREE",
    "STATE_VERSION",
    "DayOutcome",
    "RunOutcome",
    "RunState",
    "backfill",
    "day_range",
    "lock_path",
    "read_state",
    "repository_identity",
    "run_incremental",
    "run_lock",
    "state_path",
    "summarize",
    "write_state",
]

STATE_VERSION: Final = 1
WORK_DIR: Final = ".diff-insight"
"""The tool's directory under the output root (state, locks, LLM cache)."""

_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Message = Callable[[str], None]


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True, slots=True)
class RunState:
    """What the state file holds: the last commit whose change has been reported."""

    commit: str
    branch: str
    repository: str
    """The repository's identity (origin URL without credentials, else its absolute path)."""
    commit_time: datetime | None = None
    """The committer time of :attr:`commit`."""
    processed_at: datetime | None = None
    """When the run that wrote the state finished (UTC)."""
    day: date | None = None
    """The report date of that run."""
    day_base: str | None = None
    """The base of the reports written for :attr:`day` (a commit SHA or the empty tree)."""


@dataclass(slots=True)
class RunOutcome:
    """The result of :func:`run_incremental`."""

    branch: str
    head: str
    """The branch head that was processed (full SHA)."""
    base: str | None
    """The base of the reported range (a commit SHA or :data:`EMPTY_TREE`); ``None`` when nothing
    was reported."""
    previous: str | None
    """The commit of the state file before the run (``None``: there was none)."""
    day: date | None
    """The report date (the head commit's committer date in the configured time zone)."""
    nothing_to_do: bool
    rewritten: bool
    """The state commit was no longer on the branch (force push, rewritten or pruned history)."""
    same_day: bool
    """An earlier run already wrote reports for :attr:`day`: the range was extended back to that
    run's base, so the day's reports (same files) cover both runs instead of only the new commits."""
    message: str
    """One line saying what was done, for the front end to print."""
    state_path: Path
    result: RunResult | None = None
    warnings: list[str] = field(default_factory=list)
    """Every warning of the run (also passed to ``warn`` as they happen)."""

    @property
    def reports(self) -> list[WrittenReport]:
        return list(self.result.reports) if self.result is not None else []


@dataclass(slots=True)
class DayOutcome:
    """The result of one day of :func:`backfill`."""

    day: date
    base: str | None
    """Last first-parent commit before the day's start (:data:`EMPTY_TREE` before the first commit)."""
    head: str | None
    """Last first-parent commit before the day's end (``None``: the branch had no commit yet)."""
    skipped: bool
    """No commit that day: nothing was written."""
    result: RunResult | None = None

    @property
    def reports(self) -> list[WrittenReport]:
        return list(self.result.reports) if self.result is not None else []


# --------------------------------------------------------------------------- git helpers


class _Repo:
    """The few git queries the daily logic needs, with the project's clean git environment."""

    def __init__(self, repo_path: str | Path) -> None:
        self.source = GitSource(repo_path)  # SourceError for a missing path or not a repository
        self.path = self.source.path
        self.env = git_env()
        self._empty_tree: str | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", "--no-pager", *args],
                cwd=self.path,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise SourceError(f"cannot run git: {exc.strerror or exc}") from None

    def sha(self, *args: str) -> str | None:
        """The SHA a command prints, or ``None`` when it fails or prints nothing."""
        proc = self.run(*args)
        out = proc.stdout.decode("ascii", "replace").strip()
        return out if proc.returncode == 0 and _HEX.fullmatch(out) else None

    def commit(self, rev: str) -> str | None:
        """The full SHA of commit ``rev``, or ``None`` when git does not have it."""
        if not rev or rev.startswith("-") or any(ord(c) < 32 for c in rev):
            return None
        return self.sha("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer).returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        return self.sha("merge-base", a, b)

    def empty_tree(self) -> str:
        """The empty tree's id in this repository's hash (SHA-1: :data:`EMPTY_TREE`)."""
        if self._empty_tree is None:
            self._empty_tree = self.sha("hash-object", "-t", "tree", "/dev/null") or EMPTY_TREE
        return self._empty_tree

    def own_change_base(self, head: str) -> str:
        """The base of a commit's own change: its first parent, or the empty tree for a root."""
        return self.sha("rev-parse", "--verify", "--quiet", f"{head}^1") or self.empty_tree()

    def last_before(self, ref: str, instant: datetime) -> str | None:
        """The last first-parent commit of ``ref`` whose committer time is at or before ``instant``."""
        stamp = instant.astimezone(UTC).isoformat()
        return self.sha("rev-list", "--first-parent", "-1", f"--before={stamp}", ref, "--")

    def identity(self) -> str:
        origin = self.source.repository().url
        return strip_credentials(origin) if origin else str(self.source.toplevel.resolve())


def _resolve_branch(repo: _Repo, branch: str) -> str:
    sha = repo.commit(branch)
    if sha is None:
        raise InputError(f"branch {branch!r} is not a known branch or commit in {repo.path}")
    return sha


# --------------------------------------------------------------------------- names, state, lock


def _label(text: str, limit: int) -> str:
    cleaned = _UNSAFE.sub("-", text).strip("-._")
    return cleaned[:limit].rstrip("-._") or "x"


def _name(identity: str, branch: str | None) -> str:
    """A safe file name (≤ 64 characters) for a repository, or a (repository, branch) pair."""
    tail = identity.rstrip("/").removesuffix(".git").rstrip("/")
    label = _label(tail.rsplit("/", 1)[-1].rsplit(":", 1)[-1], 24)
    key = identity if branch is None else f"{identity}\0{branch}"
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    name = f"{label}-{digest}" if branch is None else f"{label}-{_label(branch, 24)}-{digest}"
    assert is_safe_component(name), name
    return name


def repository_identity(repo_path: str | Path) -> str:
    """How the state and lock recognise a repository: its ``origin`` URL (without credentials)
    when it has one, so that a fresh clone in CI finds the state of the previous run; else the
    absolute path of its work tree."""
    return _Repo(repo_path).identity()


def _work_file(out_root: Path, kind: str, name: str) -> Path:
    directory = out_root / WORK_DIR / kind
    path = directory / name
    real_root = out_root.resolve()
    real = path.resolve()
    if not real.is_relative_to(real_root) or real == real_root:
        raise InputError(f"{path} resolves to {real}, outside the output directory {real_root}")
    return path


def state_path(out_root: Path, repo_path: str | Path, branch: str) -> Path:
    """``<out_root>/.diff-insight/state/<name>.json`` for this repository and branch."""
    return _work_file(out_root, "state", _name(repository_identity(repo_path), branch) + ".json")


def lock_path(out_root: Path, repo_path: str | Path) -> Path:
    """``<out_root>/.diff-insight/locks/<name>.lock``: one lock per repository (all branches)."""
    return _work_file(out_root, "locks", _name(repository_identity(repo_path), None) + ".lock")


def _time(value: Any, key: str, path: Path) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"corrupt state file {path}: {key} is not a string")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"corrupt state file {path}: {key} is not an ISO 8601 time") from None


def read_state(path: Path) -> RunState | None:
    """The state in ``path``; ``None`` when the file does not exist.

    Raises :class:`InputError` (one line naming the file) when it cannot be read or is not a state
    file this version wrote; delete the file to start over.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read state file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reason = first_line(exc)
        raise InputError(f"corrupt state file {path}: {reason}; delete it to start over") from None
    if not isinstance(data, dict):
        raise InputError(f"corrupt state file {path}: not a JSON object; delete it to start over")
    if data.get("version") != STATE_VERSION:
        raise InputError(f"corrupt state file {path}: unsupported version {data.get('version')!r}")
    commit, branch, repository = data.get("commit"), data.get("branch"), data.get("repository")
    if not isinstance(commit, str) or not _HEX.fullmatch(commit):
        raise InputError(f"corrupt state file {path}: commit is not a full commit SHA")
    if not isinstance(branch, str) or not branch:
        raise InputError(f"corrupt state file {path}: branch is missing")
    if not isinstance(repository, str):
        raise InputError(f"corrupt state file {path}: repository is missing")
    day_base = data.get("day_base")
    if day_base is not None and (not isinstance(day_base, str) or not _HEX.fullmatch(day_base)):
        raise InputError(f"corrupt state file {path}: day_base is not a full SHA")
    day = data.get("day")
    try:
        parsed_day = date.fromisoformat(day) if isinstance(day, str) else None
    except ValueError:
        raise InputError(f"corrupt state file {path}: day is not a YYYY-MM-DD date") from None
    if day is not None and parsed_day is None:
        raise InputError(f"corrupt state file {path}: day is not a YYYY-MM-DD date")
    return RunState(
        commit=commit,
        branch=branch,
        repository=repository,
        commit_time=_time(data.get("commit_time"), "commit_time", path),
        processed_at=_time(data.get("processed_at"), "processed_at", path),
        day=parsed_day,
        day_base=day_base,
    )


def write_state(path: Path, state: RunState) -> None:
    """Replace the state file atomically (temp file, fsync, rename). Raises :class:`RenderError`."""
    data = {
        "version": STATE_VERSION,
        "repository": state.repository,
        "branch": state.branch,
        "commit": state.commit,
        "commit_time": state.commit_time.isoformat() if state.commit_time else None,
        "processed_at": state.processed_at.isoformat() if state.processed_at else None,
        "day": state.day.isoformat() if state.day else None,
        "day_base": state.day_base,
    }
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def run_lock(path: Path, *, wait: bool = False, on_wait: Message | None = None) -> Iterator[None]:
    """Hold the run lock ``path`` for the ``with`` block (see :func:`diff_insight.locks.file_lock`)."""
    with file_lock(
        path,
        wait=wait,
        busy=f"another diff-insight run holds {path}; try again later",
        waiting=f"waiting for another diff-insight run to release {path}",
        on_wait=on_wait,
    ):
        yield


# --------------------------------------------------------------------------- report generation


def _generate(
    repo: _Repo,
    base: str,
    head: str,
    day: date,
    config: Config,
    *,
    out_root: Path,
    engine: EngineOptions | None,
    warn: Message | None,
    progress: Progress | None,
) -> RunResult:
    request = ReportRequest(
        kind="git", source=str(repo.path), base=base, head=head, day=day, out_root=out_root
    )
    return generate_reports(request, config, engine=engine, warn=warn, progress=progress)


def _local_day(moment: datetime | None, tz: tzinfo) -> date:
    return (moment or datetime.now(UTC)).astimezone(tz).date()


# --------------------------------------------------------------------------- incremental runs


def run_incremental(
    repo_path: str | Path,
    branch: str,
    config: Config,
    *,
    out_root: Path,
    since: str | None = None,
    engine: EngineOptions | None = None,
    warn: Message | None = None,
    progress: Progress | None = None,
    wait: bool = False,
    on_wait: Message | None = None,
) -> RunOutcome:
    """Report what is new on ``branch`` of the local repository at ``repo_path`` since the last run.

    ``since`` (any revision) is the base of the first run, when there is no state yet; with a state
    it is ignored (with a warning). The state moves to the head only after every report was
    written. Errors: :class:`~diff_insight.errors.SourceError` (path is not a git repository),
    :class:`InputError` (unknown branch or ``since``, corrupt state file, lock held with
    ``wait=False``), and whatever :func:`generate_reports` raises (then the state is unchanged).
    """
    out_root = Path(out_root)
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn:
            warn(msg)

    repo = _Repo(repo_path)
    identity = repo.identity()
    spath = _work_file(out_root, "state", _name(identity, branch) + ".json")
    lpath = _work_file(out_root, "locks", _name(identity, None) + ".lock")
    with run_lock(lpath, wait=wait, on_wait=on_wait or warn):
        head = _resolve_branch(repo, branch)
        head_time = repo.source.commit_time(head)
        day = _local_day(head_time, config.tzinfo)
        state = read_state(spath)
        previous = state.commit if state else None
        rewritten = same_day = False
        short = head[:7]

        def outcome(base: str | None, message: str, *, nothing: bool) -> RunOutcome:
            return RunOutcome(
                branch=branch,
                head=head,
                base=base,
                previous=previous,
                day=None if nothing else day,
                nothing_to_do=nothing,
                rewritten=rewritten,
                same_day=same_day,
                message=message,
                state_path=spath,
                warnings=warnings,
            )

        base: str
        if state is None:
            if since is not None:
                found = repo.commit(since)
                if found is None:
                    raise InputError(f"since {since!r} is not a known commit in {repo.path}")
                base = found
            else:
                base = repo.own_change_base(head)
        else:
            if since is not None:
                _warn(f"ignoring since={since!r}: {spath} already records {state.commit[:7]}")
            if state.commit == head:
                return outcome(None, f"nothing to do: {branch} is still at {short}", nothing=True)
            known = repo.commit(state.commit) == state.commit
            if known and repo.is_ancestor(state.commit, head):
                base = state.commit
            else:
                rewritten = True
                old = state.commit[:7]
                mb = repo.merge_base(state.commit, head) if known else None
                if mb == head:
                    _warn(
                        f"history was rewritten: {old} is no longer on {branch}; "
                        f"{branch} moved back to {short}, nothing new to report"
                    )
                    _save(spath, identity, branch, head, head_time, None, None)
                    return outcome(None, f"nothing to do: {branch} moved back to {short}", nothing=True)
                if mb is not None:
                    _warn(
                        f"history was rewritten: {old} is no longer on {branch}; "
                        f"reporting from the merge base {mb[:7]}"
                    )
                    base = mb
                else:
                    why = "" if known else " (git no longer has that commit)"
                    _warn(
                        f"history was rewritten: {old} is no longer on {branch}{why}; "
                        f"no merge base, reporting the head commit's own change"
                    )
                    base = repo.own_change_base(head)

        if state is not None and state.day == day and state.day_base and state.day_base != base:
            # the reports of this day already exist (same files): let them cover both runs
            earlier, empty = state.day_base, repo.empty_tree()
            if base != empty and (
                earlier == empty or (repo.commit(earlier) == earlier and repo.is_ancestor(earlier, base))
            ):
                same_day = True
                base = earlier

        result = _generate(
            repo, base, head, day, config, out_root=out_root, engine=engine, warn=_warn, progress=progress
        )
        if not (engine and engine.dry_run):
            _save(spath, identity, branch, head, head_time, day, base)
        n = len(result.reports)
        shown = "the empty tree" if base == repo.empty_tree() else base[:7]
        extra = f" (extends the earlier reports of {day})" if same_day else ""
        done = outcome(base, f"reported {shown}..{short} on {branch}: {n} report(s){extra}", nothing=False)
        done.result = result
        return done


def _save(
    path: Path,
    identity: str,
    branch: str,
    head: str,
    head_time: datetime | None,
    day: date | None,
    day_base: str | None,
) -> None:
    write_state(
        path,
        RunState(
            commit=head,
            branch=branch,
            repository=identity,
            commit_time=head_time,
            processed_at=datetime.now(UTC).replace(microsecond=0),
            day=day,
            day_base=day_base,
        ),
    )


# --------------------------------------------------------------------------- backfill


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tz)


def day_range(repo_path: str | Path, branch: str, day: date, tz: tzinfo) -> tuple[str | None, str | None]:
    """``(base, head)`` of ``day`` in time zone ``tz``: the last first-parent commits of ``branch``
    committed before the day's start and before its end (midnight to midnight, half-open).
    ``base`` is :data:`EMPTY_TREE` when the branch had no commit before the day, ``head`` is
    ``None`` when it had none before the day's end."""
    return _day_range(_Repo(repo_path), branch, day, tz)


def _day_range(repo: _Repo, ref: str, day: date, tz: tzinfo) -> tuple[str | None, str | None]:
    second = timedelta(seconds=1)  # git's --before is inclusive; commit times are whole seconds
    head = repo.last_before(ref, _day_start(day + timedelta(days=1), tz) - second)
    if head is None:
        return None, None
    base = repo.last_before(ref, _day_start(day, tz) - second) or repo.empty_tree()
    return base, head


def backfill(
    repo_path: str | Path,
    branch: str,
    config: Config,
    *,
    out_root: Path,
    since: date,
    until: date,
    engine: EngineOptions | None = None,
    warn: Message | None = None,
    progress: Progress | None = None,
    wait: bool = False,
    on_wait: Message | None = None,
) -> list[DayOutcome]:
    """One report set per day of ``[since, until]`` (days in the configured time zone) that has
    commits on the first-parent history of ``branch``; one :class:`DayOutcome` per day, skipped
    days included. Re-running a day replaces its reports. The incremental state is not touched.

    Errors: as :func:`run_incremental`, plus :class:`InputError` when ``since`` is after ``until``.
    A failing day stops the backfill; the days before it keep their reports.
    """
    if since > until:
        raise InputError(f"backfill: since {since} is after until {until}")
    out_root = Path(out_root)
    tz = config.tzinfo
    repo = _Repo(repo_path)
    lpath = _work_file(out_root, "locks", _name(repo.identity(), None) + ".lock")
    outcomes: list[DayOutcome] = []
    with run_lock(lpath, wait=wait, on_wait=on_wait or warn):
        head_of_branch = _resolve_branch(repo, branch)  # fixed for the whole backfill
        if warn and since != until and _same_path_for_days(config, out_root, since):
            warn(
                f"the output template {config.out!r} has no day code: "
                "each day's reports replace the previous day's"
            )
        day = since
        while day <= until:
            base, head = _day_range(repo, head_of_branch, day, tz)
            if head is None or base is None or base == head:
                outcomes.append(DayOutcome(day, base, head, skipped=True))
            else:
                result = _generate(
                    repo,
                    base,
                    head,
                    day,
                    config,
                    out_root=out_root,
                    engine=engine,
                    warn=warn,
                    progress=progress,
                )
                outcomes.append(DayOutcome(day, base, head, skipped=False, result=result))
            day += timedelta(days=1)
    return outcomes


def _same_path_for_days(config: Config, out_root: Path, day: date) -> bool:
    def path(d: date) -> Path:
        return render_out_path(config.out, category="c", locale="l", day=d, root=out_root)

    return path(day) == path(day + timedelta(days=1))


def summarize(outcomes: Sequence[DayOutcome]) -> str:
    """One line for a backfill: days with reports, days skipped, reports written."""
    done = [o for o in outcomes if not o.skipped]
    n = sum(len(o.reports) for o in done)
    return (
        f"backfill: {len(done)} day(s) reported, {len(outcomes) - len(done)} without commits, {n} report(s)"
    )
