"""Fuzz the compare-JSON reader: any bytes give a result or a one-line SourceError; a valid document
with a fuzzed file name and patch reads back with the counts of its patch."""

from __future__ import annotations

import _common
import atheris

with atheris.instrument_imports(include=["diff_insight"]):
    import diff_insight.sources.compare_json  # noqa: F401  (instrument what the checks call)
    from diff_insight.sources.diffparse import count_changes

from tests.test_prop_compare_json import check_valid_document, read_compare  # noqa: E402

STATUSES = ["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    if data[0] % 2 == 0:
        read_compare(_common.WORKDIR, data[1:])
        return
    fdp = atheris.FuzzedDataProvider(data[1:])
    files: list[dict[str, object]] = []
    names: set[str] = set()
    while fdp.remaining_bytes() > 0 and len(files) < 4:
        name = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(1, 30)) or "x"
        if name in names:
            continue
        names.add(name)
        patch = "@@ -1,3 +1,3 @@\n" + fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
        a, d = count_changes(patch)
        entry = {"filename": name, "status": fdp.PickValueInList(STATUSES), "patch": patch}
        entry.update(additions=a, deletions=d, changes=a + d, previous_filename=name + ".old")
        files.append(entry)
    check_valid_document(_common.WORKDIR, {"files": files})


# read_compare returns the SourceError of bad input after checking it is one line naming the
# file, and a valid document must read back (tests/test_prop_compare_json.py): nothing else is allowed
if __name__ == "__main__":
    _common.main(test_one_input, allowed=())
