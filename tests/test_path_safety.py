"""Category names, locales, output templates and the names of state files and mirrors cannot make a
run write outside its output directory: the command line and the config reject them with one line
(exit 2), or the written path stays inside the output root. Complements tests/test_paths.py (which
tests the template parser and ``render_out_path`` as functions) through the real command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli_helpers import invoke, snapshot
from tests.gitrepo import GitRepo

from diff_insight.mirror import mirror_name

LOOKALIKE_DOTS = "\u2024\u2024"  # ONE DOT LEADER twice: looks like ".."
FULLWIDTH_SLASH = "\uff0f"
RTL_OVERRIDE = "\u202e"


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("docs/a.md", "# A\n\nOne.\n")
    git_repo.commit("one")
    git_repo.write("docs/a.md", "# A\n\nTwo.\n")
    git_repo.commit("two")
    return git_repo


def run_report(repo: GitRepo, tmp_path: Path, *extra: str) -> tuple[int, str, str]:
    out = tmp_path / "out"
    return invoke(
        ["report", str(repo.path), "HEAD~1", "HEAD", "--out-dir", str(out), "--json", *extra], tmp_path
    )


def assert_rejected(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("diff-insight: error: "), err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize(
    "locale",
    [
        "../../x",
        "en_US/../../x",
        "/etc",
        "en_US\\..\\x",
        "ja_JP\n",
        "\uff45\uff4e_US",  # fullwidth "en"
        "en_U" + "\u0405",  # Cyrillic DZE looks like S
        LOOKALIKE_DOTS,
        "",
    ],
)
def test_bad_locales_on_the_command_line(repo: GitRepo, tmp_path: Path, locale: str) -> None:
    before = snapshot(tmp_path, set())
    code, _, err = run_report(repo, tmp_path, "--locale", locale)
    assert_rejected(code, err, "locale")
    assert snapshot(tmp_path, set()) == before


CONFIG_CASES = [
    ('locales = ["../x"]', "locale"),
    ('locales = ["en_US\\u0000"]', "locale"),
    ('locales = ["/tmp"]', "locale"),
    ('[categories]\n"../x" = ["docs"]', "category"),
    ('[categories]\n"/abs" = ["docs"]', "category"),
    ('[categories]\n"a\\u0000b" = ["docs"]', "category"),
    ('[categories]\n"a\\\\b" = ["docs"]', "category"),
    ('[categories]\n"a/b" = ["docs"]', "category"),
    ('[categories]\n".hidden" = ["docs"]', "category"),
    ('[categories]\n".." = ["docs"]', "category"),
    (f'[categories]\n"{LOOKALIKE_DOTS}" = ["docs"]', "category"),
    (f'[categories]\n"{RTL_OVERRIDE}cod.md" = ["docs"]', "category"),
    (f'[categories]\n"a{FULLWIDTH_SLASH}b" = ["docs"]', "category"),
    ('[catch_all]\nname = "../other"', "catch_all"),
    ('out = "../{locale}/{category}.md"', "out"),
    ('out = "/tmp/{locale}/{category}.md"', "out"),
    ('out = "r/\\u0000/{locale}/{category}.md"', "out"),
    ('out = "r\\\\..\\\\{locale}{category}.md"', "out"),
    ('out = "r/%Y/../../{locale}{category}.md"', "out"),
    ('out = "C:/x/{locale}{category}.md"', "out"),
    ('[[repositories]]\nsource = "."\nout = "../../{locale}/{category}.md"', "out"),
    ('[[repositories]]\nsource = "."\nlocales = ["../x"]', "locale"),
    ('[[repositories]]\nsource = "."\ncategories = { "../x" = ["docs"] }', "category"),
]


@pytest.mark.parametrize(("toml", "word"), CONFIG_CASES)
def test_bad_names_in_the_config(repo: GitRepo, tmp_path: Path, toml: str, word: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(toml + "\n", encoding="utf-8")
    before = snapshot(tmp_path, set())
    if "[[repositories]]" in toml:
        code, _, err = invoke(["run", "--config", str(cfg), "--out-dir", str(tmp_path / "out")], tmp_path)
    else:
        code, _, err = run_report(repo, tmp_path, "--config", str(cfg))
    assert_rejected(code, err, word)
    assert "\0" not in err
    assert snapshot(tmp_path, set()) == before


@pytest.mark.parametrize(
    "template",
    [
        "../{locale}/{category}.md",
        "/tmp/{locale}/{category}.md",
        "reports/../../{locale}{category}.md",
        "r\\..\\{locale}{category}.md",
        "{locale}/{category}/../../../x.md",
        "r/%Y/../../{locale}{category}.md",
        "r/{locale}/{category}.md/",
        "{locale}/{category}/{{..}}/x.md",  # literal braces, no '..' component: fine, see below
    ],
)
def test_bad_templates_on_the_command_line(repo: GitRepo, tmp_path: Path, template: str) -> None:
    before = snapshot(tmp_path, set())
    code, out, err = run_report(repo, tmp_path, "--out", template)
    if "{{" in template:  # '{..}' is a name, not a parent directory
        assert code == 0, err
        (written,) = json.loads(out)
        assert Path(written["path"]).resolve().is_relative_to((tmp_path / "out").resolve())
        assert "{..}" in written["path"]
        return
    assert_rejected(code, err, "output template")
    assert snapshot(tmp_path, set()) == before


@pytest.mark.parametrize(
    "template",
    [
        f"{LOOKALIKE_DOTS}/{{locale}}/{{category}}.md",
        f"{FULLWIDTH_SLASH}etc{FULLWIDTH_SLASH}{{locale}}-{{category}}.md",
        f"r/{RTL_OVERRIDE}dm.{{category}}-{{locale}}",
        "r/ ../{locale}-{category}.md",
        "r/.../{locale}-{category}.md",
        "r/%%2e%%2e/{locale}-{category}.md",
    ],
)
def test_lookalike_templates_stay_inside(repo: GitRepo, tmp_path: Path, template: str) -> None:
    out_root = tmp_path / "out"
    before = snapshot(tmp_path, {out_root})
    code, out, err = run_report(repo, tmp_path, "--out", template)
    assert code == 0, err
    (written,) = json.loads(out)
    path = Path(written["path"])
    assert path.is_file() and path.resolve().is_relative_to(out_root.resolve())
    assert len(path.relative_to(out_root).parts) == template.count("/") + 1
    assert snapshot(tmp_path, {out_root}) == before


def test_symlinked_report_directory_pointing_outside(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out_root = tmp_path / "out"
    (out_root / "reports").mkdir(parents=True)
    (out_root / "reports" / "en_US").symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path, set())
    code, _, err = run_report(repo, tmp_path)
    assert code == 1 and err.count("\n") == 1 and "outside" in err, err
    assert snapshot(tmp_path, set()) == before


def test_symlinked_report_file_pointing_outside(repo: GitRepo, tmp_path: Path) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("precious\n", encoding="utf-8")
    out_root = tmp_path / "out"
    code, out, _ = run_report(repo, tmp_path)
    assert code == 0
    (written,) = json.loads(out)
    report = Path(written["path"])
    report.unlink()
    report.symlink_to(victim)
    before = snapshot(tmp_path, set())
    code, _, err = run_report(repo, tmp_path)
    assert code == 1 and err.count("\n") == 1 and "outside" in err, err
    assert snapshot(tmp_path, set()) == before
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert out_root.is_dir()


def test_symlinked_state_directory_pointing_outside(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out_root = tmp_path / "out"
    (out_root / ".diff-insight").mkdir(parents=True)
    (out_root / ".diff-insight" / "state").symlink_to(outside, target_is_directory=True)
    before = snapshot(tmp_path, set())
    code, _, err = invoke(["run", "--repo", str(repo.path), "--out-dir", str(out_root)], tmp_path)
    assert code == 2 and err.count("\n") == 1 and "outside the output directory" in err, err
    assert snapshot(tmp_path, set()) == before


@pytest.mark.parametrize(
    ("branch", "valid"),
    [("feature/a/b", True), ("ブランチ", True), ("-dash", False), ("x..y", False), ("a b", False)],
)
def test_state_file_names_stay_in_the_state_directory(
    git_repo: GitRepo, tmp_path: Path, branch: str, valid: bool
) -> None:
    git_repo.write("docs/a.md", "# A\n")
    git_repo.commit("one")
    try:
        git_repo.git("branch", "--", branch)
        made = True
    except RuntimeError:
        made = False
    assert made == valid, f"git {'refused' if valid else 'accepted'} the branch name {branch!r}"
    out_root = tmp_path / "out"
    code, _, err = invoke(
        ["run", "--repo", str(git_repo.path), "--branch", branch, "--out-dir", str(out_root)], tmp_path
    )
    if not valid:  # not a valid branch name for git: the run says so in one line and writes nothing
        assert code == 2 and err.count("\n") == 1 and "not a known branch" in err, err
        assert not (out_root / ".diff-insight" / "state").exists() or not any(
            (out_root / ".diff-insight" / "state").iterdir()
        )
        return
    assert code == 0, err
    (state,) = (out_root / ".diff-insight" / "state").iterdir()
    assert state.parent == out_root / ".diff-insight" / "state"
    assert json.loads(state.read_text(encoding="utf-8"))["branch"] == branch
    every = [p.relative_to(out_root).parts[0] for p in out_root.rglob("*")]
    assert set(every) <= {"reports", ".diff-insight"}


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/../../../etc/passwd.git",
        "https://user:p%2Fss%40word@example.com/o/n.git",
        "https://x-access-token:ghp_SECRETtoken@github.com/o/n.git",
        "file:///tmp/../../root/.ssh",
        "ssh://git@host/..",
        "git@host:../../x.git",
        "https://example.com/a%2f..%2fb.git",
        "https://example.com/\u2024\u2024/x.git",
    ],
)
def test_mirror_names_are_one_safe_component(url: str) -> None:
    name = mirror_name(url)
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert name not in (".", "..") and not name.startswith(".")
    assert name.endswith(".git") and len(name) <= 80
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    assert "word" not in name and "user" not in name and "SECRET" not in name and "token" not in name


def test_site_build_does_not_follow_symlinks_out_of_the_reports_directory(
    repo: GitRepo, tmp_path: Path
) -> None:
    code, out, err = run_report(repo, tmp_path)
    assert code == 0, err
    (written,) = json.loads(out)
    report = Path(written["path"])
    reports = tmp_path / "out" / "reports"
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = "MARKER-SITE-5f3a"
    text = report.read_text(encoding="utf-8")
    (outside / "evil.md").write_text(
        text.replace("# A", f"# {marker}").replace("category: all", "category: evil"), encoding="utf-8"
    )
    (outside / "more").mkdir()
    (outside / "more" / "report-20240101-evil.md").write_text(
        text.replace("# A", f"# {marker}"), encoding="utf-8"
    )
    assert marker in (outside / "evil.md").read_text(encoding="utf-8")
    (report.parent / "report-20240102-evil.md").symlink_to(outside / "evil.md")
    (reports / "en_US" / "linked").symlink_to(outside / "more", target_is_directory=True)
    site = tmp_path / "site"
    before = snapshot(tmp_path, {site})
    code, _, err = invoke(["site", "build", str(reports), str(site)], tmp_path)
    assert code == 0, err
    assert err.count("skipped, a symbolic link to outside the reports directory") == 2, err
    pages = [p for p in site.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in pages)
    for page in pages:
        assert marker.encode() not in page.read_bytes(), page
    assert snapshot(tmp_path, {site}) == before
