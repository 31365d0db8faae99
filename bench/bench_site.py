"""Benchmark: the static website built from ≥ 300 days of reports × 3 locales of the shared sample.

Reports: one report set per range of the sample repository (every commit #i-1..#i, then two-commit
ranges #i-2..#i until there are enough), each dated one day after the previous one, in ja_JP, zh_CN
and en_US, with one category per top-level folder of the docs. Report generation is not part of the
figures and is cached in a temp folder between runs (keyed by the bundle and this script).

Then it measures: the full site build (wall time), a second full build into another folder
(byte-identical?), a rebuild after adding one new report set (time, files rewritten), the internal
link check over the whole site (broken links must be 0) and feedparser on every feed (bozo == 0,
unique entry ids).

Usage: python bench/bench_site.py [--bundle PATH] [--days 320] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT.parent / "shared" / "data" / "powershell-docs-sample.bundle"
ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
LOCALES = ["ja_JP", "zh_CN", "en_US"]
PREFIX = "reference/docs-conceptual/"
CATEGORIES = {
    "install": [PREFIX + "install"],
    "learn": [PREFIX + "learn"],
    "dev-cross-plat": [PREFIX + "dev-cross-plat"],
    "developer": [PREFIX + "developer"],
    "whats-new": [PREFIX + "whats-new"],
    "windows-powershell": [PREFIX + "windows-powershell"],
    "lang-spec": [PREFIX + "lang-spec"],
    "security": [PREFIX + "security"],
    "community": [PREFIX + "community", PREFIX + "gallery", PREFIX + "dsc", PREFIX + "samples"],
}
FIRST_DAY = date(2025, 1, 1)
GENERATION = "1"
"""Bump when the way reports are generated changes (invalidates the cached reports)."""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True
    ).stdout


def _config() -> object:
    from diff_insight.config import Config

    return Config.from_dict(
        {
            "locales": LOCALES,
            "repository": "MicrosoftDocs/PowerShell-Docs",
            "categories": CATEGORIES,
            "catch_all": {"enabled": True, "name": "other"},
        }
    )


def _one(job: tuple[str, str, str, str, str]) -> int:
    repo, base, head, day, out_root = job
    from diff_insight.pipeline import ReportRequest, generate_reports

    result = generate_reports(
        ReportRequest("git", repo, base, head, day=date.fromisoformat(day), out_root=Path(out_root)),
        _config(),  # type: ignore[arg-type]
    )
    return len(result.reports)


def ranges(commits: list[str], days: int) -> list[tuple[str, str]]:
    out = [(commits[i - 1], commits[i]) for i in range(1, len(commits))]
    i = 2
    while len(out) < days and i < len(commits):
        out.append((commits[i - 2], commits[i]))
        i += 1
    return out


def generate(bundle: Path, cache: Path, days: int) -> tuple[Path, Path, int]:
    """The reports of ``days`` ranges in ``cache/reports`` and of one more range (the "new
    report") in ``cache/extra``; generated once."""
    done = cache / "done"
    if done.exists():
        return cache / "reports", cache / "extra", int(done.read_text())
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    repo = cache / "repo"
    subprocess.run(["git", "clone", "-q", str(bundle), str(repo)], env=ENV, check=True)
    commits = git(repo, "rev-list", "--reverse", "--first-parent", "HEAD").split()
    rs = ranges(commits, days + 1)
    if len(rs) < days + 1:
        raise SystemExit(f"only {len(rs)} ranges in the sample")
    jobs = []
    for k, (base, head) in enumerate(rs):
        out_root = cache / ("extra-root" if k == days else "root")
        jobs.append((str(repo), base, head, (FIRST_DAY + timedelta(days=k)).isoformat(), str(out_root)))
    t0 = time.perf_counter()
    os.environ["DIFF_INSIGHT_WORKERS"] = "1"
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 2) as pool:
        n = sum(pool.map(_one, jobs, chunksize=4))
    print(
        f"generated {n} reports for {len(jobs)} days in {time.perf_counter() - t0:.1f} s (not part of the figures)"
    )
    (cache / "root" / "reports").rename(cache / "reports")
    (cache / "extra-root" / "reports").rename(cache / "extra")
    done.write_text(str(len(rs) - 1))
    return cache / "reports", cache / "extra", len(rs) - 1


def cpu() -> float:
    """CPU seconds of this process and its (forked) children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds)."""
    t0, c0 = time.perf_counter(), cpu()
    result = fn()
    return result, time.perf_counter() - t0, cpu() - c0


def tree_bytes(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE)
    ap.add_argument("--days", type=int, default=320)
    ap.add_argument("--keep", type=Path, help="Build the site here (kept) instead of a temp folder.")
    args = ap.parse_args()
    if not args.bundle.exists():
        raise SystemExit(f"no bundle at {args.bundle}")

    import feedparser

    from diff_insight.config import SiteConfig
    from diff_insight.site import build_site

    sys.path.insert(0, str(ROOT))
    from tests.site_links import check_links

    key = hashlib.sha256(args.bundle.read_bytes()[: 1 << 20] + GENERATION.encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"diff-insight-bench-site-{key}-{args.days}"
    reports_src, extra, days = generate(args.bundle, cache, args.days)

    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp_name:
        tmp = Path(tmp_name)
        reports = tmp / "reports"
        shutil.copytree(reports_src, reports)
        n_reports = sum(1 for _ in reports.rglob("*.md"))
        per_locale = {loc: sum(1 for _ in (reports / loc).rglob("*.md")) for loc in LOCALES}
        out = args.keep or tmp / "site"
        if args.keep:
            shutil.rmtree(out, ignore_errors=True)
        settings = SiteConfig(title="PowerShell Docs – Diff Insight")

        full, t_full, c_full = timed(lambda: build_site(reports, out, settings))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

        _, t_full2, c_full2 = timed(lambda: build_site(reports, tmp / "site2", settings))
        first, second = tree_bytes(out), tree_bytes(tmp / "site2")
        identical = first == second
        if not identical:
            differ = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
            print(f"differing files: {len(differ)}, e.g. {differ[:5]}")

        noop, t_noop, c_noop = timed(lambda: build_site(reports, out, settings))

        shutil.copytree(extra, reports, dirs_exist_ok=True)
        added = sum(1 for _ in extra.rglob("*.md"))
        inc, t_inc, c_inc = timed(lambda: build_site(reports, out, settings))

        t0 = time.perf_counter()
        links = check_links(out)
        checked, broken = links.checked, links.problems
        t_links = time.perf_counter() - t0

        feeds = sorted(out.rglob("*.atom"))
        bad_feeds = []
        entries = 0
        for f in feeds:
            parsed = feedparser.parse(f.read_bytes())
            ids = [e.get("id") for e in parsed.entries]
            entries += len(ids)
            if parsed.bozo or len(set(ids)) != len(ids) or not ids:
                bad_feeds.append(
                    f"{f.relative_to(out)}: bozo={parsed.bozo} {parsed.get('bozo_exception', '')}"
                )

        print(
            f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"input: {days} days, {n_reports} reports ({per_locale}); +{added} in the new report set")
        print(
            f"full build: {t_full:.2f} s wall, {c_full:.2f} s CPU ({full.pages} files, {size / 1e6:.1f} MB, "
            f"{full.reports} reports); wall / 60 s target = {t_full / 60:.2f}"
        )
        print(
            f"second full build into another folder: {t_full2:.2f} s wall, {c_full2:.2f} s CPU; "
            f"byte-identical: {identical}"
        )
        print(f"no-op rebuild: {t_noop:.2f} s wall, {c_noop:.2f} s CPU, {len(noop.written)} files written")
        print(
            f"rebuild after one new report set: {t_inc:.2f} s wall, {c_inc:.2f} s CPU, {len(inc.written)} "
            f"files written, {inc.rendered} rendered; wall / 5 s target = {t_inc / 5:.2f}"
        )
        for path in inc.written:
            print(f"  rewritten: {path}")
        print(f"link check: {checked} internal links, {len(broken)} broken ({t_links:.1f} s)")
        for b in broken[:20]:
            print(f"  broken: {b}")
        print(f"feeds: {len(feeds)} parsed with feedparser, {entries} entries, {len(bad_feeds)} invalid")
        for b in bad_feeds[:20]:
            print(f"  invalid: {b}")
        ok = not broken and not bad_feeds and identical
        fast = t_full < 60 and t_inc < 5
        print(("OK" if ok else "FAILED") + ("" if fast else " (time targets missed; see the load average)"))
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
