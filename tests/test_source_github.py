"""The GitHub API source, against a loopback server serving GitHub-shaped data made from a real repository."""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.github_server import FakeGitHub, error, primary_limit, secondary_limit
from tests.gitrepo import GitRepo, numstat

from diff_insight.errors import SourceError
from diff_insight.model import FileChange, Status
from diff_insight.sources.diffparse import count_changes, parse_diff
from diff_insight.sources.github import local_patch, open_github

SLUG = "octo/docs"
TOKEN = "ghp_TESTtoken0123456789abcdefSECRET"
NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def clock() -> float:
    return NOW


# ---- a real range, and GitHub's view of it ------------------------------------------------------


def _lines(rng: random.Random, n: int, tag: str) -> list[str]:
    words = ["alpha", "beta", "gamma", "delta", "épsilon", "zeta", "eta", "theta", "iota", "kappa"]
    return [f"{tag} line {i}: {' '.join(rng.choice(words) for _ in range(6))}" for i in range(n)]


@dataclass
class Range:
    repo: GitRepo
    merge_base: str
    side: str
    head: str
    payload: dict[str, Any]
    contents: dict[tuple[str, str], bytes]
    omitted: list[str]
    numstat: dict[str, tuple[int, int]]


def _tree_contents(repo: GitRepo, commit: str) -> dict[tuple[str, str], bytes]:
    entries = []
    for rec in repo.run("ls-tree", "-r", "-z", commit).split(b"\0"):
        if rec:
            meta, raw_path = rec.split(b"\t", 1)
            entries.append((raw_path.decode(), meta.split(b" ")[2].decode()))
    out = repo.run("cat-file", "--batch", input="".join(f"{oid}\n" for _, oid in entries).encode())
    result: dict[tuple[str, str], bytes] = {}
    pos = 0
    for path, _ in entries:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split(b" ")[2])
        result[(path, commit)] = out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    return result


def _compare_payload(repo: GitRepo, side: str, merge_base: str, head: str) -> dict[str, Any]:
    """What GitHub's compare endpoint answers for ``side...head``, made with the git CLI."""
    raw = repo.run("diff", "-M", "--raw", "-z", "--no-abbrev", merge_base, head).split(b"\0")
    counts = numstat(repo, merge_base, head)
    patches = {d.path: d.patch for d in parse_diff(repo.run("diff", "-M", merge_base, head))}
    files: list[dict[str, Any]] = []
    i = 0
    while i < len(raw):
        tok = raw[i].decode()
        i += 1
        if not tok:
            continue
        _, _, old_id, new_id, letter = tok[1:].split(" ")
        old = new = raw[i].decode()
        i += 1
        if letter[0] in "RC":
            new = raw[i].decode()
            i += 1
        status = _STATUS[letter[0]]
        path = old if status == "removed" else new
        counts_of_path = counts[path]
        assert counts_of_path is not None, path  # the test ranges have no binary files
        additions, deletions = counts_of_path
        ref = merge_base if status == "removed" else head
        entry: dict[str, Any] = {
            "sha": old_id if status == "removed" else new_id,
            "filename": path,
            "status": status,
            "additions": additions,
            "deletions": deletions,
            "changes": additions + deletions,
            "blob_url": f"https://github.com/{SLUG}/blob/{ref}/{quote(path)}",
            "raw_url": f"https://github.com/{SLUG}/raw/{ref}/{quote(path)}",
            "contents_url": f"https://api.github.com/repos/{SLUG}/contents/{quote(path)}?ref={ref}",
        }
        if patches.get(path) is not None:
            entry["patch"] = patches[path]
        if status in ("renamed", "copied"):
            entry["previous_filename"] = old
        files.append(entry)
    commits = []
    for line in repo.git("log", "--reverse", "--format=%H %cI", f"{merge_base}..{head}").splitlines():
        sha, date = line.split(" ")
        commits.append({"sha": sha, "commit": {"committer": {"name": "Test Committer", "date": date}}})
    side_date = repo.git("log", "-1", "--format=%cI", side).strip()
    return {
        "url": f"https://api.github.com/repos/{SLUG}/compare/{side}...{head}",
        "html_url": f"https://github.com/{SLUG}/compare/{side}...{head}",
        "permalink_url": f"https://github.com/{SLUG}/compare/octo:{side[:7]}...octo:{head[:7]}",
        "status": "diverged",
        "ahead_by": len(commits),
        "behind_by": 1,
        "total_commits": len(commits),
        "base_commit": {"sha": side, "commit": {"committer": {"date": side_date}}},
        "merge_base_commit": {"sha": merge_base, "commit": {"committer": {"date": side_date}}},
        "commits": commits,
        "files": files,
    }


def _git_patch(repo: GitRepo, base: str, head: str, change: FileChange) -> str:
    """git's own patch of one file, from the first ``@@`` on, without the final newline."""
    paths = [change.path] + ([change.previous_path] if change.previous_path else [])
    out = repo.git("diff", "-M", base, head, "--", *paths)
    return out[out.index("@@") :].removesuffix("\n")


@pytest.fixture(scope="module")
def big_range(tmp_path_factory: pytest.TempPathFactory) -> Range:
    rng = random.Random(20250615)
    repo = GitRepo(tmp_path_factory.mktemp("github"))
    base_files: dict[str, str | bytes] = {}
    for i in range(340):
        n = 2400 if i % 40 == 7 else rng.randint(8, 60)  # a few large files
        base_files[f"docs/area{i % 12:02d}/page{i:03d}.md"] = "\n".join(_lines(rng, n, f"p{i}")) + "\n"
    base_files["docs/no-newline.md"] = "first\nsecond\nthird"
    base_files["docs/área 51/página #1.md"] = "\n".join(_lines(rng, 40, "u")) + "\n"
    merge_base = repo.import_commit(base_files, "import")
    repo.git("reset", "-q", "--hard")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("docs/side-only.md", "only on the side branch\n")
    side = repo.commit("side work")
    repo.git("checkout", "-q", "main")

    paths = sorted(p for p in base_files if p.startswith("docs/area"))
    removed, renamed, modified = paths[:8], paths[8:16], paths[16:320]
    for path in removed:
        repo.remove(path)
    for path in renamed:
        new = path.replace("docs/", "guide/", 1)
        repo.rename(path, new)
        text = repo.file(new).read_text()
        repo.write(new, text + "One more line after the move.\n")
    for n, path in enumerate(modified):
        lines = repo.file(path).read_text().split("\n")
        step = 9 if len(lines) > 1000 else max(len(lines) // 3, 2)
        for k in range(n % 3, len(lines) - 1, step):
            lines[k] = lines[k].upper() if k % 2 else lines[k] + " (edited)"
        if n % 5 == 0:
            lines.insert(len(lines) // 2, "An inserted sentence.")
        repo.write(path, "\n".join(lines))
    repo.write("docs/no-newline.md", "first\nSECOND\nthird\nfourth")
    repo.write(
        "docs/área 51/página #1.md", "Nueva línea.\n" + repo.file("docs/área 51/página #1.md").read_text()
    )
    for n in range(30):
        repo.write(
            f"docs/new/added{n:02d}.md", "\n".join(_lines(rng, 5 + n * (40 if n == 3 else 1), f"n{n}")) + "\n"
        )
    repo.commit("first edits")
    repo.write("docs/new/added00.md", "rewritten in a second commit\n")
    head = repo.commit("second edits")
    assert repo.git("merge-base", side, head).strip() == merge_base

    payload = _compare_payload(repo, side, merge_base, head)
    counts = numstat(repo, merge_base, head)
    by_name = {f["filename"]: f for f in payload["files"]}
    large = [p for p, f in by_name.items() if f["additions"] > 100][:5]
    omitted = sorted(
        {
            *large,
            modified[3],
            modified[100],
            modified[250],
            renamed[2].replace("docs/", "guide/", 1),
            removed[1],
            "docs/new/added03.md",
            "docs/no-newline.md",
            "docs/área 51/página #1.md",
        }
    )
    assert len(large) == 5 and len(omitted) == 13
    contents = {**_tree_contents(repo, merge_base), **_tree_contents(repo, head)}
    return Range(repo, merge_base, side, head, payload, contents, omitted, counts)


def _serve(srv: FakeGitHub, rng_: Range) -> None:
    srv.add_compare(SLUG, rng_.side, rng_.head, rng_.payload, omit_patch=rng_.omitted)
    srv.contents.update(rng_.contents)


# ---- the big range -------------------------------------------------------------------------------


def test_big_range_is_complete_and_matches_git(big_range: Range) -> None:
    r = big_range
    files = r.payload["files"]
    assert len(files) >= 340
    sleep = FakeSleep()
    with FakeGitHub(token=TOKEN, require_token=True) as srv:
        _serve(srv, r)
        change_set, reader = open_github(
            SLUG, r.side, r.head, token=TOKEN, api_url=srv.base_url, sleep=sleep, clock=clock
        )
        with reader:
            compare_requests = srv.requests_to("/compare/")
            assert len(compare_requests) == math.ceil(len(files) / 100)
            assert [q.query["page"] for q in compare_requests] == [
                str(n) for n in range(1, len(compare_requests) + 1)
            ]
            assert compare_requests[0].query["per_page"] == "100"

            # every file, in order, with GitHub's and git's counts
            assert [c.path for c in change_set.files] == [f["filename"] for f in files]
            for change, f in zip(change_set.files, files, strict=True):
                assert change.status == Status(f["status"])
                assert (change.additions, change.deletions) == (f["additions"], f["deletions"])
                assert (change.additions, change.deletions) == r.numstat[change.path]
                assert change.previous_path == f.get("previous_filename")
                assert change.blob_url == f["blob_url"]
                assert change.patch is not None
                assert count_changes(change.patch) == (change.additions, change.deletions)
                if change.path not in r.omitted:
                    assert change.patch == f["patch"]

            # the omitted patches were recomputed, exactly as git prints them
            assert reader.recomputed_patches == frozenset(r.omitted)
            by_path = {c.path: c for c in change_set.files}
            statuses = {by_path[p].status for p in r.omitted}
            assert {Status.ADDED, Status.REMOVED, Status.RENAMED, Status.MODIFIED} <= statuses
            for path in r.omitted:
                assert by_path[path].patch == _git_patch(r.repo, r.merge_base, r.head, by_path[path])
            assert "\\ No newline at end of file" in (by_path["docs/no-newline.md"].patch or "")

            # the change set's range
            assert change_set.source == "github"
            assert change_set.repository.slug == SLUG
            assert change_set.repository.url == f"https://github.com/{SLUG}"
            assert change_set.base == r.merge_base and change_set.head == r.head
            head_date = r.repo.git("log", "-1", "--format=%ct", r.head).strip()
            assert change_set.head_time == datetime.fromtimestamp(int(head_date), UTC)
            assert change_set.permalink == (
                f"https://github.com/{SLUG}/compare/octo:{r.merge_base[:7]}...octo:{r.head[:7]}"
            )

            # full texts: old side at the merge base, new side at the head; cached per (path, sha)
            fetched_before = len(srv.requests_to("/contents/"))
            for change in change_set.files:
                old = reader.read(change, "old")
                new = reader.read(change, "new")
                if change.status is Status.ADDED:
                    assert old is None
                else:
                    key = (change.previous_path or change.path, r.merge_base)
                    assert old is not None and old.text == r.contents[key].decode()
                    assert old.size == len(r.contents[key])
                if change.status is Status.REMOVED:
                    assert new is None
                else:
                    assert new is not None and new.text == r.contents[(change.path, r.head)].decode()
            reads = srv.requests_to("/contents/")
            expected = sum(2 - (c.status in (Status.ADDED, Status.REMOVED)) for c in change_set.files)
            recomputed_fetches = sum(
                2 - (by_path[p].status in (Status.ADDED, Status.REMOVED)) for p in r.omitted
            )
            assert fetched_before == recomputed_fetches
            assert len(reads) == expected  # the texts fetched for recomputation were reused
            reader.read(change_set.files[0], "new")
            assert len(srv.requests_to("/contents/")) == expected
            assert all("raw" in q.headers["accept"] for q in reads)

    assert sleep.waits == []
    # the token travels only in the Authorization header
    for req in srv.requests:
        assert req.headers["authorization"] == f"Bearer {TOKEN}"
        assert TOKEN not in req.raw_target
        assert all(TOKEN not in v for k, v in req.headers.items() if k != "authorization")
    assert TOKEN not in repr(reader)


def test_big_range_with_commit_paging_and_limits(big_range: Range) -> None:
    """GitHub-style commit paging (head commit on the last page) and rate limits mid-way."""
    r = big_range
    sleep = FakeSleep()
    with FakeGitHub(commits_per_page=1, files_per_page=100) as srv:
        _serve(srv, r)
        srv.script(
            primary_limit(NOW + 300, match="/compare/"),
            secondary_limit(45, match="/contents/"),
            error(502, "Server Error", match="/compare/"),
        )
        change_set, reader = open_github(
            SLUG, r.side, r.head, token="", api_url=srv.base_url, sleep=sleep, clock=clock
        )
        reader.close()
    assert sleep.waits == [301.0, 1.0, 45.0]
    assert srv.pending == []
    assert change_set.head == r.head
    assert len(change_set) == len(r.payload["files"])
    assert all("authorization" not in q.headers for q in srv.requests)


# ---- small comparisons for the failure paths -------------------------------------------------------

BASE_SHA = "b" * 40
HEAD_SHA = "c" * 40


def _small_payload() -> dict[str, Any]:
    return {
        "merge_base_commit": {"sha": BASE_SHA},
        "base_commit": {"sha": BASE_SHA},
        "commits": [{"sha": HEAD_SHA, "commit": {"committer": {"date": "2025-06-01T10:00:00+02:00"}}}],
        "files": [
            {
                "filename": "a.md",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "patch": "@@ -1 +1 @@\n-old\n+new",
            },
            {"filename": "big.md", "status": "modified", "additions": 2, "deletions": 1},
            {"filename": "img.png", "status": "added", "additions": 0, "deletions": 0},
        ],
    }


@pytest.fixture
def small() -> Any:
    with FakeGitHub() as srv:
        srv.add_compare(SLUG, "main", "topic", _small_payload())
        srv.contents[("a.md", BASE_SHA)] = b"old\n"
        srv.contents[("a.md", HEAD_SHA)] = b"new\n"
        srv.contents[("big.md", BASE_SHA)] = b"one\ntwo\n"
        srv.contents[("big.md", HEAD_SHA)] = b"one\n2\nthree\n"
        yield srv


def _open(srv: FakeGitHub, **kw: Any) -> Any:
    kw.setdefault("token", TOKEN)
    kw.setdefault("sleep", FakeSleep())
    kw.setdefault("clock", clock)
    change_set, reader = open_github(
        SLUG, kw.pop("base", "main"), kw.pop("head", "topic"), api_url=srv.base_url, **kw
    )
    reader.close()
    return change_set


def test_small_range(small: FakeGitHub) -> None:
    change_set = _open(small)
    big = change_set.files[1]
    assert big.patch == "@@ -1,2 +1,3 @@\n one\n-two\n+2\n+three"
    assert change_set.files[2].binary and change_set.files[2].patch is None
    assert change_set.head_time == datetime.fromisoformat("2025-06-01T10:00:00+02:00")
    assert change_set.base == BASE_SHA and change_set.head == HEAD_SHA


@pytest.mark.parametrize("status", [403, 429])
def test_primary_rate_limit_waits_until_reset(small: FakeGitHub, status: int) -> None:
    sleep = FakeSleep()
    small.script(primary_limit(NOW + 120, status=status))
    _open(small, sleep=sleep)
    assert sleep.waits == [121.0]


def test_primary_rate_limit_beyond_max_wait(small: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    sleep = FakeSleep()
    small.script(primary_limit(NOW + 3600))
    with pytest.raises(SourceError) as info:
        _open(small, sleep=sleep, token=None, max_wait=900)
    message = str(info.value)
    reset = datetime.fromtimestamp(NOW + 3600, UTC).strftime("%H:%M:%S")
    assert (
        message == f"GitHub rate limit reached; retry after {reset} UTC (set GITHUB_TOKEN for a higher limit)"
    )
    assert "\n" not in message
    assert sleep.waits == []


def test_secondary_rate_limit_retry_after(small: FakeGitHub) -> None:
    sleep = FakeSleep()
    small.script(secondary_limit(30), secondary_limit(60, status=429))
    _open(small, sleep=sleep)
    assert sleep.waits == [30.0, 60.0]


def test_secondary_rate_limit_gives_up(small: FakeGitHub) -> None:
    sleep = FakeSleep()
    small.script(*[secondary_limit(10) for _ in range(6)])
    with pytest.raises(SourceError, match="secondary rate limit reached"):
        _open(small, sleep=sleep)
    assert sleep.waits == [10.0] * 5


def test_server_errors_are_retried_with_backoff(small: FakeGitHub) -> None:
    sleep = FakeSleep()
    small.script(error(502, "Bad Gateway"), error(503, "Unavailable"), error(500, "oops", match="/contents/"))
    change_set = _open(small, sleep=sleep)
    assert len(change_set) == 3
    assert sleep.waits == [1.0, 2.0, 1.0]


def test_server_errors_give_up(small: FakeGitHub) -> None:
    sleep = FakeSleep()
    small.script(*[error(500, "Internal Server Error") for _ in range(4)])
    with pytest.raises(SourceError, match=r"HTTP 500: Internal Server Error after 4 attempts"):
        _open(small, sleep=sleep)
    assert sleep.waits == [1.0, 2.0, 4.0]


def test_not_found(small: FakeGitHub) -> None:
    with pytest.raises(SourceError) as info:
        _open(small, head="nope")
    assert str(info.value) == (
        f"repository {SLUG} or commit 'main' or 'nope' not found on GitHub (HTTP 404: Not Found)"
    )


def test_not_found_without_token_hints_at_private_repositories(small: FakeGitHub) -> None:
    small.require_token = True
    with pytest.raises(SourceError, match="private repository needs GITHUB_TOKEN"):
        _open(small, token="")


def test_unrelated_commits(small: FakeGitHub) -> None:
    small.script(error(422, "No common ancestor between main and topic."))
    with pytest.raises(SourceError) as info:
        _open(small)
    assert str(info.value) == (
        "GitHub cannot compare main...topic in octo/docs: unknown commit or no common history "
        "(HTTP 422: No common ancestor between main and topic.)"
    )


def test_bad_token(small: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    small.token = "the-right-one"
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with pytest.raises(SourceError) as info:
        _open(small, token=None)  # taken from the environment
    assert str(info.value) == "GitHub rejected the token (GITHUB_TOKEN)"
    assert TOKEN not in repr(info.value) and info.value.__cause__ is None
    assert small.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_forbidden_is_not_a_rate_limit(small: FakeGitHub) -> None:
    small.script(error(403, "Resource not accessible by integration"))
    with pytest.raises(SourceError, match=r"refused access .*HTTP 403: Resource not accessible"):
        _open(small)


def test_counts_that_disagree_name_the_file(small: FakeGitHub) -> None:
    small.contents[("big.md", HEAD_SHA)] = b"one\n2\n"
    with pytest.raises(SourceError, match=r"'big.md' computed locally counts \+1 -1 but GitHub says \+2 -1"):
        _open(small)


def test_missing_content_for_recomputation(small: FakeGitHub) -> None:
    del small.contents[("big.md", BASE_SHA)]
    with pytest.raises(SourceError, match="cannot recompute the patch of 'big.md'"):
        _open(small)


def test_unreachable_api(small: FakeGitHub) -> None:
    url = small.base_url
    small.stop()
    sleep = FakeSleep()
    with pytest.raises(SourceError, match=r"cannot reach GitHub at 127\.0\.0\.1:\d+ .*after 4 attempts"):
        open_github(SLUG, "main", "topic", token=TOKEN, api_url=url, sleep=sleep, clock=clock)
    assert sleep.waits == [1.0, 2.0, 4.0]


def test_injected_client_is_not_closed(small: FakeGitHub) -> None:
    with httpx.Client() as client:
        change_set, reader = open_github(
            SLUG, "main", "topic", token=TOKEN, api_url=small.base_url, client=client
        )
        reader.close()
        assert not client.is_closed
        assert len(change_set) == 3


def test_reader_fresh_and_missing_file(small: FakeGitHub) -> None:
    change_set, reader = open_github(SLUG, "main", "topic", token=TOKEN, api_url=small.base_url)
    with reader.fresh() as other:
        a = change_set.files[0]
        assert (other.read(a, "old"), other.read(a, "new")) != (None, None)
        text = other.read(a, "new")
        assert text is not None and text.text == "new\n"
        assert other.read(change_set.files[2], "new") is None  # binary
        ghost = FileChange(path="ghost.md", status=Status.MODIFIED, additions=1, deletions=0, patch=None)
        assert other.read(ghost, "new") is None
    reader.close()
    with pytest.raises(SourceError, match="closed"):
        reader.read(change_set.files[0], "new")


@pytest.mark.parametrize("slug", ["octo", "octo/docs/x", "-x/y", ""])
def test_bad_slug(slug: str) -> None:
    with pytest.raises(SourceError, match="not a GitHub repository name"):
        open_github(slug, "main", "topic", api_url="http://127.0.0.1:9")


def test_local_patch_added_and_removed() -> None:
    assert local_patch(None, b"x\ny\n") == ("@@ -0,0 +1,2 @@\n+x\n+y", 2, 0, False)
    assert local_patch(b"x\n", None) == ("@@ -1 +0,0 @@\n-x", 0, 1, False)
    assert local_patch(b"same\n", b"same\n") == (None, 0, 0, False)


def test_head_commit_on_a_later_commit_page() -> None:
    """GitHub pages the commits too: the head is the last commit of the last page."""
    payload = _small_payload()
    payload["commits"] = [
        {"sha": f"{n}" * 40, "commit": {"committer": {"date": f"2025-06-0{n}T00:00:00Z"}}}
        for n in range(1, 6)
    ]
    with FakeGitHub(commits_per_page=2) as srv:
        srv.add_compare(SLUG, "main", "topic", payload)
        srv.contents[("big.md", BASE_SHA)] = b"one\ntwo\n"
        srv.contents[("big.md", "5" * 40)] = b"one\n2\nthree\n"
        change_set = _open(srv)
        pages = [q.query["page"] for q in srv.requests_to("/compare/")]
    assert pages == ["1", "2", "3"]  # page 2 has no more files; page 3 is the "last" link
    assert change_set.head == "5" * 40
    assert change_set.head_time == datetime(2025, 6, 5, tzinfo=UTC)
    assert [c.path for c in change_set.files] == ["a.md", "big.md", "img.png"]


def test_token_never_logged(small: FakeGitHub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    small.script(primary_limit(NOW + 5), error(503, "busy"), secondary_limit(1, match="/contents/"))
    _open(small)
    assert caplog.text and "rate limit" in caplog.text
    assert TOKEN not in caplog.text


def test_cli_report_from_github(small: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`diff-insight report --github owner/name BASE HEAD` end to end, with the omitted patch recomputed."""
    import json as _json

    from click.testing import CliRunner

    from diff_insight.cli import cli
    from diff_insight.render.markdown import parse_report

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        cli,
        ["report", "--github", SLUG, "main", "topic", "--json"],
        env={"GITHUB_API_URL": small.base_url, "GITHUB_TOKEN": TOKEN},
    )
    assert res.exit_code == 0, res.stderr
    (w,) = _json.loads(res.stdout)
    text = Path(w["path"]).read_text(encoding="utf-8")
    rep = parse_report(text)
    assert [f.path for f in rep.files] == ["a.md", "big.md", "img.png"]
    assert "@@ -1,2 +1,3 @@" in rep.files[1].diff
    assert TOKEN not in text and TOKEN not in res.stderr
    res = CliRunner().invoke(cli, ["report", "--github", SLUG, "main"])
    assert res.exit_code == 2


def test_comparison_at_githubs_cap_falls_back_to_a_git_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub lists at most 3,000 files of a comparison: at the cap the range is read from a mirror,
    so no file is lost."""
    import json as _json
    import subprocess

    from click.testing import CliRunner
    from tests.gitrepo import GitRepo

    from diff_insight.cli import cli
    from diff_insight.render.markdown import parse_report

    server_root = tmp_path / "server"
    origin = GitRepo(server_root / "octo", name="docs.git")
    base = origin.import_commit({"README.md": "# Docs\n"})
    head = origin.import_commit({f"docs/p{i:04d}.md": f"# Page {i}\n" for i in range(3100)})
    origin.git("update-ref", "refs/heads/main", head)
    files = [
        {
            "filename": f"docs/p{i:04d}.md",
            "status": "added",
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "patch": f"@@ -0,0 +1 @@\n+# Page {i}",
        }
        for i in range(3000)
    ]  # GitHub stops at 3,000
    payload = {
        "merge_base_commit": {"sha": base},
        "base_commit": {"sha": base},
        "total_commits": 1,
        "commits": [{"sha": head, "commit": {"committer": {"date": "2025-06-01T10:00:00+00:00"}}}],
        "files": files,
    }
    with FakeGitHub(files_per_page=300) as srv:
        srv.add_compare("octo/docs", "main~1", "main", payload)
        monkeypatch.chdir(tmp_path)
        res = CliRunner().invoke(
            cli,
            ["report", "--github", "octo/docs", "main~1", "main", "--json"],
            env={
                "GITHUB_API_URL": srv.base_url,
                "GITHUB_SERVER_URL": server_root.as_uri(),
                "GITHUB_TOKEN": TOKEN,
            },
        )
    assert res.exit_code == 0, res.stderr
    (w,) = _json.loads(res.stdout)
    assert w["files"] == 3100
    rep = parse_report(Path(w["path"]).read_text(encoding="utf-8"))
    assert len(rep.files) == 3100 and rep.front_matter["head"] == head
    mirrors = list((tmp_path / ".diff-insight" / "mirrors").iterdir())
    assert any(m.name.endswith(".git") for m in mirrors)
    out = subprocess.run(
        ["git", "-C", str(origin.path), "diff", "--numstat", base, head],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert len(out.splitlines()) == 3100
