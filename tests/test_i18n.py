"""Locale resolution and the message catalogs."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
from babel import Locale
from markdown_it import MarkdownIt

from diff_insight.writers.i18n import (
    PLURAL_CATEGORIES,
    SUPPORTED,
    Catalog,
    catalog,
    resolve_locale,
    site_strings,
)

# --- resolve_locale --------------------------------------------------------------------------


@pytest.mark.parametrize("locale", SUPPORTED)
def test_supported_locales_resolve_without_babel_as_with_it(locale: str) -> None:
    """The shortcut for a supported name, and the language table built from the names, agree with
    what Babel's data says."""
    from diff_insight.writers.i18n import _BY_LANGUAGE, _babel_locale, _resolve_with_babel

    assert resolve_locale(locale) == _resolve_with_babel(locale) == (locale, None)
    assert _BY_LANGUAGE[_babel_locale(locale).language] == locale
    assert sorted(_BY_LANGUAGE.values()) == sorted(SUPPORTED)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en_US", "en_US"),
        ("ja_JP", "ja_JP"),
        ("zh_CN", "zh_CN"),
        ("en", "en_US"),
        ("ja", "ja_JP"),
        ("zh", "zh_CN"),
        ("ja-JP", "ja_JP"),
        ("zh-CN", "zh_CN"),
        ("ZH-cn", "zh_CN"),
        ("zh_Hans", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        (" ja ", "ja_JP"),
    ],
)
def test_resolve_locale_normalises_supported_locales_silently(given: str, expected: str) -> None:
    assert resolve_locale(given) == (expected, None)


@pytest.mark.parametrize("given", ["fr_FR", "de", "xx_YY", "", "!!", "pt-BR"])
def test_unknown_locales_fall_back_to_english_with_a_warning(given: str) -> None:
    effective, warning = resolve_locale(given)
    assert effective == "en_US"
    assert warning is not None
    assert repr(given) in warning and "en_US" in warning


@pytest.mark.parametrize(
    ("given", "expected"), [("zh_TW", "zh_CN"), ("zh-Hant", "zh_CN"), ("en_GB", "en_US")]
)
def test_other_regions_of_a_supported_language_warn(given: str, expected: str) -> None:
    effective, warning = resolve_locale(given)
    assert effective == expected
    assert warning is not None and expected in warning


def test_catalog_refuses_unresolved_locales() -> None:
    with pytest.raises(ValueError, match="fr_FR"):
        Catalog("fr_FR")


# --- the catalogs as data --------------------------------------------------------------------


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _templates(cat: Catalog, key: str) -> list[str]:
    entry = cat._messages[key]
    return [entry] if isinstance(entry, str) else list(entry.values())


def test_all_catalogs_have_the_same_keys() -> None:
    keys = {loc: catalog(loc).keys() for loc in SUPPORTED}
    reference = keys["en_US"]
    assert len(reference) > 200
    for loc, ks in keys.items():
        assert ks - reference == set(), f"{loc} has keys en_US lacks"
        assert reference - ks == set(), f"{loc} lacks keys"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_plural_messages_define_every_category_the_locale_uses(locale: str) -> None:
    cat = catalog(locale)
    needed = frozenset(Locale.parse(locale).plural_form.tags) | {"other"}
    for key, forms in cat.plural_keys().items():
        assert forms <= PLURAL_CATEGORIES
        assert needed <= forms, f"{locale}: {key} lacks {needed - forms}"


def test_ja_and_zh_have_no_plural_variants() -> None:
    assert catalog("ja_JP").plural_keys() == {}
    assert catalog("zh_CN").plural_keys() == {}
    assert catalog("en_US").plural_keys()


@pytest.mark.parametrize("locale", SUPPORTED)
def test_templates_are_well_formed(locale: str) -> None:
    cat = catalog(locale)
    for key in sorted(cat.keys()):
        for template in _templates(cat, key):
            _placeholders(template)  # raises on unbalanced braces
            assert template == template.strip() or key in {
                "fmt.sentence_sep",
                "fmt.title_file",
                "fmt.list_semicolon",
                "table.place_named",
                "table.place_columns",
            }, f"{locale}: {key} has stray white space"


@pytest.mark.parametrize("locale", ["ja_JP", "zh_CN"])
def test_cjk_catalogs_hold_no_english_words(locale: str) -> None:
    cat = catalog(locale)
    allowed = {"KB", "MB", "GB"}
    for key in sorted(cat.keys()):
        for template in _templates(cat, key):
            text = re.sub(r"\{[a-z_]+\}", "", template)
            words = set(re.findall(r"[A-Za-z]+", text)) - allowed
            assert not words, f"{locale}: {key} contains {words}"


# --- the website's interface strings ([site] tables) ----------------------------------------


def test_site_strings_are_complete_and_take_the_same_placeholders_in_every_locale() -> None:
    tables = {loc: site_strings(loc) for loc in SUPPORTED}
    reference = tables["en_US"]
    assert len(reference) > 40 and {"latest", "archive", "bug fix", "files_count"} <= reference.keys()
    for loc, table in tables.items():
        assert table.keys() == reference.keys(), loc
        for key, template in table.items():
            assert _placeholders(template) == _placeholders(reference[key]), f"{loc}: {key}"
    # the writers' catalogs do not see them, and the site falls back to en_US like the writers
    writer_keys = catalog("en_US").keys()
    assert writer_keys and not any(k.startswith("site.") for k in writer_keys)
    assert site_strings("ja_JP")["latest"] != reference["latest"]


def test_the_site_takes_its_strings_from_the_catalog_files() -> None:
    from diff_insight.site.i18n import strings

    assert strings("zh_CN") == site_strings("zh_CN")
    assert strings("fr_FR") == strings("en_US") == site_strings("en_US")
    mine = strings("en_US")
    mine["latest"] = "changed"
    assert strings("en_US")["latest"] != "changed"  # a copy: a caller cannot change the catalog


def test_site_strings_refuse_unresolved_locales() -> None:
    with pytest.raises(ValueError, match="fr_FR"):
        site_strings("fr_FR")


# --- messages --------------------------------------------------------------------------------


def test_msg_chooses_the_plural_form_by_count() -> None:
    en = catalog("en_US")
    one = en.msg("unit.lines", count=1)
    many = en.msg("unit.lines", count=3)
    assert one.startswith("1 ") and many.startswith("3 ")
    assert one != many.replace("3", "1")  # a different form, not just another number
    ja = catalog("ja_JP")
    assert ja.msg("unit.lines", count=1).replace("1", "3") == ja.msg("unit.lines", count=3)


def test_msg_formats_integers_as_locale_numbers() -> None:
    for loc in SUPPORTED:
        cat = catalog(loc)
        assert cat.number(12345) in cat.msg("unit.lines", count=12345)
    assert "12,345" in catalog("en_US").msg("unit.lines", count=12345)


def test_missing_key_names_key_and_locale() -> None:
    with pytest.raises(KeyError) as exc:
        catalog("zh_CN").msg("no.such.key")
    assert "no.such.key" in str(exc.value) and "zh_CN" in str(exc.value)


def test_missing_placeholder_value_names_key_and_locale() -> None:
    with pytest.raises(KeyError) as exc:
        catalog("ja_JP").msg("fmt.quote")
    assert "fmt.quote" in str(exc.value) and "ja_JP" in str(exc.value) and "text" in str(exc.value)


def test_plural_message_without_count_is_an_error() -> None:
    with pytest.raises(KeyError, match="count"):
        catalog("en_US").msg("unit.lines")


def test_values_may_be_named_key() -> None:
    assert "`ms.date`" in catalog("en_US").msg("fact.date_bumped.single", key="`ms.date`", old="a", new="b")


# --- formatting helpers ----------------------------------------------------------------------


def test_quotation_marks_per_locale() -> None:
    assert catalog("en_US").quote("Models") == "“Models”"
    assert catalog("ja_JP").quote("Models") == "「Models」"
    assert catalog("zh_CN").quote("Models") == "“Models”"
    assert catalog("zh_CN").doc_title("Models") == "《Models》"
    assert catalog("ja_JP").doc_title("Models") == "『Models』"
    assert catalog("en_US").doc_title("Models") == "“Models”"


def test_quote_collapses_white_space() -> None:
    assert catalog("en_US").quote("a \n  b") == "“a b”"


@pytest.mark.parametrize("text", ["plain", "a`b", "``x``", "`start", "end`", "a ``` b"])
def test_code_survives_backticks(text: str) -> None:
    md = MarkdownIt("commonmark")
    html = md.renderInline(Catalog.code(text))
    inner = re.fullmatch(r"<code>(.*)</code>", html)
    assert inner is not None, html
    assert inner.group(1) == text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_join_uses_babel_list_patterns() -> None:
    assert catalog("zh_CN").join(["A", "B", "C"]) == "A、B和C"
    assert "、" in catalog("ja_JP").join(["A", "B", "C"])
    assert catalog("en_US").join(["A", "B", "C"]) == "A, B, and C"
    assert catalog("en_US").join(["A"]) == "A"


def test_number_date_percent() -> None:
    assert catalog("en_US").number(1234567) == "1,234,567"
    assert catalog("ja_JP").date(date(2025, 4, 23)) == "2025年4月23日"
    assert catalog("zh_CN").date(date(2025, 4, 23)) == "2025年4月23日"
    assert catalog("en_US").date(date(2025, 4, 23)) == "April 23, 2025"
    assert catalog("en_US").percent(0.714) == "71%"


def test_size_is_human_and_localized() -> None:
    en = catalog("en_US")
    assert en.size(1) == en.msg("size.bytes", count=1)
    assert en.size(512) == en.msg("size.bytes", count=512)
    assert en.size(12595) == "12.3 KB"
    assert en.size(2048) == "2 KB"
    assert en.size(5 * 1024 * 1024) == "5 MB"
    assert en.size(3 * 1024**4) == "3,072 GB"
    assert catalog("ja_JP").size(100) != en.size(100)


_FORMAT_IN_A_FRESH_PROCESS = """
import sys, tomllib
from datetime import date
import babel.localedata
from diff_insight.writers.i18n import catalog, preload

locales = ["ja_JP", "zh_CN", "en_US"]
if sys.argv[1] == "preload":
    preload(locales)

def refuse(*args, **kwargs):
    raise SystemExit("loaded " + repr(args[:1]))

# what a forked writing process would do: everything below must come from what was loaded above
babel.localedata.load = refuse
tomllib.loads = refuse
for loc in locales:
    c = catalog(loc)
    print(c.date(date(2024, 5, 6)), c.number(12345), c.number(2.5), c.percent(0.25),
          c.join(["a", "b", "c"]), c.msg("count.bug_fix", count=3))
"""


@pytest.mark.parametrize("mode", ["preload", "no-preload"])
def test_preload_loads_what_formatting_needs(mode: str) -> None:
    """After ``preload``, formatting dates, numbers, percentages, lists and plurals in its locales
    loads neither Babel's locale data nor a catalog file again (a process forked after it inherits
    them); without it, the first use loads them."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _FORMAT_IN_A_FRESH_PROCESS, mode], capture_output=True, text=True, timeout=60
    )
    if mode == "preload":
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        assert len(lines) == 3
        assert "2024年5月6日" in lines[0] and "12,345" in lines[0]
        assert "May 6, 2024" in lines[2] and "25%" in lines[2] and "3 bug fixes" in lines[2]
    else:
        assert run.returncode != 0
        assert "loaded" in run.stderr
