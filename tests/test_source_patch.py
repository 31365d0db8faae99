"""The patch-file source: ``git diff`` output and ``git format-patch`` series, from a file or stdin."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.gitrepo import GitRepo

from diff_insight.errors import SourceError
from diff_insight.model import EntryKind, FileChange, NoContent, Status
from diff_insight.sources.git import open_git
from diff_insight.sources.patchfile import open_patch

Essentials = tuple[str, str | None, Status, int, int, str | None, bool, EntryKind, bool]


def essentials(f: FileChange) -> Essentials:
    return (
        f.path,
        f.previous_path,
        f.status,
        f.additions,
        f.deletions,
        f.patch,
        f.binary,
        f.kind,
        f.encoding_replaced,
    )


def git_files(repo: GitRepo, base: str, head: str) -> list[Essentials]:
    change_set, reader = open_git(repo.path, base, head)
    reader.close()
    return [essentials(f) for f in change_set]


def build_series(repo: GitRepo) -> list[str]:
    """A base commit and three more; returns the four SHAs."""
    repo.write("a.md", "# A\n\none\ntwo\n")
    repo.write("b b.md", "b\n")
    repo.write("old.md", "to be renamed\n" * 4)
    repo.write("img.png", b"\x89PNG\x00" + bytes(range(200)))
    shas = [repo.commit("base")]
    repo.write("a.md", "# A\n\none\n--- two\n+++ three\n")
    repo.write("日本語 ファイル.md", "新しい\n")
    shas.append(repo.commit("first", date=datetime(2024, 2, 1, 9, 0, tzinfo=UTC)))
    repo.rename("old.md", "new.md")
    repo.write("img.png", b"\x89PNG\x00" + bytes(range(100)))
    repo.chmod("b b.md")
    repo.symlink("link", "a.md")
    shas.append(repo.commit("second", date=datetime(2024, 2, 2, 9, 0, tzinfo=UTC)))
    repo.write("a.md", "# A\r\n\r\nrewritten with CRLF\r\n")
    repo.remove("b b.md")
    shas.append(repo.commit("third", date="2024-02-03T10:20:30+05:30"))
    return shas


def test_format_patch_series(git_repo: GitRepo, tmp_path: Path) -> None:
    shas = build_series(git_repo)
    series = git_repo.run("format-patch", "--stdout", f"{shas[0]}..{shas[-1]}")
    path = tmp_path / "series.patch"
    path.write_bytes(series)
    change_set, reader = open_patch(path)
    assert isinstance(reader, NoContent)
    expected: list[Essentials] = []
    for before, after in zip(shas, shas[1:], strict=False):
        expected += git_files(git_repo, before, after)
    assert [essentials(f) for f in change_set] == expected
    # a file changed in two mails stays two entries
    assert [f.path for f in change_set].count("a.md") == 2
    files = {f.path: f for f in change_set}
    assert files["img.png"].binary and files["img.png"].patch is None
    assert files["link"].kind is EntryKind.SYMLINK
    assert files["b b.md"].status is Status.REMOVED
    assert change_set.source == "patch"
    assert change_set.head == shas[-1]
    author_date = git_repo.git("log", "-1", "--format=%aI", shas[-1]).strip()
    assert change_set.head_time == datetime.fromisoformat(author_date)
    assert change_set.base is None


def test_format_patch_base_commit_line(git_repo: GitRepo, tmp_path: Path) -> None:
    shas = build_series(git_repo)
    series = git_repo.run("format-patch", "--stdout", f"--base={shas[1]}", f"{shas[1]}..{shas[-1]}")
    change_set, _ = open_patch("-", stdin=io.BytesIO(series))
    assert change_set.base == shas[1]
    assert change_set.head == shas[-1]


def test_git_diff_output_matches_git_source(git_repo: GitRepo, tmp_path: Path) -> None:
    shas = build_series(git_repo)
    diff = git_repo.run("diff", "-M", shas[0], shas[-1])
    path = tmp_path / "range.diff"
    path.write_bytes(diff)
    change_set, _ = open_patch(str(path))
    assert [essentials(f) for f in change_set] == git_files(git_repo, shas[0], shas[-1])
    assert change_set.head is None and change_set.head_time is None


def test_stdin_parameter(git_repo: GitRepo) -> None:
    shas = build_series(git_repo)
    diff = git_repo.run("diff", "-M", shas[0], shas[1])
    change_set, _ = open_patch("-", stdin=io.BytesIO(diff))
    assert [essentials(f) for f in change_set] == git_files(git_repo, shas[0], shas[1])


def test_sys_stdin(git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    shas = build_series(git_repo)
    diff = git_repo.run("diff", "-M", shas[2], shas[3])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(diff), encoding="utf-8"))
    change_set, _ = open_patch("-")
    assert [essentials(f) for f in change_set] == git_files(git_repo, shas[2], shas[3])


def test_invalid_utf8_is_flagged(tmp_path: Path) -> None:
    data = (
        b"diff --git a/x.md b/x.md\n--- a/x.md\n+++ b/x.md\n@@ -1 +1 @@\n-caf\xe9\n+cafe\n"
        b"diff --git a/y.md b/y.md\n--- a/y.md\n+++ b/y.md\n@@ -1 +1 @@\n-ok\n+fine\n"
    )
    path = tmp_path / "latin.diff"
    path.write_bytes(data)
    change_set, _ = open_patch(path)
    x, y = change_set
    assert x.encoding_replaced and x.patch == "@@ -1 +1 @@\n-caf\ufffd\n+cafe"
    assert not y.encoding_replaced


def test_plain_diff_u(tmp_path: Path) -> None:
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "page.md").write_text("a\nb\nc\n")
    (tmp_path / "v2" / "page.md").write_text("a\nB\nc\nd\n")
    out = subprocess.run(
        ["diff", "-u", "v1/page.md", "v2/page.md"], cwd=tmp_path, capture_output=True, check=False
    )
    patch = tmp_path / "plain.diff"
    patch.write_bytes(out.stdout)
    (f,) = open_patch(patch)[0]
    assert (f.path, f.status, f.additions, f.deletions) == ("page.md", Status.MODIFIED, 2, 1)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"From: someone\nSubject: no diff here\n\nJust words.\n"])
def test_no_changes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.patch"
    path.write_bytes(content)
    with pytest.raises(SourceError) as exc:
        open_patch(path)
    assert str(exc.value) == f"no changes found in {path}"


def test_no_changes_on_stdin() -> None:
    with pytest.raises(SourceError) as exc:
        open_patch("-", stdin=io.BytesIO(b""))
    assert str(exc.value) == "no changes found in <stdin>"


def test_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "missing.patch"
    with pytest.raises(SourceError) as exc:
        open_patch(missing)
    message = str(exc.value)
    assert str(missing) in message and "\n" not in message


def test_series_changing_a_file_twice_gets_distinct_anchors(git_repo: GitRepo, tmp_path: Path) -> None:
    """A ``git format-patch`` series can change one file in two commits: both changes are reported,
    the second with the anchor ``item-xxxxxx-2``, and the report parses and publishes."""
    from diff_insight.render.markdown import parse_report
    from diff_insight.report import anchor_for
    from diff_insight.site import build_site

    git_repo.write("docs/a.md", "# A\n\nOne.\n")
    git_repo.commit("c1")
    git_repo.write("docs/a.md", "# A\n\nOne, edited.\n")
    git_repo.commit("c2")
    git_repo.write("docs/a.md", "# A\n\nOne, edited twice.\n")
    git_repo.commit("c3")
    series = tmp_path / "series.patch"
    series.write_text(git_repo.git("format-patch", "--stdout", "HEAD~2"), encoding="utf-8")
    out = tmp_path / "out"
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "diff_insight",
            "report",
            "--patch",
            str(series),
            "--out-dir",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    (report,) = list(out.rglob("*.md"))
    parsed = parse_report(report.read_text(encoding="utf-8"))
    base = anchor_for("docs/a.md")
    assert [(f.path, f.anchor) for f in parsed.files] == [("docs/a.md", base), ("docs/a.md", f"{base}-2")]
    assert "edited twice" in parsed.files[1].diff and "edited twice" not in parsed.files[0].diff
    summary = build_site(out / "reports", tmp_path / "site")
    assert summary.reports == 1
    page = next((tmp_path / "site").rglob("reports/*/all.html")).read_text(encoding="utf-8")
    assert f'id="{base}"' in page and f'id="{base}-2"' in page
