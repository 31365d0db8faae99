"""formatting_kinds skips the formatting steps when the letters differ; footnote markers are the
one step that changes letters (``<SUP>1</SUP>`` and ``<sup>1</sup>`` are the same footnote)."""

from __future__ import annotations

from diff_insight.analysis.normalize import formatting_kinds


def test_footnote_markers_in_another_case_or_renumbered_are_formatting() -> None:
    assert formatting_kinds(["note<SUP>1</SUP> here"], ["note<sup>1</sup> here"]) is not None
    assert "footnotes" in (formatting_kinds(["see<sup>a</sup> it"], ["see<sup>b</sup> it"]) or ())


def test_changed_words_are_not_formatting() -> None:
    assert formatting_kinds(["note<sup>1</sup> here"], ["note<sup>1</sup> there"]) is None
    assert formatting_kinds(["a b"], ["a c"]) is None
