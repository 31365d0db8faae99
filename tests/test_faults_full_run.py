"""Daily runs with the LLM engine over several categories and three locales, against the loopback
server failing 30% of the requests with every kind of fault it has (429, 500, 503, slow answers past
the timeout, malformed JSON, schema violations, refusals, dropped connections).

The reports are complete; every file's text is either the model's answer for that file (never a
faulty answer taken as one) or the facts engine's with a ``fallback:`` note; the call log counts
every HTTP request the server saw (retries and re-asks included), no cached answer is a faulty one,
and every report without a fallback is byte-identical to the same run against a server without
faults. (tests/test_llm_writer.py::test_faults_end_in_complete_reports covers one ``report`` run
of the example repository with a subset of the fault kinds.)
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.gitrepo import GitRepo
from tests.llm_server import FAULT_KINDS, REFUSAL_TEXT, FakeLLMServer, RecordedRequest
from tests.test_llm_writer import LOCALES, docs_model

from diff_insight.cli import cli
from diff_insight.render.markdown import parse_report

KEY = "sk-test-faults-0001"
CATEGORIES = ("compute", "storage", "network", "identity")
EXACT_RULES = ("formatting-only", "media-added", "article-removed")
START = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)


def page(cat: str, i: int, day: int) -> str:
    lines = [f"# {cat.title()} page {i}", "", f"This page explains {cat} feature {i}."]
    for d in range(day + 1):
        lines += ["", f"## Step {d}", "", f"On day {d} the {cat} service gained option {i}-{d}."]
    return "\n".join(lines) + "\n"


def build(tmp_path: Path) -> tuple[GitRepo, Path, list[list[str]]]:
    """A repository with two days of commits touching every category, and its config. Returns the
    changed paths of each day."""
    repo = GitRepo(tmp_path, name="docs")
    for cat in CATEGORIES:
        for i in range(3):
            repo.write(f"articles/{cat}/page-{i}.md", page(cat, i, 0))
    repo.commit("initial", START - timedelta(days=1))
    days: list[list[str]] = []
    for day in range(1, 3):
        changed = []
        for cat in CATEGORIES:
            for i in range(3):
                if (i + day) % 3 != 0:
                    path = f"articles/{cat}/page-{i}.md"
                    repo.write(path, page(cat, i, day))
                    changed.append(path)
            new = f"articles/{cat}/new-{day}.md"
            repo.write(new, f"# New {cat} {day}\n\nA new page about {cat} on day {day}.\n")
            changed.append(new)
        repo.commit(f"day {day}", START + timedelta(days=day - 1))
        days.append(changed)
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text(
        f'locales = {json.dumps(list(LOCALES))}\nengine = "llm"\n\n[categories]\n'
        + "".join(f'{c} = ["articles/{c}"]\n' for c in CATEGORIES)
        + "\n[llm]\ntimeout = 2.0\nconcurrency = 8\nbudget_tokens = 500\n",
        encoding="utf-8",
    )
    return repo, cfg, days


def daily_runs(repo: GitRepo, cfg: Path, out: Path, server: FakeLLMServer, days: int) -> list[dict[str, str]]:
    """One ``run`` per day, the branch ``daily`` moved to that day's commit (the first run starts
    from the initial commit with ``--since``); returns the written reports in order."""
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url, "AZURE_OPENAI_ENDPOINT": None}
    commits = repo.git("rev-list", "--reverse", "main").split()
    written: list[dict[str, str]] = []
    old = Path.cwd()
    os.chdir(cfg.parent)
    try:
        for day in range(1, days + 1):
            repo.git("update-ref", "refs/heads/daily", commits[day])
            args = ["run", "--repo", str(repo.path), "--branch", "daily", "--config", str(cfg), "--json"]
            args += ["--out-dir", str(out)] + (["--since", commits[0]] if day == 1 else [])
            res = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
            assert res.exit_code == 0, res.stderr
            written += json.loads(res.stdout)
    finally:
        os.chdir(old)
    return written


def comparable(data: bytes) -> tuple[object, bytes]:
    """A report without its token figures (they count retries and re-asks, so they differ)."""
    text = data.decode("utf-8")
    end = text.index("\n---\n", 4)
    fm = yaml.safe_load(text[4:end])
    fm["llm"].pop("input_tokens")
    fm["llm"].pop("output_tokens")
    return fm, data[end:]


def reports_of(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "reports").rglob("*.md")}


@pytest.fixture(scope="module")
def faulty_and_clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("faults")
    repo, cfg, days = build(tmp)
    kinds = FAULT_KINDS
    assert set(kinds) >= {"429", "500", "503", "slow", "malformed", "invalid", "refusal", "drop"}
    with FakeLLMServer(
        api_key=KEY,
        responder=docs_model,
        fault_rate=0.3,
        fault_kinds=kinds,
        seed=11,
        retry_after=0.01,
        # past the 2 s timeout: the client gives up on the request and retries. The timeout is long
        # enough that a loaded machine does not time out requests the server never got to read
        # (their attempts would be logged, but the server would not have seen them)
        slow_seconds=3.0,
    ) as srv:
        faulty_written = daily_runs(repo, cfg, tmp / "faulty", srv, len(days))
        requests = list(srv.requests)
    with FakeLLMServer(api_key=KEY, responder=docs_model) as clean_srv:
        clean_written = daily_runs(repo, cfg, tmp / "clean", clean_srv, len(days))
    return {
        "tmp": tmp,
        "days": days,
        "requests": requests,
        "faulty": faulty_written,
        "clean": clean_written,
    }


def test_every_kind_of_fault_happened(faulty_and_clean: dict[str, object]) -> None:
    requests = faulty_and_clean["requests"]
    assert isinstance(requests, list)
    seen = {r.fault for r in requests if r.fault}
    assert seen == set(FAULT_KINDS), seen
    rate = sum(1 for r in requests if r.fault) / len(requests)
    assert 0.2 < rate < 0.45, rate


def test_reports_are_complete(faulty_and_clean: dict[str, object]) -> None:
    written = faulty_and_clean["faulty"]
    days = faulty_and_clean["days"]
    assert isinstance(written, list) and isinstance(days, list)
    assert len(written) == len(days) * len(CATEGORIES) * len(LOCALES)
    for day_index, changed in enumerate(days):
        day_reports = written[day_index * 12 : (day_index + 1) * 12]
        for loc in LOCALES:
            paths: list[str] = []
            for w in day_reports:
                if w["locale"] != loc:
                    continue
                rep = parse_report(Path(w["path"]).read_text(encoding="utf-8"))
                assert len(rep.files) == w["files"]
                paths += [f.path for f in rep.files]
            assert sorted(paths) == sorted(changed), (day_index, loc)


def test_no_fault_is_taken_for_an_answer(faulty_and_clean: dict[str, object]) -> None:
    written = faulty_and_clean["faulty"]
    assert isinstance(written, list)
    fallbacks = overview_fallbacks = answered = 0
    for w in written:
        rep = parse_report(Path(w["path"]).read_text(encoding="utf-8"))
        loc = w["locale"]
        for f, meta in zip(rep.files, rep.front_matter["files"], strict=True):
            listed = f.path in rep.front_matter["llm"]["fallback_files"]
            if meta["engine"] == "llm":
                # exactly what the model says for this file: not a fault's content
                assert f.title == f"[{loc}] title of {f.path.rsplit('/', 1)[-1]}", (f.path, f.title)
                assert f"[{loc}] The model explains {f.path}." in f.explanation
                assert "note" not in meta and not listed
                answered += 1
            elif meta["rule"] not in EXACT_RULES:
                assert str(meta.get("note", "")).startswith("fallback:"), meta
                assert listed
                fallbacks += 1
        summary = str(rep.front_matter["summary"])
        if summary.startswith(f"[{loc}] summary of "):
            assert "overview" not in rep.front_matter["llm"]
        else:  # the overview call failed: the facts engine's summary, and the front matter says so
            assert rep.front_matter["llm"]["overview"].startswith("fallback: model call failed"), summary
            overview_fallbacks += 1
    print("files / overviews that fell back to the facts engine:", fallbacks, overview_fallbacks)
    # the checks of the model's answers above ran: not every file fell back
    assert answered >= 1, f"every file fell back to the facts engine ({fallbacks} files)"


def test_call_log_counts_every_request_and_caches_no_fault(faulty_and_clean: dict[str, object]) -> None:
    tmp = faulty_and_clean["tmp"]
    requests = faulty_and_clean["requests"]
    assert isinstance(tmp, Path) and isinstance(requests, list)
    with sqlite3.connect(tmp / "faulty" / ".diff-insight" / "llm-cache.sqlite") as db:
        attempts, calls, errors = db.execute(
            "select sum(attempts), count(*), sum(status = 'error') from calls"
        ).fetchone()
        contents = [row[0] for row in db.execute("select content from responses")]
    # every HTTP request the server saw is an attempt of a logged call: retries are counted. A
    # request on a pooled connection the server had closed (after a drop or a slow answer) can fail
    # before the server sees it: an attempt too, at most one per closed connection.
    closed = sum(1 for r in requests if r.fault in ("drop", "slow"))
    assert len(requests) <= attempts <= len(requests) + closed
    assert attempts > calls
    ok_answers = [r for r in requests if r.status == 200 and r.fault is None]
    assert len(contents) == calls - errors <= len(ok_answers)
    for content in contents:
        json.loads(content)  # never a malformed answer
        assert REFUSAL_TEXT not in content and "stops in the middle" not in content
        assert json.loads(content).get("summary") != "x"


def test_reports_without_fallback_equal_a_fault_free_run(faulty_and_clean: dict[str, object]) -> None:
    tmp = faulty_and_clean["tmp"]
    assert isinstance(tmp, Path)
    faulty, clean = reports_of(tmp / "faulty"), reports_of(tmp / "clean")
    assert faulty.keys() == clean.keys()
    same = 0
    for rel, data in faulty.items():
        fm, body = comparable(data)
        assert isinstance(fm, dict)
        if fm["llm"]["fallback_files"] or "overview" in fm["llm"]:
            continue
        assert (fm, body) == comparable(clean[rel]), rel
        same += 1
    assert same >= len(faulty) // 2, (same, len(faulty))


def test_failed_overview_is_stated_and_the_files_keep_their_answers(tmp_path: Path) -> None:
    """An overview call that fails leaves the files' own model answers standing (they are not listed
    as fallbacks) and the front matter says the overview is the facts engine's."""
    repo, cfg, _ = build(tmp_path)

    def no_overview(req: RecordedRequest) -> str:
        return "[]" if req.schema_name == "report_overview" else docs_model(req)

    with FakeLLMServer(api_key=KEY, responder=no_overview) as srv:
        written = daily_runs(repo, cfg, tmp_path / "out", srv, 1)
    assert len(written) == len(CATEGORIES) * len(LOCALES)
    for w in written:
        fm = parse_report(Path(w["path"]).read_text(encoding="utf-8")).front_matter
        assert fm["llm"]["overview"] == "fallback: model call failed (LLMInvalidOutput)"
        assert fm["llm"]["fallback_files"] == []
        assert not str(fm["summary"]).startswith("[")
        assert any(m["engine"] == "llm" for m in fm["files"])
