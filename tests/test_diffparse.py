"""The unified-diff parser: headers, quoting, hunk boundaries, counts."""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.gitrepo import GitRepo

from diff_insight.model import Status
from diff_insight.sources.diffparse import (
    FileDiff,
    count_changes,
    iter_file_diffs,
    parse_diff,
    unquote_c_path,
)


def only(diffs: list[FileDiff]) -> FileDiff:
    assert len(diffs) == 1, diffs
    return diffs[0]


def from_first_hunk(text: str) -> str:
    """What a file section's ``patch`` should be: from the first ``@@`` on, minus the final newline."""
    start = text.index("@@")
    body = text[start:]
    return body[:-1] if body.endswith("\n") else body


SIMPLE = """\
diff --git a/docs/a.md b/docs/a.md
index 1111111..2222222 100644
--- a/docs/a.md
+++ b/docs/a.md
@@ -1,3 +1,3 @@ heading
 one
-two
+TWO
 three
@@ -10 +10,2 @@
-ten
+ten!
+eleven
"""


def test_simple_modification() -> None:
    d = only(parse_diff(SIMPLE))
    assert d.path == "docs/a.md"
    assert d.previous_path is None
    assert d.status is Status.MODIFIED
    assert not d.binary
    assert d.patch == from_first_hunk(SIMPLE)
    assert (d.additions, d.deletions) == (3, 2)
    assert d.old_mode == d.new_mode == "100644"


def test_bytes_and_text_input_agree() -> None:
    assert parse_diff(SIMPLE) == parse_diff(SIMPLE.encode())


def test_extended_headers() -> None:
    text = """\
diff --git a/new.md b/new.md
new file mode 100644
index 0000000..e69de29
--- /dev/null
+++ b/new.md
@@ -0,0 +1,2 @@
+hello
+world
diff --git a/gone.md b/gone.md
deleted file mode 100644
index e69de29..0000000
--- a/gone.md
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/old name.md b/new name.md
similarity index 100%
rename from old name.md
rename to new name.md
diff --git a/x.md b/y.md
similarity index 80%
rename from x.md
rename to y.md
index 1111111..2222222 100644
--- a/x.md
+++ b/y.md
@@ -1,2 +1,2 @@
 same
-old
+new
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/img.png b/img.png
index 1111111..2222222 100644
Binary files a/img.png and b/img.png differ
diff --git a/lit.bin b/lit.bin
new file mode 100644
index 0000000000000000000000000000000000000000..0b2f1f0a0c1e5b0e3f8c8b5d6c1a5d3c8b7a6f5e
GIT binary patch
literal 12
TcmZ?wbaHp|^>OzLaSsU~2|5d4

literal 0
HcmV?d00001

diff --git a/link b/link
new file mode 120000
index 0000000..1de5659
--- /dev/null
+++ b/link
@@ -0,0 +1 @@
+target
\\ No newline at end of file
"""
    diffs = parse_diff(text)
    summary = [(d.path, d.previous_path, d.status, d.binary, d.additions, d.deletions) for d in diffs]
    assert summary == [
        ("new.md", None, Status.ADDED, False, 2, 0),
        ("gone.md", None, Status.REMOVED, False, 0, 1),
        ("new name.md", "old name.md", Status.RENAMED, False, 0, 0),
        ("y.md", "x.md", Status.RENAMED, False, 1, 1),
        ("run.sh", None, Status.CHANGED, False, 0, 0),
        ("img.png", None, Status.MODIFIED, True, 0, 0),
        ("lit.bin", None, Status.ADDED, True, 0, 0),
        ("link", None, Status.ADDED, False, 1, 0),
    ]
    by_path = {d.path: d for d in diffs}
    assert by_path["new name.md"].patch is None
    assert by_path["img.png"].patch is None
    assert by_path["lit.bin"].patch is None
    assert by_path["run.sh"].patch is None
    assert (by_path["run.sh"].old_mode, by_path["run.sh"].new_mode) == ("100644", "100755")
    assert by_path["link"].new_mode == "120000"
    assert by_path["link"].patch == "@@ -0,0 +1 @@\n+target\n\\ No newline at end of file"


@pytest.mark.parametrize(
    ("quoted", "expected"),
    [
        (b'"a/f\\303\\251 \\"q\\".md"', 'a/fé "q".md'.encode()),
        (b'"tab\\there"', b"tab\there"),
        (b'"new\\nline"', b"new\nline"),
        (b'"back\\\\slash"', b"back\\slash"),
        (b'"\\a\\b\\f\\r\\v"', b"\a\b\f\r\v"),
        (b"plain/path.md", b"plain/path.md"),
        (b'"', b'"'),
    ],
)
def test_unquote_c_path(quoted: bytes, expected: bytes) -> None:
    assert unquote_c_path(quoted) == expected


def test_quoted_paths_in_headers() -> None:
    text = """\
diff --git "a/f\\303\\251 \\"q\\".md" "b/f\\303\\251 \\"q\\".md"
index 1111111..2222222 100644
--- "a/f\\303\\251 \\"q\\".md"
+++ "b/f\\303\\251 \\"q\\".md"
@@ -1 +1 @@
-a
+b
diff --git "a/tab\\tname" "b/tab\\tname"
old mode 100644
new mode 100755
diff --git a/plain.md "b/new\\nline.md"
similarity index 100%
rename from plain.md
rename to "new\\nline.md"
"""
    diffs = parse_diff(text)
    assert [(d.path, d.previous_path, d.status) for d in diffs] == [
        ('fé "q".md', None, Status.MODIFIED),
        ("tab\tname", None, Status.CHANGED),
        ("new\nline.md", "plain.md", Status.RENAMED),
    ]


def test_paths_with_spaces_and_trailing_tab() -> None:
    # git appends a tab to ---/+++ lines whose name contains a space
    text = "diff --git a/a b/c.md b/a b/c.md\n--- a/a b/c.md\t\n+++ b/a b/c.md\t\n@@ -1 +1 @@\n-x\n+y\n"
    d = only(parse_diff(text))
    assert d.path == "a b/c.md"


def test_same_name_with_b_slash_inside_mode_change() -> None:
    # no ---/+++ lines: the path must come from the (symmetric) diff --git line
    text = "diff --git a/x b/y b/x b/y\nold mode 100644\nnew mode 100755\n"
    d = only(parse_diff(text))
    assert (d.path, d.status) == ("x b/y", Status.CHANGED)


def test_header_lookalikes_inside_hunks() -> None:
    text = """\
diff --git a/tricky.md b/tricky.md
index 1111111..2222222 100644
--- a/tricky.md
+++ b/tricky.md
@@ -1,7 +1,7 @@
 intro
---- a/not-a-header
++++ b/not-a-header
--- a/deleted-line-that-looks-like-a-header
+++ b/added-line-that-looks-like-a-header
-diff --git a/fake b/fake
+diff --git a/fake2 b/fake2
  @@ -1 +1 @@
+--- keep
--- signature-like
 end
diff --git a/next.md b/next.md
--- a/next.md
+++ b/next.md
@@ -1 +1 @@
-n
+N
"""
    diffs = parse_diff(text)
    assert [d.path for d in diffs] == ["tricky.md", "next.md"]
    tricky = diffs[0]
    assert (tricky.additions, tricky.deletions) == (4, 4)
    assert tricky.patch == from_first_hunk(text.split("diff --git a/next.md")[0])
    assert "diff --git a/fake2 b/fake2" in (tricky.patch or "")
    assert (diffs[1].additions, diffs[1].deletions) == (1, 1)


def test_no_newline_markers_are_kept() -> None:
    text = (
        "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
        "+c\n\\ No newline at end of file\n"
    )
    d = only(parse_diff(text))
    assert d.patch == from_first_hunk(text)
    assert (d.additions, d.deletions) == (1, 1)


def test_crlf_content_is_kept() -> None:
    text = "diff --git a/w.md b/w.md\n--- a/w.md\n+++ b/w.md\n@@ -1,2 +1,2 @@\n keep\r\n-old\r\n+new\r\n"
    d = only(parse_diff(text))
    assert d.patch == "@@ -1,2 +1,2 @@\n keep\r\n-old\r\n+new\r"
    assert (d.additions, d.deletions) == (1, 1)


def test_patch_saved_with_crlf_line_ends() -> None:
    text = SIMPLE.replace("\n", "\r\n")
    d = only(parse_diff(text))
    assert d.path == "docs/a.md"
    assert (d.additions, d.deletions) == (3, 2)
    assert d.patch is not None and d.patch.endswith("+eleven\r")


def test_very_long_lines() -> None:
    long_old = "x" * 2_000_000
    long_new = "y" * 3_000_000
    text = f"diff --git a/l b/l\n--- a/l\n+++ b/l\n@@ -1 +1 @@\n-{long_old}\n+{long_new}\n"
    d = only(parse_diff(text))
    assert d.patch == from_first_hunk(text)
    assert (d.additions, d.deletions) == (1, 1)


def test_invalid_utf8_is_replaced_and_flagged() -> None:
    data = b"diff --git a/b.md b/b.md\n--- a/b.md\n+++ b/b.md\n@@ -1 +1 @@\n-ok\n+bad \xff\xfe here\n"
    d = only(parse_diff(data))
    assert d.encoding_replaced
    assert d.patch is not None and "bad \ufffd\ufffd here" in d.patch
    clean = only(parse_diff(SIMPLE))
    assert not clean.encoding_replaced


def test_plain_diff_u_output(tmp_path: Path) -> None:
    old = tmp_path / "old"
    new = tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "a.md").write_text("one\ntwo\nthree\n")
    (new / "a.md").write_text("one\n2\nthree\nfour\n")
    (old / "b.md").write_text("same\n--- dashes\n")
    (new / "b.md").write_text("same\n+++ plusses\n")
    proc = subprocess.run(
        ["diff", "-ru", "old", "new"], cwd=tmp_path, capture_output=True, check=False, env={"LC_ALL": "C"}
    )
    assert proc.returncode == 1, proc.stderr
    diffs = parse_diff(proc.stdout)
    assert [(d.path, d.status, d.additions, d.deletions) for d in diffs] == [
        ("a.md", Status.MODIFIED, 2, 1),
        ("b.md", Status.MODIFIED, 1, 1),
    ]


def test_plain_diff_new_file_against_dev_null() -> None:
    text = "--- /dev/null\n+++ b/fresh.md\t2024-01-01 00:00:00\n@@ -0,0 +1,2 @@\n+a\n+b\n"
    d = only(parse_diff(text))
    assert (d.path, d.status, d.additions) == ("fresh.md", Status.ADDED, 2)


def test_format_patch_mail_parts_are_not_content() -> None:
    mail = """\
From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001
From: A <a@example.com>
Date: Mon, 1 Jan 2024 12:00:00 +0000
Subject: [PATCH] change

Body text.
---
 f.md | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/f.md b/f.md
index 1111111..2222222 100644
--- a/f.md
+++ b/f.md
@@ -1 +1 @@
-a
+b
--\x20
2.39.5

"""
    d = only(parse_diff(mail))
    assert d.patch == "@@ -1 +1 @@\n-a\n+b"


def test_no_diff_gives_nothing() -> None:
    assert parse_diff("") == []
    assert parse_diff("just some text\n--- not followed by plus\n") == []


def test_streaming_iterator_yields_sections_lazily() -> None:
    seen: list[bytes] = []

    def lines() -> Iterator[bytes]:
        for line in SIMPLE.encode().splitlines(keepends=True) * 2:
            seen.append(line)
            yield line

    it = iter_file_diffs(lines())
    first = next(it)
    assert first.path == "docs/a.md"
    # the first section is complete once the second header is read, not at the end of the input
    assert len(seen) < 2 * len(SIMPLE.splitlines())
    assert next(it).path == "docs/a.md"


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ("@@ -1 +1 @@\n-a\n+b", (1, 1)),
        ("@@ -1,3 +1,2 @@\n a\n---- x\n b\n@@ -9,0 +9,2 @@\n+++ y\n+z\n", (2, 1)),
        ("@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n\\ No newline at end of file", (1, 1)),
        ("@@ -0,0 +1 @@\n+only\ntrailing junk\n+not counted\n", (1, 0)),
        ("", (0, 0)),
    ],
)
def test_count_changes(patch: str, expected: tuple[int, int]) -> None:
    assert count_changes(patch) == expected


def test_git_output_round_trip(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "line\n" * 20)
    git_repo.write("b.md", "--- x\n+++ y\ndiff --git a/q b/q\n")
    base = git_repo.commit()
    git_repo.write("a.md", "line\n" * 5 + "changed\n" + "line\n" * 14 + "more\n")
    git_repo.write("b.md", "+++ y\n--- x\ndiff --git a/q b/q\n@@ -1 +1 @@\n")
    head = git_repo.commit()
    out = git_repo.run("diff", base, head)
    numstat = git_repo.git("diff", "--numstat", base, head).splitlines()
    expected = {line.split("\t")[2]: (int(line.split("\t")[0]), int(line.split("\t")[1])) for line in numstat}
    diffs = parse_diff(out)
    assert {d.path: (d.additions, d.deletions) for d in diffs} == expected
    for d in diffs:
        single = git_repo.git("diff", base, head, "--", d.path)
        assert d.patch == from_first_hunk(single)
        assert count_changes(d.patch) == (d.additions, d.deletions)


_LINE = st.sampled_from(
    [
        "a",
        "b",
        "c",
        "--- a/x",
        "+++ b/x",
        "-- a/x",
        "++ b/x",
        "-- ",
        "diff --git a/x b/x",
        "@@ -1 +1 @@",
        "-",
        "+",
        " ",
        "\\ x",
        "",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_LINE, max_size=30), st.lists(_LINE, max_size=30))
def test_counts_match_difflib(old: list[str], new: list[str]) -> None:
    old_lines = [s + "\n" for s in old]
    new_lines = [s + "\n" for s in new]
    body = "".join(difflib.unified_diff(old_lines, new_lines, "a/f", "b/f", n=2))
    expected_add = expected_del = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, old_lines, new_lines, autojunk=False
    ).get_opcodes():
        if tag in ("replace", "delete"):
            expected_del += i2 - i1
        if tag in ("replace", "insert"):
            expected_add += j2 - j1
    text = (
        "diff --git a/f b/f\n" + body if body else ""
    ) + "diff --git a/g b/g\n--- a/g\n+++ b/g\n@@ -1 +1 @@\n-1\n+2\n"
    diffs = parse_diff(text)
    if body:
        first, second = diffs
        assert first.path == "f"
        assert (first.additions, first.deletions) == (expected_add, expected_del)
        assert first.patch == from_first_hunk(body)
        assert count_changes(first.patch) == (expected_add, expected_del)
    else:
        (second,) = diffs
    assert (second.path, second.additions, second.deletions) == ("g", 1, 1)


def test_blank_context_lines_without_leading_space() -> None:
    # diff.suppressBlankEmpty (or a mail client) turns " \n" context lines into "\n"
    text = "diff --git a/e.md b/e.md\n--- a/e.md\n+++ b/e.md\n@@ -1,4 +1,4 @@\n a\n\n-b\n+B\n\n"
    d = only(parse_diff(text))
    assert (d.additions, d.deletions) == (1, 1)
    assert d.patch == text[text.index("@@") : -1]


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        # a context line past the new side's count ends the hunk, though the old side has one left
        ("@@ -1,2 +1,1 @@\n c\n c\n-x\n", "@@ -1,2 +1,1 @@\n c"),
        # and past the old side's count
        ("@@ -1,1 +1,2 @@\n c\n c\n+x\n", "@@ -1,1 +1,2 @@\n c"),
        # a removed line past the old side's count, an added one past the new side's
        ("@@ -1,1 +1,2 @@\n-a\n-b\n+c\n", "@@ -1,1 +1,2 @@\n-a"),
        ("@@ -1,2 +1,1 @@\n+a\n+b\n-c\n", "@@ -1,2 +1,1 @@\n+a"),
        # lines after a complete hunk are not its content, but a marker right after it is
        (
            "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n c\n",
            "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file",
        ),
        # a second hunk goes on counting
        (
            "@@ -1 +1 @@\n-a\n+b\n@@ -5,2 +5,2 @@\n x\n-c\n+d\n y\n",
            "@@ -1 +1 @@\n-a\n+b\n@@ -5,2 +5,2 @@\n x\n-c\n+d",
        ),
    ],
)
def test_hunks_end_where_their_counts_end(body: str, kept: str) -> None:
    """A hunk holds exactly the lines its header counts: a patch that says more is cut there, and
    the counts are those of the lines kept."""
    d = only(parse_diff("diff --git a/x b/x\n--- a/x\n+++ b/x\n" + body))
    assert d.patch == kept
    assert (d.additions, d.deletions) == (kept.count("\n+"), kept.count("\n-"))
