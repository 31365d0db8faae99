"""Fuzz the Markdown/front-matter/table analysis: for two fuzzed texts (full-text and patch-only
analysis), and for fuzzed patch text, no exception, the same facts twice, a type with its rule."""

from __future__ import annotations

import _common
import atheris

with atheris.instrument_imports(include=["diff_insight"]):
    import diff_insight.analysis.analyze  # noqa: F401  (instrument what the checks call)
    import diff_insight.analysis.classify  # noqa: F401
    from diff_insight.analysis.markdown import scan_partial
    from diff_insight.model import FileChange, Status

from tests.test_prop_analysis import check_analysis, check_scan, make_change  # noqa: E402

PATHS = ["docs/a.md", "toc.yml", "notes.txt"]
STATUSES = [Status.MODIFIED, Status.RENAMED, Status.ADDED, Status.REMOVED]


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 2)
    path = fdp.PickValueInList(PATHS)
    if mode == 0:
        old = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 2000))
        new = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        check_scan(old)
        status = fdp.PickValueInList(STATUSES) if old != new else Status.MODIFIED
        if old == new:
            new += "\nx\n"
        o = None if status is Status.ADDED else old
        n = None if status is Status.REMOVED else new
        check_analysis(make_change(o, n, path, status), o, n)
    elif mode == 1:
        patch = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        for status in STATUSES:
            change = FileChange(path=path, status=status, additions=3, deletions=1, patch=patch)
            check_analysis(change, None, None)
    else:
        # the lines hunks show, by number (a line never holds "\n": hunks are split on it)
        known: dict[int, str] = {}
        while fdp.remaining_bytes() > 0:
            text = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 60))
            known[fdp.ConsumeIntInRange(1, 80)] = text.replace("\n", " ")
        doc = scan_partial(known)
        doc.title()
        _ = doc.front_matter


# the analysis never raises (tests/test_prop_analysis.py): nothing is allowed
if __name__ == "__main__":
    _common.main(test_one_input, allowed=())
