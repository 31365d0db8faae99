"""The report renderer: front matter is valid YAML for any content, and fences hold any patch."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from diff_insight.render.markdown import _fence_for, dump_front_matter

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(path=text, note=text, title=text, n=st.integers(0, 10**6), flag=st.booleans())
def test_front_matter_round_trips_any_text(path: str, note: str, title: str, n: int, flag: bool) -> None:
    fm = {
        "date": "2025-01-01",
        "summary": note,
        "title": title,
        "files": [{"path": path, "type": "minor update", "note": note, "n": n, "encoding_replaced": flag}],
        "llm": {"prompt_versions": title},
    }
    assert yaml.safe_load(dump_front_matter(fm)) == fm


@settings(max_examples=200, deadline=None)
@given(body=st.text(alphabet=st.sampled_from(["`", "a", "\n", " ", "~"]), max_size=80))
def test_diff_fence_is_longer_than_any_backtick_run(body: str) -> None:
    fence = _fence_for(body)
    assert len(fence) >= 4 and fence not in body
