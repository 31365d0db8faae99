"""Benchmark: diff-insight against raw `git diff` on the shared sample repository.

Prints, per range: files, files/second, peak RSS of the diff-insight process, and the ratio
(our time − start-up time of `diff-insight --version`) / (time of `git diff -M --numstat --patch`),
all measured in this run, the two commands alternating (best times; and the median of the ratios of
adjacent runs). Then a linearity check on a synthetic repository of N and 2N changed files.

Usage: python bench/bench_report.py [--bundle PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT.parent / "shared" / "data" / "powershell-docs-sample.bundle"
EXE = [sys.executable, "-m", "diff_insight"]
ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}

# (label, base commit number, head commit number) — numbers count from the first commit (#0)
RANGES = [
    ("whole history #0..#196", 0, 196),
    ("#81..#82 freshness, date-only", 81, 82),
    ("#5..#9 freshness + removal", 5, 9),
    ("#24..#25 504 front-matter edits", 24, 25),
    ("#73..#76 restructuring", 73, 76),
    ("#75..#76 mass deletion", 75, 76),
]


def run_timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one child process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        err = p.stderr.read().decode() if p.stderr else ""
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{err}")
    return dt, usage.ru_maxrss


def best(cmd: list[str], repeat: int, cwd: Path | None = None) -> tuple[float, int]:
    runs = [run_timed(cmd, cwd) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True
    ).stdout


def report_cmd(repo: Path, base: str, head: str, out: Path) -> list[str]:
    locales = ["--locale", "ja_JP", "--locale", "zh_CN", "--locale", "en_US"]
    template = "{locale}/report-%Y%m%d-{category}.md"
    return [
        *EXE,
        "report",
        str(repo),
        base,
        head,
        *locales,
        "--out-dir",
        str(out),
        "--out",
        template,
        "--quiet",
    ]


def bench_range(
    repo: Path, label: str, base: str, head: str, startup: float, repeat: int, work: Path
) -> None:
    files = len([ln for ln in git(repo, "diff", "-M", "--name-only", base, head).splitlines() if ln])
    out = work / "out"
    # git and diff-insight alternate, so that both are timed in the same moments of a machine
    # whose speed drifts; the ratio is of the best times, and the median of the ratios of each
    # adjacent pair is printed too
    raws: list[float] = []
    ourss: list[float] = []
    rss = 0
    for _ in range(repeat):
        raws.append(run_timed(["git", "-C", str(repo), "diff", "-M", "--numstat", "--patch", base, head])[0])
        t, peak = run_timed(report_cmd(repo, base, head, out), cwd=work)
        ourss.append(t)
        rss = max(rss, peak)
    shutil.rmtree(out, ignore_errors=True)
    raw, ours = min(raws), min(ourss)
    ratio = (ours - startup) / raw if raw > 0 else float("nan")
    paired = statistics.median((o - startup) / r for o, r in zip(ourss, raws, strict=True) if r > 0)
    print(
        f"{label:34} {files:6d} files  {files / ours:8.1f} files/s  peak RSS {rss / 1024:7.1f} MB  "
        f"ours {ours:6.2f}s  git {raw:6.3f}s  ratio {ratio:6.1f}x  (paired median {paired:5.1f}x)"
    )


def synthetic(repo: Path, n: int) -> tuple[str, str]:
    """A repository whose one commit edits ``n`` Markdown files."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    for i in range(n):
        d = repo / f"docs/d{i % 50}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"a{i}.md").write_text(
            f"---\ntitle: Article {i}\nms.date: 01/01/2025\n---\n\n# Article {i}\n\n"
            + "".join(f"Paragraph {k} of article {i} mentions DALL-E.\n\n" for k in range(20))
            + "| Name | Value |\n|---|---|\n| a | 1 |\n",
            encoding="utf-8",
        )
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "base")
    for i in range(n):
        p = repo / f"docs/d{i % 50}/a{i}.md"
        t = (
            p.read_text(encoding="utf-8")
            .replace("01/01/2025", "04/23/2025")
            .replace("DALL-E", "image models")
        )
        p.write_text(t + "\n## New section\n\nMore text.\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=b", "-c", "user.email=b@x", "commit", "-q", "-m", "head")
    return "HEAD~1", "HEAD"


# Run in a fresh interpreter: the same pipeline as `diff-insight report`, with the wall time of
# each stage (imports included, as a command pays them).
_STAGES = r"""
import sys, time
t0 = time.perf_counter()
from diff_insight.request import ReportRequest, start_source
repo, base, head = sys.argv[1:4]
request = ReportRequest("git", repo, base, head)
opening = start_source(request)  # as the CLI does: a forked process reads the range meanwhile
from diff_insight.config import Config
config = Config(locales=["ja_JP", "zh_CN", "en_US"])
marks = [("start (config)", time.perf_counter())]
from diff_insight import pipeline as P
marks.append(("imports", time.perf_counter()))
changeset, reader = opening.result()
marks.append(("rest of the reading", time.perf_counter()))
# as generate_reports does: the writers and their locale data are loaded while the workers analyse
entries = P.analyze_changeset(changeset, reader, meanwhile=lambda: P._prepare_writing(config.locales))
reader.close()
marks.append(("analysis", time.perf_counter()))
from diff_insight.writers.facts_writer import FactsWriter
jobs, _, entries = P.plan_reports(changeset, entries, config, config.locales)
day = P.report_day(request, changeset, config)
texts = P.render_jobs(jobs, changeset, entries, day, FactsWriter(), P.default_workers(len(entries)))
marks.append(("writing (3 locales, not saved)", time.perf_counter()))
parts, prev = [], t0
for name, t in marks:
    parts.append(f"{name} {t - prev:.2f}s")
    prev = t
print(", ".join(parts))
"""


def stages(repo: Path, base: str, head: str) -> str:
    """Wall time per stage of one run (imports with the range read meanwhile, analysis, writing)."""
    res = subprocess.run(
        [sys.executable, "-c", _STAGES, str(repo), base, head], env=ENV, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(f"stage timing failed:\n{res.stderr}")
    return res.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--synthetic", type=int, default=1000, help="N for the linearity check (and 2N)")
    args = ap.parse_args()
    # measure the package as an installed one runs: with its bytecode compiled (an editable install
    # under PYTHONDONTWRITEBYTECODE=1 would recompile every module at every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "diff_insight")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        startup, _ = best([*EXE, "--version"], max(args.repeat, 5))
        print(f"start-up (diff-insight --version): {startup:.3f}s")
        if args.bundle.exists():
            repo = work / "psdocs"
            subprocess.run(["git", "clone", "-q", str(args.bundle), str(repo)], check=True, env=ENV)
            commits = git(repo, "rev-list", "--reverse", "main").split()
            for label, a, b in RANGES:
                bench_range(repo, label, commits[a], commits[b], startup, args.repeat, work)
            print(f"stages of the whole history, one run: {stages(repo, commits[0], commits[196])}")
        else:
            print(f"(no sample bundle at {args.bundle}; skipping the sample ranges)")
        sizes = (args.synthetic, 2 * args.synthetic)
        cmds = []
        for n in sizes:
            repo = work / f"syn{n}"
            base, head = synthetic(repo, n)
            cmds.append(report_cmd(repo, base, head, work / "synout"))
        # N and 2N alternate, as git and diff-insight do above: a drift of the machine's speed
        # would otherwise show as (non-)linearity
        runs: list[list[float]] = [[], []]
        peaks = [0, 0]
        for _ in range(args.repeat):
            for k, cmd in enumerate(cmds):
                t, rss = run_timed(cmd, cwd=work)
                runs[k].append(t - startup)
                peaks[k] = max(peaks[k], rss)
        for n, ts, rss in zip(sizes, runs, peaks, strict=True):
            t = min(ts)
            print(
                f"synthetic {n:6d} files: {t + startup:6.2f}s (minus start-up {t:6.2f}s), peak RSS {rss / 1024:.1f} MB"
            )
        times = [min(ts) for ts in runs]
        paired = statistics.median(b / a for a, b in zip(*runs, strict=True) if a > 0)
        print(
            f"linearity: time(2N) / time(N) = {times[1] / times[0]:.2f} (2.0 = linear; paired median {paired:.2f})"
        )


if __name__ == "__main__":
    main()
