from __future__ import annotations

import datetime
import os
import stat
from pathlib import Path

import pytest

from diff_insight.errors import ConfigError, RenderError
from diff_insight.paths import (
    atomic_write_text,
    is_safe_component,
    literal_prefix,
    render_out_path,
    validate_template,
)

DAY = datetime.date(2024, 3, 7)


def render(template: str, root: Path, *, category: str = "search", locale: str = "ja_JP") -> Path:
    return render_out_path(template, category=category, locale=locale, day=DAY, root=root)


# --------------------------------------------------------------------------- safe components


@pytest.mark.parametrize("name", ["a", "openai", "ja_JP", "v1.2", "A-b_c.d", "9", "x" * 64])
def test_safe_components(name: str) -> None:
    assert is_safe_component(name)


@pytest.mark.parametrize(
    "name", ["", ".", "..", ".hidden", "-x", "_x", "a/b", "a\\b", "a\0b", "a b", "x" * 65, "é"]
)
def test_unsafe_components(name: str) -> None:
    assert not is_safe_component(name)


# --------------------------------------------------------------------------- render_out_path


def test_strftime_and_placeholders(tmp_path: Path) -> None:
    out = render("reports/{locale}/%Y%m/report-%Y%m%d-{category}.md", tmp_path)
    assert out == tmp_path / "reports/ja_JP/202403/report-20240307-search.md"


def test_more_date_codes(tmp_path: Path) -> None:
    out = render("%y/%j/%B-%b-%A-%a-%u-%w-%d/{category}.{locale}", tmp_path)
    assert out == tmp_path / "24/067/March-Mar-Thursday-Thu-4-4-07/search.ja_JP"


def test_literal_percent_and_braces(tmp_path: Path) -> None:
    out = render("r/100%%-{{x}}-%%Y/{category}-{locale}.md", tmp_path)
    assert out == tmp_path / "r/100%-{x}-%Y/search-ja_JP.md"


def test_values_are_not_reinterpreted(tmp_path: Path) -> None:
    # A category that looks like a code stays literal; strftime output is not re-formatted.
    out = render("{category}/{locale}.md", tmp_path, category="Y", locale="en")
    assert out == tmp_path / "Y/en.md"


def test_result_is_under_root_even_for_relative_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = render("{locale}/{category}.md", Path("."))
    assert out == Path("ja_JP/search.md")


@pytest.mark.parametrize(
    ("category", "locale", "key"),
    [
        ("..", "en", "category"),
        (".", "en", "category"),
        ("a/b", "en", "category"),
        ("ok", "../x", "locale"),
        ("ok", "", "locale"),
        ("a\0b", "en", "category"),
        ("a b", "en", "category"),
    ],
)
def test_unsafe_values_rejected(tmp_path: Path, category: str, locale: str, key: str) -> None:
    with pytest.raises(RenderError) as info:
        render("{locale}/{category}.md", tmp_path, category=category, locale=locale)
    message = str(info.value)
    assert key in message and "safe" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("../x/{category}-{locale}.md", ".."),
        ("a/../../{category}-{locale}.md", ".."),
        ("/tmp/{category}-{locale}.md", "relative"),
        ("{category}/{locale}/", "file name"),
        ("a\0/{category}{locale}", "NUL"),
        ("{category}/{unknown}/{locale}", "unknown placeholder"),
    ],
)
def test_bad_templates_rejected_at_render(tmp_path: Path, template: str, reason: str) -> None:
    with pytest.raises(RenderError, match=reason):
        render(template, tmp_path)


def test_symlink_escape_rejected(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "reports").symlink_to(outside, target_is_directory=True)
    with pytest.raises(RenderError, match="outside"):
        render("reports/{locale}/{category}.md", root)
    # A symlink that stays inside the root is fine.
    (root / "inside").mkdir()
    (root / "alias").symlink_to(root / "inside", target_is_directory=True)
    assert render("alias/{locale}/{category}.md", root) == root / "alias/ja_JP/search.md"


def test_symlinked_root_is_fine(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert render("{locale}/{category}.md", link) == link / "ja_JP/search.md"


# --------------------------------------------------------------------------- validate_template


@pytest.mark.parametrize(
    "template",
    [
        "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md",
        "{category}-{locale}.md",
        "a/{{literal}}/%%/{locale}/{category}",
        "x/%G-W%V/{category}/{locale}.md",
    ],
)
def test_valid_templates(template: str) -> None:
    validate_template(template)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "empty"),
        ("r/{category}.md", "{locale}"),
        ("r/{locale}.md", "{category}"),
        ("r/report.md", "{category} and {locale}"),
        ("r/{category}/{locale}/{date}.md", "unknown placeholder {date}"),
        ("r/{category}/{locale}/{}.md", "unknown placeholder {}"),
        ("r/{category!r}/{locale}.md", "unknown placeholder"),
        ("r/{category:>10}/{locale}.md", "unknown placeholder"),
        ("/abs/{category}/{locale}.md", "relative"),
        ("C:/x/{category}/{locale}.md", "relative"),
        ("../{category}/{locale}.md", "'..'"),
        ("r/../{category}/{locale}.md", "'..'"),
        ("r/{category}/{locale}/..", "'..'"),
        ("r\\{category}\\{locale}.md", "backslash"),
        ("r/\0/{category}/{locale}.md", "NUL"),
        ("r/{category}/{locale}/", "file name"),
        ("r/{category/{locale}.md", "lone '{'"),
        ("r/category}/{locale}.md", "lone '}'"),
        ("r/%H/{category}/{locale}.md", "%H"),
        ("r/%D/{category}/{locale}.md", "%D"),
        ("r/{category}/{locale}%", "lone '%'"),
    ],
)
def test_invalid_templates(template: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_template(template)
    message = str(info.value)
    assert reason in message
    assert "output template" in message
    assert "\n" not in message


def test_dots_inside_names_are_not_parent_components(tmp_path: Path) -> None:
    validate_template("r/..x/x../{category}/{locale}.md")
    assert render("r/..x/{category}/{locale}.md", tmp_path) == tmp_path / "r/..x/search/ja_JP.md"


# --------------------------------------------------------------------------- atomic_write_text


def test_atomic_write_creates_parents_and_writes_utf8_lf(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.md"
    atomic_write_text(target, "línea 1\r\nline 2\n日本語\n")
    assert target.read_bytes() == "línea 1\r\nline 2\n日本語\n".encode()
    atomic_write_text(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.md"]


def test_atomic_write_keeps_mode_of_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text(encoding="utf-8") == "new"


def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    old = os.umask(0o022)
    try:
        atomic_write_text(target, "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_failed_replace_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.md"
    target.write_text("old content\n", encoding="utf-8")

    def failing_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(RenderError) as info:
        atomic_write_text(target, "new content\n")
    message = str(info.value)
    assert str(target) in message and "No space left on device" in message
    assert "\n" not in message
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_unencodable_text_keeps_old_file_and_removes_temp(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        atomic_write_text(target, "lone surrogate \ud800\n")
    assert str(target) in str(info.value) and "UTF-8" in str(info.value)
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_parent_is_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("i am a file", encoding="utf-8")
    target = blocker / "sub" / "report.md"
    with pytest.raises(RenderError) as info:
        atomic_write_text(target, "x")
    assert str(target) in str(info.value)
    assert blocker.read_text(encoding="utf-8") == "i am a file"
    assert [p.name for p in tmp_path.iterdir()] == ["blocker"]


def test_target_is_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.mkdir()
    (target / "keep").write_text("k", encoding="utf-8")
    with pytest.raises(RenderError, match="report.md"):
        atomic_write_text(target, "x")
    assert (target / "keep").read_text(encoding="utf-8") == "k"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_interrupt_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("template", "prefix"),
    [
        ("reports/{locale}/%Y%m/report-%Y%m%d-{category}.md", "reports"),
        ("a/b/{locale}/{category}.md", "a/b"),
        ("out%%x/{locale}/{category}.md", "out%x"),  # %% is literal, not a date code
        ("a%%/%Y/{locale}/{category}.md", "a%"),
        ("x{{y}}/{locale}/{category}.md", "x{y}"),
        ("{{a}}%%/b/{locale}-{category}.md", "{a}%/b"),
        ("{locale}/{category}.md", ""),
        ("pre%Y/{locale}/{category}.md", ""),
        ("r/x-{locale}-{category}.md", "r"),
    ],
)
def test_literal_prefix(template: str, prefix: str) -> None:
    assert literal_prefix(template) == prefix


def test_literal_prefix_rejects_an_invalid_template() -> None:
    with pytest.raises(ConfigError, match="unknown placeholder"):
        literal_prefix("a/{nope}/{locale}/{category}.md")


def test_write_all_modes_new_files_by_umask_and_keeps_replaced_ones(tmp_path: Path) -> None:
    from diff_insight.pipeline import write_all

    kept = tmp_path / "r" / "kept.md"
    kept.parent.mkdir()
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    new = tmp_path / "r" / "new.md"
    old = os.umask(0o077)
    try:
        write_all([(kept, "one"), (new, "two")], stage_dir=tmp_path / ".diff-insight" / "tmp")
    finally:
        os.umask(old)
    assert kept.read_text(encoding="utf-8") == "one" and new.read_text(encoding="utf-8") == "two"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.md", "new.md", "r"]


def _record_syncs(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> list[tuple[str, str]]:
    """Record (``fsync`` of a file's path | ``replace`` of a path), in order; ``fail``: fsync fails."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if fail and path.endswith(".md"):
            raise OSError(5, "Input/output error")
        events.append(("fsync", path))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("replace", os.fspath(src)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_write_all_puts_every_report_on_disk_before_the_first_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from diff_insight.pipeline import write_all

    items = [(tmp_path / "r" / f"{i}.md", f"report {i}\n" * 1000) for i in range(5)]
    events = _record_syncs(monkeypatch)
    write_all(items, stage_dir=tmp_path / ".diff-insight" / "tmp")
    renamed = [p for what, p in events if what == "replace"]
    synced = {p for what, p in events if what == "fsync"}
    assert len(renamed) == 5 and set(renamed) <= synced
    first_rename = next(i for i, (what, _) in enumerate(events) if what == "replace")
    assert {p for what, p in events[:first_rename] if what == "fsync"} >= set(renamed)
    assert all(path.read_text(encoding="utf-8") == text for path, text in items)


def test_write_all_failing_fsync_replaces_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from diff_insight.pipeline import write_all

    kept = tmp_path / "r" / "kept.md"
    kept.parent.mkdir()
    kept.write_text("old", encoding="utf-8")
    events = _record_syncs(monkeypatch, fail=True)
    with pytest.raises(RenderError, match="Input/output error"):
        write_all(
            [(kept, "one"), (tmp_path / "r" / "new.md", "two")], stage_dir=tmp_path / ".diff-insight" / "tmp"
        )
    assert not [e for e in events if e[0] == "replace"]
    assert kept.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["kept.md", "r"]
