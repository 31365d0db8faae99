"""The whole pipeline through the real CLI (click's runner in-process, and the console script),
on the built-in example repository and on repositories built here."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.gitrepo import GitRepo

from diff_insight.cli import cli
from diff_insight.example import CONFIG, build_example
from diff_insight.render.markdown import parse_report

LOCALES = ("ja_JP", "zh_CN", "en_US")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("example")
    repo = root / "repo"
    build_example(repo)
    cfg = root / "diff-insight.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return repo, cfg


def run(args: list[str], cwd: Path | None = None, input: bytes | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd:
            os.chdir(cwd)
        res = runner.invoke(cli, args, input=input, catch_exceptions=False)
    finally:
        os.chdir(old)
    return res.exit_code, res.stdout, res.stderr


def numstat(repo: Path, base: str, head: str) -> dict[str, tuple[int, int]]:
    out = subprocess.run(
        ["git", "-C", str(repo), "diff", "-M", "--numstat", "-z", base, head], capture_output=True, check=True
    ).stdout.decode()
    result: dict[str, tuple[int, int]] = {}
    parts = out.split("\0")
    i = 0
    while i < len(parts) - 1:
        a, d, path = parts[i].split("\t")
        if path == "":  # rename: old and new paths follow
            path = parts[i + 2]
            i += 3
        else:
            i += 1
        result[path] = (int(a) if a != "-" else 0, int(d) if d != "-" else 0)
    return result


def test_example_reports_cover_every_file_once_per_locale(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    code, out, err = run(["report", str(repo), "base", "head", "--config", str(cfg), "--json"], cwd=tmp_path)
    assert code == 0, err
    written = json.loads(out)
    assert {w["locale"] for w in written} == set(LOCALES)
    assert {w["category"] for w in written} == {"vision", "search", "other"}
    expected = numstat(repo, "base", "head")
    for locale in LOCALES:
        seen: dict[str, tuple[int, int]] = {}
        for w in (w for w in written if w["locale"] == locale):
            text = Path(w["path"]).read_text(encoding="utf-8")
            rep = parse_report(text)
            assert rep.front_matter["title"] == f"[{locale}] Diff Insight Report - {w['category']}"
            assert rep.front_matter["base"] and rep.front_matter["head"]
            assert len(rep.files) == w["files"]
            for f in rep.files:
                assert f.path not in seen
                seen[f.path] = (f.additions, f.deletions)
                assert f.anchor == "item-" + hashlib.md5(f.path.encode()).hexdigest()[:6]
                assert f.changes == f.additions + f.deletions
                assert f.explanation
            # fences are balanced: every opening diff fence has its closing line
            assert text.count("<details>") == text.count("</details>") == len(rep.files)
        assert seen == expected


def test_report_matches_git_patch_exactly(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    code, out, _ = run(
        ["report", str(repo), "base", "head", "--config", str(cfg), "--locale", "en_US", "--json"],
        cwd=tmp_path,
    )
    assert code == 0
    full = subprocess.run(
        ["git", "-C", str(repo), "diff", "-M", "base", "head"], capture_output=True, check=True
    ).stdout.decode()
    n = 0
    for w in json.loads(out):
        for f in parse_report(Path(w["path"]).read_text(encoding="utf-8")).files:
            if "@@" in f.diff:
                hunks = f.diff[f.diff.index("@@") :]
                assert hunks in full
                n += hunks.count("\n@@") + 1
    assert n == full.count("\n@@ ")  # every hunk of the range is in a report


def test_output_template_date_and_timezone(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    cfg2 = tmp_path / "cfg.toml"
    cfg2.write_text(CONFIG.replace('timezone = "UTC"', 'timezone = "Asia/Tokyo"'), encoding="utf-8")
    code, out, err = run(
        [
            "report",
            str(repo),
            "base",
            "head",
            "--config",
            str(cfg2),
            "--locale",
            "en_US",
            "--out",
            "r/{locale}/%Y/%m/%d-{category}.md",
            "--json",
        ],
        cwd=tmp_path,
    )
    assert code == 0, err
    paths = sorted(Path(w["path"]).relative_to(tmp_path).as_posix() for w in json.loads(out))
    # head is committed 2025-04-23T18:30Z, which is already 04-24 in Tokyo
    assert paths == [
        "r/en_US/2025/04/24-other.md",
        "r/en_US/2025/04/24-search.md",
        "r/en_US/2025/04/24-vision.md",
    ]
    code, out, _ = run(
        [
            "report",
            str(repo),
            "base",
            "head",
            "--config",
            str(cfg2),
            "--locale",
            "en_US",
            "--date",
            "2026-01-02",
            "--json",
        ],
        cwd=tmp_path,
    )
    assert all("/202601/report-20260102-" in w["path"] for w in json.loads(out))


def test_catch_all_off_counts_left_out(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, _ = example
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[categories]\nvision = ["articles/vision"]\n[catch_all]\nenabled = false\n', encoding="utf-8"
    )
    code, out, err = run(["report", str(repo), "base", "head", "--config", str(cfg), "--json"], cwd=tmp_path)
    assert code == 0
    assert [w["category"] for w in json.loads(out)] == ["vision"]
    assert "3 file(s) matched no category" in err


def test_no_config_means_one_category_all(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, _ = example
    code, out, _ = run(["report", str(repo), "base", "head", "--json"], cwd=tmp_path)
    assert code == 0
    (w,) = json.loads(out)
    assert (w["category"], w["locale"], w["files"]) == ("all", "en_US", 13)


def test_unknown_locale_falls_back_with_warning(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, _ = example
    code, out, err = run(["report", str(repo), "base", "head", "--locale", "fr_FR", "--json"], cwd=tmp_path)
    assert code == 0
    assert [w["locale"] for w in json.loads(out)] == ["en_US"]
    assert "fr_FR" in err


def test_rerun_is_byte_identical(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    outs = []
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        code, out, _ = run(
            ["report", str(repo), "base", "head", "--config", str(cfg), "--json"], cwd=tmp_path / d
        )
        assert code == 0
        outs.append(
            {Path(w["path"]).name + w["locale"]: Path(w["path"]).read_bytes() for w in json.loads(out)}
        )
    assert outs[0] == outs[1]


def test_compare_json_and_patch_inputs_give_the_same_files(
    example: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, _ = example
    patch = subprocess.run(
        ["git", "-C", str(repo), "diff", "-M", "base", "head"], capture_output=True, check=True
    ).stdout
    code, out, err = run(
        ["report", "--patch", "-", "--json", "--date", "2025-04-23"], cwd=tmp_path, input=patch
    )
    assert code == 0, err
    (w,) = json.loads(out)
    rep = parse_report(Path(w["path"]).read_text(encoding="utf-8"))
    assert {f.path: (f.additions, f.deletions) for f in rep.files} == numstat(repo, "base", "head")
    files = [
        {
            "filename": f.path,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.changes,
            **({"patch": f.diff.rstrip("\n")} if "@@" in f.diff else {}),
        }
        for f in rep.files
    ]
    cj = tmp_path / "compare.json"
    cj.write_text(
        json.dumps(
            {
                "permalink_url": "https://github.com/fabrikam/vision-docs/compare/fabrikam:1234567...fabrikam:89abcde",
                "files": files,
            }
        ),
        encoding="utf-8",
    )
    code, out, err = run(
        ["report", "--compare-json", str(cj), "--json", "--out", "cj/{locale}-{category}.md"], cwd=tmp_path
    )
    assert code == 0, err
    text = Path(json.loads(out)[0]["path"]).read_text(encoding="utf-8")
    assert (
        "[View Diff on GitHub](https://github.com/fabrikam/vision-docs/compare/fabrikam:1234567...fabrikam:89abcde)"
        '{target="_blank"}' in text
    )
    assert len(parse_report(text).files) == 13


# --- exact format ---------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("locale", LOCALES)
def test_golden_reports(example: tuple[Path, Path], tmp_path: Path, locale: str) -> None:
    """The example's reports, byte for byte. Regenerate with UPDATE_GOLDEN=1 after an intended change."""
    repo, cfg = example
    code, out, err = run(
        [
            "report",
            str(repo),
            "base",
            "head",
            "--config",
            str(cfg),
            "--locale",
            locale,
            "--out",
            "{locale}/{category}.md",
            "--json",
        ],
        cwd=tmp_path,
    )
    assert code == 0, err
    for w in json.loads(out):
        got = Path(w["path"]).read_text(encoding="utf-8")
        golden = GOLDEN / f"{locale}-{w['category']}.md"
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(got, encoding="utf-8")
        assert got == golden.read_text(encoding="utf-8"), f"{golden} differs (UPDATE_GOLDEN=1 to accept)"


def test_seed_format_skeleton(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    code, out, _ = run(
        ["report", str(repo), "base", "head", "--config", str(cfg), "--locale", "zh_CN", "--json"],
        cwd=tmp_path,
    )
    text = Path(next(w["path"] for w in json.loads(out) if w["category"] == "vision")).read_text(
        encoding="utf-8"
    )
    fm_text = text.split("\n---\n", 1)[0][4:]
    fm = yaml.safe_load(fm_text)
    assert list(fm)[:4] == ["date", "permalink", "summary", "title"]
    assert fm["title"] == "'[zh_CN] Diff Insight Report - vision'".strip("'")
    assert fm["permalink"].startswith("https://github.com/fabrikam/vision-docs/compare/fabrikam:")
    heads = [ln for ln in text.splitlines() if re.match(r"^#{1,2} [A-Z]", ln) and "{#item-" not in ln]
    assert heads == [
        "# Highlights",
        "## New features",
        "## Breaking changes",
        "## Other updates",
        "# Insights",
        "# Summary Table",
        "# Modified Contents",
    ]
    assert "|  Filename  | Type |    Title    | Status | A  | D  | M  |" in text
    assert "<format>" not in text
    assert '```json\n{\n    "modification_type": ' in text
    # no English template words in the zh prose outside quotes, code, links and paths
    prose = text.split("# Summary Table")[0].split("\n---\n", 1)[1]
    prose = re.sub(r"`[^`]*`|“[^”]*”|《[^》]*》|\[[^\]]*\]\([^)]*\)|\{[^}]*\}|https?://\S+", "", prose)
    prose = re.sub(r"^#.*$", "", prose, flags=re.M)
    assert not re.findall(r"[A-Za-z]{3,}", prose), re.findall(r"[A-Za-z]{3,}", prose)


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,needle",
    [
        (["report", "/nonexistent/repo", "a", "b"], "/nonexistent/repo"),
        (["report", "{tmp}", "a", "b"], "not a git repository"),
        (["report", "{repo}", "nosuchcommit", "head"], "nosuchcommit"),
        (["report", "{repo}", "base", "head", "--config", "{tmp}/missing.toml"], "missing.toml"),
        (["report", "{repo}", "base", "head", "--config", "{bad}"], "bad.toml"),
        (["report", "--compare-json", "{tmp}/broken.json"], "broken.json"),
        (["report", "--patch", "{tmp}/empty.patch"], "empty.patch"),
        (["report", "{repo}", "base", "head", "--out", "../escape/{{locale}}-{{category}}.md"], "out"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    example: tuple[Path, Path], tmp_path: Path, args: list[str], needle: str
) -> None:
    repo, _ = example
    (tmp_path / "bad.toml").write_text("[categories]\nopenai = []\n", encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"files": [{"filename": 3}', encoding="utf-8")
    (tmp_path / "empty.patch").write_text("", encoding="utf-8")
    args = [a.format(tmp=tmp_path, repo=repo, bad=tmp_path / "bad.toml") for a in args]
    code, out, err = run(args, cwd=tmp_path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("diff-insight: error: ") and needle in lines[0], err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("reports/**/*.md"))


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run(["report"], cwd=tmp_path)[0] == 2
    assert run(["report", "x", "--patch", "y"], cwd=tmp_path)[0] == 2
    assert run(["report", "repo", "base"], cwd=tmp_path)[0] == 2
    assert run(["report", "--patch", "p", "--date", "yesterday"], cwd=tmp_path)[0] == 2


def test_failed_write_leaves_existing_reports_untouched(example: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cfg = example
    code, out, _ = run(
        [
            "report",
            str(repo),
            "base",
            "head",
            "--config",
            str(cfg),
            "--json",
            "--out",
            "o/{locale}/{category}.md",
        ],
        cwd=tmp_path,
    )
    assert code == 0
    before = {p: p.read_bytes() for p in (tmp_path / "o").rglob("*.md")}
    # make one target's directory impossible to create: a file where the zh_CN folder should be
    for p in (tmp_path / "o" / "zh_CN").glob("*"):
        p.unlink()
    (tmp_path / "o" / "zh_CN").rmdir()
    (tmp_path / "o" / "zh_CN").write_text("not a directory", encoding="utf-8")
    before = {p: b for p, b in before.items() if "zh_CN" not in str(p)}
    code, _, err = run(
        [
            "report",
            str(repo),
            "base",
            "head",
            "--config",
            str(cfg),
            "--date",
            "2030-01-01",
            "--out",
            "o/{locale}/{category}.md",
        ],
        cwd=tmp_path,
    )
    assert code == 1 and "cannot write" in err
    after = {p: p.read_bytes() for p in (tmp_path / "o").rglob("*.md")}
    assert after == before  # nothing replaced, nothing half-written
    assert not [p for p in (tmp_path / "o").rglob(".tmp-*")]


def test_every_command_has_help() -> None:
    """Every command and every subcommand of a group (``site build``, ``site serve``) has help."""
    import click

    runner = CliRunner()
    seen = []

    def walk(group: click.Group, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            res = runner.invoke(cli, [*prefix, name, "--help"])
            assert res.exit_code == 0 and command.help and "Usage:" in res.output, [*prefix, name]
            seen.append(" ".join([*prefix, name]))
            if isinstance(command, click.Group):
                walk(command, [*prefix, name])

    walk(cli, [])
    assert {"report", "run", "backfill", "site", "site build", "site serve"} <= set(seen)


def test_console_script_and_module(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "diff_insight", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "diff-insight" in res.stdout


def test_console_script_writes_everything_before_it_ends(example: tuple[Path, Path], tmp_path: Path) -> None:
    """The process ends without the interpreter's teardown: the --json list on a pipe, the
    reports and the exit statuses are still complete."""
    repo, cfg = example
    args = [sys.executable, "-m", "diff_insight", "report", str(repo), "base", "head", "--config", str(cfg)]
    res = subprocess.run([*args, "--json", *sum((["--locale", x] for x in LOCALES), [])],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    written = json.loads(res.stdout)
    assert len(written) >= 3 and {w["locale"] for w in written} == set(LOCALES)
    for w in written:
        parse_report(Path(w["path"]).read_text(encoding="utf-8"))
    bad = subprocess.run(
        [*args[:6], "no-such-commit"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "no-such-commit" in bad.stderr


@pytest.mark.parametrize(
    "status,code,stderr", [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("stopped: reason", 1, "stopped: reason\n")]
)
def test_end_flushes_and_exits_with_the_status(status: object, code: int, stderr: str) -> None:
    script = (
        "import sys, logging\n"
        "from diff_insight.cli import _end\n"
        "sys.stdout.write('buffered output')\n"
        f"_end({status!r})\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # the write stays buffered
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert (res.returncode, res.stdout, res.stderr) == (code, "buffered output", stderr)


def test_end_on_a_closed_pipe_exits_120() -> None:
    script = "import sys\nfrom diff_insight.cli import _end\nsys.stdout.write('x' * 100)\n_end(0)\n"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # the write stays buffered
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # nobody reads: the final flush fails
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 120, err


def test_names_with_spaces_quotes_and_unicode(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("docs/a.md", "# A\n")
    base = git_repo.commit("base")
    names = ["docs/with space.md", 'docs/"quoted".md', "docs/日本語 ファイル.md"]
    for n in names:
        git_repo.write(n, "# Title\n\nSome text.\n")
    head = git_repo.commit("head")
    code, out, err = run(
        ["report", str(git_repo.path), base, head, "--json", "--locale", "ja_JP"], cwd=tmp_path
    )
    assert code == 0, err
    rep = parse_report(Path(json.loads(out)[0]["path"]).read_text(encoding="utf-8"))
    assert sorted(f.path for f in rep.files) == sorted(names)


def test_invalid_utf8_is_replaced_and_flagged(git_repo: GitRepo, tmp_path: Path) -> None:
    git_repo.write("docs/a.md", "# A\n\ncaf\xe9\n".encode("latin-1"))
    base = git_repo.commit("base")
    git_repo.write("docs/a.md", "# A\n\ncafe\n")
    head = git_repo.commit("head")
    code, out, err = run(["report", str(git_repo.path), base, head, "--json"], cwd=tmp_path)
    assert code == 0, err
    text = Path(json.loads(out)[0]["path"]).read_text(encoding="utf-8")
    assert "caf\ufffd" in text
    assert yaml.safe_load(text.split("\n---\n", 1)[0][4:])["files"][0]["encoding_replaced"] is True


def test_parallel_workers_give_identical_reports(
    example: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forked analysis and writing must not change a byte (nor the order of anything)."""
    repo, cfg = example
    outs = []
    for workers in ("1", "2"):
        monkeypatch.setenv("DIFF_INSIGHT_WORKERS", workers)
        (tmp_path / workers).mkdir()
        code, out, err = run(
            ["report", str(repo), "base", "head", "--config", str(cfg), "--json"], cwd=tmp_path / workers
        )
        assert code == 0, err
        outs.append(
            {Path(w["path"]).name + w["locale"]: Path(w["path"]).read_bytes() for w in json.loads(out)}
        )
    assert outs[0] == outs[1] and len(outs[0]) == 9


def test_parallel_rendering_in_chunks_is_identical(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports whose files are described in several chunks by several workers come out byte-identical
    to a one-process run (order of files, overview, summary table)."""
    for i in range(40):
        folder = "docs/a" if i % 3 else "docs/b"
        git_repo.write(
            f"{folder}/page{i:02d}.md", f"---\nms.date: 01/01/2025\n---\n# Page {i}\n\nOld text {i}.\n"
        )
    base = git_repo.commit("base")
    for i in range(40):
        folder = "docs/a" if i % 3 else "docs/b"
        extra = f"\n## Section {i}\n\nNew text {i}.\n" if i % 4 == 0 else ""
        git_repo.write(
            f"{folder}/page{i:02d}.md", f"---\nms.date: 02/02/2025\n---\n# Page {i}\n\nOld text {i}!\n{extra}"
        )
    head = git_repo.commit("head")
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text('locales = ["ja_JP", "zh_CN", "en_US"]\n[categories]\na = ["docs/a"]\nb = ["docs/b"]\n')
    outs = []
    for workers in ("1", "3"):
        monkeypatch.setenv("DIFF_INSIGHT_WORKERS", workers)
        (tmp_path / workers).mkdir()
        code, out, err = run(
            ["report", str(git_repo.path), base, head, "--config", str(cfg), "--json"], cwd=tmp_path / workers
        )
        assert code == 0, err
        outs.append(
            {Path(w["path"]).name + w["locale"]: Path(w["path"]).read_bytes() for w in json.loads(out)}
        )
    assert outs[0] == outs[1] and len(outs[0]) == 6
    # one summary per file: 26 pages in docs/a (i % 3 != 0), 14 in docs/b, in each of the 3 locales
    per_category = {"a": 26, "b": 14}
    categories = sorted(key.split(".md", 1)[0].rsplit("-", 1)[1] for key in outs[0])
    assert categories == ["a", "a", "a", "b", "b", "b"]
    for key, text in outs[0].items():
        category = key.split(".md", 1)[0].rsplit("-", 1)[1]
        assert text.count(b"### Summary") == per_category[category], key
