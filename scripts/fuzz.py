#!/usr/bin/env python3
"""Run the atheris fuzz targets in ``fuzz/`` for a bounded time each (not part of CI).

Installs atheris into the project's virtualenv when it is missing (it is not a project
dependency), writes a small seed corpus per target under ``build/fuzz/<target>/seeds/``, keeps the
growing corpus in ``build/fuzz/<target>/corpus/`` and crash inputs in ``build/fuzz/<target>/crashes/``,
and prints per target the executions, coverage and whether it found a crash. A target that crashes
is restarted (up to ``--max-restarts`` times) until its time is used, so one known crash does not
hide the others. Exit status 1 when any target crashed.

    python scripts/fuzz.py                     # every target, 60 s each
    python scripts/fuzz.py --seconds 600 --targets render,config
    python build/../fuzz/fuzz_config.py build/fuzz/config/crashes/crash-...   # replay one input
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["diffparse", "markdown", "compare_json", "config", "render"]
MAX_LEN = {"diffparse": 8192, "markdown": 8192, "compare_json": 8192, "config": 4096, "render": 4096}

_SIMPLE_DIFF = b"""\
diff --git a/docs/a.md b/docs/a.md
index 1111111..2222222 100644
--- a/docs/a.md
+++ b/docs/a.md
@@ -1,3 +1,3 @@ heading
 one
-two
+TWO
 three
@@ -10 +10,2 @@
-ten
+ten!
+eleven
\\ No newline at end of file
diff --git "a/f\\303\\251 \\"q\\".md" "b/f\\303\\251 \\"q\\".md"
new file mode 100644
--- /dev/null
+++ "b/f\\303\\251 \\"q\\".md"
@@ -0,0 +1,2 @@
+hello\r
+--- not a header
diff --git a/x.md b/y.md
similarity index 80%
rename from x.md
rename to y.md
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
"""
_MAIL = (
    b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: A <a@example.com>\n"
    b"Date: Mon, 1 Jan 2024 12:00:00 +0000\nSubject: [PATCH] x\n\n---\n f.md | 2 +-\n\n"
    b"diff --git a/f.md b/f.md\n--- a/f.md\n+++ b/f.md\n@@ -1 +1 @@\n-a\n+b\n-- \n2.39.5\n"
)
_MARKDOWN = (
    b"---\ntitle: Quickstart\nms.date: 01/02/2025\ntags:\n  - a\n---\n# Title\n\nSome prose with a "
    b"[link](https://example.com/a) and ![img](media/a.png).\n\n## Parameters\n\n| Name | Type |\n"
    b"|---|:-:|\n| `top` | int |\n\n> [!NOTE]\n> Careful.\n\n```python\nprint('x')\n```\n\n"
    b"[!INCLUDE [x](../includes/x.md)]\n"
)
_COMPARE = json.dumps(
    {
        "permalink_url": "https://github.com/o/r/compare/o:1111111...o:2222222",
        "merge_base_commit": {"sha": "1" * 40},
        "commits": [{"sha": "2" * 40, "commit": {"committer": {"date": "2025-04-23T17:30:00+02:00"}}}],
        "files": [
            {
                "filename": "docs/a.md",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "changes": 2,
                "patch": "@@ -1,2 +1,2 @@\n # T\n-old\n+new",
            },
            {"filename": "b.png", "status": "added", "additions": 0, "deletions": 0, "changes": 0},
            {
                "filename": "n.md",
                "previous_filename": "o.md",
                "status": "renamed",
                "additions": 0,
                "deletions": 0,
            },
        ],
    }
).encode()
_TOML = b"""\
locales = ["ja_JP", "zh_CN", "en_US"]
out = "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md"
timezone = "Asia/Tokyo"
engine = "facts"
repository = "MicrosoftDocs/azure-ai-docs"

[categories]
openai = ["articles/ai-services/openai"]
media = ["**/media/**"]

[catch_all]
enabled = true
name = "other"

[llm]
concurrency = 8
timeout = 60.0

[llm.models]
file = "gpt-4o-mini"

[[repositories]]
source = "owner/name"
branch = "main"
locales = ["en_US"]
"""
SEEDS: dict[str, list[bytes]] = {
    "diffparse": [b"\x00" + _SIMPLE_DIFF, b"\x00" + _MAIL, b"\x01" + _SIMPLE_DIFF, b"\x01a.md\x00one\ntwo\n"],
    "markdown": [b"\x00" + _MARKDOWN, b"\x01@@ -1,3 +1,3 @@\n # T\n-| a |\n+| b |\n", b"\x02" + _MARKDOWN],
    "compare_json": [b"\x00" + _COMPARE, b"\x01docs/a.md+line\n-line\n \\ No newline"],
    "config": [_TOML, b"locales = []\n", b'[categories]\n"bad name" = []\n'],
    "render": ["`````</details>\r\n---\x00\u202e".encode() * 8, _MARKDOWN[:400], b"\xff" * 64],
}

_STATS = re.compile(rb"^stat::(\w+):\s*(\d+)", re.M)
_COV = re.compile(rb"cov: (\d+) ft: (\d+) corp: (\d+)")


def venv_python() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def ensure_atheris(python: str) -> None:
    if subprocess.run([python, "-c", "import atheris"], capture_output=True).returncode == 0:
        return
    print("atheris is not installed: installing it into the virtualenv (pip install atheris)")
    subprocess.run([python, "-m", "pip", "install", "-q", "atheris"], check=True)


def _first_error(log: bytes) -> str:
    """The exception line of an uncaught Python exception in a libFuzzer log (or its crash line)."""
    lines = log.decode("utf-8", "replace").splitlines()
    for i, line in enumerate(lines):
        if "Uncaught Python exception" in line:
            for later in lines[i + 1 :]:
                if later and not later.startswith((" ", "Traceback")):
                    return later[:200]
    for line in lines:
        if line.startswith("==") and ("ERROR" in line or "deadly signal" in line):
            return line[:200]
    return "(see log)"


def run_target(python: str, name: str, seconds: float, max_restarts: int) -> dict[str, object]:
    base = ROOT / "build" / "fuzz" / name
    corpus, seeds, crashes = base / "corpus", base / "seeds", base / "crashes"
    for d in (corpus, seeds, crashes):
        d.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(SEEDS[name]):
        (seeds / f"seed-{i}").write_bytes(seed)
    before = set(crashes.iterdir())
    started = time.monotonic()
    execs = 0
    cov = ft = corp = 0
    errors: list[tuple[str, str]] = []
    seen = set(before)
    runs = 0
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "DIFF_INSIGHT_WORKERS": "1"}
    while runs <= max_restarts:
        remaining = seconds - (time.monotonic() - started)
        if remaining < 2:
            break
        runs += 1
        cmd = [
            python,
            str(ROOT / "fuzz" / f"fuzz_{name}.py"),
            str(corpus),
            str(seeds),
            f"-max_total_time={max(1, int(remaining))}",
            f"-artifact_prefix={crashes}/",
            f"-max_len={MAX_LEN[name]}",
            "-timeout=30",
            "-rss_limit_mb=3072",
            "-print_final_stats=1",
        ]
        proc = subprocess.run(cmd, cwd=ROOT / "fuzz", capture_output=True, env=env)
        log = proc.stdout + proc.stderr
        (base / f"log-{runs}.txt").write_bytes(log)
        stats = {k.decode(): int(v) for k, v in _STATS.findall(log)}
        execs += stats.get("number_of_executed_units", 0)
        for m in _COV.finditer(log):
            cov, ft, corp = (int(x) for x in m.groups())
        if proc.returncode == 0:
            break
        new = sorted(set(crashes.iterdir()) - seen)
        seen.update(new)
        errors.append(
            (_first_error(log), ", ".join(str(p.relative_to(ROOT)) for p in new) or "(no input saved)")
        )
    return {
        "target": name,
        "seconds": round(time.monotonic() - started),
        "executions": execs,
        "coverage": cov,
        "features": ft,
        "corpus": corp,
        "crashed": bool(errors),
        "errors": [{"error": e, "input": f} for e, f in errors],
        "log": str((base / "log-1.txt").relative_to(ROOT)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="fuzzing time per target (default 60)")
    ap.add_argument(
        "--targets", default=",".join(TARGETS), help="comma-separated subset of " + ",".join(TARGETS)
    )
    ap.add_argument(
        "--max-restarts", type=int, default=5, help="restarts of a target after a crash (default 5)"
    )
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in names if t not in TARGETS]
    if unknown:
        ap.error(f"unknown target(s): {', '.join(unknown)}")
    python = venv_python()
    ensure_atheris(python)
    results = []
    for name in names:
        print(f"fuzzing {name} for {args.seconds:g} s ...", flush=True)
        r = run_target(python, name, args.seconds, args.max_restarts)
        results.append(r)
        verdict = f"CRASH ({len(r['errors'])})" if r["crashed"] else "no crash"  # type: ignore[arg-type]
        print(
            f"  {name}: {r['executions']} executions in {r['seconds']} s, cov {r['coverage']}, "
            f"ft {r['features']}, corpus {r['corpus']}: {verdict}",
            flush=True,
        )
        for e in r["errors"]:  # type: ignore[attr-defined]
            print(f"    {e['error']}\n      input: {e['input']}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if any(r["crashed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
