"""The git source, against real repositories built with the git CLI."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.gitrepo import GitRepo, numstat

from diff_insight.errors import SourceError
from diff_insight.model import ChangeSet, EntryKind, FileChange, Status
from diff_insight.sources.diffparse import count_changes
from diff_insight.sources.git import (
    GitContentReader,
    compare_permalink,
    github_slug,
    open_git,
    strip_credentials,
)

# ---------------------------------------------------------------- helpers


def read_changes(repo: GitRepo, base: str, head: str) -> ChangeSet:
    change_set, reader = open_git(repo.path, base, head)
    reader.close()
    return change_set


def git_patch(repo: GitRepo, base: str, head: str, change: FileChange) -> str | None:
    """What ``git diff`` prints for one file, from the first ``@@`` on (without the final newline).

    A type change (file <-> symlink) is printed by git as two sections; their hunks are joined.
    """
    paths = [change.path] if change.previous_path is None else [change.previous_path, change.path]
    out = repo.run("diff", "-M", base, head, "--", *paths).decode("utf-8", "replace")
    hunks = []
    for section in out.split("\ndiff --git "):
        start = section.find("\n@@ ")
        if start != -1:
            body = section[start + 1 :]
            hunks.append(body[:-1] if body.endswith("\n") else body)
    return "\n".join(hunks) if hunks else None


def assert_matches_git(repo: GitRepo, base: str, head: str, change_set: ChangeSet) -> None:
    expected = numstat(repo, base, head)
    assert sorted(expected) == sorted(f.path for f in change_set)
    for f in change_set:
        if f.binary:
            assert expected[f.path] is None
            assert f.patch is None
            continue
        assert expected[f.path] == (f.additions, f.deletions), f.path
        assert f.patch == git_patch(repo, base, head, f), f.path
        if f.patch is not None:
            assert count_changes(f.patch) == (f.additions, f.deletions), f.path


def by_path(change_set: ChangeSet) -> dict[str, FileChange]:
    return {f.path: f for f in change_set}


# ---------------------------------------------------------------- statuses and kinds


def test_statuses_kinds_and_sizes(git_repo: GitRepo) -> None:
    png_old = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
    png_new = b"\x89PNG\r\n\x1a\n" + bytes(range(255, -1, -1)) * 5
    body = "".join(f"Line {i} of the article.\n" for i in range(30))
    git_repo.write("modified.md", "# Title\n\nOld text.\n")
    git_repo.write("removed.md", "gone\nsoon\n")
    git_repo.write("pure-rename.md", body)
    git_repo.write("edit-rename.md", body)
    git_repo.write("script.sh", "#!/bin/sh\necho hi\n")
    git_repo.write("image.png", png_old)
    git_repo.write("was-file", "plain text\n")
    git_repo.symlink("link", "modified.md")
    base = git_repo.commit("base")

    git_repo.write("modified.md", "# Title\n\nNew text.\nMore.\n")
    git_repo.remove("removed.md")
    git_repo.write("added.md", "fresh\n")
    git_repo.rename("pure-rename.md", "moved/pure-rename.md")
    git_repo.rename("edit-rename.md", "edited-rename.md")
    git_repo.write("edited-rename.md", body.replace("Line 3 ", "Line three "))
    git_repo.chmod("script.sh")
    git_repo.write("image.png", png_new)
    git_repo.write("new.png", png_old)
    git_repo.symlink("was-file", "added.md")
    git_repo.symlink("link", "added.md")
    head = git_repo.commit("head")

    cs = read_changes(git_repo, base, head)
    files = by_path(cs)
    assert {p: (f.status, f.previous_path) for p, f in files.items()} == {
        "modified.md": (Status.MODIFIED, None),
        "removed.md": (Status.REMOVED, None),
        "added.md": (Status.ADDED, None),
        "moved/pure-rename.md": (Status.RENAMED, "pure-rename.md"),
        "edited-rename.md": (Status.RENAMED, "edit-rename.md"),
        "script.sh": (Status.CHANGED, None),
        "image.png": (Status.MODIFIED, None),
        "new.png": (Status.ADDED, None),
        "was-file": (Status.CHANGED, None),
        "link": (Status.MODIFIED, None),
    }
    assert files["moved/pure-rename.md"].patch is None
    assert files["moved/pure-rename.md"].changes == 0
    assert files["edited-rename.md"].changes == 2
    assert files["script.sh"].patch is None and files["script.sh"].changes == 0

    image = files["image.png"]
    assert image.binary and image.patch is None
    assert (image.old_size, image.new_size) == (len(png_old), len(png_new))
    assert (files["new.png"].old_size, files["new.png"].new_size) == (None, len(png_old))
    assert files["new.png"].old_id is None and files["new.png"].new_id
    assert files["removed.md"].new_id is None and files["removed.md"].old_id

    assert files["link"].kind is EntryKind.SYMLINK
    assert files["link"].patch is not None and "+added.md" in files["link"].patch
    assert files["was-file"].kind is EntryKind.SYMLINK
    assert files["modified.md"].kind is EntryKind.FILE
    assert not any(f.encoding_replaced for f in cs)
    assert_matches_git(git_repo, base, head, cs)


def test_order_is_git_diff_order(git_repo: GitRepo) -> None:
    for name in ("b.md", "a/z.md", "c.md", "a.md"):
        git_repo.write(name, "1\n")
    base = git_repo.commit()
    for name in ("b.md", "a/z.md", "c.md", "a.md"):
        git_repo.write(name, "2\n")
    head = git_repo.commit()
    order = [line for line in git_repo.git("diff", "--name-only", base, head).splitlines()]
    assert [f.path for f in read_changes(git_repo, base, head)] == order


def test_submodule_entry(git_repo: GitRepo) -> None:
    git_repo.write("top.md", "top\n")
    before = git_repo.commit()
    inner = GitRepo(git_repo.path, name="sub")  # an embedded repository is recorded as a gitlink
    inner.write("x.md", "1\n")
    first = inner.commit()
    base = git_repo.commit()
    inner.write("x.md", "2\n")
    second = inner.commit()
    head = git_repo.commit()

    change_set, reader = open_git(git_repo.path, base, head)
    with reader:
        sub = by_path(change_set)["sub"]
        assert sub.kind is EntryKind.SUBMODULE
        assert sub.status is Status.MODIFIED
        assert not sub.binary
        assert (sub.old_id, sub.new_id) == (first, second)
        assert sub.patch == f"@@ -1 +1 @@\n-Subproject commit {first}\n+Subproject commit {second}"
        assert reader.read(sub, "old") is None and reader.read(sub, "new") is None
    assert_matches_git(git_repo, base, head, change_set)

    added = by_path(read_changes(git_repo, before, base))["sub"]
    assert (added.status, added.kind, added.additions) == (Status.ADDED, EntryKind.SUBMODULE, 1)


# ---------------------------------------------------------------- equality with git


def build_varied_repo(repo: GitRepo, seed: int = 7) -> tuple[str, str]:
    """About fifty files with varied content and changes; returns (base, head)."""
    rng = random.Random(seed)
    words = [
        "alpha",
        "beta",
        "--",
        "++",
        "-- a/x",
        "gamma",
        "δέλτα",
        "日本語",
        "--- x",
        "+++ y",
        "@@ -1 +1 @@",
        "",
        "  indented",
    ]

    def text(n: int) -> str:
        return "".join(" ".join(rng.choice(words) for _ in range(rng.randint(0, 6))) + "\n" for _ in range(n))

    names = [f"docs/{i:02d}-{rng.choice(['a', 'b b', 'ç'])}.md" for i in range(50)]
    contents = {name: text(rng.randint(0, 60)) for name in names}
    for name, content in contents.items():
        repo.write(name, content)
    base = repo.commit("varied base")
    for i, name in enumerate(names):
        lines = contents[name].splitlines(keepends=True)
        kind = i % 10
        if kind == 0:
            repo.remove(name)
        elif kind == 1:
            repo.rename(name, name.replace("docs/", "moved/"))
        elif kind == 2 and lines:
            repo.rename(name, name.replace(".md", ".renamed.md"))
            lines[0] = "changed first line\n"
            repo.write(name.replace(".md", ".renamed.md"), "".join(lines))
        elif kind == 3:
            repo.write(name, "".join(lines).rstrip("\n"))  # drop the final newline
        elif kind == 4:
            repo.write(name, "".join(lines).replace("\n", "\r\n"))
        elif kind == 5:
            repo.write(name, "")
        else:
            for _ in range(rng.randint(1, 8)):
                pos = rng.randrange(len(lines) + 1)
                if lines and rng.random() < 0.5:
                    del lines[min(pos, len(lines) - 1)]
                else:
                    lines.insert(pos, text(1))
            repo.write(name, "".join(lines))
    for j in range(5):
        repo.write(f"new/{j}.md", text(rng.randint(1, 20)))
    head = repo.commit("varied head")
    return base, head


def test_counts_and_patches_equal_git_for_varied_files(git_repo: GitRepo) -> None:
    base, head = build_varied_repo(git_repo)
    cs = read_changes(git_repo, base, head)
    assert len(cs) >= 50
    assert {f.status for f in cs} >= {Status.ADDED, Status.REMOVED, Status.MODIFIED, Status.RENAMED}
    assert_matches_git(git_repo, base, head, cs)


def test_header_lookalike_content(git_repo: GitRepo) -> None:
    old = "start\n-- a/tricky.md\n--- a/tricky.md\n+++ b/tricky.md\nmiddle\ndiff --git a/x b/x\n-- \nend\n"
    new = (
        "start\n+++ b/tricky.md\n++ b/tricky.md\nmiddle\n--- a/tricky.md\n@@ -1 +1 @@\n"
        "diff --git a/y b/y\nend\n"
    )
    git_repo.write("tricky.md", old)
    git_repo.write("after.md", "after\n")
    base = git_repo.commit()
    git_repo.write("tricky.md", new)
    git_repo.write("after.md", "after!\n")
    head = git_repo.commit()
    cs = read_changes(git_repo, base, head)
    assert [f.path for f in cs] == ["after.md", "tricky.md"]
    patch = by_path(cs)["tricky.md"].patch or ""
    assert "\n--- a/tricky.md\n" in patch and "\n+++ b/tricky.md\n" in patch and "\n--- \n" in patch
    assert_matches_git(git_repo, base, head, cs)


def test_crlf_files(git_repo: GitRepo) -> None:
    git_repo.write("win.md", "one\r\ntwo\r\nthree\r\n")
    base = git_repo.commit()
    git_repo.write("win.md", "one\r\n2\r\nthree\r\nfour\r\n")
    head = git_repo.commit()
    (f,) = read_changes(git_repo, base, head)
    assert f.patch is not None and "\n-two\r\n+2\r\n" in f.patch
    assert (f.additions, f.deletions) == (2, 1)
    assert_matches_git(git_repo, base, head, read_changes(git_repo, base, head))


def test_invalid_utf8_content_and_path(git_repo: GitRepo) -> None:
    git_repo.write("latin1.md", "caf\xe9\n".encode("latin-1"))
    git_repo.write("ok.md", "fine\n")
    base = git_repo.commit()
    git_repo.write("latin1.md", "caf\xe9 cr\xe8me\n".encode("latin-1"))
    git_repo.write("bad\udcff.md", "x\n")  # a file name that is not UTF-8
    head = git_repo.commit()
    change_set, reader = open_git(git_repo.path, base, head)
    with reader:
        files = by_path(change_set)
        latin = files["latin1.md"]
        assert latin.encoding_replaced
        assert latin.patch is not None and "caf\ufffd cr\ufffdme" in latin.patch
        assert (latin.additions, latin.deletions) == (1, 1)
        assert not latin.binary
        old = reader.read(latin, "old")
        assert old is not None and old.replaced and old.text == "caf\ufffd\n" and old.size == 5
        bad = files["bad\ufffd.md"]
        assert bad.encoding_replaced and bad.status is Status.ADDED
        assert "ok.md" not in files


ODD_NAMES = [
    "with space.md",
    'double "quotes".md',
    "日本語 ファイル.md",
    "-leading-dash.md",
    "new\nline.md",
    "tab\there.md",
    "back\\slash.md",
    "a b/c b/d.md",
]


def test_odd_file_names(git_repo: GitRepo) -> None:
    for name in ODD_NAMES:
        git_repo.write(name, f"{name}\nsecond line\n")
    git_repo.write("dir x/old name.md", "rename me\n" * 5)
    git_repo.write("mode only b/x.md", "mode\n")
    base = git_repo.commit()
    for name in ODD_NAMES:
        git_repo.write(name, f"{name}\nchanged line\n")
    git_repo.write("日本語/新しい 「ファイル」.md", "新\n")
    git_repo.rename("dir x/old name.md", 'dir "y"/new\nname.md')
    git_repo.chmod("mode only b/x.md")
    head = git_repo.commit()
    cs = read_changes(git_repo, base, head)
    files = by_path(cs)
    assert set(files) == {
        *ODD_NAMES,
        "日本語/新しい 「ファイル」.md",
        'dir "y"/new\nname.md',
        "mode only b/x.md",
    }
    for name in ODD_NAMES:
        assert files[name].status is Status.MODIFIED
        assert (files[name].additions, files[name].deletions) == (1, 1)
    assert files['dir "y"/new\nname.md'].previous_path == "dir x/old name.md"
    assert files["mode only b/x.md"].status is Status.CHANGED
    assert not any(f.encoding_replaced for f in cs)
    assert_matches_git(git_repo, base, head, cs)


# ---------------------------------------------------------------- size


def test_large_text_file(git_repo: GitRepo) -> None:
    lines = [
        f"{i:08d} some reasonably long line of documentation text to fill space\n" for i in range(70_000)
    ]
    git_repo.write("big.md", "".join(lines))
    base = git_repo.commit()
    for i in range(0, len(lines), 7):
        lines[i] = f"{i:08d} edited\n"
    data = "".join(lines)
    assert len(data) > 4_000_000
    git_repo.write("big.md", data)
    head = git_repo.commit()
    cs = read_changes(git_repo, base, head)
    (f,) = cs
    assert (f.additions, f.deletions) == (10_000, 10_000)
    assert_matches_git(git_repo, base, head, cs)


def test_five_megabyte_file_change(git_repo: GitRepo) -> None:
    line = "x" * 99 + "\n"
    git_repo.write("five.md", "start\n")
    base = git_repo.commit()
    git_repo.write("five.md", "start\n" + line * 50_000)
    head = git_repo.commit()
    change_set, reader = open_git(git_repo.path, base, head, max_bytes=1_000_000)
    with reader:
        (f,) = change_set
        assert f.new_size is not None and f.new_size >= 5_000_000
        assert (f.additions, f.deletions) == (50_000, 0)
        assert f.patch is not None and len(f.patch) > 5_000_000
        assert f.patch == git_patch(git_repo, base, head, f)
        assert reader.read(f, "new") is None  # over max_bytes
        old = reader.read(f, "old")
        assert old is not None and old.text == "start\n"


def test_thousands_of_files(git_repo: GitRepo) -> None:
    n = 3000
    base = git_repo.import_commit({f"d{i % 30}/f{i}.md": f"file {i}\nsame\n" for i in range(n)})
    head = git_repo.import_commit(
        {
            f"d{i % 30}/f{i}.md": f"file {i}\nchanged {i}\nsame\n" if i % 2 else "other\nsame\n"
            for i in range(n)
        }
    )
    started = time.monotonic()
    change_set, reader = open_git(git_repo.path, base, head)
    with reader:
        assert len(change_set) == n
        expected = numstat(git_repo, base, head)
        assert {f.path: (f.additions, f.deletions) for f in change_set} == expected
        texts = [reader.read(f, "new") for f in change_set]
        assert all(t is not None for t in texts)
        assert texts[0] is not None and texts[0].text.endswith("same\n")
    assert time.monotonic() - started < 20


# ---------------------------------------------------------------- content reader


def test_content_reader(git_repo: GitRepo) -> None:
    git_repo.write("doc.md", "old text\n")
    git_repo.write("gone.md", "bye\n")
    git_repo.write("pic.png", b"\x89PNG\x00\x01\x02")
    base = git_repo.commit()
    git_repo.write("doc.md", "new text ✓\n")
    git_repo.remove("gone.md")
    git_repo.write("added.md", "hi\n")
    git_repo.write("pic.png", b"\x89PNG\x00\x03")
    head = git_repo.commit()
    change_set, reader = open_git(git_repo.path, base, head, max_bytes=100)
    files = by_path(change_set)
    with reader as r:
        doc = files["doc.md"]
        old, new = r.read(doc, "old"), r.read(doc, "new")
        assert old is not None and (old.text, old.size, old.replaced) == ("old text\n", 9, False)
        assert new is not None and new.text == "new text ✓\n" and new.size == len("new text ✓\n".encode())
        assert r.read(files["added.md"], "old") is None
        added = r.read(files["added.md"], "new")
        assert added is not None and added.text == "hi\n"
        assert r.read(files["gone.md"], "new") is None
        gone = r.read(files["gone.md"], "old")
        assert gone is not None and gone.text == "bye\n"
        assert r.read(files["pic.png"], "new") is None
        # many calls on the one process
        for _ in range(1000):
            again = r.read(doc, "new")
            assert again == new
    with pytest.raises(SourceError):
        reader.read(doc, "new")
    reader.close()  # idempotent


def test_content_reader_size_limit_without_known_size(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "a\n")
    base = git_repo.commit()
    git_repo.write("a.md", "a\n" * 100)
    git_repo.write("b.md", "b\n")
    head = git_repo.commit()
    change_set, _ = open_git(git_repo.path, base, head)
    files = by_path(change_set)
    a = FileChange(**{**{s: getattr(files["a.md"], s) for s in FileChange.__slots__}, "new_size": None})
    with GitContentReader(git_repo.path, max_bytes=50) as reader:
        assert reader.read(a, "new") is None  # 200 bytes, skipped after reading the header
        b = reader.read(files["b.md"], "new")  # the stream stays in sync
        assert b is not None and b.text == "b\n"
        fake = FileChange(
            path="x", status=Status.MODIFIED, additions=0, deletions=0, patch=None, new_id="0" * 39 + "1"
        )
        assert reader.read(fake, "new") is None  # unknown object


def test_prefetched_reads_match_plain_reads_whatever_is_skipped(git_repo: GitRepo) -> None:
    """Announced reads give the same texts as plain ones when the caller reads them all, skips
    some, reads others in between, or announces again before reading everything."""
    for i in range(30):
        git_repo.write(f"d{i}.md", f"old {i}\n" * (i + 1))
    git_repo.write("big.md", "x\n" * 10)
    base = git_repo.commit()
    for i in range(30):
        git_repo.write(f"d{i}.md", f"new {i} ✓\n" * (i + 2))
    git_repo.write("big.md", "y\n" * 200)  # over max_bytes on the new side
    head = git_repo.commit()
    change_set, plain = open_git(git_repo.path, base, head, max_bytes=100)
    files = list(change_set.files)
    with plain:
        expected = {(c.path, side): plain.read(c, side) for c in files for side in ("old", "new")}
    assert expected[("big.md", "new")] is None and expected[("d0.md", "new")] is not None
    reads = [(c, side) for c in files for side in ("old", "new")]
    with plain.fresh() as reader:
        # everything, in order
        reader.prefetch(reads)
        assert [reader.read(c, s) for c, s in reads] == [expected[(c.path, s)] for c, s in reads]
        # every third skipped, an unannounced read in between, the rest in order
        reader.prefetch(reads)
        for k, (c, s) in enumerate(reads):
            if k == 10:
                assert reader.read(files[0], "old") == expected[(files[0].path, "old")]
            if k % 3:
                assert reader.read(c, s) == expected[(c.path, s)]
        # announced and never read, then announced again: the stale answers are dropped
        reader.prefetch(reads[:20])
        reader.prefetch(reads[5:9])
        assert [reader.read(c, s) for c, s in reads[5:9]] == [expected[(c.path, s)] for c, s in reads[5:9]]
        # the same blob twice in a row
        reader.prefetch([reads[2], reads[2]])
        assert reader.read(*reads[2]) == reader.read(*reads[2]) == expected[(reads[2][0].path, "old")]


def test_closing_a_reader_with_unread_announcements_does_not_hang(git_repo: GitRepo) -> None:
    """Announced blobs that fill both pipes (git waits for the reader, the feeder waits for git)
    do not stop :meth:`close`; the reader then refuses to read."""
    blob = "".join(
        f"line {k} of a long file that git cannot compress to nothing {k * 7919}\n" for k in range(4000)
    )
    for i in range(40):
        git_repo.write(f"f{i}.md", f"{i}\n{blob}")
    base = git_repo.commit()
    for i in range(40):
        git_repo.write(f"f{i}.md", f"{i} changed\n{blob}")
    head = git_repo.commit()
    change_set, reader = open_git(git_repo.path, base, head)
    reads = [(c, side) for c in change_set.files for side in ("old", "new")] * 50
    reader.prefetch(reads)  # ~4,000 announcements, ~1 GB of answers nobody reads
    first = reader.read(*reads[0])
    assert first is not None and first.text.startswith("0\n")
    done = threading.Event()
    closer = threading.Thread(target=lambda: (reader.close(), done.set()), daemon=True)
    closer.start()
    assert done.wait(20), "close() hung on a full pipe"
    with pytest.raises(SourceError):
        reader.read(*reads[1])


# ---------------------------------------------------------------- environment and config


def test_repo_config_and_environment_do_not_change_results(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    base, head = build_varied_repo(git_repo, seed=11)
    git_repo.write("日本語 ファイル.md", "x\n")
    git_repo.write("docs/00-a.md", "rewritten\n")
    head = git_repo.commit()
    clean = read_changes(git_repo, base, head)
    for key, value in (
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("core.quotepath", "true"),
        ("color.ui", "always"),
        ("color.diff", "always"),
        ("diff.renames", "false"),
        ("diff.external", "false"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.context", "10"),
        ("diff.algorithm", "histogram"),
        ("diff.submodule", "log"),
        ("diff.relative", "true"),
        ("core.pager", "false"),
    ):
        git_repo.git("config", key, value)
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    (fake_home / ".gitconfig").write_text(
        "[diff]\n\tnoprefix = true\n[core]\n\tquotepath = true\n\tbigFileThreshold = 10\n"
    )
    (fake_home / ".config" / "git").mkdir(parents=True)
    (fake_home / ".config" / "git" / "attributes").write_text("*.md -diff\n")
    monkeypatch.setenv("HOME", str(fake_home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "false")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'diff.noprefix'='true'")
    poisoned = read_changes(git_repo, base, head)
    assert poisoned.files == clean.files
    assert "日本語 ファイル.md" in by_path(poisoned)


def test_run_from_a_subdirectory_sees_the_whole_repository(git_repo: GitRepo) -> None:
    git_repo.write("top.md", "1\n")
    git_repo.write("sub/dir/in.md", "1\n")
    base = git_repo.commit()
    git_repo.write("top.md", "2\n")
    git_repo.write("sub/dir/in.md", "2\n")
    head = git_repo.commit()
    change_set, reader = open_git(git_repo.path / "sub", base, head)
    reader.close()
    assert [f.path for f in change_set] == ["sub/dir/in.md", "top.md"]
    assert change_set.repository.local_path == str(git_repo.path)


# ---------------------------------------------------------------- metadata


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("https://github.com/MicrosoftDocs/azure-ai-docs", "MicrosoftDocs/azure-ai-docs"),
        ("https://github.com/MicrosoftDocs/azure-ai-docs.git", "MicrosoftDocs/azure-ai-docs"),
        ("https://github.com/owner/name/", "owner/name"),
        ("http://www.github.com/owner/name.git", "owner/name"),
        ("https://user:ghp_secret@github.com/owner/name.git", "owner/name"),
        ("https://x-access-token@GitHub.com/owner/repo.js", "owner/repo.js"),
        ("git@github.com:owner/name.git", "owner/name"),
        ("git@github.com:owner/name", "owner/name"),
        ("ssh://git@github.com/owner/name.git", "owner/name"),
        ("ssh://git@github.com:22/owner/name", "owner/name"),
        ("git://github.com/owner/name.git", "owner/name"),
        ("https://gitlab.com/owner/name.git", None),
        ("git@gitlab.com:owner/name.git", None),
        ("https://github.com/owner", None),
        ("https://github.com/owner/name/tree/main", None),
        ("https://github.company.com/owner/name", None),
        ("/srv/git/name.git", None),
        ("", None),
    ],
)
def test_github_slug(url: str, slug: str | None) -> None:
    assert github_slug(url) == slug


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:token@github.com/o/n.git", "https://github.com/o/n.git"),
        ("https://ghp_abc123@github.com/o/n", "https://github.com/o/n"),
        ("http://u:p@example.com:8080/r.git", "http://example.com:8080/r.git"),
        ("ssh://git:secret@github.com/o/n.git", "ssh://git@github.com/o/n.git"),
        ("ssh://git@github.com/o/n.git", "ssh://git@github.com/o/n.git"),
        ("git@github.com:o/n.git", "git@github.com:o/n.git"),
        ("https://github.com/o/n", "https://github.com/o/n"),
    ],
)
def test_strip_credentials(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean


def test_change_set_metadata(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    base = git_repo.commit(date="2024-03-01T10:00:00+00:00")
    git_repo.write("a.md", "2\n")
    head = git_repo.commit(date="2024-03-02T11:30:00+09:00")
    git_repo.set_origin("https://someone:s3cret@github.com/Owner/Docs-Repo.git")
    change_set, reader = open_git(git_repo.path, "HEAD~1", "main")
    reader.close()
    assert change_set.source == "git"
    assert (change_set.base, change_set.head) == (base, head)
    assert change_set.head_time == datetime(2024, 3, 2, 11, 30, tzinfo=timezone(timedelta(hours=9)))
    assert change_set.head_time is not None and change_set.head_time.utcoffset() == timedelta(hours=9)
    repo = change_set.repository
    assert repo.slug == "Owner/Docs-Repo"
    assert repo.url == "https://github.com/Owner/Docs-Repo.git"
    assert "s3cret" not in repr(change_set)
    assert repo.local_path == str(git_repo.path)
    assert change_set.permalink == (
        f"https://github.com/Owner/Docs-Repo/compare/Owner:{base[:7]}...Owner:{head[:7]}"
    )
    assert change_set.permalink == compare_permalink("Owner/Docs-Repo", base, head)


def test_no_github_origin(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    base = git_repo.commit(date=datetime(2024, 5, 5, 5, 5, tzinfo=UTC))
    git_repo.write("a.md", "2\n")
    head = git_repo.commit(date=datetime(2024, 5, 6, 6, 6, tzinfo=UTC))
    plain = read_changes(git_repo, base, head)
    assert plain.repository.slug is None and plain.repository.url is None
    assert plain.permalink is None
    assert plain.head_time == datetime(2024, 5, 6, 6, 6, tzinfo=UTC)
    git_repo.set_origin("https://gitlab.com/o/n.git")
    other = read_changes(git_repo, base, head)
    assert other.repository.slug is None and other.repository.url == "https://gitlab.com/o/n.git"
    assert other.permalink is None


# ---------------------------------------------------------------- errors


def assert_one_line_naming(exc: pytest.ExceptionInfo[SourceError], *names: str) -> None:
    message = str(exc.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_error_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SourceError) as exc:
        open_git(missing, "HEAD~1", "HEAD")
    assert_one_line_naming(exc, str(missing), "does not exist")


def test_error_not_a_directory(tmp_path: Path) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(SourceError) as exc:
        open_git(f, "HEAD~1", "HEAD")
    assert_one_line_naming(exc, str(f), "not a directory")


def test_error_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceError) as exc:
        open_git(plain, "HEAD~1", "HEAD")
    assert_one_line_naming(exc, str(plain), "not a git repository")


@pytest.mark.parametrize("bad", ["no-such-branch", "deadbeef" * 5, "--output=/tmp/x", "HEAD~99", ""])
def test_error_unknown_base(git_repo: GitRepo, bad: str) -> None:
    git_repo.write("a.md", "1\n")
    git_repo.commit()
    with pytest.raises(SourceError) as exc:
        open_git(git_repo.path, bad, "HEAD")
    assert_one_line_naming(exc, "BASE", repr(bad))


def test_error_unknown_head(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    git_repo.commit()
    with pytest.raises(SourceError) as exc:
        open_git(git_repo.path, "HEAD", "feature/missing")
    assert_one_line_naming(exc, "HEAD", "feature/missing")


def test_error_tree_is_not_a_commit(git_repo: GitRepo) -> None:
    git_repo.write("a.md", "1\n")
    git_repo.commit()
    tree = git_repo.git("rev-parse", "HEAD^{tree}").strip()
    with pytest.raises(SourceError) as exc:
        open_git(git_repo.path, tree, "HEAD")
    assert_one_line_naming(exc, "BASE", tree)


def test_error_git_missing(git_repo: GitRepo) -> None:
    with pytest.raises(SourceError) as exc:
        open_git(git_repo.path, "HEAD", "HEAD", git="git-does-not-exist-here")
    assert_one_line_naming(exc, "git-does-not-exist-here", "not found")


def test_error_message_stays_one_line_for_odd_paths(tmp_path: Path) -> None:
    odd = tmp_path / "two\nlines"
    with pytest.raises(SourceError) as exc:
        open_git(odd, "HEAD~1", "HEAD")
    assert_one_line_naming(exc, repr(str(odd)), "does not exist")
    odd.mkdir()
    with pytest.raises(SourceError) as exc:
        open_git(odd, "HEAD~1", "HEAD")
    assert_one_line_naming(exc, repr(str(odd)), "not a git repository")


def test_error_git_cannot_read_a_blob_names_gits_own_error(git_repo: GitRepo) -> None:
    """A blob missing from the object store: git itself fails mid-diff, and the one-line error is
    git's (not a complaint about the half-printed output)."""
    git_repo.write("a.md", "# A\n\nOld text.\n")
    git_repo.write("b.md", "# B\n")
    base = git_repo.commit()
    git_repo.write("a.md", "# A\n\nNew text.\n")
    head = git_repo.commit()
    blob = git_repo.git("rev-parse", f"{head}:a.md").strip()
    (git_repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(SourceError) as exc:
        open_git(git_repo.path, base, head)
    assert_one_line_naming(exc, "git diff failed", blob)
