"""`diff-insight run` and `backfill` through the CLI on the built-in example repository."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import invoke
from tests.gitrepo import GitRepo

from diff_insight.example import CONFIG, build_example
from diff_insight.render.markdown import parse_report


def setup(tmp_path: Path) -> Path:
    build_example(tmp_path / "repo")
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text(
        CONFIG.replace('locales = ["ja_JP", "zh_CN", "en_US"]', 'locales = ["en_US"]')
        + '\n[source]\npath = "repo"\nbranch = "main"\n',
        encoding="utf-8",
    )
    return cfg


def test_run_twice_then_new_commits(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    code, out, err = invoke(["run", "--config", str(cfg), "--json"], tmp_path)
    assert code == 0, err
    first = json.loads(out)
    assert sum(w["files"] for w in first) == 13  # the head commit's own change
    code, out, err = invoke(["run", "--config", str(cfg), "--json"], tmp_path)
    assert code == 0 and json.loads(out) == [] and err.strip()  # nothing to do, and it says so
    repo = GitRepo(tmp_path, name="repo")
    repo.write("articles/search/new-page.md", "# New page\n\nHello.\n")
    repo.commit("add a page", date="2025-04-25T09:00:00+00:00")
    code, out, err = invoke(["run", "--config", str(cfg), "--json"], tmp_path)
    assert code == 0, err
    (w,) = json.loads(out)
    rep = parse_report(Path(w["path"]).read_text(encoding="utf-8"))
    assert [f.path for f in rep.files] == ["articles/search/new-page.md"]
    assert w["path"].endswith("report-20250425-search.md")


def test_backfill_by_day(tmp_path: Path) -> None:
    cfg = setup(tmp_path)
    code, out, err = invoke(
        ["backfill", "--config", str(cfg), "--since", "2025-04-21", "--until", "2025-04-24", "--json"],
        tmp_path,
    )
    assert code == 0, err
    by_day: dict[str, int] = {}
    for w in json.loads(out):
        day = w["path"].rsplit("report-", 1)[1][:8]
        by_day[day] = by_day.get(day, 0) + w["files"]
    # the initial commit on the 22nd (its own change), the edit on the 23rd; no other day has commits
    assert set(by_day) == {"20250422", "20250423"} and by_day["20250423"] == 13


def test_run_without_repository_is_a_one_line_error(tmp_path: Path) -> None:
    code, _, err = invoke(["run"], tmp_path)
    assert code == 2 and err.count("\n") == 1 and "--repo" in err


def test_run_two_repositories_and_a_failing_one(tmp_path: Path) -> None:
    build_example(tmp_path / "example")
    other = GitRepo(tmp_path, name="other")
    other.write("guide/a.md", "# A\n\nOne.\n")
    other.commit("initial", date="2025-04-20T09:00:00+00:00")
    other.write("guide/a.md", "# A\n\nOne, edited.\n")
    other.commit("edit", date="2025-04-21T09:00:00+00:00")
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text(
        'locales = ["en_US"]\n\n'
        '[[repositories]]\nsource = "example"\n\n'
        '[[repositories]]\nsource = "missing"\n\n'
        f'[[repositories]]\nsource = "{other.path.as_uri()}"\nlocales = ["ja_JP"]\n'
        'out = "other/{locale}/%Y%m%d-{category}.md"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 4, err
    assert lines[0].startswith("example (main): reported ")
    assert lines[1].startswith("diff-insight: error: missing (main): repository path does not exist")
    assert lines[2].startswith(f"{other.path.as_uri()} (main): reported ")
    assert lines[3] == "1 of 3 repositories failed"
    written = json.loads(stdout)
    ours = [w for w in written if "/other/ja_JP/" in w["path"]]
    assert [w["files"] for w in ours] == [1] and ours[0]["path"].endswith("20250421-all.md")
    assert sum(w["files"] for w in written) == 14  # 13 from the example's head commit, 1 from the other
    assert len(list((out / ".diff-insight" / "state").glob("*.json"))) == 2

    # the working repositories are done; the next run has nothing to do for them
    code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 1 and json.loads(stdout) == [] and err.count("nothing to do") == 2


def test_branch_option_needs_repo_with_several_repositories(tmp_path: Path) -> None:
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text('[[repositories]]\nsource = "a"\n\n[[repositories]]\nsource = "b"\n', encoding="utf-8")
    code, _, err = invoke(["run", "--config", str(cfg), "--branch", "dev"], tmp_path)
    assert code == 2 and err.count("\n") == 1 and "--branch needs --repo" in err
