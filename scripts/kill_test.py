#!/usr/bin/env python3
"""Kill test: the daily job killed with SIGKILL at 20 points recovers to byte-identical outputs.

Not a CI test (it takes minutes). It builds a documentation repository with several categories and
several days of commits (or clones the shared sample bundle with ``--sample``), serves it as a
``file://`` URL (so every run fetches its mirror), and defines the daily job as a sequence of steps:

1. ``diff-insight run`` with the facts engine into ``facts/``,
2. ``diff-insight run --engine llm`` into ``llm/``, against a loopback LLM server started here
   (tests/llm_server.py),
3. ``diff-insight site build facts/reports site``.

It prepares an initial state (the job run on an earlier commit), then runs the job uninterrupted
from a copy of it: the reference. Then, 20 times, from a fresh copy of the initial state, it runs
the job and SIGKILLs the process group of one step at a chosen moment, spread over the phases:
fetch (a ``git fetch`` child is running), analysis (between the fetch and the first staged
report), LLM calls (after the k-th request reached the server), writing (a staged report exists),
state update (every report is in place), site build, and random moments. After each kill it checks:

* no temporary or partial file in the output and site directories (outside ``.diff-insight/`` and
  the site builder's staging folder ``.diff-insight-tmp/``): no ``.tmp`` names, every report parses
  (``parse_report``) and is byte-identical to either its initial or its reference version, every
  site page too; the site's manifest and cache are complete JSON (a killed build leaves its pending
  manifest);
* the state never points past the outputs: it is either the initial commit, or the head with every
  reference report in place;

then runs the whole job again, uninterrupted, and compares every output (reports, site, state
without its ``processed_at`` time) byte for byte with the reference. One line per kill, then
``N/20 recoveries with byte-identical outputs``. A run whose step finished (or failed) before its
trigger fired was not killed: it is not counted as a recovery, and the summary says how many were
not killed. Exit code 0 only when every requested kill was a real kill and recovered.

    .venv/bin/python scripts/kill_test.py [--kills 20] [--seed 1] [--sample] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tests.gitrepo import GitRepo  # noqa: E402
from tests.llm_server import FakeLLMServer  # noqa: E402
from tests.test_llm_writer import docs_model  # noqa: E402

from diff_insight.pipeline import STAGE_DIR  # noqa: E402
from diff_insight.render.markdown import parse_report  # noqa: E402
from diff_insight.site.builder import STAGE as SITE_STAGE  # noqa: E402

KEY = "sk-kill-test-0000"
SAMPLE = ROOT.parent / "shared" / "data" / "powershell-docs-sample.bundle"
CATEGORIES = ("compute", "storage", "network", "identity")
LOCALES = ("ja_JP", "zh_CN", "en_US")
START = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------- the repository


def page(cat: str, i: int, day: int) -> str:
    lines = [
        "---",
        f"title: {cat.title()} article {i}",
        f"ms.date: 04/{day + 1:02d}/2025",
        "---",
        "",
        f"# {cat.title()} article {i}",
        "",
        f"This article explains how {cat} feature {i} works.",
    ]
    for d in range(day + 1):
        if (i + d) % 3 == 0:
            continue
        lines += ["", f"## Change of day {d}", "", f"Day {d} adds the `{cat}-{i}-{d}` option.", ""]
        lines += ["```bash", f"az {cat} update --option {i}-{d}", "```"]
    return "\n".join(lines) + "\n"


def build_repo(work: Path) -> tuple[GitRepo, list[str]]:
    """Five days of commits over four categories; returns the repository and its commits."""
    repo = GitRepo(work, name="source")
    commits = []
    gone = {"articles/compute/article-00.md", "articles/storage/article-01.md"}
    for day in range(5):
        for cat in CATEGORIES:
            for i in range(40):
                path = f"articles/{cat}/article-{i:02d}.md"
                if (day == 0 or (i + day) % 3 != 0) and not (day > 3 and path in gone):
                    repo.write(path, page(cat, i, day))
            if day:
                repo.write(f"articles/{cat}/news-{day}.md", f"# News of day {day}\n\nWhat is new in {cat}.\n")
        if day == 3:
            (repo.path / "articles/compute/article-00.md").rename(repo.path / "articles/compute/overview.md")
            (repo.path / "articles/storage/article-01.md").unlink()
        commits.append(repo.commit(f"day {day}", START + timedelta(days=day)))
    return repo, commits


def sample_repo(work: Path) -> tuple[GitRepo, list[str]]:
    """The shared sample bundle, cloned; its last first-parent commits are the days."""
    target = work / "source"
    subprocess.run(["git", "clone", "-q", str(SAMPLE), str(target)], check=True)
    repo = GitRepo(work, name="source")
    commits = repo.git("rev-list", "--first-parent", "--reverse", "-n", "8", "HEAD").split()
    return repo, commits


def write_config(work: Path, sample: bool) -> Path:
    cfg = work / "diff-insight.toml"
    if sample:
        cats = '[categories]\nreference = ["reference"]\n'
    else:
        cats = "[categories]\n" + "".join(f'{c} = ["articles/{c}"]\n' for c in CATEGORIES)
    cfg.write_text(
        f'locales = {json.dumps(list(LOCALES))}\n\n{cats}\n[catch_all]\nenabled = true\nname = "other"\n\n'
        "[llm]\nconcurrency = 4\ntimeout = 30.0\n",
        encoding="utf-8",
    )
    return cfg


# ----------------------------------------------------------------------------------------- the job


@dataclass
class Step:
    name: str
    args: Callable[[Path], list[str]]
    outputs: Callable[[Path], list[Path]]
    """The output directories this step writes (checked after a kill)."""


@dataclass
class Job:
    url: str
    cfg: Path
    env: dict[str, str]
    steps: list[Step] = field(default_factory=list)


def make_job(url: str, cfg: Path, env: dict[str, str]) -> Job:
    job = Job(url, cfg, env)

    def run(out: str, *extra: str) -> Callable[[Path], list[str]]:
        return lambda w: (
            ["--debug", "run", "--repo", url, "--branch", "daily", "--config", str(cfg)]
            + [
                "--out-dir",
                str(w / out),
                *extra,
            ]
        )

    job.steps.append(Step("facts", run("facts"), lambda w: [w / "facts"]))
    job.steps.append(Step("llm", run("llm", "--engine", "llm"), lambda w: [w / "llm"]))
    job.steps.append(
        Step(
            "site",
            lambda w: ["site", "build", str(w / "facts" / "reports"), str(w / "site")],
            lambda w: [w / "site"],
        )
    )
    return job


def git_shim(work_root: Path) -> Path:
    """A ``git`` first on PATH that notes when a fetch starts (then runs the real git): the fetch
    phase is seen without polling the process table."""
    real = shutil.which("git")
    if real is None:
        raise SystemExit("git not found")
    bin_dir = work_root / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "git"
    shim.write_text(
        f'#!/bin/sh\ncase " $* " in *" fetch "*) : > "$KILL_TEST_FETCH_MARK";; esac\nexec "{real}" "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return bin_dir


def fetch_mark(work: Path, step: Step) -> Path:
    return work / f".fetch-started-{step.name}"


def start(step: Step, work: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    fetch_mark(work, step).unlink(missing_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "diff_insight", *step.args(work)],
        cwd=work,
        env={**env, "KILL_TEST_FETCH_MARK": str(fetch_mark(work, step))},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the kill takes the workers and git too
    )


def finish(proc: subprocess.Popen[bytes], step: Step) -> None:
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise SystemExit(f"step {step.name} failed ({proc.returncode}): {' | '.join(tail)}")


def run_job(job: Job, work: Path, steps: list[Step] | None = None) -> dict[str, float]:
    durations = {}
    for step in job.steps if steps is None else steps:
        t0 = time.monotonic()
        finish(start(step, work, job.env), step)
        durations[step.name] = time.monotonic() - t0
    return durations


# ------------------------------------------------------------------------------------ observations


def staged_count(out: Path) -> int:
    """How many reports are staged (temporary files) in the output directory's staging area."""
    try:
        return sum(1 for n in os.listdir(out / STAGE_DIR) if n.startswith(".tmp-"))
    except OSError:
        return 0


# SITE_STAGE: the site builder's staging folder in the site directory: files are written there and
# renamed into place, so a kill can leave temporary files there (and only there); the next build
# clears it.


def outside_work(out: Path) -> list[Path]:
    """Every file of an output directory, outside ``.diff-insight/`` and the site's staging folder
    (the site's manifest and cache are compared like pages)."""
    if not out.exists():
        return []
    return [
        p
        for p in out.rglob("*")
        if p.is_file() and not {".diff-insight", SITE_STAGE} & set(p.relative_to(out).parts)
    ]


def files_of(work: Path, job: Job) -> dict[str, bytes]:
    """Every output file of the job (reports, site), by path relative to ``work``."""
    found: dict[str, bytes] = {}
    for step in job.steps:
        for out in step.outputs(work):
            for p in outside_work(out):
                found[p.relative_to(work).as_posix()] = p.read_bytes()
    return found


def states_of(work: Path, job: Job) -> dict[str, dict[str, object]]:
    """The state files of the job, without ``processed_at`` (a time), by relative path."""
    found = {}
    for step in job.steps:
        for out in step.outputs(work):
            for p in (out / ".diff-insight" / "state").glob("*.json"):
                data = json.loads(p.read_text(encoding="utf-8"))
                data.pop("processed_at", None)
                found[p.relative_to(work).as_posix()] = data
    return found


# --------------------------------------------------------------------------------------------- kills


@dataclass
class Plan:
    phase: str
    step: str
    describe: str
    trigger: Callable[[subprocess.Popen[bytes], float], bool]
    """Called every millisecond with the process and the seconds since it started."""


def plans(
    rng: random.Random,
    job: Job,
    ref: dict[str, float],
    marks: dict[str, dict[str, float]],
    server: FakeLLMServer,
    llm_requests: int,
    reference_files: dict[str, bytes],
    initial_files: dict[str, bytes],
    n: int,
) -> list[Plan]:
    names = [s.name for s in job.steps]
    kinds = ["fetch", "analysis", "llm", "writing", "state", "site", "random"]
    weights = {"fetch": 3, "analysis": 3, "llm": 4, "writing": 3, "state": 2, "site": 3, "random": 2}
    order = [k for k in kinds for _ in range(weights[k])]
    while len(order) < n:
        order.append("random")
    order = order[:n]
    result: list[Plan] = []
    for i, kind in enumerate(order):
        step = "llm" if kind == "llm" else ("site" if kind == "site" else ("facts", "llm")[i % 2])
        if kind == "fetch":
            delay = rng.uniform(0.0, 0.03)
            seen: dict[str, float] = {}

            def fetch_trigger(
                p: subprocess.Popen[bytes],
                t: float,
                d: float = delay,
                s: dict[str, float] = seen,
                o: str = step,
            ) -> bool:
                if "at" not in s and (CURRENT["work"] / f".fetch-started-{o}").exists():
                    s["at"] = t
                return "at" in s and t >= s["at"] + d

            result.append(Plan("fetch", step, f"{delay * 1000:.0f} ms into git fetch", fetch_trigger))
        elif kind == "analysis":
            # between the end of the fetch and the first staged report, as a fraction of that
            # span in the faster reference run, counted from the moment this run's fetch started
            span = max(0.0, marks[step]["staged"] - marks[step]["fetched"])
            frac = rng.uniform(0.05, 0.9)
            seen_a: dict[str, float] = {}

            def analysis_trigger(
                p: subprocess.Popen[bytes],
                t: float,
                d: float = 0.05 + frac * span,
                s: dict[str, float] = seen_a,
                o: str = step,
            ) -> bool:
                if "at" not in s and (CURRENT["work"] / f".fetch-started-{o}").exists():
                    s["at"] = t
                return "at" in s and t >= s["at"] + d

            result.append(
                Plan(
                    "analysis", step, f"{0.05 + frac * span:.2f} s after the fetch started", analysis_trigger
                )
            )
        elif kind == "llm":
            k = rng.randint(1, max(1, llm_requests))
            box: dict[str, int] = {}

            def llm_trigger(
                p: subprocess.Popen[bytes], t: float, k: int = k, b: dict[str, int] = box
            ) -> bool:
                b.setdefault("base", len(server.requests))  # the first call: right after the start
                return len(server.requests) - b["base"] >= k

            result.append(Plan("llm calls", "llm", f"after request {k}/{llm_requests}", llm_trigger))
        elif kind == "writing":
            # when the k-th report of the step is staged (written to its temporary file, not renamed yet)
            n_new = sum(
                1
                for k2, v in reference_files.items()
                if k2.startswith(step + "/reports/") and initial_files.get(k2) != v
            )
            k = rng.randint(1, max(1, n_new - 1))

            def write_trigger(p: subprocess.Popen[bytes], t: float, k: int = k, o: str = step) -> bool:
                return staged_count(CURRENT["work"] / o) >= k

            result.append(Plan("writing", step, f"at staged report {k}/{n_new}", write_trigger))
        elif kind == "state":
            # the reports this step writes (not those already there from the initial state)
            wanted = {
                k: v
                for k, v in reference_files.items()
                if k.startswith(step + "/") and initial_files.get(k) != v
            }
            assert wanted, f"the {step} step writes nothing new"

            def state_trigger(
                p: subprocess.Popen[bytes], t: float, w: dict[str, bytes] = wanted, o: str = step
            ) -> bool:
                base_dir = CURRENT["work"]
                for rel, data in w.items():
                    try:
                        if (base_dir / rel).stat().st_size != len(data):
                            return False
                    except OSError:
                        return False
                return all((base_dir / rel).read_bytes() == data for rel, data in w.items())

            result.append(Plan("state update", step, "when every report is in place", state_trigger))
        elif kind == "site":
            # when the build has written its k-th file (a time-based trigger can come after a fast
            # build has already finished); files written by this build are newer than its start
            n_site = sum(
                1
                for k2, v in reference_files.items()
                if k2.startswith("site/") and initial_files.get(k2) != v
            )
            k = rng.randint(1, max(1, n_site - 1))
            started: dict[str, int] = {}

            def site_trigger(
                p: subprocess.Popen[bytes], t: float, k: int = k, s: dict[str, int] = started
            ) -> bool:
                s.setdefault("ns", time.time_ns() - int(t * 1e9))
                root = CURRENT["work"] / "site"
                if not root.is_dir():
                    return False
                written = 0
                # os.walk, not rglob: the build removes folders while this lists them
                for folder, _, names in os.walk(root):
                    for name in names:
                        with contextlib.suppress(OSError):
                            if os.stat(os.path.join(folder, name)).st_mtime_ns >= s["ns"]:
                                written += 1
                return written >= k

            result.append(
                Plan("site build", "site", f"after {k} of {n_site} changed site files", site_trigger)
            )
        else:
            step = rng.choice(names)
            delay = rng.uniform(0.0, 0.8 * ref[step])  # a rerun can be faster than the reference
            result.append(Plan(f"random ({step})", step, f"at {delay:.2f} s", lambda p, t, d=delay: t >= d))
    rng.shuffle(result)
    return result


CURRENT: dict[str, Path] = {}


def kill_during(job: Job, work: Path, plan: Plan) -> tuple[str, float]:
    """Run the steps before ``plan.step`` to completion, then kill ``plan.step`` when its trigger
    fires. Returns what happened and when."""
    names = [s.name for s in job.steps]
    index = names.index(plan.step)
    run_job(job, work, job.steps[:index])
    proc = start(job.steps[index], work, job.env)
    t0 = time.monotonic()
    while proc.poll() is None:
        elapsed = time.monotonic() - t0
        if plan.trigger(proc, elapsed):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return "killed", elapsed
        time.sleep(0.00005 if plan.phase in ("writing", "state update") else 0.0005)
    _, err = proc.communicate()
    if proc.returncode != 0:
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:]
        return f"exited with {proc.returncode} before the trigger ({' '.join(last)})", time.monotonic() - t0
    return "finished before the trigger", time.monotonic() - t0


def check_after_kill(
    work: Path,
    job: Job,
    initial: dict[str, bytes],
    reference: dict[str, bytes],
    ref_states: dict[str, dict[str, object]],
    head: str,
) -> list[str]:
    problems = []
    now = files_of(work, job)
    for rel, data in now.items():
        name = rel.rsplit("/", 1)[-1]
        if ".tmp" in name or name.startswith(".#"):
            problems.append(f"temporary file left: {rel}")
            continue
        if name.startswith(".diff-insight-site"):
            # the site's manifest and cache: a killed build leaves its pending manifest (every page
            # it may touch marked dirty), a valid state of its own, so: complete JSON here, and
            # byte-identical to the reference after the rerun
            try:
                json.loads(data)
            except ValueError:
                problems.append(f"partial bookkeeping file: {rel}")
            continue
        if data != initial.get(rel) and data != reference.get(rel):
            problems.append(f"partial or unexpected file: {rel}")
        if rel.endswith(".md") and "/reports/" in f"/{rel}":
            try:
                parse_report(data.decode("utf-8"))
            except Exception as exc:  # noqa: BLE001 - any failure to parse is a partial report
                problems.append(f"report does not parse: {rel}: {exc}")
    for rel, state in states_of(work, job).items():
        if state.get("commit") == head:
            out = rel.split("/", 1)[0]
            missing = [r for r, d in reference.items() if r.startswith(out + "/") and now.get(r) != d]
            if missing:
                problems.append(
                    f"state {rel} is at the head but {len(missing)} output(s) are not: {missing[0]}"
                )
        elif state.get("commit") != ref_states.get(rel, {}).get("initial_commit"):
            problems.append(f"state {rel} points at an unexpected commit {state.get('commit')}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", action="store_true", help=f"use the shared sample bundle ({SAMPLE})")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--work", type=Path, help="working directory (default: a new temporary one)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work_root = args.work or Path(tempfile.mkdtemp(prefix="kill-test-"))
    work_root.mkdir(parents=True, exist_ok=True)
    print(f"working in {work_root}", flush=True)

    repo, commits = sample_repo(work_root) if args.sample else build_repo(work_root)
    cfg = write_config(work_root, args.sample)
    url = repo.path.resolve().as_uri()
    initial_commit, head = commits[-4], commits[-1]

    with FakeLLMServer(api_key=KEY, responder=docs_model, latency=0.05) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
        env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=server.base_url, PYTHONDONTWRITEBYTECODE="1")
        env["PATH"] = f"{git_shim(work_root)}{os.pathsep}{env.get('PATH', '')}"
        job = make_job(url, cfg, env)
        print("steps:", ", ".join(s.name for s in job.steps), flush=True)

        # the initial state: the job run on an earlier commit
        initial_dir = work_root / "initial"
        initial_dir.mkdir()
        repo.git("update-ref", "refs/heads/daily", initial_commit)
        run_job(job, initial_dir)
        initial = files_of(initial_dir, job)
        initial_states = states_of(initial_dir, job)
        repo.git("update-ref", "refs/heads/daily", head)

        # the reference: the job uninterrupted, twice, with the moments of its phases observed
        # (the faster run's); the two must write the same bytes
        marks: dict[str, dict[str, float]] = {}
        ref_durations: dict[str, float] = {}
        for ref_dir in (work_root / "reference", work_root / "reference-again"):
            shutil.copytree(initial_dir, ref_dir, symlinks=True)
            CURRENT["work"] = ref_dir
            requests_before = len(server.requests)
            for step in job.steps:
                proc = start(step, ref_dir, env)
                t0 = time.monotonic()
                m = {"fetched": 0.0, "staged": 0.0}
                while proc.poll() is None:
                    t = time.monotonic() - t0
                    if not m["fetched"] and fetch_mark(ref_dir, step).exists():
                        m["fetched"] = t + 0.05  # a local fetch takes a few tens of milliseconds
                    if not m["staged"] and step.name != "site" and staged_count(ref_dir / step.name) > 0:
                        m["staged"] = t
                    time.sleep(0.0005)
                finish(proc, step)
                took = time.monotonic() - t0
                m["staged"] = m["staged"] or took
                if step.name not in ref_durations or took < ref_durations[step.name]:
                    ref_durations[step.name] = took
                    marks[step.name] = m
            if ref_dir.name == "reference":
                llm_requests = len(server.requests) - requests_before
        ref_dir = work_root / "reference"
        again_dir = work_root / "reference-again"
        reference = files_of(ref_dir, job)
        ref_states = states_of(ref_dir, job)
        for rel, st in ref_states.items():
            st["initial_commit"] = initial_states.get(rel, {}).get("commit")
        if files_of(again_dir, job) != reference:
            diff = sorted(
                k
                for k in set(reference) | set(files_of(again_dir, job))
                if files_of(again_dir, job).get(k) != reference.get(k)
            )
            print(
                f"the job is not deterministic: {len(diff)} file(s) differ between two clean runs, e.g. {diff[:3]}"
            )
            return 1
        shutil.rmtree(again_dir)
        print(
            "reference: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in ref_durations.items())
            + f"; {len(reference)} output files, {llm_requests} LLM requests"
            + f"; range {initial_commit[:7]}..{head[:7]}",
            flush=True,
        )

        ok = not_killed = 0
        for n, plan in enumerate(
            plans(rng, job, ref_durations, marks, server, llm_requests, reference, initial, args.kills), 1
        ):
            kill_dir = work_root / f"kill-{n:02d}"
            shutil.copytree(initial_dir, kill_dir, symlinks=True)
            CURRENT["work"] = kill_dir
            what, at = kill_during(job, kill_dir, plan)
            problems = check_after_kill(kill_dir, job, initial, reference, ref_states, head)
            run_job(job, kill_dir)  # the next run, to completion
            after = files_of(kill_dir, job)
            if after != reference:
                diff = sorted(k for k in set(after) | set(reference) if after.get(k) != reference.get(k))
                problems.append(
                    f"{len(diff)} output(s) differ from the reference after the rerun, e.g. {diff[0]}"
                )
            states = states_of(kill_dir, job)
            expected_states = {
                k: {kk: vv for kk, vv in v.items() if kk != "initial_commit"} for k, v in ref_states.items()
            }
            if states != expected_states:
                problems.append("state files differ from the reference after the rerun")
            killed = what == "killed"
            not_killed += not killed
            if problems:
                result = "FAILED: " + "; ".join(problems[:3])
            elif not killed:
                result = "NOT KILLED: not counted as a recovery"
            else:
                result = "recovered, byte-identical"
            ok += killed and not problems
            print(
                f"kill {n:2d}: {plan.phase:<16} {plan.step:<5} {plan.describe:<40} {what} at {at:.3f} s -> {result}",
                flush=True,
            )
            if not problems:
                shutil.rmtree(kill_dir)

    summary = f"{ok}/{args.kills} recoveries with byte-identical outputs"
    if not_killed:
        summary += f"; {not_killed} run(s) not killed (the step ended before its trigger)"
    print(summary, flush=True)
    if not args.keep and ok == args.kills:
        shutil.rmtree(work_root)
    return 0 if ok == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
