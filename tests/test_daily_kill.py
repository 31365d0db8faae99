"""`diff-insight run` killed with SIGKILL at several points never leaves a partial report or a state
that points past what was written, and the next uninterrupted run ends byte-identical to a clean run.

What a kill can leave behind: reports are written to ``.tmp-<pid>-<random>.md`` files in
``<out>/.diff-insight/tmp/`` and then renamed into place (``pipeline.write_all``), so a kill between
the two leaves such files there, never in a report directory; the next run removes the ones of dead
processes. A kill during the renames leaves some of the run's reports in place
(complete, each renamed atomically) and the state unchanged, so the next run writes them all again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.gitrepo import GitRepo

from diff_insight.daily import read_state
from diff_insight.render.markdown import parse_report

CATEGORIES = ["alpha", "beta", "gamma", "delta"]
FILES = 400


def _files(version: int) -> dict[str, str | bytes]:
    return {
        f"articles/{CATEGORIES[i % 4]}/page-{i:03d}.md": f"# Page {i}\n\n"
        + "".join(f"Line {j} of page {i}, version {version}.\n" for j in range(12))
        for i in range(FILES)
    }


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("kill")
    repo = GitRepo(root, name="repo")
    repo.import_commit(_files(1), "v1")
    head = repo.import_commit(_files(2), "v2")  # the head's own change: 400 modified files
    (root / "diff-insight.toml").write_text(
        'locales = ["en_US", "ja_JP"]\n\n[categories]\n'
        + "".join(f'{c} = ["articles/{c}"]\n' for c in CATEGORIES)
        + '\n[source]\npath = "repo"\nbranch = "main"\n',
        encoding="utf-8",
    )
    return root, head


def _start(root: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DIFF_INSIGHT_WORKERS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "diff_insight", "run", "--config", str(root / "diff-insight.toml")]
        + ["--out-dir", str(out), "--quiet"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _walk(out: Path) -> list[Path]:
    """Paths under ``out`` outside ``.diff-insight``, listed while a run may still change them.

    ``os.walk`` skips a folder that vanishes between listing and reading (the run removes its
    temp folders), where ``Path.rglob`` raises ``FileNotFoundError``.
    """
    found: list[Path] = []
    for folder, dirs, files in os.walk(out):
        if Path(folder) == out:
            dirs[:] = [d for d in dirs if d != ".diff-insight"]
        found.extend(Path(folder) / name for name in [*dirs, *files])
    return found


def _reports(out: Path) -> dict[str, bytes]:
    """Every report-looking file under ``out`` (not ``.diff-insight``), by relative path."""
    found: dict[str, bytes] = {}
    for path in _walk(out):
        if path.suffix == ".md" and not path.name.startswith("."):
            try:
                found[path.relative_to(out).as_posix()] = path.read_bytes()
            except FileNotFoundError:  # replaced or removed by the run since it was listed
                continue
    return found


def _temps(out: Path) -> list[Path]:
    return [p for p in _walk(out) if p.name.startswith(".tmp-")]


def _state(out: Path) -> str | None:
    states = list((out / ".diff-insight" / "state").glob("*.json"))
    assert len(states) <= 1
    if not states:
        return None
    state = read_state(states[0])
    assert state is not None
    return state.commit


def _kill_when(proc: subprocess.Popen[bytes], trigger: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while proc.poll() is None and time.monotonic() < deadline and not trigger():
        time.sleep(0.0005)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_sigkill_never_leaves_a_partial_report_or_an_early_state(setup: tuple[Path, str]) -> None:
    root, head = setup
    reference_out = root / "reference"
    started = time.monotonic()
    ref = _start(root, reference_out)
    _, err = ref.communicate(timeout=60)
    duration = time.monotonic() - started
    assert ref.returncode == 0, err.decode()
    reference = _reports(reference_out)
    assert len(reference) == 8 and not _temps(reference_out)
    for text in reference.values():
        assert len(parse_report(text.decode("utf-8")).files) == FILES // 4

    out = root / "out"
    soon = min(duration * 3, 30.0)
    kills: list[tuple[str, float | Callable[[], bool]]] = [
        ("after 0.05 s", 0.05),
        ("after 0.3 s", 0.3),
        ("at 40% of a run", duration * 0.4),
        ("at 80% of a run", duration * 0.8),
        ("at the first temp report", lambda: bool(_temps(out))),
        ("at the first renamed report", lambda: bool(_reports(out))),
    ]
    seen_temps: list[str] = []
    for label, when in kills:
        proc = _start(root, out)
        if callable(when):
            _kill_when(proc, when, soon)
        else:
            t0 = time.monotonic()
            _kill_when(proc, lambda t0=t0, d=when: time.monotonic() - t0 >= d, soon)
        present = _reports(out)
        for rel, data in present.items():  # each report is complete: the reference's bytes
            assert data == reference.get(rel), f"{label}: partial or unexpected report {rel}"
        temps = _temps(out)
        for temp in temps:  # hidden, and never named like a report
            assert temp.name.startswith(".tmp-") and temp.name.endswith(".md")
            assert temp.relative_to(out).as_posix() not in reference
        seen_temps += [f"{label}: {t.name}" for t in temps]
        state = _state(out)
        assert state in (None, head), label
        if state == head:  # the state only moves after every report was written
            assert present == reference, f"{label}: state written before the reports"

    final = _start(root, out)
    _, err = final.communicate(timeout=60)
    assert final.returncode == 0, err.decode()
    assert _reports(out) == reference
    assert _state(out) == head
    assert not _temps(out), "the next run removes stale temp reports"
    print("temp files left by kills:", seen_temps or "none")


def test_remove_stale_temps_keeps_live_and_foreign_files(tmp_path: Path) -> None:
    from diff_insight.pipeline import remove_stale_temps

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".tmp-{dead.pid}-abc123.md").write_text("partial")
    (tmp_path / f".tmp-{os.getppid()}-abc123.md").write_text("a live run's")
    (tmp_path / ".tmp-old_one.md").write_text("no pid, recent")
    (tmp_path / "report.md").write_text("a report")
    (tmp_path / ".tmp-1-x.txt").write_text("not ours")
    removed = remove_stale_temps(tmp_path)
    assert [p.name for p in removed] == [f".tmp-{dead.pid}-abc123.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f".tmp-{os.getppid()}-abc123.md", ".tmp-old_one.md", "report.md", ".tmp-1-x.txt"]
    )
    old = tmp_path / ".tmp-old_one.md"
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert remove_stale_temps(tmp_path) == [old]
