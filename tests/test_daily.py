"""Incremental daily runs and backfill by day, on real repositories with controlled commit dates."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time as time_module
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from tests.gitrepo import GitRepo

from diff_insight.config import Config
from diff_insight.daily import (
    EMPTY_TREE,
    backfill,
    day_range,
    lock_path,
    read_state,
    run_incremental,
    run_lock,
    state_path,
)
from diff_insight.errors import InputError, RenderError

TOKYO = ZoneInfo("Asia/Tokyo")


def utc(day: int, hour: int = 12, minute: int = 0, month: int = 1) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    data = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    assert isinstance(data, dict)
    return data


def report_files(path: Path) -> list[str]:
    files = front_matter(path)["files"]
    assert isinstance(files, list)
    return sorted(f["path"] for f in files)


def all_reports(out: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((out / "reports").rglob("*.md"))}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "out"
    d.mkdir()
    return d


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path)


CONFIG = Config()  # en_US, UTC, one category "all"


def add(repo: GitRepo, path: str, when: datetime, text: str | None = None) -> str:
    repo.write(path, text or f"# {path}\n\nSome text about {path}.\n")
    return repo.commit(f"add {path}", date=when)


# --------------------------------------------------------------------------- incremental


def test_first_run_second_run_and_new_commits(repo: GitRepo, out: Path) -> None:
    c1 = add(repo, "docs/a.md", utc(1))
    c2 = add(repo, "docs/b.md", utc(2))

    first = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert not first.nothing_to_do and not first.rewritten
    assert (first.previous, first.base, first.head, first.day) == (None, c1, c2, date(2024, 1, 2))
    [report] = first.reports
    assert report.path == out / "reports/en_US/202401/report-20240102-all.md"
    assert report_files(report.path) == ["docs/b.md"]  # only the head commit's own change
    fm = front_matter(report.path)
    assert (fm["base"], fm["head"]) == (c1, c2)
    spath = state_path(out, repo.path, "main")
    assert spath.parent == out / ".diff-insight" / "state"
    state = read_state(spath)
    assert state is not None and (state.commit, state.branch) == (c2, "main")

    before = all_reports(out)
    second = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert second.nothing_to_do and second.reports == [] and second.base is None
    assert "nothing to do" in second.message
    assert all_reports(out) == before

    add(repo, "docs/c.md", utc(3, 9))
    c4 = add(repo, "docs/d.md", utc(3, 18))
    third = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert (third.previous, third.base, third.head) == (c2, c2, c4)
    [report] = third.reports
    assert report.path.name == "report-20240103-all.md"
    assert report_files(report.path) == ["docs/c.md", "docs/d.md"]
    day2 = out / "reports/en_US/202401/report-20240102-all.md"
    assert all_reports(out)[day2] == before[day2]  # the earlier day is untouched
    assert read_state(spath).commit == c4  # type: ignore[union-attr]


def test_report_date_is_head_commit_date_in_config_time_zone(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    add(repo, "b.md", utc(1, 20))  # 2024-01-02 05:00 in Tokyo
    outcome = run_incremental(repo.path, "main", Config(timezone="Asia/Tokyo"), out_root=out)
    assert outcome.day == date(2024, 1, 2)
    assert outcome.reports[0].path.name == "report-20240102-all.md"


def test_first_run_with_since(repo: GitRepo, out: Path) -> None:
    c1 = add(repo, "a.md", utc(1))
    add(repo, "b.md", utc(2))
    c3 = add(repo, "c.md", utc(3))
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out, since=c1[:10])
    assert (outcome.base, outcome.head) == (c1, c3)
    assert report_files(outcome.reports[0].path) == ["b.md", "c.md"]
    with pytest.raises(InputError, match="since 'nope' is not a known commit"):
        run_incremental(repo.path, "main", CONFIG, out_root=out / "x", since="nope")


def test_root_commit_is_compared_with_the_empty_tree(repo: GitRepo, out: Path) -> None:
    c1 = add(repo, "docs/a.md", utc(5))
    repo.set_origin("https://github.com/fabrikam/docs.git")
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert (outcome.base, outcome.head) == (EMPTY_TREE, c1)
    [report] = outcome.reports
    assert report_files(report.path) == ["docs/a.md"]
    fm = front_matter(report.path)
    assert fm["base"] == EMPTY_TREE and fm["repository"] == "fabrikam/docs"
    assert fm["permalink"] == f"https://github.com/fabrikam/docs/commit/{c1}"


def test_unknown_branch(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    with pytest.raises(InputError, match="branch 'nope' is not a known branch"):
        run_incremental(repo.path, "nope", CONFIG, out_root=out)


def test_force_push_uses_the_merge_base(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    c2 = add(repo, "b.md", utc(2))
    add(repo, "c.md", utc(3))
    c4 = add(repo, "d.md", utc(4))
    run_incremental(repo.path, "main", CONFIG, out_root=out)
    # force push: the branch goes back to c2 and gets new commits
    repo.git("reset", "-q", "--hard", c2)
    add(repo, "e.md", utc(5))
    e2 = add(repo, "f.md", utc(6))
    warnings: list[str] = []
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out, warn=warnings.append)
    assert outcome.rewritten and outcome.previous == c4
    assert warnings == [
        f"history was rewritten: {c4[:7]} is no longer on main; reporting from the merge base {c2[:7]}"
    ]
    assert outcome.warnings == warnings
    assert (outcome.base, outcome.head) == (c2, e2)
    assert report_files(outcome.reports[0].path) == ["e.md", "f.md"]
    assert read_state(state_path(out, repo.path, "main")).commit == e2  # type: ignore[union-attr]


def test_rewritten_without_merge_base_and_unknown_state_commit(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    add(repo, "b.md", utc(2))
    run_incremental(repo.path, "main", CONFIG, out_root=out)
    # a new, unrelated history (orphan branch) replaces main
    repo.git("checkout", "-q", "--orphan", "fresh")
    repo.git("rm", "-q", "-rf", ".")
    o1 = add(repo, "x.md", utc(3))
    o2 = add(repo, "y.md", utc(4))
    repo.git("branch", "-M", "fresh", "main")
    warnings: list[str] = []
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out, warn=warnings.append)
    assert outcome.rewritten and (outcome.base, outcome.head) == (o1, o2)
    assert warnings[0].startswith("history was rewritten: ")
    assert "no merge base, reporting the head commit's own change" in warnings[0]
    assert report_files(outcome.reports[0].path) == ["y.md"]

    # a state commit git does not have (garbage-collected): same rule, with the reason
    spath = state_path(out, repo.path, "main")
    data = json.loads(spath.read_text())
    data["commit"] = "0123456789abcdef0123456789abcdef01234567"
    spath.write_text(json.dumps(data))
    o3 = add(repo, "z.md", utc(5))
    warnings.clear()
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out, warn=warnings.append)
    assert outcome.rewritten and (outcome.base, outcome.head) == (o2, o3)
    assert warnings == [
        "history was rewritten: 0123456 is no longer on main (git no longer has that commit); "
        "no merge base, reporting the head commit's own change"
    ]


def test_branch_moved_back_is_nothing_to_do(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    c2 = add(repo, "b.md", utc(2))
    add(repo, "c.md", utc(3))
    run_incremental(repo.path, "main", CONFIG, out_root=out)
    repo.git("reset", "-q", "--hard", c2)
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert outcome.nothing_to_do and outcome.rewritten
    assert read_state(state_path(out, repo.path, "main")).commit == c2  # type: ignore[union-attr]
    c4 = add(repo, "d.md", utc(4))
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert (outcome.base, outcome.head) == (c2, c4) and not outcome.rewritten


def test_second_run_on_the_same_day_extends_that_days_reports(repo: GitRepo, out: Path) -> None:
    c1 = add(repo, "a.md", utc(1))
    add(repo, "b.md", utc(2, 8))
    run_incremental(repo.path, "main", CONFIG, out_root=out)
    c3 = add(repo, "c.md", utc(2, 17))
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert outcome.same_day and (outcome.base, outcome.head) == (c1, c3)
    [report] = outcome.reports
    assert report.path.name == "report-20240102-all.md"
    assert report_files(report.path) == ["b.md", "c.md"]  # the morning's file is not lost
    c4 = add(repo, "d.md", utc(3))
    outcome = run_incremental(repo.path, "main", CONFIG, out_root=out)
    assert not outcome.same_day and (outcome.base, outcome.head) == (c3, c4)


def test_state_is_written_only_after_every_report(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    add(repo, "b.md", utc(2))
    run_incremental(repo.path, "main", CONFIG, out_root=out)
    spath = state_path(out, repo.path, "main")
    saved = spath.read_bytes()
    add(repo, "c.md", utc(3))
    c4 = add(repo, "d.md", utc(4))
    # the month directory of the new report cannot be created: a file is in the way
    blocker = out / "reports" / "en_US"
    for p in sorted(blocker.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    blocker.rmdir()
    blocker.write_text("not a directory\n")
    two_locales = CONFIG.with_overrides(locales=["ja_JP", "en_US"])
    with pytest.raises(RenderError, match="cannot write report"):
        run_incremental(repo.path, "main", two_locales, out_root=out)
    assert spath.read_bytes() == saved
    assert not (out / "reports" / "ja_JP").exists() or not any((out / "reports" / "ja_JP").rglob("*.md"))
    # once the problem is fixed, the same range is reported and the state moves
    blocker.unlink()
    outcome = run_incremental(repo.path, "main", two_locales, out_root=out)
    assert outcome.head == c4 and len(outcome.reports) == 2
    assert report_files(outcome.reports[0].path) == ["c.md", "d.md"]
    assert read_state(spath).commit == c4  # type: ignore[union-attr]


def test_corrupt_state_file_is_one_line_error(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    spath = state_path(out, repo.path, "main")
    spath.parent.mkdir(parents=True)
    spath.write_text("{not json")
    with pytest.raises(InputError) as info:
        run_incremental(repo.path, "main", CONFIG, out_root=out)
    message = str(info.value)
    assert message.startswith(f"corrupt state file {spath}: ") and "\n" not in message
    spath.write_text(json.dumps({"version": 1, "commit": "xyz", "branch": "main", "repository": "r"}))
    with pytest.raises(InputError, match="corrupt state file .*commit is not a full commit SHA"):
        read_state(spath)
    assert read_state(spath.with_name("absent.json")) is None


def test_state_and_lock_names_are_safe(tmp_path: Path, out: Path) -> None:
    weird = GitRepo(tmp_path, name="we ird..repo")
    add(weird, "a.md", utc(1))
    branch = "../../feature/x y"
    spath = state_path(out, weird.path, branch)
    lpath = lock_path(out, weird.path)
    assert spath.parent == out / ".diff-insight" / "state"
    assert lpath.parent == out / ".diff-insight" / "locks"
    for name in (spath.stem, lpath.stem):
        assert name[0].isalnum() and len(name) <= 64 and "/" not in name and " " not in name


def test_lock_contention(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    lpath = lock_path(out, repo.path)
    lpath.parent.mkdir(parents=True)
    fd = os.open(lpath, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(InputError) as info:
            run_incremental(repo.path, "main", CONFIG, out_root=out)
        assert str(info.value) == f"another diff-insight run holds {lpath}; try again later"
        with pytest.raises(InputError, match="another diff-insight run holds"):
            backfill(repo.path, "main", CONFIG, out_root=out, since=date(2024, 1, 1), until=date(2024, 1, 1))
        assert not state_path(out, repo.path, "main").exists()

        # wait=True: tells why it waits, then runs once the lock is released
        messages: list[str] = []
        done: list[object] = []
        worker = threading.Thread(
            target=lambda: done.append(
                run_incremental(repo.path, "main", CONFIG, out_root=out, wait=True, on_wait=messages.append)
            )
        )
        worker.start()
        deadline = time_module.monotonic() + 10
        while not messages and time_module.monotonic() < deadline:
            time_module.sleep(0.01)
        assert messages == [f"waiting for another diff-insight run to release {lpath}"]
        assert not done
    finally:
        os.close(fd)
    worker.join(10)
    assert len(done) == 1
    with run_lock(lpath):  # free again
        pass


# --------------------------------------------------------------------------- backfill


def tokyo(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=TOKYO)


def test_backfill_by_day_in_tokyo(repo: GitRepo, out: Path) -> None:
    config = Config(timezone="Asia/Tokyo")
    commits: list[tuple[datetime, str]] = []

    def commit(path: str, when: datetime) -> str:
        sha = add(repo, path, when)
        commits.append((when, sha))
        return sha

    commit("docs/start.md", tokyo(1, 10))  # day 1: the first commit of history
    commit("docs/a.md", tokyo(1, 23, 59, 59))
    commit("docs/b.md", tokyo(3, 0, 0, 0))  # midnight belongs to the new day
    commit("docs/c.md", tokyo(3, 8, 30))  # 2024-03-02 23:30 UTC: still March 3 in Tokyo
    # day 5: a side branch merged with --no-ff; only first-parent commits bound the day
    repo.git("checkout", "-q", "-b", "side")
    side = add(repo, "docs/side.md", tokyo(4, 15))
    repo.git("checkout", "-q", "main")
    commit("docs/d.md", tokyo(5, 9))
    stamp = tokyo(5, 11).isoformat()
    repo.run(
        "merge", "-q", "--no-ff", "-m", "merge side", "side",
        env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
    )  # fmt: skip
    commits.append((tokyo(5, 11), repo.head()))
    commit("docs/e.md", tokyo(8, 18))
    commit("docs/f.md", tokyo(8, 21))
    commit("docs/g.md", tokyo(12, 7))  # after the backfilled days

    since, until = date(2024, 2, 28), date(2024, 3, 10)
    outcomes = backfill(repo.path, "main", config, out_root=out, since=since, until=until)
    assert [o.day for o in outcomes] == [since + timedelta(days=i) for i in range((until - since).days + 1)]

    def last_before(instant: datetime) -> str | None:
        found = [sha for when, sha in commits if when < instant]
        return found[-1] if found else None

    reported_days = {o.day for o in outcomes if not o.skipped}
    assert reported_days == {date(2024, 3, d) for d in (1, 3, 5, 8)}
    for o in outcomes:
        start = datetime(o.day.year, o.day.month, o.day.day, tzinfo=TOKYO)
        head = last_before(start + timedelta(days=1))
        base = last_before(start) or EMPTY_TREE
        if head is None or head == base:
            assert o.skipped and o.reports == []
            continue
        assert (o.base, o.head) == (base, head)
        # the same as git's own answer for the day's end and start (--before is inclusive)
        end_instant = (start + timedelta(days=1) - timedelta(seconds=1)).astimezone(UTC).isoformat()
        git_head = repo.git("rev-list", "--first-parent", "-1", f"--before={end_instant}", "main").strip()
        assert git_head == head
        assert day_range(repo.path, "main", o.day, TOKYO) == (base, head)
        [report] = o.reports
        assert report.path == out / f"reports/en_US/202403/report-{o.day:%Y%m%d}-all.md"
        fm = front_matter(report.path)
        assert (fm["date"], fm["base"], fm["head"]) == (o.day.isoformat(), base, head)

    by_day = {o.day.day: o for o in outcomes if not o.skipped}
    assert report_files(by_day[1].reports[0].path) == ["docs/a.md", "docs/start.md"]
    assert report_files(by_day[3].reports[0].path) == ["docs/b.md", "docs/c.md"]
    assert report_files(by_day[5].reports[0].path) == ["docs/d.md", "docs/side.md"]
    assert report_files(by_day[8].reports[0].path) == ["docs/e.md", "docs/f.md"]
    assert side not in {o.head for o in outcomes}
    written = all_reports(out)
    assert len(written) == 4  # days without commits produce nothing
    assert not (out / ".diff-insight" / "state").exists()  # backfill does not move the state

    # re-running a day replaces its reports with byte-identical ones
    again = backfill(repo.path, "main", config, out_root=out, since=date(2024, 3, 3), until=date(2024, 3, 3))
    assert [o.reports[0].path for o in again] == [by_day[3].reports[0].path]
    assert all_reports(out) == written
    assert not list(out.rglob(".tmp-*"))


def test_backfill_rejects_reversed_range(repo: GitRepo, out: Path) -> None:
    add(repo, "a.md", utc(1))
    with pytest.raises(InputError, match="since 2024-01-02 is after until 2024-01-01"):
        backfill(repo.path, "main", CONFIG, out_root=out, since=date(2024, 1, 2), until=date(2024, 1, 1))
