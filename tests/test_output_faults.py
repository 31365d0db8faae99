"""An output directory that is full, read-only, or has a directory where a file should go: the run
ends with one clear line on stderr and a non-zero exit, everything already there (reports, state) is
byte-identical afterwards, and no temporary file is left.

How the faults are made, the realest way the machine allows:

* disk full: as root (where ``mount`` works), the output directory is a small ``tmpfs`` (writes fail
  with ENOSPC, "No space left on device"). Otherwise the run's process gets a file-size limit
  (``RLIMIT_FSIZE``, writes past it fail with EFBIG); Python ignores SIGXFSZ, so it is an error too.
  The file-size limit is also tested on its own, on every machine.
* read-only: as root (where chmod does not stop writes), a read-only bind mount of the output
  directory onto itself (EROFS); otherwise ``chmod a-w`` on every directory (EACCES), and for root
  without ``mount`` (a container) the run also drops the capabilities that bypass file permissions
  (``setpriv --bounding-set -dac_override,...``).
* a directory where a report or the state file goes (any user).

The failing runs are real processes (``python -m diff_insight``).
"""

from __future__ import annotations

import contextlib
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.cli_helpers import invoke, snapshot
from tests.gitrepo import GitRepo

DAY = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
CONFIG = (
    'locales = ["ja_JP", "zh_CN", "en_US"]\n\n[categories]\nalpha = ["docs/alpha"]\nbeta = ["docs/beta"]\n'
)


def _mount(*args: str) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", *args], capture_output=True, check=False).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """Mount a tmpfs of ``size`` on ``path``; yields whether it could."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    try:
        yield mounted
    finally:
        if mounted:
            _umount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[str]:
    """Make ``path`` read-only for this process: a read-only bind mount as root, else chmod."""
    if _mount("--bind", str(path), str(path)):
        if _mount("-o", "remount,bind,ro", str(path)):
            try:
                yield "read-only bind mount"
            finally:
                _umount(path)
            return
        _umount(path)
    dirs = [path, *(p for p in path.rglob("*") if p.is_dir() and not p.is_symlink())]
    modes = {d: stat.S_IMODE(d.stat().st_mode) for d in dirs}
    for d in dirs:
        d.chmod(modes[d] & ~0o222)
    try:
        # root without mount (a container): the run loses the capabilities that bypass permissions
        yield "chmod a-w" if os.geteuid() != 0 else "chmod a-w, run without CAP_DAC_OVERRIDE"
    finally:
        for d in reversed(dirs):
            d.chmod(modes[d])


def privileges(how: str) -> list[str]:
    """The command prefix that makes ``chmod`` bind root too (see :func:`read_only`)."""
    if "CAP_DAC_OVERRIDE" not in how:
        return []
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner,-linux_immutable"]


def make_repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path)
    for i in range(6):
        repo.write(f"docs/{'alpha' if i % 2 else 'beta'}/p{i}.md", f"# Page {i}\n\nFirst text.\n")
    repo.commit("one", DAY)
    for i in range(6):
        repo.write(f"docs/{'alpha' if i % 2 else 'beta'}/p{i}.md", f"# Page {i}\n\nSecond text.\n")
    repo.commit("two", DAY + timedelta(hours=1))
    return repo


def grow(repo: GitRepo, hours: int) -> None:
    """A later commit of the same day with ~600 KB of new text: its reports need megabytes."""
    para = "A sentence that makes the page longer, with words and more words in it. " * 12 + "\n\n"
    for i in range(40):
        repo.write(f"docs/{'alpha' if i % 2 else 'beta'}/big{i}.md", f"# Big {i}\n\n" + para * 20)
    repo.commit("grow", DAY + timedelta(hours=hours))


def di(
    args: list[str], cwd: Path, preexec: Callable[[], None] | None = None, prefix: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "diff_insight", *args],
        cwd=cwd,
        env={**os.environ, "DIFF_INSIGHT_WORKERS": "1"},
        capture_output=True,
        text=True,
        preexec_fn=preexec,
        check=False,
        timeout=120,
    )


def run_args(repo: GitRepo, out: Path, cfg: Path) -> list[str]:
    return ["run", "--repo", str(repo.path), "--config", str(cfg), "--out-dir", str(out)]


@dataclass(frozen=True)
class Workspace:
    """The repository of :func:`make_repo`, its configuration and the output directory."""

    root: Path
    repo: GitRepo
    cfg: Path
    out: Path

    def args(self, command: str) -> list[str]:
        """The arguments of ``run`` or of ``report`` over the last two commits, into ``out``."""
        if command == "run":
            return run_args(self.repo, self.out, self.cfg)
        assert command == "report", command
        return [
            "report",
            str(self.repo.path),
            "HEAD~2",
            "HEAD",
            "--config",
            str(self.cfg),
            "--out-dir",
            str(self.out),
        ]

    def first_run(self) -> None:
        """A successful ``run`` that fills ``out`` (in process: faster than a real process)."""
        code, _, err = invoke(run_args(self.repo, self.out, self.cfg), self.root)
        assert code == 0, err


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    repo = make_repo(tmp_path)
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return Workspace(tmp_path, repo, cfg, tmp_path / "out")


def outputs(out: Path) -> dict[bytes, tuple[int, str]]:
    """The snapshot of the output directory, without the lock files (a run writes its pid in them)."""
    return {k: v for k, v in snapshot(out, set()).items() if not k.startswith(b".diff-insight/locks/")}


def no_temps(out: Path) -> None:
    left = [p for p in out.rglob("*") if p.name.startswith(".tmp-") or p.name.endswith(".tmp")]
    assert not left, left


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str, how: str = "") -> None:
    """One line on stderr holding ``words``, exit code 1 or 2; ``how`` (the fault's mechanism) goes
    into every message."""
    assert proc.returncode in (1, 2), (how, proc.stderr)
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("diff-insight: error: "), (
        how,
        proc.stderr,
    )
    for word in words:
        assert word in proc.stderr, (how, proc.stderr)


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def check_disk_full(ws: Workspace, command: str, mechanism: str) -> None:
    """``command`` on a full output directory made by ``mechanism``: ``tmpfs`` (``ws.out`` is a
    small tmpfs already) or ``fsize`` (the run's process gets a file-size limit)."""
    ws.first_run()
    assert len(list(ws.out.rglob("*.md"))) == 6, mechanism
    before = outputs(ws.out)
    grow(ws.repo, 2)  # same day: the run rewrites the same six report files with much more text
    preexec = _fsize_limit(200_000) if mechanism == "fsize" else None
    proc = di(ws.args(command), ws.root, preexec)
    reason = {"tmpfs": "No space left on device", "fsize": "File too large"}[mechanism]
    assert_one_line_error(proc, "cannot write report", reason, how=mechanism)
    assert proc.returncode == 1, mechanism
    assert outputs(ws.out) == before, mechanism  # reports and state untouched
    no_temps(ws.out)
    if mechanism == "fsize":  # without the limit, the same command succeeds
        proc = di(ws.args(command), ws.root)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("command", ["run", "report"])
def test_disk_full(ws: Workspace, command: str) -> None:
    """A full disk, the realest way this machine allows: a 400 KB tmpfs as the output directory
    where ``mount`` works (ENOSPC), else the file-size limit of :func:`test_file_size_limit`
    (EFBIG); the mechanism used is named in every assertion message."""
    with tmpfs(ws.out, "400k") as mounted:
        check_disk_full(ws, command, "tmpfs" if mounted else "fsize")


@pytest.mark.parametrize("command", ["run", "report"])
def test_file_size_limit(ws: Workspace, command: str) -> None:
    """A file-size limit (``RLIMIT_FSIZE``: EFBIG) on the run's process, on every machine."""
    check_disk_full(ws, command, "fsize")


@pytest.mark.parametrize("command", ["run", "report"])
def test_read_only_output_directory(ws: Workspace, command: str) -> None:
    ws.first_run()
    grow(ws.repo, 2)
    with read_only(ws.out) as how:
        before = outputs(ws.out)  # (with chmod, the lock file itself stays writable: the run's pid)
        proc = di(ws.args(command), ws.root, prefix=privileges(how))
        reason = "Read-only file system" if how.startswith("read-only") else "Permission denied"
        assert_one_line_error(proc, reason, how=how)
        assert outputs(ws.out) == before, how
    no_temps(ws.out)


def test_directory_where_a_report_goes(ws: Workspace) -> None:
    ws.first_run()
    grow(ws.repo, 2)
    victim = sorted(ws.out.rglob("*-beta.md"))[-1]
    victim.unlink()
    victim.mkdir()
    (victim / "keep.txt").write_text("mine\n", encoding="utf-8")
    before = outputs(ws.out)
    proc = di(ws.args("run"), ws.root)
    assert_one_line_error(proc, "cannot write report", victim.name)
    assert proc.returncode == 1
    # the renames are all-or-nothing up to the failing one: the state did not move
    after = outputs(ws.out)
    state_keys = [k for k in before if k.startswith(b".diff-insight/state/")]
    assert state_keys and all(after[k] == before[k] for k in state_keys)
    assert (victim / "keep.txt").read_text(encoding="utf-8") == "mine\n"
    no_temps(ws.out)


def test_directory_where_the_state_goes(ws: Workspace) -> None:
    ws.first_run()
    (state,) = (ws.out / ".diff-insight" / "state").glob("*.json")
    state.unlink()
    state.mkdir()
    ws.repo.write("docs/alpha/p1.md", "# Page 1\n\nThird text.\n")
    ws.repo.commit("three", DAY + timedelta(days=1))
    proc = di(ws.args("run"), ws.root)
    assert_one_line_error(proc, state.name)
    assert state.is_dir() and not any(state.iterdir())
    no_temps(ws.out)


def test_mirror_recovers_from_a_fetch_killed_with_its_locks(tmp_path: Path) -> None:
    """A ``git fetch`` killed while it updates the mirror leaves git's lock files (a ref's ``.lock``,
    ``config.lock``, ``packed-refs.lock``); git then refuses every later fetch ("File exists"), so the
    next run removes them (it holds the mirror's flock: no other git of ours is in there)."""
    from diff_insight.mirror import ensure_mirror

    origin = GitRepo(tmp_path, name="origin")
    origin.write("a.md", "# A\n")
    origin.commit("one")
    url = origin.path.as_uri()
    mirror = ensure_mirror(url, tmp_path / "mirrors", branch="main")
    head = origin.commit("two")
    # what a SIGKILL in the middle of a fetch (and of the origin URL update) leaves behind
    for name in ("refs/heads/main.lock", "config.lock", "packed-refs.lock"):
        (mirror / name).write_text("", encoding="utf-8")
    proc = subprocess.run(
        ["git", "-C", str(mirror), "fetch", "--quiet", "origin", "+refs/heads/*:refs/heads/*"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "File exists" in proc.stderr  # git alone does not recover
    assert ensure_mirror(url, tmp_path / "mirrors", branch="main") == mirror
    got = subprocess.run(
        ["git", "-C", str(mirror), "rev-parse", "refs/heads/main"], capture_output=True, text=True, check=True
    )
    assert got.stdout.strip() == head
    assert not list(mirror.rglob("*.lock"))
