"""Check reports against git on real ranges of the shared sample repository (not a test: it needs
the bundle). For every range: every changed file appears in exactly one report per locale, A/D equal
`git diff --numstat`, every hunk of `git diff -M` is in a report (no patch cut), front matter parses
as YAML, anchors follow the md5 rule, and each file's diff fence is closed.

Usage: python bench/verify_ranges.py [--bundle PATH] [--all-commits]
       python bench/verify_ranges.py --repo PATH [--branch REF] [--sample N] [--seed S]

``--repo`` checks any other repository (a clone, a bare repository or a bundle): its whole
first-parent history, the largest single commits, and N random first-parent ranges of 1 to 20
commits.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from diff_insight.config import Config  # noqa: E402
from diff_insight.errors import DiffInsightError  # noqa: E402
from diff_insight.pipeline import ReportRequest, generate_reports  # noqa: E402
from diff_insight.render.markdown import parse_report  # noqa: E402

ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
LOCALES = ["ja_JP", "zh_CN", "en_US"]
CATEGORIES = {
    "learn": ["reference/docs-conceptual/learn"],
    "install": ["reference/docs-conceptual/install"],
    "media": ["**/media/**"],
}


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], env=ENV, capture_output=True, check=True).stdout


def numstat(repo: Path, base: str, head: str) -> dict[str, tuple[int, int]]:
    parts = git(repo, "diff", "-M", "--numstat", "-z", base, head).decode().split("\0")
    out: dict[str, tuple[int, int]] = {}
    i = 0
    while i < len(parts) - 1:
        a, d, path = parts[i].split("\t")
        if path == "":
            path, i = parts[i + 2], i + 3
        else:
            i += 1
        out[path] = (0 if a == "-" else int(a), 0 if d == "-" else int(d))
    return out


class Unreadable(Exception):
    """git itself cannot diff the range (objects missing from the repository)."""


def check(repo: Path, base: str, head: str, out: Path) -> tuple[int, list[str]]:
    problems: list[str] = []
    cfg = Config(locales=LOCALES, categories=CATEGORIES)
    request = ReportRequest("git", str(repo), base, head, out_root=out)
    try:
        expected = numstat(repo, base, head)
    except subprocess.CalledProcessError as exc:
        # then diff-insight must stop with its one-line error and write nothing
        try:
            generate_reports(request, cfg)
        except DiffInsightError as err:
            if "\n" in str(err) or any(out.rglob("*.md")):
                problems.append(f"unreadable range: multi-line error or reports written: {err}")
            else:
                raise Unreadable(f"{exc.stderr.decode(errors='replace').strip()} -> {err}") from None
        else:
            problems.append("git cannot diff this range, yet diff-insight wrote reports")
        return 0, problems
    result = generate_reports(request, cfg)
    full = git(repo, "diff", "-M", base, head).decode("utf-8", "replace")
    for locale in LOCALES:
        seen: dict[str, tuple[int, int]] = {}
        hunks = 0
        for w in (w for w in result.reports if w.locale == locale):
            with open(w.path, encoding="utf-8", newline="") as fh:  # CRs of the patch kept
                text = fh.read()
            try:
                rep = parse_report(text)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{w.path}: does not parse: {exc}")
                continue
            # one details block per file, besides those the documents' own diffs show
            for tag in ("<details>", "</details>"):
                if text.count(tag) - sum(f.diff.count(tag) for f in rep.files) != len(rep.files):
                    problems.append(f"{w.path}: {tag} blocks unbalanced")
            anchors: set[str] = set()
            for f in rep.files:
                if f.path in seen:
                    problems.append(f"{f.path} twice in {locale}")
                seen[f.path] = (f.additions, f.deletions)
                # the md5 rule, with -n only where an earlier file of the report has the anchor
                base = "item-" + hashlib.md5(f.path.encode()).hexdigest()[:6]
                if f.anchor != base and not (f.anchor.startswith(base + "-") and base in anchors):
                    problems.append(f"{f.path}: anchor {f.anchor}")
                if f.anchor in anchors:
                    problems.append(f"{f.path}: anchor {f.anchor} used twice")
                anchors.add(f.anchor)
                if "@@" in f.diff:
                    h = f.diff[f.diff.index("@@") :]
                    if h not in full:
                        problems.append(f"{f.path}: patch differs from git diff")
                    hunks += h.count("\n@@") + 1
        if seen != expected:
            missing = set(expected) - set(seen)
            wrong = {p for p in seen if p in expected and seen[p] != expected[p]}
            problems.append(f"{locale}: missing {sorted(missing)[:3]} wrong counts {sorted(wrong)[:3]}")
        if hunks != full.count("\n@@ ") + full.startswith("@@ "):
            problems.append(f"{locale}: {hunks} hunks in reports, git has {full.count(chr(10) + '@@ ')}")
    return len(expected), problems


def sample_ranges(commits: list[str], sizes: dict[int, int], n: int, seed: int) -> list[tuple[int, int]]:
    """The whole history, the five largest single commits, and ``n`` random ranges of 1–20 commits."""
    rng = random.Random(seed)
    ranges = [(0, len(commits) - 1)]
    largest = sorted(range(1, len(commits)), key=lambda i: -sizes.get(i, 0))[:5]
    ranges += [(i - 1, i) for i in sorted(largest)]
    for _ in range(n):
        b = rng.randrange(1, len(commits))
        ranges.append((max(0, b - rng.randint(1, 20)), b))
    return list(dict.fromkeys(ranges))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--bundle", type=Path, default=ROOT.parent / "shared" / "data" / "powershell-docs-sample.bundle"
    )
    ap.add_argument("--repo", type=Path, help="another repository to check instead of the sample bundle")
    ap.add_argument("--branch", default=None, help="with --repo: the branch to walk (default: HEAD)")
    ap.add_argument("--sample", type=int, default=30, help="with --repo: random ranges to check")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--all-commits", action="store_true", help="also every single commit (#n-1..#n)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        source = args.repo if args.repo is not None else args.bundle
        subprocess.run(["git", "clone", "-q", "--no-checkout", str(source), str(repo)], check=True, env=ENV)
        ref = args.branch or ("HEAD" if args.repo is not None else "main")
        if args.repo is not None and args.branch:
            ref = f"origin/{args.branch}"
        walk = ["--first-parent"] if args.repo is not None else []
        commits = git(repo, "rev-list", *walk, "--reverse", ref).decode().split()
        if args.repo is not None:
            sizes: dict[int, int] = {}
            log = subprocess.run(  # tolerant: a snapshot may lack some objects
                ["git", "-C", str(repo), "log", "--first-parent", "--format=%H", "--shortstat", ref],
                env=ENV,
                capture_output=True,
                check=False,
            ).stdout.decode()
            index = {c: i for i, c in enumerate(commits)}
            current = None
            for line in log.splitlines():
                if len(line) == 40 and line in index:
                    current = index[line]
                elif current is not None and "changed" in line:
                    sizes[current] = int(line.split()[0])
            ranges = sample_ranges(commits, sizes, args.sample, args.seed)
        else:
            ranges = list(SAMPLE_RANGES)
        if args.all_commits:
            ranges += [(i - 1, i) for i in range(1, len(commits))]
        total_files = 0
        failures = 0
        unreadable = 0
        for a, b in ranges:
            out = Path(tmp) / f"out-{a}-{b}"
            try:
                n, problems = check(repo, commits[a], commits[b], out)
            except Unreadable as why:
                unreadable += 1
                print(f"#{a}..#{b}: git cannot diff it; diff-insight stopped with one line: {why}")
                continue
            shutil.rmtree(out, ignore_errors=True)
            total_files += n
            if problems:
                failures += 1
                print(f"#{a}..#{b}: {n} files: FAIL")
                for p in problems[:10]:
                    print("   ", p)
        print(
            f"{len(ranges)} ranges, {total_files} changed files, 3 locales: "
            f"{len(ranges) - failures - unreadable} passed, {failures} failed"
            + (
                f", {unreadable} unreadable by git itself (clear error, nothing written)"
                if unreadable
                else ""
            )
        )
        sys.exit(1 if failures else 0)


SAMPLE_RANGES = (
    (0, 196),
    (81, 82),
    (5, 9),
    (24, 25),
    (22, 23),
    (79, 80),
    (98, 99),
    (7, 8),
    (75, 76),
    (73, 74),
    (73, 76),
    (138, 139),
    (121, 122),
    (101, 102),
    (118, 119),
)
"""Ranges of the shared sample (commit numbers from its first commit), see its README."""


if __name__ == "__main__":
    main()
