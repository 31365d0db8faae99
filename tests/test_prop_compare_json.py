"""Properties of the compare-JSON reader: valid documents come back file by file with counts that
agree with their patches; any other input (arbitrary JSON, broken documents, random bytes) is a
one-line SourceError, never another exception."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.strategies import compare_document, json_values, prop

from diff_insight.errors import SourceError
from diff_insight.model import Status
from diff_insight.sources.compare_json import open_compare_json
from diff_insight.sources.diffparse import count_changes


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="prop-compare-") as d:
        yield Path(d)


def read_compare(workdir: Path, raw: bytes) -> Any:
    """Read ``raw`` as a compare file: the result, or the SourceError (checked to be one line)."""
    f = workdir / "compare.json"
    f.write_bytes(raw)
    try:
        return open_compare_json(f)
    except SourceError as exc:
        msg = str(exc)
        assert msg and len(msg.splitlines()) == 1, msg
        assert msg.startswith(str(f))
        return exc


@prop(3)
@given(compare_document())
def test_valid_documents_read_back(workdir: Path, doc: dict[str, Any]) -> None:
    check_valid_document(workdir, doc)


def check_valid_document(workdir: Path, doc: dict[str, Any]) -> None:
    """A valid document reads back file by file; counts agree with the patch when there is one."""
    result = read_compare(workdir, json.dumps(doc, ensure_ascii=bool(len(doc) % 2)).encode())
    assert not isinstance(result, SourceError), result
    changeset, reader = result
    assert len(changeset.files) == len(doc["files"])
    for f, entry in zip(changeset.files, doc["files"], strict=True):
        assert f.path == entry["filename"]
        assert f.status == Status(entry["status"])
        assert (f.additions, f.deletions, f.changes) == (
            entry["additions"],
            entry["deletions"],
            entry["changes"],
        )
        assert f.patch == entry.get("patch")
        if f.patch is not None:
            assert count_changes(f.patch) == (f.additions, f.deletions)
            assert not f.binary
        if f.status in (Status.RENAMED, Status.COPIED):
            assert f.previous_path == entry.get("previous_filename")
        else:
            assert f.previous_path is None
        assert reader.read(f, "new") is None
    if changeset.head_time is not None:
        assert changeset.head_time.utcoffset() is not None
    if doc.get("commits"):
        assert changeset.head == doc["commits"][-1]["sha"]


@prop(3)
@given(json_values)
@example({"files": [{"filename": "", "status": "added", "additions": 0, "deletions": 0}]})
@example({"files": [{"filename": "a", "status": "added", "additions": -1, "deletions": 0}]})
@example({"files": [{"filename": "a", "status": "moved", "additions": 1, "deletions": 0}]})
@example({"files": [], "commits": [{"sha": "x", "commit": {"committer": {"date": "2025-13-01T00:00:00Z"}}}]})
@example(
    {"files": [], "commits": [{"sha": "x", "commit": {"committer": {"date": "2025-01-01T00:00:00+24:00"}}}]}
)
@example(
    {"files": [], "commits": [{"sha": "x", "commit": {"committer": {"date": "9999-12-31T23:59:59-23:59"}}}]}
)
@example({"files": [], "commits": []})
@example({"files": {"a": 1}})
@example({"files": [{"filename": "a\nb", "status": "added", "additions": 10**30, "deletions": 0}]})
def test_arbitrary_json_is_read_or_rejected(workdir: Path, value: Any) -> None:
    read_compare(workdir, json.dumps(value).encode())


@st.composite
def broken_document(draw: st.DrawFn) -> Any:
    """A valid document with one part replaced by a random JSON value, or a key dropped."""
    doc = draw(compare_document())
    target: Any = doc
    path: list[Any] = []
    while isinstance(target, (dict, list)) and target and draw(st.booleans()):
        key = draw(
            st.sampled_from(sorted(target)) if isinstance(target, dict) else st.integers(0, len(target) - 1)
        )
        path.append(key)
        target = target[key]
    if not path:
        return draw(json_values)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return doc


@prop(3)
@given(broken_document())
def test_broken_documents_are_read_or_rejected(workdir: Path, doc: Any) -> None:
    read_compare(workdir, json.dumps(doc).encode())


@prop(2)
@given(st.binary(max_size=300))
@example(b"[" * 100_000)
@example(b'{"files": [' + b"[" * 5000)
@example(b"\xef\xbb\xbf{}")
@example(b'{"files": [], "files": 1}')
@example(b'{"files": "\\ud800"}')
@example(b"\xff\xfe{\x00}\x00")
def test_arbitrary_bytes_are_rejected_in_one_line(workdir: Path, raw: bytes) -> None:
    read_compare(workdir, raw)


@prop(1)
@given(compare_document(), st.integers(1, 50))
def test_truncated_documents_are_rejected(workdir: Path, doc: dict[str, Any], cut: int) -> None:
    raw = json.dumps(doc).encode()
    result = read_compare(workdir, raw[: max(0, len(raw) - cut)])
    assert isinstance(result, SourceError)
