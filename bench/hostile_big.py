#!/usr/bin/env python3
"""Full-size hostile repositories (tests/test_hostile_repos.py has the small variants):

* ``files``: 20,000 changed files in one range, three categories, three locales;
* ``big``: a 50 MB Markdown file edited in two places plus a 50 MB file added;
* ``rewrite``: a 50 MB Markdown file whose every line changed (the worst case for the analysis).

For each: the time of ``diff-insight report`` (a real process), peak RSS, and the checks of the test
suite: every changed file exactly once per locale, the reports parse (``parse_report`` for en_US,
libyaml for the others), nothing changed outside the output directory.

    .venv/bin/python bench/hostile_big.py [--cases files,big,rewrite] [--timeout 900]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cli_helpers import snapshot  # noqa: E402
from tests.gitrepo import GitRepo  # noqa: E402
from tests.test_hostile_repos import check_reports, git_paths  # noqa: E402

LOCALES = ("ja_JP", "zh_CN", "en_US")
LINE = "A line of a very long reference page, with some words in it.\n"


def build_files(repo: GitRepo, tmp: Path) -> tuple[str, str, list[str]]:
    n, cats = 20_000, ("alpha", "beta", "gamma")

    def files(v: int) -> dict[str, str | bytes]:
        return {f"docs/{cats[i % 3]}/p{i:05d}.md": f"# Page {i}\n\nVersion {v}.\n" for i in range(n)}

    base = repo.import_commit(files(1))
    head = repo.import_commit(files(2))
    cfg = tmp / "c.toml"
    cfg.write_text("[categories]\n" + "".join(f'{c} = ["docs/{c}"]\n' for c in cats), encoding="utf-8")
    return base, head, ["--config", str(cfg)]


def build_big(repo: GitRepo, tmp: Path) -> tuple[str, str, list[str]]:
    body = LINE * (50 * 1024 * 1024 // len(LINE))
    base = repo.import_commit({"docs/big.md": "# Big\n\n" + body, "docs/a.md": "# A\n"})
    half = len(body) // 2
    edited = "# Big\n\nA new first paragraph.\n\n" + body[:half] + "## Middle\n\n" + body[half:]
    head = repo.import_commit({"docs/big.md": edited, "docs/added.md": "# Added\n\n" + body})
    return base, head, []


def build_rewrite(repo: GitRepo, tmp: Path) -> tuple[str, str, list[str]]:
    n = 50 * 1024 * 1024 // len(LINE)
    base = repo.import_commit({"docs/big.md": "# Big\n\n" + LINE * n})
    head = repo.import_commit({"docs/big.md": "# Big\n\n" + LINE.replace("words", "terms") * n})
    return base, head, []


CASES = {"files": build_files, "big": build_big, "rewrite": build_rewrite}


def run_case(name: str, timeout: float) -> bool:
    tmp = Path(tempfile.mkdtemp(prefix=f"hostile-{name}-"))
    try:
        repo = GitRepo(tmp)
        t0 = time.monotonic()
        base, head, extra = CASES[name](repo, tmp)
        built = time.monotonic() - t0
        out = tmp / "out"
        before = snapshot(tmp, {out})
        args = [sys.executable, "-m", "diff_insight", "report", str(repo.path), base, head]
        args += ["--out-dir", str(out), "--json", "-q", *extra]
        args += [a for loc in LOCALES for a in ("--locale", loc)]
        t0 = time.monotonic()
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            print(f"{name:8} built in {built:.1f} s; report did not finish within {timeout:.0f} s")
            return False
        took = time.monotonic() - t0
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(f"{name:8} report failed ({proc.returncode}) after {took:.1f} s: {proc.stderr.strip()}")
            return False
        written = json.loads(proc.stdout)
        outside_ok = snapshot(tmp, {out}) == before
        t1 = time.monotonic()
        check_reports(written, git_paths(repo, base, head), parse_locales=("en_US",))
        checked = time.monotonic() - t1
        size = sum(Path(w["path"]).stat().st_size for w in written)
        print(
            f"{name:8} built in {built:.1f} s; report {took:.1f} s, peak RSS {rss:.0f} MB, "
            f"{len(written)} reports ({size / 1e6:.1f} MB); checks passed in {checked:.1f} s "
            f"(every file once per locale, reports parse); outside the output: "
            f"{'unchanged' if outside_ok else 'CHANGED'}",
            flush=True,
        )
        return outside_ok
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="files,big,rewrite")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    results = [run_case(c, args.timeout) for c in args.cases.split(",")]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
