"""Properties of the unified-diff parser (and the patch-file source built on it): for diffs generated
from random texts the counts, paths, statuses and patches come back exactly; for any input it never
raises, and its counts always agree with the patch it keeps."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from tests.gitrepo import GitRepo, numstat
from tests.strategies import (
    FileSection,
    file_lines,
    file_path,
    git_diff,
    git_quote,
    make_hunks,
    prop,
)

from diff_insight.errors import SourceError
from diff_insight.model import EntryKind
from diff_insight.sources.diffparse import count_changes, iter_file_diffs, parse_diff, unquote_c_path
from diff_insight.sources.patchfile import open_patch


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="prop-diffparse-") as d:
        yield Path(d)


def _expect(sections: list[FileSection]) -> list[tuple[object, ...]]:
    return [
        (s.path, s.previous_path, str(s.status), s.binary, s.additions, s.deletions, s.patch)
        for s in sections
    ]


@prop(3)
@given(git_diff())
def test_generated_diffs_parse_back_exactly(
    workdir: Path, generated: tuple[bytes, list[FileSection]]
) -> None:
    data, sections = generated
    diffs = parse_diff(data)
    got = [
        (d.path, d.previous_path, str(d.status), d.binary, d.additions, d.deletions, d.patch) for d in diffs
    ]
    assert got == _expect(sections)
    for d in diffs:
        if d.patch is not None:
            # the kept patch is complete: recounting it gives the same numbers
            assert count_changes(d.patch) == (d.additions, d.deletions)
            assert d.encoding_replaced == ("\ufffd" in d.patch or "\ufffd" in d.path)
    # the patch-file source (file on disk, streamed) agrees with the in-memory parser
    f = workdir / "in.patch"
    f.write_bytes(data)
    changeset, _ = open_patch(f)
    assert [(c.path, c.status, c.additions, c.deletions, c.patch) for c in changeset.files] == [
        (d.path, d.status, d.additions, d.deletions, d.patch) for d in diffs
    ]
    assert all(c.kind is EntryKind.FILE for c in changeset.files)
    # text input that is valid UTF-8 parses the same as bytes
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert parse_diff(text) == diffs


@prop(1)
@given(git_diff())
def test_crlf_saved_diffs_keep_paths_and_counts(generated: tuple[bytes, list[FileSection]]) -> None:
    data, sections = generated
    crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    diffs = parse_diff(crlf)
    # content lines keep their \r; headers must not: paths, statuses and counts are unchanged
    lf_sections = parse_diff(data.replace(b"\r\n", b"\n"))
    assert [(d.path, d.previous_path, d.status, d.additions, d.deletions) for d in diffs] == [
        (d.path, d.previous_path, d.status, d.additions, d.deletions) for d in lf_sections
    ]
    assert [d.path for d in diffs] == [s.path for s in sections]


@prop(1)
@given(file_lines(), file_lines(), st.integers(0, 4))
def test_counts_equal_plus_and_minus_lines(old: list[bytes], new: list[bytes], context: int) -> None:
    h = make_hunks(old, new, context=context)
    patch = h.text.decode("utf-8", errors="replace")
    assert count_changes(patch) == (h.additions, h.deletions)
    plus = sum(1 for ln in h.text.split(b"\n") if ln.startswith(b"+"))
    minus = sum(1 for ln in h.text.split(b"\n") if ln.startswith(b"-"))
    assert (h.additions, h.deletions) == (plus, minus)


@prop(2)
@given(st.binary(max_size=2000))
@example(b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n\\ c\n")
@example(b"--- a\n+++ b\n@@ -0,0 +1,99999999999999999999 @@\n+x\n")
@example(b'diff --git "a/\\\n--- "\n+++ "\\')
@example(b"diff --git \n--- /dev/null\n+++ /dev/null\n@@ -1 +1 @@\n-a\n+b\n")
def test_any_bytes_parse_without_error(data: bytes) -> None:
    check_any_diff(data)


def check_any_diff(data: bytes) -> None:
    """What holds for any input: no exception, determinism, counts equal to the kept patch's."""
    diffs = parse_diff(data)
    assert parse_diff(data) == diffs  # deterministic
    for d in diffs:
        if d.patch is not None:
            assert d.patch.startswith("@@")
            assert count_changes(d.patch) == (d.additions, d.deletions)
        else:
            assert (d.additions, d.deletions) == (0, 0)
    # streaming line by line gives the same sections
    assert list(iter_file_diffs(io.BytesIO(data))) == diffs


_DIFFISH = st.lists(
    st.sampled_from(
        [
            b"diff --git a/x b/x\n",
            b'diff --git "a/q\\"" "b/q\\""\n',
            b"--- a/x\n",
            b"+++ b/x\n",
            b"--- /dev/null\n",
            b"+++ /dev/null\n",
            b"@@ -1 +1 @@\n",
            b"@@ -1,3 +1,0 @@\n",
            b"@@ -0,0 +1,2 @@ ctx\n",
            b"-a\n",
            b"+b\n",
            b" c\n",
            b"\n",
            b"\r\n",
            b"\\ No newline at end of file\n",
            b"rename from x\n",
            b"rename to y\n",
            b"new file mode 100644\n",
            b"deleted file mode 100644\n",
            b"old mode 100644\n",
            b"new mode 100755\n",
            b"Binary files a/x and b/x differ\n",
            b"GIT binary patch\n",
            b"index 0000000..1111111 120000\n",
            b"copy from a\n",
            b"copy to b\n",
            b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n",
            b"\xff\xfe\n",
        ]
    ),
    max_size=40,
).map(b"".join)


@prop(3)
@given(_DIFFISH)
@example(b"diff --git a/x b/x\n--- /dev/null\n+++ /dev/null\nrename to y\ndeleted file mode 100644\n")
def test_diff_shaped_noise_parses_consistently(data: bytes) -> None:
    check_any_diff(data)


@prop(1)
@given(st.binary(max_size=200))
def test_git_quoting_round_trips(raw: bytes) -> None:
    assert unquote_c_path(git_quote(raw)) == raw


@prop(1)
@given(st.binary(max_size=500))
def test_patch_source_raises_only_source_error(workdir: Path, data: bytes) -> None:
    f = workdir / "noise.patch"
    f.write_bytes(data)
    try:
        changeset, _ = open_patch(f)
    except SourceError as exc:
        assert "\n" not in str(exc)
        return
    assert len(changeset.files) == len(parse_diff(data))


# --- against real git -------------------------------------------------------------------------


def _safe_git_path(path: str) -> bool:
    parts = path.split("/")
    return all(p and p.lower() != ".git" and p not in (".", "..") for p in parts)


@prop(0.5)
@given(
    st.lists(
        st.tuples(file_path((".md", ".txt")).filter(_safe_git_path), file_lines(), file_lines()),
        min_size=1,
        max_size=3,
        unique_by=lambda t: t[0],
    )
)
def test_real_git_output_matches_numstat(files: list[tuple[str, list[bytes], list[bytes]]]) -> None:
    paths = [p for p, _, _ in files]
    # one path may not be a directory prefix of another
    assume(not any(a != b and b.startswith(a + "/") for a in paths for b in paths))
    with tempfile.TemporaryDirectory(prefix="prop-git-") as tmp:
        repo = GitRepo(Path(tmp))
        for p, old, _ in files:
            repo.write(p, b"".join(old))
        repo.write(".keep", "x")
        base = repo.commit()
        for p, _, new in files:
            repo.write(p, b"".join(new))
        repo.write(".keep", "y")
        head = repo.commit()
        expected = numstat(repo, base, head, renames=False)
        raw = repo.run("diff", "--no-renames", base, head)
    diffs = parse_diff(raw)
    assert sorted(d.path for d in diffs) == sorted(expected)
    for d in diffs:
        counts = expected[d.path]
        if counts is None:
            assert d.binary and d.patch is None
        else:
            assert (d.additions, d.deletions) == counts
            if d.patch is not None:
                assert count_changes(d.patch) == counts


@prop(1)
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "Mon, 1 Jan 2024 12:00:00 +9999",
                "Mon, 1 Jan 10000 12:00:00 +0000",
                "Mon, 31 Feb 2024 12:00:00 +0000",
                "1 Jan 2024 25:61:61 -2400",
                "Tue, 2 Jan 2024 00:00:00 -0000",
                "\x00",
            ]
        ),
    )
)
def test_mail_date_headers_never_fail(workdir: Path, date_header: str) -> None:
    mail = (
        "From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
        f"Date: {date_header.replace(chr(10), ' ').replace(chr(13), ' ')}\nSubject: x\n\n"
        "diff --git a/f.md b/f.md\n--- a/f.md\n+++ b/f.md\n@@ -1 +1 @@\n-a\n+b\n"
    )
    f = workdir / "mail.patch"
    f.write_bytes(mail.encode("utf-8", "surrogatepass"))
    changeset, _ = open_patch(f)
    assert changeset.head == "0123456789abcdef0123456789abcdef01234567"
    assert changeset.head_time is None or changeset.head_time.utcoffset() is not None
    assert [(c.path, c.additions, c.deletions) for c in changeset.files] == [("f.md", 1, 1)]
