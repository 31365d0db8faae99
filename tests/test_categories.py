from __future__ import annotations

import pytest

from diff_insight.categories import (
    DEFAULT_CATEGORY,
    Categorizer,
    compile_pattern,
    glob_to_regex,
    is_glob,
)
from diff_insight.config import CatchAll, Config


def make(categories: dict[str, list[str]], *, enabled: bool = True, name: str = "other") -> Categorizer:
    return Categorizer(Config(categories=categories, catch_all=CatchAll(enabled=enabled, name=name)))


def matches(pattern: str, path: str) -> bool:
    return compile_pattern(pattern)(path)


# --------------------------------------------------------------------------- prefix patterns


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("articles/search", "articles/search/x.md", True),
        ("articles/search", "articles/search/deep/er/x.md", True),
        ("articles/search", "articles/search", True),
        ("articles/search", "articles/searchable/x.md", False),
        ("articles/search", "articles/search.md", False),
        ("articles/search", "other/articles/search/x.md", False),
        ("articles/search", "articles", False),
        ("articles/search/", "articles/search/x.md", True),
        ("articles/search/", "articles/searchable/x.md", False),
        ("articles/search/", "articles/search", True),
        ("README.md", "README.md", True),
        ("README.md", "README.md.bak", False),
        ("Articles", "articles/x.md", False),  # case-sensitive
        ("a+b(c)", "a+b(c)/x", True),  # regex metacharacters are literal
        ("a.b", "axb/x", False),
    ],
)
def test_prefix_semantics(pattern: str, path: str, expected: bool) -> None:
    assert not is_glob(pattern)
    assert matches(pattern, path) is expected


# --------------------------------------------------------------------------- glob patterns


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # * stays inside one component
        ("articles/*.md", "articles/x.md", True),
        ("articles/*.md", "articles/sub/x.md", False),
        ("articles/*/index.md", "articles/a/index.md", True),
        ("articles/*/index.md", "articles/a/b/index.md", False),
        ("articles/*/index.md", "articles/index.md", False),
        ("*.yml", "toc.yml", True),
        ("*.yml", "a/toc.yml", False),
        # a glob matching a directory matches everything below it
        ("articles/ai-*", "articles/ai-services/openai/x.md", True),
        ("articles/ai-*", "articles/aiservices/x.md", False),
        ("articles/search/*", "articles/search/a/b.md", True),
        ("articles/search/*", "articles/search", False),
        # ** crosses directories
        ("**/index.md", "index.md", True),
        ("**/index.md", "a/b/c/index.md", True),
        ("**/index.md", "a/b/c/xindex.md", False),
        ("articles/**/index.md", "articles/index.md", True),
        ("articles/**/index.md", "articles/a/b/index.md", True),
        ("articles/**/index.md", "other/a/index.md", False),
        ("articles/**", "articles/a/b/c.md", True),
        ("articles/**", "articles", False),
        ("articles/**.md", "articles/a/b.md", True),
        ("articles/**.md", "articles/a/b.txt", False),
        ("**", "anything/at/all", True),
        # ? is one character, never '/'
        ("docs/?.md", "docs/a.md", True),
        ("docs/?.md", "docs/ab.md", False),
        ("docs/?.md", "docs/.md", False),
        ("a?b", "a/b", False),
        # character classes
        ("docs/[ab].md", "docs/a.md", True),
        ("docs/[ab].md", "docs/b.md", True),
        ("docs/[ab].md", "docs/c.md", False),
        ("docs/[a-c]x", "docs/bx", True),
        ("docs/[a-c]x", "docs/dx", False),
        ("docs/[!ab].md", "docs/c.md", True),
        ("docs/[!ab].md", "docs/a.md", False),
        ("docs/[^ab].md", "docs/c.md", True),
        ("docs[!a]x", "docs/x", False),  # a negated class never matches '/'
        ("docs[/]x", "docs/x", False),  # nor does a positive one
        ("docs/[]]x", "docs/]x", True),  # a leading ']' is literal
        ("docs/[!]]x", "docs/ax", True),
        ("docs/[!]]x", "docs/]x", False),
        ("docs/[a-]x", "docs/-x", True),
        ("docs/[ab", "docs/[ab", True),  # no closing bracket: literal '['
        ("docs/[ab", "docs/a", False),
        ("docs/[[]x", "docs/[x", True),
        ("docs/*.m.d", "docs/a.mxd", False),  # '.' is literal
    ],
)
def test_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert is_glob(pattern)
    assert matches(pattern, path) is expected


def test_glob_to_regex_shapes() -> None:
    assert glob_to_regex("a/*.md") == r"a/[^/]*\.md"
    assert glob_to_regex("**/x") == r"(?:[^/]+/)*x"
    assert glob_to_regex("a/**") == r"a/.*"
    assert glob_to_regex("[!a]") == r"(?!/)[^a]"


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty pattern"),
        ("   ", "empty pattern"),
        (" articles", "whitespace"),
        ("articles ", "whitespace"),
        ("/articles", "starts with '/'"),
        ("a\\b", "backslash"),
        ("a\0b", "NUL"),
        ("./articles", "'..'"),
        ("articles/../x", "'..'"),
        ("a//b", "empty component"),
        ("x[z-a]", "invalid range z-a"),
    ],
)
def test_invalid_patterns(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("[", r"\[")):
        compile_pattern(pattern)


# --------------------------------------------------------------------------- categorizer


def test_first_match_wins_in_config_order() -> None:
    paths = ["articles/ai-services/openai/x.md", "articles/search/y.md"]
    broad_first = make({"ai": ["articles/ai-services"], "openai": ["articles/ai-services/openai"]})
    assert broad_first.category_of(paths[0]) == "ai"
    narrow_first = make({"openai": ["articles/ai-services/openai"], "ai": ["articles/ai-services"]})
    assert narrow_first.category_of(paths[0]) == "openai"
    assert narrow_first.category_of(paths[1]) == "other"


def test_any_pattern_of_a_category_matches() -> None:
    cat = make({"misc": ["articles/ai-studio", "**/*.yml"], "search": ["articles/search"]})
    assert cat.category_of("articles/ai-studio/a.md") == "misc"
    assert cat.category_of("articles/search/toc.yml") == "misc"
    assert cat.category_of("articles/search/a.md") == "search"


def test_split_groups_in_config_order_with_catch_all_last() -> None:
    cat = make({"openai": ["articles/ai-services/openai"], "search": ["articles/search"], "empty": ["nope"]})
    paths = [
        "README.md",  # 0 other
        "articles/search/a.md",  # 1 search
        "articles/ai-services/openai/b.md",  # 2 openai
        "articles/search/c.md",  # 3 search
        "includes/x.md",  # 4 other
    ]
    groups, left_out = cat.split(paths)
    assert list(groups) == ["openai", "search", "other"]
    assert groups == {"openai": [2], "search": [1, 3], "other": [0, 4]}
    assert left_out == []
    assert cat.categories == ("openai", "search", "empty", "other")


def test_catch_all_disabled_leaves_files_out_and_counts_them() -> None:
    cat = make({"search": ["articles/search"]}, enabled=False)
    paths = ["README.md", "articles/search/a.md", "includes/x.md", "articles/searchable/y.md"]
    assert cat.category_of("README.md") is None
    groups, left_out = cat.split(paths)
    assert groups == {"search": [1]}
    assert left_out == [0, 2, 3]
    assert len(left_out) + sum(map(len, groups.values())) == len(paths)
    assert cat.categories == ("search",)


def test_custom_catch_all_name() -> None:
    cat = make({"search": ["articles/search"]}, name="misc")
    groups, _ = cat.split(["x.md", "articles/search/a.md"])
    assert list(groups) == ["search", "misc"]
    assert groups["misc"] == [0]


def test_catch_all_named_like_a_category_merges_into_it() -> None:
    cat = make({"other": ["includes"], "search": ["articles/search"]}, name="other")
    groups, left_out = cat.split(["articles/search/a.md", "includes/i.md", "README.md"])
    assert list(groups) == ["other", "search"]  # 'other' keeps its configured position
    assert groups == {"other": [1, 2], "search": [0]}
    assert left_out == []
    assert cat.categories == ("other", "search")


def test_no_categories_means_one_category_all() -> None:
    for catch_all in (CatchAll(), CatchAll(enabled=False), CatchAll(name="misc")):
        cat = Categorizer(Config(catch_all=catch_all))
        assert cat.category_of("anything/at/all.md") == DEFAULT_CATEGORY == "all"
        groups, left_out = cat.split(["a.md", "b/c.md"])
        assert groups == {"all": [0, 1]}
        assert left_out == []
        assert cat.categories == ("all",)


def test_split_of_nothing() -> None:
    assert make({"a": ["a"]}).split([]) == ({}, [])


def test_split_accepts_any_iterable() -> None:
    cat = make({"a": ["a"]})
    groups, left_out = cat.split(p for p in ["a/x", "b/y"])
    assert groups == {"a": [0], "other": [1]}
    assert left_out == []
