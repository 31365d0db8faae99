"""Hostile repositories through the whole command line: odd file names, symlinks pointing outside the
repository, submodules, a large file, thousands of files, empty and odd ranges.

Each gives a correct report (every changed file exactly once per locale, the report parses) or a clear
one-line error, and nothing is read or written outside the repository, the output directory and the
cache: a marker string in a file outside the repository (reachable through symlinks) never appears in
any output, and a snapshot of everything else under the test's directory is unchanged by the run.
The full-size variants (a 50 MB file, 20,000 files) are in ``bench/hostile_big.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from tests.cli_helpers import invoke, snapshot
from tests.gitrepo import GitRepo

from diff_insight.render.markdown import parse_report

MARKER = "MARKER-OUTSIDE-7c41d2"
LOCALES = ("ja_JP", "zh_CN", "en_US")


def git_paths(repo: GitRepo, base: str, head: str) -> list[str]:
    """The paths ``git diff -M --name-only`` lists for the range, decoded the way reports show them."""
    out = repo.run("diff", "-M", "-z", "--name-only", base, head)
    return [p.decode("utf-8", "replace") for p in out.split(b"\0") if p]


def report_all(
    repo: GitRepo, tmp_path: Path, base: str, head: str, *extra: str, locales: tuple[str, ...] = LOCALES
) -> tuple[list[dict[str, object]], Path]:
    """Run ``report`` in three locales and check that nothing outside ``out`` changed; return the
    written reports (``--json``) and the output directory."""
    out = tmp_path / "out"
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    before = snapshot(tmp_path, {out})
    args = ["report", str(repo.path), base, head, "--out-dir", str(out), "--json"]
    args += [a for loc in locales for a in ("--locale", loc)]
    code, stdout, stderr = invoke([*args, *extra], work)
    assert code == 0, stderr
    assert snapshot(tmp_path, {out}) == before, "the run changed something outside its output directory"
    written = json.loads(stdout)
    for w in written:
        assert Path(str(w["path"])).resolve().is_relative_to(out.resolve())
    return written, out


def check_reports(
    written: list[dict[str, object]],
    expected_paths: list[str],
    parse_locales: tuple[str, ...] = LOCALES,
    locales: tuple[str, ...] = LOCALES,
) -> dict[str, str]:
    """Every report parses (``parse_report``, for the reports of ``parse_locales``; the others'
    front matter with libyaml, which is much faster on thousands of files), and every changed path
    is in exactly one report per locale; returns the text of every report by path."""
    texts: dict[str, str] = {}
    per_locale: dict[str, list[str]] = {loc: [] for loc in locales}
    for w in written:
        text = Path(str(w["path"])).read_text(encoding="utf-8")
        texts[str(w["path"])] = text
        if w["locale"] in parse_locales:
            rep = parse_report(text)
            assert len(rep.files) == w["files"]
            fm = rep.front_matter
        else:
            assert text.startswith("---\n")
            fm = yaml.load(text[4 : text.index("\n---\n")], Loader=yaml.CSafeLoader)
            assert text.count("\n### Explanation\n") == w["files"]
        per_locale[str(w["locale"])] += [str(m["path"]) for m in fm["files"]]
    for loc in locales:
        assert sorted(per_locale[loc]) == sorted(expected_paths), loc
    return texts


def test_odd_file_names(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = git_repo
    repo.write("docs/intro.md", "# Intro\n\nHello.\n")
    base = repo.commit("base")
    names = [
        "docs/new\nline.md",
        "docs/carriage\rreturn.md",
        "docs/\"double\" and 'single' quotes.md",
        "docs/-leading-dash.md",
        "--help.md",
        "-n",
        "docs/back\\slash.md",
        "docs/tab\there.md",
        "docs/ space .md",
        "docs/.tmp-1-abc.md",  # looks like one of our temp files
        "docs/---\nfront: matter\n---.md",
        "docs/## heading `code` [link](http://x) <b>.md",
    ]
    for i, name in enumerate(names):
        repo.write(name, f"# Title {i}\n\nBody {i}.\n")
    raw = os.path.join(os.fsencode(repo.path / "docs"), b"latin1-\xe9t\xe9-\xff.md")
    with open(raw, "wb") as fh:
        fh.write(b"# Caf\xe9\n\nNot UTF-8: \xff\xfe.\n")
    repo.write("docs/intro.md", "# Intro\n\nHello, world.\n")
    head = repo.commit("head")
    expected = git_paths(repo, base, head)
    assert len(expected) == len(names) + 2
    written, _ = report_all(repo, tmp_path, base, head)
    texts = check_reports(written, expected)
    assert len(texts) == 3
    for text in texts.values():
        fm = parse_report(text).front_matter
        odd = next(m for m in fm["files"] if str(m["path"]).startswith("docs/latin1-"))
        assert odd["encoding_replaced"] is True
        # a name can never open a new Markdown line: each heading of a file section is one line
        assert "\n---\nfront: matter" not in text.split("\n---\n", 1)[1]


def test_leading_dash_revisions_are_a_one_line_error(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.md", "a\n")
    git_repo.commit("one")
    victim = tmp_path / "victim.txt"
    for bad in ("--output=" + str(victim), "-p", "--no-index"):
        code, _, err = invoke(["report", "--out-dir", "o", str(git_repo.path), "--", bad, "HEAD"], tmp_path)
        assert code == 2 and err.count("\n") == 1 and "BASE is not a known commit" in err, err
    assert not victim.exists()
    assert not (tmp_path / "o").exists()


def test_symlinks_pointing_outside(git_repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "dir").mkdir(parents=True)
    secret = outside / "secret.md"
    secret.write_text(f"# Secret\n\n{MARKER}\n", encoding="utf-8")
    (outside / "dir" / "page.md").write_text(f"# Page\n\n{MARKER}\n", encoding="utf-8")
    repo = git_repo
    repo.write("docs/a.md", "# A\n\nText.\n")
    repo.symlink("docs/changed.md", "a.md")
    base = repo.commit("base")
    repo.symlink("docs/absolute.md", str(secret))
    repo.symlink("docs/relative.md", "../../outside/secret.md")
    repo.symlink("docs/dirlink", str(outside / "dir"))
    repo.symlink("docs/etc.md", "/etc/passwd")
    repo.symlink("docs/changed.md", "../../outside/secret.md")  # was a link inside, now outside
    repo.write("docs/a.md", "# A\n\nMore text.\n")
    head = repo.commit("head")
    expected = git_paths(repo, base, head)
    written, out = report_all(repo, tmp_path, base, head)
    texts = check_reports(written, expected)
    for text in texts.values():
        assert MARKER not in text
        assert "root:" not in text  # nothing of /etc/passwd
        assert str(secret) in text  # the link's target is its content, shown as such
    assert all(MARKER.encode() not in p.read_bytes() for p in out.rglob("*") if p.is_file())


def test_symlink_becomes_file_and_back(git_repo: GitRepo, tmp_path: Path) -> None:
    (tmp_path / "outside.md").write_text(MARKER, encoding="utf-8")
    repo = git_repo
    repo.symlink("docs/x.md", str(tmp_path / "outside.md"))
    repo.write("docs/y.md", "# Y\n\ntext\n")
    base = repo.commit("base")
    repo.write("docs/x.md", "# X\n\nNow a file.\n")
    repo.symlink("docs/y.md", str(tmp_path / "outside.md"))
    head = repo.commit("head")
    written, _ = report_all(repo, tmp_path, base, head)
    texts = check_reports(written, git_paths(repo, base, head))
    assert all(MARKER not in t for t in texts.values())


def test_submodules(git_repo: GitRepo, tmp_path: Path) -> None:
    # a real repository outside, referenced by URL: the run must not clone, fetch or read it
    other = GitRepo(tmp_path, name="other")
    other.write("README.md", f"{MARKER}\n")
    first = other.commit("one")
    other.write("README.md", f"{MARKER} two\n")
    second = other.commit("two")
    repo = git_repo
    repo.write(".gitmodules", f'[submodule "sub"]\n\tpath = sub\n\turl = file://{other.path}\n')
    repo.write("docs/a.md", "# A\n")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{first},sub")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{first},gone")
    repo.git("add", ".gitmodules", "docs/a.md")
    repo.run("commit", "-q", "--no-verify", "-m", "base")  # not commit(): add -A would drop the gitlinks
    base = repo.head()
    repo.git("update-index", "--cacheinfo", f"160000,{second},sub")
    repo.git("update-index", "--force-remove", "gone")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{second},docs/new-sub")
    repo.run("commit", "-q", "--no-verify", "-m", "head")
    head = repo.head()
    expected = git_paths(repo, base, head)
    assert sorted(expected) == ["docs/new-sub", "gone", "sub"]
    written, _ = report_all(repo, tmp_path, base, head)
    texts = check_reports(written, expected)
    for text in texts.values():
        assert MARKER not in text
        assert f"Subproject commit {second}" in text  # the submodule's change is its commit ids


def test_large_file(git_repo: GitRepo, tmp_path: Path) -> None:
    """A 5 MB Markdown file edited in two places and a 5 MB file added (50 MB: bench/hostile_big.py)."""
    line = "A line of a very long reference page, with some words in it.\n"
    body = line * (5 * 1024 * 1024 // len(line))
    repo = git_repo
    repo.import_commit({"docs/big.md": "# Big\n\n" + body, "docs/a.md": "# A\n"})
    base = repo.head()
    edited = (
        "# Big\n\nA new first paragraph.\n\n"
        + body[: len(body) // 2]
        + "## Middle\n\n"
        + body[len(body) // 2 :]
    )
    head = repo.import_commit({"docs/big.md": edited, "docs/added.md": "# Added\n\n" + body})
    written, _ = report_all(repo, tmp_path, base, head)
    texts = check_reports(written, ["docs/added.md", "docs/big.md"])
    for text in texts.values():
        rep = parse_report(text)
        big = next(f for f in rep.files if f.path == "docs/big.md")
        assert big.type == "minor update"
        assert "+## Middle" in text


def test_thousands_of_files(git_repo: GitRepo, tmp_path: Path) -> None:
    """2,000 changed files in three categories (20,000: bench/hostile_big.py)."""
    n = 2000
    cats = ("alpha", "beta", "gamma")

    def files(v: int) -> dict[str, str | bytes]:
        return {f"docs/{cats[i % 3]}/p{i:05d}.md": f"# Page {i}\n\nVersion {v}.\n" for i in range(n)}

    repo = git_repo
    repo.import_commit(files(1))
    base = repo.head()
    head = repo.import_commit(files(2))
    cfg = tmp_path / "c.toml"
    cfg.write_text("[categories]\n" + "".join(f'{c} = ["docs/{c}"]\n' for c in cats), encoding="utf-8")
    two = ("ja_JP", "en_US")
    written, _ = report_all(repo, tmp_path, base, head, "--config", str(cfg), locales=two)
    assert len(written) == 6
    check_reports(written, git_paths(repo, base, head), parse_locales=("en_US",), locales=two)


@pytest.mark.parametrize("kind", ["empty-commit", "base-equals-head"])
def test_empty_ranges_write_nothing(git_repo: GitRepo, tmp_path: Path, kind: str) -> None:
    git_repo.write("a.md", "# A\n")
    one = git_repo.commit("one")
    two = git_repo.commit("empty")  # --allow-empty: no file changes
    base, head = (one, two) if kind == "empty-commit" else (two, two)
    out = tmp_path / "out"
    before = snapshot(tmp_path, set())
    code, stdout, err = invoke(
        ["report", str(git_repo.path), base, head, "--out-dir", str(out), "--json"], tmp_path
    )
    assert code == 0, err
    assert json.loads(stdout) == []
    assert "0 report(s) for 0 changed file(s)" in err
    assert snapshot(tmp_path, set()) == before  # not even an empty output directory


def test_run_on_an_empty_commit_moves_the_state_only(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("a.md", "# A\n")
    git_repo.commit("one")
    head = git_repo.commit("empty")
    out = tmp_path / "out"
    code, _, err = invoke(["run", "--repo", str(git_repo.path), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 0, err
    assert "0 report(s)" in err
    assert not list(out.rglob("*.md"))
    (state,) = (out / ".diff-insight" / "state").glob("*.json")
    assert json.loads(state.read_text())["commit"] == head


def test_base_not_an_ancestor_of_head(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = git_repo
    repo.write("docs/a.md", "# A\n\nOne.\n")
    root = repo.commit("root")
    repo.write("docs/main-only.md", "# Main\n")
    main = repo.commit("main")
    repo.git("checkout", "-q", "-b", "side", root)
    repo.write("docs/side-only.md", "# Side\n")
    repo.write("docs/a.md", "# A\n\nTwo.\n")
    side = repo.commit("side")
    with pytest.raises(RuntimeError):  # exit code 1: main is not an ancestor of side
        repo.run("merge-base", "--is-ancestor", main, side)
    written, _ = report_all(repo, tmp_path, main, side)
    # the report describes the difference of the two trees, as git diff does
    check_reports(written, git_paths(repo, main, side))
    assert sorted(git_paths(repo, main, side)) == ["docs/a.md", "docs/main-only.md", "docs/side-only.md"]


def test_unrelated_histories(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = git_repo
    repo.write("docs/a.md", "# A\n")
    one = repo.commit("one")
    repo.git("checkout", "-q", "--orphan", "other")
    repo.git("rm", "-rq", "--cached", ".")
    (repo.path / "docs" / "a.md").unlink()
    repo.write("docs/b.md", "# B\n")
    two = repo.commit("unrelated root")
    written, _ = report_all(repo, tmp_path, one, two)
    check_reports(written, ["docs/a.md", "docs/b.md"])
