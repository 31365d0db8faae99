"""Each classification rule, tested on a real change that should fire it (and first-match order)."""

from __future__ import annotations

import pytest
from tests.analysis_helpers import analyze, change_from

from diff_insight.analysis.analyze import analyze_file
from diff_insight.analysis.classify import RULES, RULES_BY_NAME, classify
from diff_insight.analysis.facts import ChangeType
from diff_insight.model import FileChange, Status

FM = "---\ntitle: Quotas\nms.date: 01/15/2025\n---\n\n"
DOC = (
    FM
    + """\
# Quotas

Intro.

## Limits

| Parameter | Value |
|---|---|
| `max_tokens` | 4096 |
| `temperature` | 1.0 |

## Sample

```python
client.call(max_tokens=10)
```

See [the pricing page](https://example.com/pricng).
"""
)

LONG_SECTION = "## Regions\n\n" + "".join(f"Region {i} is available in zone {i}.\n\n" for i in range(6))


def rule_of(
    old: str | None, new: str | None, path: str = "docs/a.md", **kw: object
) -> tuple[ChangeType, str]:
    ch = change_from(old, new, path, **kw)  # type: ignore[arg-type]
    c = classify(ch, analyze(old, new, path, **kw))  # type: ignore[arg-type]
    return c.type, c.rule


CASES = [
    ("article-added", (None, DOC), {}),
    ("article-removed", (DOC, None), {}),
    ("article-renamed", (DOC, DOC), {"status": Status.RENAMED, "previous_path": "docs/old.md"}),
    ("section-removed", (DOC + LONG_SECTION, DOC), {}),
    ("parameter-removed", (DOC, DOC.replace("| `temperature` | 1.0 |\n", "")), {}),
    (
        "toc-entry-removed",
        ("items:\n- name: A\n  href: a.md\n- name: B\n  href: b.md\n", "items:\n- name: A\n  href: a.md\n"),
        {"path": "docs/toc.yml"},
    ),
    ("section-added", (DOC, DOC + "\n" + LONG_SECTION), {}),
    (
        "parameter-added",
        (DOC, DOC.replace("| `temperature` | 1.0 |\n", "| `temperature` | 1.0 |\n| `top_p` | 1.0 |\n")),
        {},
    ),
    (
        "toc-entry-added",
        ("items:\n- name: A\n  href: a.md\n", "items:\n- name: A\n  href: a.md\n- name: B\n  href: b.md\n"),
        {"path": "docs/toc.yml"},
    ),
    (
        "substantial-addition",
        (
            DOC,
            DOC.replace(
                "Intro.\n",
                "Intro.\n\n" + "".join(f"New paragraph {i} explains {i} things.\n\n" for i in range(25)),
            ),
        ),
        {},
    ),
    (
        "substantial-addition",  # a long list of new links is new content, though no sentence
        (
            DOC,
            DOC.replace(
                "Intro.\n",
                "Intro.\n\n" + "".join(f"- [Chapter {i}](chapter-{i}.md)\n" for i in range(45)),
            ),
        ),
        {},
    ),
    ("date-only", (DOC, DOC.replace("01/15/2025", "04/23/2025")), {}),
    ("formatting-only", (DOC + "\n- one\n- two\n", DOC + "\n* one\n* two\n"), {}),
    ("link-fix", (DOC, DOC.replace("pricng", "pricing")), {}),
    ("code-fix", (DOC, DOC.replace("max_tokens=10)", "max_tokens=10, timeout=30)")), {}),
    ("default", (DOC, DOC.replace("Intro.", "An introduction to quotas and how they are counted.")), {}),
]


@pytest.mark.parametrize("rule,texts,kw", CASES, ids=[c[0] for c in CASES])
def test_rule_fires(rule: str, texts: tuple[str | None, str | None], kw: dict[str, object]) -> None:
    t, name = rule_of(texts[0], texts[1], **kw)  # type: ignore[arg-type]
    assert name == rule
    assert t == RULES_BY_NAME[rule].type


def test_typo_fix() -> None:
    old = DOC.replace("Intro.", "Intro. The servcie is fast.")
    new = DOC.replace("Intro.", "Intro. The service is fast.")
    assert rule_of(old, new) == (ChangeType.BUG_FIX, "typo-fix")
    # a real change of meaning is not a typo
    assert rule_of(old, old.replace("servcie", "platform"))[1] == "default"


def test_link_and_code_fixes_together_are_a_bug_fix() -> None:
    new = DOC.replace("pricng", "pricing").replace("max_tokens=10)", "max_tokens=10, timeout=30)")
    assert rule_of(DOC, new) == (ChangeType.BUG_FIX, "fixes")
    # a real rewording next to the fix is not a fix
    assert (
        rule_of(DOC, new.replace("Intro.", "An introduction to quotas and how they are counted."))[1]
        == "default"
    )


def test_media_rules() -> None:
    for status, rule in (
        (Status.ADDED, "media-added"),
        (Status.REMOVED, "media-removed"),
        (Status.MODIFIED, "media-changed"),
    ):
        ch = FileChange("m/x.png", status, 0, 0, None, binary=True, old_size=1, new_size=2)
        c = classify(ch, analyze_file(ch))
        assert (c.type, c.rule) == (ChangeType.MINOR_UPDATE, rule)


def test_first_match_wins_removed_article_with_sections() -> None:
    # a removed article also removes sections, but the article rule comes first
    assert rule_of(DOC + LONG_SECTION, None)[1] == "article-removed"


def test_every_rule_is_tested_and_documented() -> None:
    tested = {c[0] for c in CASES} | {"media-added", "media-removed", "media-changed", "typo-fix", "fixes"}
    assert tested == {r.name for r in RULES}
    assert all(r.description for r in RULES)
    assert RULES[-1].name == "default"
