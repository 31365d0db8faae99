"""Reading a run's source in the background (:mod:`diff_insight.request`): a forked reading
process gives the same change set and errors as reading in-process, a killed or discarded one
fails cleanly, and the CLI reports an invalid config before anything the read found."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.gitrepo import GitRepo

from diff_insight.errors import SourceError
from diff_insight.request import ReportRequest, SourceFuture, _read_in_child, open_source, start_source
from diff_insight.sources.git import _lines_from, _split_metadata


def _varied_repo(repo: GitRepo) -> tuple[str, str]:
    repo.write("docs/a.md", "---\ntitle: A\nms.date: 01/01/2024\n---\n# A\n\nText.\n")
    repo.write("docs/gone.md", "# Gone\n\nBye.\n")
    repo.write("docs/old name.md", "# Moved\n\n" + "Same line.\n" * 20)
    repo.write("img/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    base = repo.commit()
    repo.write("docs/a.md", "---\ntitle: A\nms.date: 02/01/2024\n---\n# A\n\nText, and more.\n")
    repo.remove("docs/gone.md")
    repo.rename("docs/old name.md", "docs/新しい名前.md")
    repo.write("img/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)))
    repo.write("docs/crlf.md", "# CRLF\r\n\r\nLine\r\n")
    head = repo.commit()
    return base, head


def test_forked_read_equals_reading_in_process(git_repo: GitRepo) -> None:
    base, head = _varied_repo(git_repo)
    request = ReportRequest("git", str(git_repo.path), base, head)
    future = SourceFuture()
    _read_in_child(request, future)
    child = future._child
    assert child is not None and child != os.getpid()
    changeset, reader = future.result(timeout=60)
    expected, expected_reader = open_source(request)
    try:
        assert changeset == expected
        assert {f.status.value for f in changeset.files} >= {"added", "removed", "renamed", "modified"}
        # the reader sent back works in this process
        for change in changeset.files:
            if change.new_id and not change.binary:
                assert reader.read(change, "new") == expected_reader.read(change, "new")
    finally:
        reader.close()
        expected_reader.close()
    assert future._child is None  # reaped


def test_the_git_source_is_imported_before_the_reading_process_forks(git_repo: GitRepo) -> None:
    """The module of the git source is imported before the fork, so that the reading process has
    it already and the reader it sends back unpickles without an import after the read."""
    base, head = _varied_repo(git_repo)
    code = (
        "import sys\n"
        "from diff_insight.request import ReportRequest, start_source\n"
        "print('diff_insight.sources.git' in sys.modules)\n"
        f"future = start_source(ReportRequest('git', {str(git_repo.path)!r}, {base!r}, {head!r}))\n"
        "print('diff_insight.sources.git' in sys.modules, future._child is not None)\n"
        "changeset, reader = future.result(timeout=60)\n"
        "reader.close()\n"
        "print(len(changeset.files))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["False", "True True", "5"]


def test_forked_read_raises_the_same_error(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    git_repo.commit()
    request = ReportRequest("git", str(git_repo.path), "no-such-branch", "HEAD")
    with pytest.raises(SourceError) as in_process:
        open_source(request)
    future = SourceFuture()
    _read_in_child(request, future)
    with pytest.raises(SourceError) as forked:
        future.result(timeout=60)
    assert str(forked.value) == str(in_process.value)


@pytest.fixture
def slow_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``git`` on PATH that hangs (for a few seconds), so a read can be stopped midway."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text("#!/bin/sh\nsleep 5\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return fake


def _wait_started(future: SourceFuture) -> int:
    child = future._child
    assert child is not None
    time.sleep(0.2)  # the child is now waiting for the hanging git
    assert not future.done()
    return child


def test_killed_reading_process_is_a_one_line_source_error(git_repo: GitRepo, slow_git: Path) -> None:
    request = ReportRequest("git", str(git_repo.path), "HEAD~1", "HEAD")
    future = SourceFuture()
    _read_in_child(request, future)
    os.kill(_wait_started(future), signal.SIGKILL)
    with pytest.raises(SourceError) as exc:
        future.result(timeout=30)
    message = str(exc.value)
    assert "\n" not in message
    assert str(git_repo.path) in message and f"killed by signal {int(signal.SIGKILL)}" in message


def test_discard_stops_the_reading_process(git_repo: GitRepo, slow_git: Path) -> None:
    request = ReportRequest("git", str(git_repo.path), "HEAD~1", "HEAD")
    future = SourceFuture()
    _read_in_child(request, future)
    child = _wait_started(future)
    started = time.monotonic()
    future.discard()
    with pytest.raises(SourceError, match=f"killed by signal {int(signal.SIGTERM)}"):
        future.result(timeout=30)
    assert time.monotonic() - started < 4  # did not wait for the hanging git
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_discard_closes_the_reader_of_a_finished_read(git_repo: GitRepo) -> None:
    base, head = _varied_repo(git_repo)
    future = start_source(ReportRequest("git", str(git_repo.path), base, head))
    changeset, reader = future.result(timeout=60)
    future.discard()
    change = next(f for f in changeset.files if f.new_id and not f.binary)
    with pytest.raises(SourceError, match="closed"):
        reader.read(change, "new")


def test_thread_read_for_other_inputs(tmp_path: Path) -> None:
    patch = tmp_path / "p.patch"
    patch.write_text("--- a/x.md\n+++ b/x.md\n@@ -1 +1 @@\n-a\n+b\n", encoding="utf-8")
    future = start_source(ReportRequest("patch", str(patch)))
    assert future._child is None
    changeset, reader = future.result(timeout=30)
    reader.close()
    assert [f.path for f in changeset.files] == ["x.md"]


def test_cli_reports_an_invalid_config_before_a_bad_source(tmp_path: Path) -> None:
    """The range is read while the config is validated; an invalid config still wins, and the
    console script (a real process, where the read is forked) writes nothing."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[categories]\nopenai = []\n", encoding="utf-8")
    for source in (str(tmp_path / "missing-repo"), str(tmp_path)):
        proc = subprocess.run(
            [sys.executable, "-m", "diff_insight", "report", source, "a", "b", "--config", str(bad)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "bad.toml" in lines[0] and "openai" in lines[0], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


class _Trickle(io.RawIOBase):
    """A stream that hands out at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._at = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        piece = self._data[self._at : self._at + min(self._step, len(buffer))]
        buffer[: len(piece)] = piece
        self._at += len(piece)
        return len(piece)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 1 << 16])
def test_records_and_patch_are_split_wherever_the_reads_fall(step: int) -> None:
    records = b":100644 100644 " + b"a" * 40 + b" " + b"b" * 40 + b" M\0x.md\0" + b"1\t1\tx.md\0"
    patch = b"diff --git a/x.md b/x.md\n--- a/x.md\n+++ b/x.md\n@@ -1 +1 @@\n-a\n+b\n"
    stream = _Trickle(records + b"\0" + patch, step)
    got_records, rest = _split_metadata(stream)
    assert got_records == records
    assert b"".join(_lines_from(rest, stream)) == patch


@pytest.mark.parametrize(
    "head,tail,lines",
    [
        (b"", b"a\nb\n", [b"a\n", b"b\n"]),
        (b"a\n", b"b\n", [b"a\n", b"b\n"]),
        (b"a\nb", b"c\nd", [b"a\n", b"bc\n", b"d"]),
        (b"a\nb", b"", [b"a\n", b"b"]),
        (b"a\r\nb", b"\r\nc\n", [b"a\r\n", b"b\r\n", b"c\n"]),
    ],
)
def test_lines_from_joins_the_line_cut_by_the_split(head: bytes, tail: bytes, lines: list[bytes]) -> None:
    assert list(_lines_from(head, io.BytesIO(tail))) == lines


def test_no_change_reads_nothing(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    head = git_repo.commit()
    changeset, reader = open_source(ReportRequest("git", str(git_repo.path), head, head))
    reader.close()
    assert changeset.files == ()
