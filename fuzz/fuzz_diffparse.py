"""Fuzz the unified-diff parser: on any bytes, no exception and counts equal to the kept patch's;
on a diff generated from two fuzzed texts, exact counts, path and patch."""

from __future__ import annotations

import io

import _common
import atheris

with atheris.instrument_imports(include=["diff_insight"]):
    import diff_insight.sources.patchfile  # noqa: F401  (instrument what the checks call)
    from diff_insight.sources.diffparse import count_changes, parse_diff

from tests.strategies import modified_section  # noqa: E402
from tests.test_prop_diffparse import check_any_diff  # noqa: E402


def test_one_input(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2 == 0:
        check_any_diff(data[1:])
        return
    fdp = atheris.FuzzedDataProvider(data[1:])
    path = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(1, 40)).replace("\x00", "")
    if not path:
        path = "a.md"
    old = io.BytesIO(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, fdp.remaining_bytes()))).readlines()
    new = io.BytesIO(fdp.ConsumeBytes(fdp.remaining_bytes())).readlines()
    section = modified_section(path, old, new)
    if section is None:
        return
    (d,) = parse_diff(section.text)
    assert (d.path, d.additions, d.deletions, d.patch) == (
        section.path,
        section.additions,
        section.deletions,
        section.patch,
    ), (d, section)
    assert d.patch is not None and count_changes(d.patch) == (d.additions, d.deletions)


# parse_diff never raises (tests/test_prop_diffparse.py): nothing is allowed
if __name__ == "__main__":
    _common.main(test_one_input, allowed=())
