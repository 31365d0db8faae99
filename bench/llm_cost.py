"""What the LLM engine costs: calls, input characters and tokens, output tokens and wall time against
the loopback chat-completions server with a simulated latency per call (default 1 s).

Runs the seed's range (GitHub compare JSON, 30 files) and a large range of the shared sample
repository, in one and in three locales, each with an empty cache. The predecessor, measured the same
way on the seed's range in one locale: 32 sequential calls, 268,534 input characters, 32.5 s.

Usage: python bench/llm_cost.py [--latency 1.0] [--compare PATH] [--bundle PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.llm_server import FakeLLMServer, RecordedRequest  # noqa: E402

from diff_insight.config import Config  # noqa: E402
from diff_insight.pipeline import EngineOptions, ReportRequest, generate_reports  # noqa: E402

SHARED = ROOT.parent / "shared"
_FILE = re.compile(r"^### File \d+: (\".*\")$", re.M)


def _locales(req: RecordedRequest) -> list[str]:
    schema = req.json_schema or {}
    defs = schema.get("schema", schema).get("$defs", {})
    for d in defs.values():
        props = d.get("properties", {})
        if props and all(re.fullmatch(r"[a-z]{2}_[A-Z]{2}", k) for k in props):
            return list(props)
    props = schema.get("schema", schema).get("properties", {})
    return [k for k in props if re.fullmatch(r"[a-z]{2}_[A-Z]{2}", k)] or ["en_US"]


def responder(req: RecordedRequest) -> str:
    """Answers shaped like a real model's (a few sentences per file and locale)."""
    user = next(m["content"] for m in req.messages if m["role"] == "user")
    locs = _locales(req)
    if req.schema_name == "part_notes":
        return json.dumps({"notes": "This part adds sections on request parameters and updates two tables."})
    if req.schema_name == "report_overview":
        one = {
            "summary": "Summary of the changes in two or three sentences. " * 2,
            "intro": "One intro sentence.",
            "new_features": ["A new article about X."],
            "breaking_changes": [],
            "other_updates": ["Terminology updated in several files."],
            "insights": ["A paragraph. " * 8],
        }
        return json.dumps({loc: one for loc in locs})
    paths = [json.loads(p) for p in _FILE.findall(user)]
    types = re.findall(r"^- classifier: ([a-z ]+) \(rule", user, re.M)
    text = "The article now documents the new option and explains when to use it. " * 3
    return json.dumps(
        {
            "files": [
                {
                    "path": p,
                    "modification_type": t,
                    "type_reason": "",
                    "title": {loc: f"Update to {p.rsplit('/', 1)[-1]}" for loc in locs},
                    "explanation": {loc: text for loc in locs},
                }
                for p, t in zip(paths, types, strict=True)
            ]
        }
    )


def measure(label: str, request: ReportRequest, locales: list[str], latency: float, out: Path) -> None:
    with FakeLLMServer(api_key="sk-bench", responder=responder, latency=latency) as srv:
        os.environ.update(OPENAI_API_KEY="sk-bench", OPENAI_BASE_URL=srv.base_url)
        cfg = Config(locales=locales, engine="llm")
        t0 = time.perf_counter()
        result = generate_reports(request, cfg, engine=EngineOptions(no_cache=True))
        wall = time.perf_counter() - t0
        reqs = srv.completions
        chars = sum(sum(len(m.get("content") or "") for m in r.messages) for r in reqs)
        tin, tout = srv.usage_totals()
        files = len(result.changeset.files)
        print(
            f"{label:44} {len(locales)} locale(s) {files:4d} files: {len(reqs):3d} calls, {chars:8,d} input chars, "
            f"{tin:7,d} input / {tout:6,d} output tokens, {wall:6.2f} s"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--compare", type=Path, default=SHARED / "fixtures" / "seed-compare.json")
    ap.add_argument("--bundle", type=Path, default=SHARED / "data" / "powershell-docs-sample.bundle")
    args = ap.parse_args()
    patches = sum(len(f.get("patch") or "") for f in json.loads(args.compare.read_text())["files"])
    print(f"seed range: {patches:,d} characters of patches")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for locales in (["zh_CN"], ["ja_JP", "zh_CN", "en_US"]):
            measure(
                "seed range (compare JSON)",
                ReportRequest("compare-json", str(args.compare), out_root=work),
                locales,
                args.latency,
                work,
            )
        if args.bundle.exists():
            repo = work / "psdocs"
            subprocess.run(["git", "clone", "-q", str(args.bundle), str(repo)], check=True)
            commits = subprocess.run(
                ["git", "-C", str(repo), "rev-list", "--reverse", "main"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            for locales in (["en_US"], ["ja_JP", "zh_CN", "en_US"]):
                measure(
                    "sample #73..#76 (98 files)",
                    ReportRequest("git", str(repo), commits[73], commits[76], out_root=work),
                    locales,
                    args.latency,
                    work,
                )


if __name__ == "__main__":
    main()
