"""The forked worker pool (:func:`diff_insight.workers.forked_pool`)."""

from __future__ import annotations

import gc
import multiprocessing
import os
from pathlib import Path

import pytest
from tests.gitrepo import GitRepo

from diff_insight.pipeline import analyze_changeset
from diff_insight.request import OpenedSource, ReportRequest, open_source
from diff_insight.workers import forked_pool

_INHERITED = [{"n": i} for i in range(1000)]


def _child_view(_: int) -> tuple[int, int, int]:
    """In a worker: its pid, how many objects are frozen (its collector skips them), and that
    it sees the inherited objects."""
    return os.getpid(), gc.get_freeze_count(), len(_INHERITED)


def test_the_heap_is_frozen_while_the_pool_lives_and_thawed_after() -> None:
    before = gc.get_freeze_count()
    with forked_pool(2) as pool:
        assert gc.get_freeze_count() >= len(_INHERITED)
        results = list(pool.map(_child_view, range(4)))
    assert gc.get_freeze_count() == before
    assert {pid for pid, _, _ in results} != {os.getpid()}
    # the workers inherited the frozen heap: their collections skip it
    assert all(frozen >= len(_INHERITED) and n == len(_INHERITED) for _, frozen, n in results)


def test_the_heap_is_thawed_when_the_stage_fails() -> None:
    before = gc.get_freeze_count()
    with pytest.raises(ZeroDivisionError), forked_pool(2) as pool:
        list(pool.map(_fail, range(2)))
    assert gc.get_freeze_count() == before


def _fail(i: int) -> float:
    return 1 / (i - i)


def _revised_docs(path: Path, n: int) -> tuple[GitRepo, str, str]:
    """A repository whose head commit revises the date and the text of ``n`` documents."""
    repo = GitRepo(path)
    for i in range(n):
        repo.write(f"docs/a{i}.md", f"---\nms.date: 01/01/2024\n---\n# Doc {i}\n\nText {i}.\n")
    base = repo.commit("base")
    for i in range(n):
        repo.write(f"docs/a{i}.md", f"---\nms.date: 02/01/2024\n---\n# Doc {i}\n\nText {i}, revised.\n")
    return repo, base, repo.commit("head")


def _analysed_repo(tmp_path: Path) -> OpenedSource:
    repo, base, head = _revised_docs(tmp_path, 12)
    return open_source(ReportRequest("git", str(repo.path), base, head))


@pytest.mark.parametrize("workers", [1, 2])
def test_meanwhile_runs_once_while_the_analysis_workers_live(tmp_path: Path, workers: int) -> None:
    """The analysis calls ``meanwhile`` once in this process: while its forked workers are alive,
    or after the analysis when it has none; the entries do not depend on it."""
    changeset, reader = _analysed_repo(tmp_path)
    seen: list[tuple[int, int]] = []

    def meanwhile() -> None:
        seen.append((os.getpid(), len(multiprocessing.active_children())))

    try:
        with_it = analyze_changeset(changeset, reader, workers=workers, meanwhile=meanwhile)
        without = analyze_changeset(changeset, reader.fresh(), workers=1)
    finally:
        reader.close()
    assert seen == [(os.getpid(), workers if workers > 1 else 0)]
    assert with_it == without


def test_the_writers_are_imported_while_the_analysis_runs(tmp_path: Path) -> None:
    """Importing the pipeline leaves the writers and the renderer out (they would delay the
    analysis); a report imports them during its analysis, before its writing workers fork."""
    import subprocess
    import sys

    code = (
        "import sys, diff_insight.cli, diff_insight.config, diff_insight.pipeline as p\n"
        "late = ('diff_insight.writers.facts_writer', 'diff_insight.render.markdown')\n"
        "print(sorted(m for m in late if m in sys.modules))\n"
        "p._prepare_writing(['ja_JP'])\n"
        "print(sorted(m for m in late if m in sys.modules))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "[]",
        "['diff_insight.render.markdown', 'diff_insight.writers.facts_writer']",
    ]


def test_a_run_in_one_process_imports_no_pool_machinery(tmp_path: Path) -> None:
    """A range too small for workers (most daily runs) is reported without importing
    multiprocessing, the process pool or importlib.resources: their imports cost more than such a
    run's analysis. A larger range in the same way imports the pool."""
    import subprocess
    import sys

    repo, base, head = _revised_docs(tmp_path / "repo", 3)
    heavy = ("multiprocessing", "concurrent.futures.process", "importlib.resources")
    # the CLI leaves through os._exit (no teardown): the modules are listed on the way out
    code = (
        "import os, sys\n"
        "real_exit = os._exit\n"
        "def leave(status):\n"
        f"    print(sorted(m for m in {heavy!r} if m in sys.modules), flush=True)\n"
        "    real_exit(status)\n"
        "os._exit = leave\n"
        "from diff_insight.cli import main\n"
        f"sys.argv = ['diff-insight', 'report', {str(repo.path)!r}, {base!r}, {head!r}, '--locale', 'ja_JP',"
        " '--locale', 'zh_CN', '--locale', 'en_US', '--out-dir', 'out', '--quiet']\n"
        "main()\n"
    )
    for workers, expected in (("", []), ("2", ["concurrent.futures.process", "multiprocessing"])):
        env = {**os.environ, "DIFF_INSIGHT_WORKERS": workers}
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[-1] == repr(expected)
        assert len(list((tmp_path / "out").rglob("*.md"))) == 3
