"""Front matter is read two ways: a fast line parser for plain ``key: value`` lines, and YAML for
everything else. Both must give the same strings, or an old and a new version of one document read
different ways would show a front-matter change that is not there."""

from __future__ import annotations

import pytest

from diff_insight.analysis.markdown import _simple_front_matter, parse_front_matter

VALUES = [
    "Azure OpenAI",
    "04/23/2025",
    "conceptual",
    "3",
    "2024",
    "0",
    "true",
    "false",
    "yes",
    "No",
    "on",
    "False",
    "0x1F",
    "012",
    "1.50",
    "1.5",
    "1e3",
    ".inf",
    "2024-01-05",
    "2024-01-05T10:00:00Z",
    "null",
    "~",
    "v1.2",
    "1_000",
]


@pytest.mark.parametrize("value", VALUES)
def test_the_fast_path_and_yaml_give_the_same_value(value: str) -> None:
    fast = parse_front_matter([f"key: {value}", "title: Plain"])
    # a quoted value elsewhere sends the whole front matter through YAML
    slow = parse_front_matter([f"key: {value}", "title: 'Quoted'"])
    assert fast["key"] == slow["key"]


def test_usual_values_stay_on_the_fast_path() -> None:
    lines = ["title: Azure OpenAI", "ms.date: 04/23/2025", "ms.topic: conceptual", "ms.custom: 3"]
    assert _simple_front_matter(lines) == {
        "title": "Azure OpenAI",
        "ms.date": "04/23/2025",
        "ms.topic": "conceptual",
        "ms.custom": "3",
    }
    assert _simple_front_matter(["x: 0x1F"]) is None
