"""The compare-JSON source: GitHub's compare response saved to a file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from diff_insight.errors import SourceError
from diff_insight.model import NoContent, Status
from diff_insight.sources.compare_json import open_compare_json, parse_compare_permalink

PATCH_MD = "@@ -1,3 +1,3 @@\n # Title\n-Old line.\n+New line.\n \\ No newline"


def sample() -> dict[str, Any]:
    """A compare response with one file of each interesting kind."""
    return {
        "url": "https://api.github.com/repos/Owner/docs/compare/aaa...bbb",
        "html_url": "https://github.com/Owner/docs/compare/main...feature",
        "permalink_url": "https://github.com/Owner/docs/compare/Owner:1111111...Owner:2222222",
        "status": "ahead",
        "base_commit": {"sha": "1" * 40, "commit": {"committer": {"date": "2025-01-01T00:00:00Z"}}},
        "merge_base_commit": {"sha": "3" * 40},
        "commits": [
            {"sha": "4" * 40, "commit": {"committer": {"date": "2025-04-22T08:00:00Z"}}},
            {"sha": "2" * 40, "commit": {"committer": {"date": "2025-04-23T17:30:00+02:00"}}},
        ],
        "files": [
            {
                "sha": "a" * 40,
                "filename": "docs/page.md",
                "status": "modified",
                "additions": 1,
                "deletions": 1,
                "changes": 2,
                "blob_url": "https://github.com/Owner/docs/blob/2222222/docs/page.md",
                "raw_url": "https://github.com/Owner/docs/raw/2222222/docs/page.md",
                "patch": PATCH_MD,
            },
            {
                "filename": "docs/new-name.md",
                "previous_filename": "docs/old-name.md",
                "status": "renamed",
                "additions": 0,
                "deletions": 0,
                "changes": 0,
            },
            {
                "filename": "docs/gone.md",
                "status": "removed",
                "additions": 0,
                "deletions": 3,
                "changes": 3,
                "patch": "@@ -1,3 +0,0 @@\n-a\n-b\n-c",
            },
            {
                "filename": "media/diagram.PNG",
                "status": "modified",
                "additions": 0,
                "deletions": 0,
                "changes": 0,
            },
            {"filename": "media/new.webp", "status": "added", "additions": 0, "deletions": 0, "changes": 0},
            {
                "filename": "docs/huge.md",
                "status": "modified",
                "additions": 4000,
                "deletions": 12,
                "changes": 4012,
            },
            {
                "filename": "docs/copy.md",
                "previous_filename": "docs/page.md",
                "status": "copied",
                "additions": 0,
                "deletions": 0,
            },
            {"filename": "run.sh", "status": "changed", "additions": 0, "deletions": 0, "changes": 0},
        ],
    }


def write(tmp_path: Path, data: object, name: str = "compare.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_sample_files(tmp_path: Path) -> None:
    data = sample()
    change_set, reader = open_compare_json(write(tmp_path, data))
    assert isinstance(reader, NoContent)
    files = {f.path: f for f in change_set}
    assert [f.path for f in change_set] == [f["filename"] for f in data["files"]]
    for raw in data["files"]:
        f = files[raw["filename"]]
        assert f.status is Status(raw["status"])
        assert (f.additions, f.deletions) == (raw["additions"], raw["deletions"])
        assert f.patch == raw.get("patch")
    page = files["docs/page.md"]
    assert page.blob_url == data["files"][0]["blob_url"]
    assert page.new_id == data["files"][0]["sha"]
    assert not page.binary
    assert files["docs/new-name.md"].previous_path == "docs/old-name.md"
    assert files["docs/copy.md"].previous_path == "docs/page.md"
    assert files["docs/gone.md"].previous_path is None
    assert files["media/diagram.PNG"].binary and files["media/diagram.PNG"].patch is None
    assert files["media/new.webp"].binary
    huge = files["docs/huge.md"]
    assert huge.patch is None and not huge.binary and huge.changes == 4012
    assert not files["docs/new-name.md"].binary
    assert files["run.sh"].status is Status.CHANGED


def test_sample_metadata(tmp_path: Path) -> None:
    data = sample()
    change_set, _ = open_compare_json(write(tmp_path, data))
    assert change_set.source == "compare-json"
    assert change_set.repository.slug == "Owner/docs"
    assert change_set.repository.url == "https://github.com/Owner/docs"
    assert change_set.repository.local_path is None
    assert change_set.permalink == data["permalink_url"]
    assert change_set.base == data["merge_base_commit"]["sha"]
    assert change_set.head == data["commits"][-1]["sha"]
    assert change_set.head_time == datetime(2025, 4, 23, 17, 30, tzinfo=timezone(timedelta(hours=2)))


def test_base_commit_when_no_merge_base(tmp_path: Path) -> None:
    data = sample()
    del data["merge_base_commit"]
    change_set, _ = open_compare_json(write(tmp_path, data))
    assert change_set.base == data["base_commit"]["sha"]


def test_permalink_only(tmp_path: Path) -> None:
    data = {
        "permalink_url": "https://github.com/MicrosoftDocs/azure-ai-docs/compare/MicrosoftDocs:57b3ac1...MicrosoftDocs:869fffd",
        "html_url": "https://github.com/MicrosoftDocs/azure-ai-docs/compare/MicrosoftDocs:57b3ac1...MicrosoftDocs:869fffd",
        "files": [
            {
                "filename": "a.md",
                "status": "added",
                "additions": 1,
                "deletions": 0,
                "patch": "@@ -0,0 +1 @@\n+a",
            }
        ],
    }
    change_set, _ = open_compare_json(write(tmp_path, data))
    assert change_set.repository.slug == "MicrosoftDocs/azure-ai-docs"
    assert (change_set.base, change_set.head) == ("57b3ac1", "869fffd")
    assert change_set.head_time is None
    assert change_set.permalink == data["permalink_url"]


def test_html_url_fallback(tmp_path: Path) -> None:
    data = {"html_url": "https://github.com/o/r/compare/main...topic", "files": []}
    change_set, _ = open_compare_json(write(tmp_path, data))
    assert change_set.permalink == data["html_url"]
    assert change_set.repository.slug == "o/r"
    assert (change_set.base, change_set.head) == (None, None)  # branch names are not commits
    assert len(change_set) == 0


def test_no_urls(tmp_path: Path) -> None:
    change_set, _ = open_compare_json(write(tmp_path, {"files": []}))
    assert change_set.repository.slug is None and change_set.permalink is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/o/r/compare/o:abcdef1...o:1234567", ("o/r", "abcdef1", "1234567")),
        ("https://github.com/o/r.js/compare/abcdef1...1234567", ("o/r.js", "abcdef1", "1234567")),
        ("https://github.com/o/r/compare/v1.0...v2.0", ("o/r", None, None)),
        ("https://github.com/o/r/pull/1", None),
        ("https://example.com/o/r/compare/a...b", None),
        (None, None),
    ],
)
def test_parse_compare_permalink(
    url: str | None, expected: tuple[str, str | None, str | None] | None
) -> None:
    assert parse_compare_permalink(url) == expected


def test_naive_commit_date_is_utc(tmp_path: Path) -> None:
    data = {
        "commits": [{"sha": "f" * 40, "commit": {"committer": {"date": "2025-02-03T04:05:06"}}}],
        "files": [],
    }
    change_set, _ = open_compare_json(write(tmp_path, data))
    assert change_set.head_time == datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert change_set.head == "f" * 40


def one_line_error(path: Path) -> str:
    with pytest.raises(SourceError) as exc:
        open_compare_json(path)
    message = str(exc.value)
    assert "\n" not in message
    assert str(path) in message
    return message


@pytest.mark.parametrize("text", ["", "{", '{"files": [}', "not json", '{"files": []} trailing'])
def test_malformed_json(tmp_path: Path, text: str) -> None:
    message = one_line_error(write(tmp_path, text))
    assert "JSON" in message


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d["files"][1].__setitem__("additions", "3"), "files[1].additions"),
        (lambda d: d["files"][0].__setitem__("deletions", -1), "files[0].deletions"),
        (lambda d: d["files"][2].pop("filename"), "files[2].filename"),
        (lambda d: d["files"][3].__setitem__("status", "mangled"), "files[3].status"),
        (lambda d: d["files"][0].__setitem__("patch", 42), "files[0].patch"),
        (lambda d: d.__setitem__("files", {"a": 1}), "files"),
        (lambda d: d.pop("files"), "files"),
        (lambda d: d["commits"][1].__setitem__("sha", None), "commits[1].sha"),
        (
            lambda d: d["commits"][0]["commit"]["committer"].__setitem__("date", "yesterday"),
            "commits[0].commit",
        ),
    ],
)
def test_wrong_shapes(tmp_path: Path, mutate: Any, where: str) -> None:
    data = sample()
    mutate(data)
    message = one_line_error(write(tmp_path, data))
    assert where in message


def test_top_level_not_an_object(tmp_path: Path) -> None:
    message = one_line_error(write(tmp_path, [1, 2]))
    assert "object" in message


def test_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    one_line_error(missing)
    one_line_error(tmp_path)  # a directory
