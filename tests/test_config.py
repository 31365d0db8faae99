from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from diff_insight.config import DEFAULT_OUT, CatchAll, Config, load_config
from diff_insight.errors import ConfigError, InputError

FULL = """\
locales = ["ja_JP", "zh_CN", "en_US"]
out = "out/{locale}/%Y/{category}.md"
timezone = "Asia/Tokyo"
engine = "llm"
repository = "MicrosoftDocs/azure-ai-docs"

[categories]
openai = ["articles/ai-services/openai"]
search = ["articles/search"]
misc = ["articles/ai-studio", "articles/ai-services/document-intelligence"]

[catch_all]
enabled = false
name = "rest"
"""


def write(tmp_path: Path, text: str, name: str = "diff-insight.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, required=True)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message and "\0" not in message and "Traceback" not in message
    return message


# --------------------------------------------------------------------------- loading


def test_full_file(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path, required=True)
    assert config.locales == ["ja_JP", "zh_CN", "en_US"]
    assert config.out == "out/{locale}/%Y/{category}.md"
    assert config.timezone == "Asia/Tokyo"
    assert config.tzinfo.utcoffset(datetime.datetime(2024, 1, 1)) == datetime.timedelta(hours=9)
    assert config.engine == "llm"
    assert config.repository == "MicrosoftDocs/azure-ai-docs"
    assert list(config.categories) == ["openai", "search", "misc"]  # file order
    assert config.categories["misc"] == ["articles/ai-studio", "articles/ai-services/document-intelligence"]
    assert config.catch_all == CatchAll(enabled=False, name="rest")
    assert config.source_path == path


def test_category_order_is_file_order_not_alphabetical(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories]\nzeta = ["z"]\nalpha = ["a"]\nmid = ["m"]\n')
    assert list(load_config(path, required=False).categories) == ["zeta", "alpha", "mid"]


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""), required=True)
    assert config.locales == ["en_US"]
    assert config.out == DEFAULT_OUT
    assert config.timezone == "UTC"
    assert config.engine == "facts"
    assert config.repository is None
    assert config.categories == {}
    assert config.catch_all == CatchAll(enabled=True, name="other")


def test_none_finds_file_in_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, 'locales = ["de_DE"]\n')
    monkeypatch.chdir(tmp_path)
    config = load_config(None, required=False)
    assert config.locales == ["de_DE"]
    assert config.source_path is not None and config.source_path.resolve() == tmp_path / "diff-insight.toml"


def test_none_without_file_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, required=False)
    assert config == Config()
    assert config.source_path is None


def test_none_without_file_when_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="diff-insight.toml"):
        load_config(None, required=True)


@pytest.mark.parametrize("required", [True, False])
def test_explicit_missing_path_is_an_error(tmp_path: Path, required: bool) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing, required=required)
    assert str(missing) in str(info.value)
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path, required=True)


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b'locales = ["en_US"]\nout = "\xff"\n')
    with pytest.raises(ConfigError, match=r"line 2: not valid UTF-8"):
        load_config(path, required=True)


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes('\ufefflocales = ["fr_FR"]\n'.encode())
    assert load_config(path, required=True).locales == ["fr_FR"]


# --------------------------------------------------------------------------- malformed TOML


def test_malformed_toml_has_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'locales = ["en_US"]\n\nout = \n')
    assert ": line 3: " in message


def test_malformed_toml_at_end_of_file(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'locales = ["en_US"]\nx = [1,\n')
    assert ": line 2: " in message


def test_duplicate_category_is_toml_error_with_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[categories]\nsearch = ["a"]\nopenai = ["b"]\nsearch = ["c"]\n')
    assert ": line 4: " in message


# --------------------------------------------------------------------------- validation rules


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'locale = ["en_US"]\n')
    assert ": locale: unknown key" in message and "did you mean 'locales'" in message


def test_unknown_catch_all_key(tmp_path: Path) -> None:
    message = load_error(tmp_path, "[catch_all]\nenable = true\n")
    assert ": catch_all.enable: unknown key" in message and "'enabled'" in message


def test_source_path_is_not_a_toml_key(tmp_path: Path) -> None:
    assert ": source_path: unknown key" in load_error(tmp_path, 'source_path = "x"\n')


def test_strict_types(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[catch_all]\nenabled = "yes"\n')
    assert message.endswith(": catch_all.enabled: expected a boolean (got 'yes')")
    assert ": locales: expected an array (got 'en_US')" in load_error(tmp_path, 'locales = "en_US"\n')
    assert ": categories.a: " in load_error(tmp_path, '[categories]\na = "x"\n')
    assert load_error(tmp_path, "[llm]\ntimeout = true\n").endswith(
        ": llm.timeout: expected a number (got True)"
    )
    assert load_error(tmp_path, "[llm]\napi_key_file = 3\n").endswith(
        ": llm.api_key_file: expected a string (got 3)"
    )
    message = load_error(tmp_path, "out = 1979-05-27T07:32:00Z\n")
    assert message.endswith(": out: expected a string (got 1979-05-27T07:32:00+00:00)")


def test_a_bad_value_in_a_table_of_lists_is_named_by_its_key(tmp_path: Path) -> None:
    # the decoder only says "a value of categories": the first key whose value is wrong is named
    text = '[categories]\nfine = ["a"]\nbad = ["b", 1]\nworse = 2\n'
    assert load_error(tmp_path, text).endswith(": categories.bad[1]: expected a string (got 1)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[llm]\nconcurrency = 0\n", "llm.concurrency: expected an integer >= 1 (got 0)"),
        ("[llm]\nconcurrency = 1.5\n", "llm.concurrency: expected an integer (got 1.5)"),
        ("[llm]\ntimeout = 0\n", "llm.timeout: expected a number > 0.0 (got 0)"),
        (
            "[llm]\nprovider = 'x'\n",
            "llm.provider: expected one of 'azure', 'compatible', 'openai' (got 'x')",
        ),
        ("[llm.models]\nfile = ''\n", "llm.models.file: expected a string of length >= 1 (got '')"),
        ("[site]\nindex_days = 400\n", "site.index_days: expected an integer <= 366 (got 400)"),
        ("site = 3\n", "site: expected a table (got 3)"),
        ("repositories = [1]\n", "repositories[0]: expected a table (got 1)"),
        (
            "[site]\nbase_url = 'ftp://x'\n",
            "site.base_url: invalid URL 'ftp://x' (expected an http:// or https:// URL)",
        ),
    ],
)
def test_type_and_range_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert load_error(tmp_path, text).endswith(f": {expected}")


def test_a_conflict_between_keys_is_named_only_without_other_problems(tmp_path: Path) -> None:
    conflict = "[catch_all]\nname = 'Other'\n\n[categories]\nother = ['a']\n"
    assert load_error(tmp_path, conflict).endswith(
        ": catch_all.name: 'Other' and category 'other' differ only in "
        "case, so their reports would collide on case-insensitive file "
        "systems (use the same spelling to merge them)"
    )
    # a problem of one key comes first, and the conflict is not counted as one more
    message = load_error(tmp_path, "engine = 'gpt'\n" + conflict)
    assert message.endswith(": engine: expected 'facts' or 'llm' (got 'gpt')")
    # categories alone would conflict with the default catch-all name; with the file's, they do not
    fine = "[categories]\nOther = ['a']\n\n[catch_all]\nname = 'Other'\n"
    assert load_config(write(tmp_path, fine), required=True).catch_all.name == "Other"
    message = load_error(tmp_path, "engine = 'gpt'\n" + fine)
    assert message.endswith(": engine: expected 'facts' or 'llm' (got 'gpt')")


def test_the_config_module_does_not_import_pydantic() -> None:
    # the configuration is loaded at the start of every command: its validation stays light
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from diff_insight.config import load_config\n"
        "from diff_insight.errors import ConfigError\n"
        "load_config(None, required=False).with_overrides(locales=['ja_JP'])\n"
        "try:\n"
        "    load_config(None, required=True)\n"
        "except ConfigError:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_empty_pattern_list(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[categories]\nsearch = ["a"]\nopenai = []\n')
    assert ": categories.openai: empty pattern list" in message


def test_empty_pattern_string(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[categories]\nsearch = ["a", ""]\n')
    assert ": categories.search[1]: empty pattern" in message


def test_invalid_pattern(tmp_path: Path) -> None:
    assert ": categories.s[0]: " in load_error(tmp_path, '[categories]\ns = ["/abs"]\n')
    assert "invalid range" in load_error(tmp_path, '[categories]\ns = ["x[z-a]"]\n')


@pytest.mark.parametrize(
    ("toml_key", "shown"),
    [
        ('"."', 'categories."."'),
        ('".."', 'categories.".."'),
        ('"a/b"', 'categories."a/b"'),
        ('"a\\\\b"', 'categories."a\\\\b"'),
        ('"a b"', 'categories."a b"'),
        ('"a\\u0000b"', 'categories."a\\u0000b"'),
        ('".hidden"', 'categories.".hidden"'),
        ('""', 'categories.""'),
        ("x" * 65, "categories.x"),
    ],
)
def test_unsafe_category_names(tmp_path: Path, toml_key: str, shown: str) -> None:
    message = load_error(tmp_path, f'[categories]\n{toml_key} = ["a"]\n')
    assert f": {shown}" in message and "invalid category name" in message


def test_safe_category_names(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories]\n"v1.2" = ["a"]\nA-b_c = ["b"]\n9 = ["c"]\n')
    assert list(load_config(path, required=True).categories) == ["v1.2", "A-b_c", "9"]


def test_category_names_differing_only_in_case(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[categories]\nSearch = ["a"]\nsearch = ["b"]\n')
    assert ": categories: " in message and "'Search'" in message and "'search'" in message


def test_catch_all_name_equal_to_category_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, '[categories]\nother = ["a"]\n[catch_all]\nname = "other"\n')
    assert load_config(path, required=True).catch_all.name == "other"


def test_catch_all_name_differing_only_in_case(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[categories]\nOther = ["a"]\n')
    assert ": catch_all.name: " in message and "'Other'" in message


def test_unsafe_catch_all_name(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[catch_all]\nname = ".."\n')
    assert ": catch_all.name: invalid category name" in message


def test_unknown_timezone(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'timezone = "Mars/Olympus_Mons"\n')
    assert ": timezone: unknown time zone 'Mars/Olympus_Mons'" in message
    assert ": timezone: " in load_error(tmp_path, 'timezone = "../../etc/passwd"\n')
    assert ": timezone: " in load_error(tmp_path, 'timezone = ""\n')


@pytest.mark.parametrize("locale", ["en-US", "EN_us", "english", "e", "en_USA", "en_us", "", "ja_JP.UTF-8"])
def test_invalid_locales(tmp_path: Path, locale: str) -> None:
    message = load_error(tmp_path, f'locales = ["en_US", "{locale}"]\n')
    assert ": locales[1]: invalid locale" in message


@pytest.mark.parametrize("locale", ["en", "ja_JP", "fil", "fil_PH"])
def test_valid_locales(tmp_path: Path, locale: str) -> None:
    assert load_config(write(tmp_path, f'locales = ["{locale}"]\n'), required=True).locales == [locale]


def test_empty_and_duplicate_locales(tmp_path: Path) -> None:
    assert ": locales: at least one locale" in load_error(tmp_path, "locales = []\n")
    assert ": locales: duplicate locale 'en'" in load_error(tmp_path, 'locales = ["en", "ja", "en"]\n')


def test_several_errors_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'locales = ["bad-1"]\nengine = "gpt"\ntimezone = "Nope/Nope"\n')
    assert ": locales[0]: " in message
    assert message.endswith("(+2 more)")


def test_engine_values(tmp_path: Path) -> None:
    message = load_error(tmp_path, 'engine = "gpt"\n')
    assert ": engine: " in message and "'facts'" in message and "'gpt'" in message


@pytest.mark.parametrize("repo", ["noslash", "a/b/c", "/name", "owner/", "-owner/x", "o/..", "o w/x"])
def test_invalid_repository(tmp_path: Path, repo: str) -> None:
    assert ": repository: invalid repository" in load_error(tmp_path, f'repository = "{repo}"\n')


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("r/{category}.md", "{locale}"),
        ("r/{locale}.md", "{category}"),
        ("r/{category}/{locale}/{date}.md", "unknown placeholder {date}"),
        ("/abs/{category}/{locale}.md", "relative"),
        ("../{category}/{locale}.md", "'..'"),
        ("r/%H/{category}/{locale}.md", "%H"),
    ],
)
def test_invalid_out_template(tmp_path: Path, template: str, reason: str) -> None:
    message = load_error(tmp_path, f'out = "{template}"\n')
    assert ": out: " in message and reason in message


def test_nul_in_out_template(tmp_path: Path) -> None:
    assert "NUL" in load_error(tmp_path, 'out = "r/\\u0000/{category}/{locale}"\n')


# --------------------------------------------------------------------------- with_overrides


def test_with_overrides_returns_validated_copy(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    base = load_config(path, required=True)
    changed = base.with_overrides(
        locales=("en",), out="x/{category}-{locale}.md", timezone="Europe/Berlin", engine="facts"
    )
    assert changed.locales == ["en"]
    assert changed.out == "x/{category}-{locale}.md"
    assert changed.timezone == "Europe/Berlin"
    assert changed.engine == "facts"
    # untouched values and the source are kept, the original is unchanged
    assert changed.categories == base.categories
    assert changed.catch_all == base.catch_all
    assert changed.repository == base.repository
    assert changed.source_path == path
    assert base.locales == ["ja_JP", "zh_CN", "en_US"]


def test_with_overrides_categories_and_catch_all() -> None:
    changed = Config().with_overrides(
        categories={"b": ["b"], "a": ["a/**"]}, catch_all=CatchAll(enabled=False), repository="o/r"
    )
    assert list(changed.categories) == ["b", "a"]
    assert changed.catch_all.enabled is False
    assert changed.repository == "o/r"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"locales": ["en-US"]}, "locales[0]"),
        ({"locales": []}, "locales"),
        ({"out": "r/{category}.md"}, "out"),
        ({"timezone": "Nowhere/Else"}, "timezone"),
        ({"engine": "gpt"}, "engine"),
        ({"repository": "nope"}, "repository"),
        ({"categories": {"a b": ["x"]}}, 'categories."a b"'),
        ({"categories": {"a": []}}, "categories.a"),
    ],
)
def test_with_overrides_rejects_invalid_values(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config().with_overrides(**overrides)  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{key}: ")
    assert "\n" not in message


def test_with_overrides_keeps_a_path_value(tmp_path: Path) -> None:
    path = write(tmp_path, "[llm]\napi_key_file = 'secrets/key'\n")
    config = load_config(path, required=True)
    assert config.llm.api_key_file == Path("secrets/key")
    assert config.with_overrides(locales=["en"]).llm.api_key_file == Path("secrets/key")


def test_from_dict_validates_like_a_file() -> None:
    assert Config.from_dict({"locales": ["ja_JP"]}).locales == ["ja_JP"]
    with pytest.raises(ConfigError, match=r"^locales\[0\]: invalid locale 'x'"):
        Config.from_dict({"locales": ["x"]})


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.engine = "llm"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        config.catch_all.name = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- several repositories

REPOS = """\
locales = ["en_US"]
engine = "facts"

[categories]
docs = ["articles"]

[[repositories]]
source = "MicrosoftDocs/azure-ai-docs"

[[repositories]]
source = "https://example.com/docs.git"
branch = "live"
locales = ["ja_JP", "en_US"]
out = "other/{locale}/{category}.md"
timezone = "Asia/Tokyo"
repository = "Example/docs"
categories = { all = ["**"] }
catch_all = { enabled = false }
"""


def test_repositories_targets_apply_overrides(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, REPOS), required=True)
    first, second = config.targets()
    assert (first.source, first.branch) == ("MicrosoftDocs/azure-ai-docs", "main")
    assert first.config.locales == ["en_US"] and list(first.config.categories) == ["docs"]
    assert first.config.out == DEFAULT_OUT and first.config.repositories == []
    assert (second.source, second.branch) == ("https://example.com/docs.git", "live")
    assert second.config.locales == ["ja_JP", "en_US"]
    assert second.config.out == "other/{locale}/{category}.md"
    assert second.config.timezone == "Asia/Tokyo" and second.config.repository == "Example/docs"
    assert list(second.config.categories) == ["all"] and second.config.catch_all.enabled is False
    assert second.config.engine == "facts" and second.config.source_path == config.source_path


def test_single_repository_form_is_one_target(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[source]\npath = "docs"\nbranch = "live"\n'), required=True)
    (only,) = config.targets()
    assert (only.source, only.branch, only.config) == ("docs", "live", config)
    assert config.source.mirror_dir == ".diff-insight/mirrors"
    (none,) = Config().targets()
    assert none.source is None and none.branch == "main"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("bogus = 1", "repositories[1].bogus: unknown key"),
        ("sorce = 'x'", "repositories[1].sorce: unknown key (did you mean 'source'?)"),
        ("locales = ['english']", "repositories[1].locales[0]: invalid locale 'english'"),
        ("locales = []", "repositories[1].locales: at least one locale is required"),
        ("out = 'x.md'", "repositories[1].out: output template 'x.md': must contain"),
        ("timezone = 'Mars/Base'", "repositories[1].timezone: unknown time zone 'Mars/Base'"),
        ("engine = 'gpt'", "repositories[1].engine: "),
        ("repository = 'nope'", "repositories[1].repository: invalid repository 'nope'"),
        ("catch_all = { nam = 'x' }", "repositories[1].catch_all.nam: unknown key (did you mean 'name'?)"),
        ("branch = ''", "repositories[1].branch: "),
        ("categories = { a = [] }", "repositories[1].categories.a: empty pattern list"),
    ],
)
def test_invalid_repositories_entry(tmp_path: Path, extra: str, expected: str) -> None:
    text = f"[[repositories]]\nsource = 'a/b'\n\n[[repositories]]\nsource = 'c/d'\n{extra}\n"
    message = load_error(tmp_path, text)
    assert expected in message


def test_repositories_need_a_source(tmp_path: Path) -> None:
    assert "repositories[0].source: required key is missing" in load_error(
        tmp_path, "[[repositories]]\nbranch = 'x'\n"
    )


def test_repositories_and_source_path_are_exclusive(tmp_path: Path) -> None:
    message = load_error(tmp_path, "[source]\npath = 'x'\n\n[[repositories]]\nsource = 'a/b'\n")
    assert "source: give either [source] path/branch or [[repositories]] tables, not both" in message
    # mirror_dir alone may go with [[repositories]]
    text = "[source]\nmirror_dir = '/srv/mirrors'\n\n[[repositories]]\nsource = 'a/b'\n"
    config = load_config(write(tmp_path, text), required=True)
    assert config.source.mirror_dir == "/srv/mirrors" and len(config.targets()) == 1


def test_unknown_source_key_suggests(tmp_path: Path) -> None:
    assert "source.mirrordir: unknown key (did you mean 'mirror_dir'?)" in load_error(
        tmp_path, "[source]\nmirrordir = 'x'\n"
    )
