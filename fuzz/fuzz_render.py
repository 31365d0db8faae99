"""Fuzz the report renderer: a report whose paths, titles, explanations, summary, highlights,
permalink and patches come from the input renders and parses back (files, types, titles, statuses,
counts), with valid YAML front matter, closed diff fences and only our headings and ``<details>``."""

from __future__ import annotations

from datetime import date

import _common
import atheris

with atheris.instrument_imports(include=["diff_insight"]):
    import diff_insight.pipeline  # noqa: F401  (instrument what the checks call)
    import diff_insight.render.markdown  # noqa: F401
    import diff_insight.writers.facts_writer  # noqa: F401
    from diff_insight.analysis.classify import RULES_BY_NAME
    from diff_insight.analysis.facts import ChangeType, Classification, FileAnalysis, FileKind
    from diff_insight.model import ChangeSet, FileChange, Repository, Status
    from diff_insight.report import FileEntry, FileText, Highlights, Overview, Report, ReportFile, anchor_for

from tests.test_prop_render import check_round_trip  # noqa: E402

RULES = sorted(RULES_BY_NAME)


def build(fdp: atheris.FuzzedDataProvider) -> Report:
    def text(n: int = 80) -> str:
        return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, n)))

    def maybe(n: int = 40) -> str | None:
        return text(n) if fdp.ConsumeBool() else None

    files: list[ReportFile] = []
    anchors: set[str] = set()
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        path = text(60) or "a.md"
        if anchor_for(path) in anchors:
            continue
        anchors.add(anchor_for(path))
        patch = maybe(400)
        change = FileChange(
            path=path,
            status=fdp.PickValueInList(list(Status)),
            additions=fdp.ConsumeIntInRange(0, 10**6),
            deletions=fdp.ConsumeIntInRange(0, 10**6),
            patch=patch,
            previous_path=maybe(),
            binary=patch is None and fdp.ConsumeBool(),
            encoding_replaced=fdp.ConsumeBool(),
        )
        rule = fdp.PickValueInList(RULES)
        entry = FileEntry(
            change,
            FileAnalysis(path, FileKind.MARKDOWN, "patch", ()),
            Classification(RULES_BY_NAME[rule].type, rule),
        )
        mod = fdp.PickValueInList([None, *ChangeType])
        files.append(
            ReportFile(
                entry,
                FileText(
                    title=text(),
                    explanation=text(300),
                    engine="llm",
                    note=maybe(),
                    modification_type=mod,
                    type_reason=maybe(),
                    method=maybe(10),
                ),
            )
        )
    items = tuple(text() for _ in range(fdp.ConsumeIntInRange(0, 2)))
    overview = Overview(text(), Highlights(text(), items, (), items, text(20)), items)
    changeset = ChangeSet(
        files=tuple(rf.entry.change for rf in files),
        repository=Repository(slug=maybe(), url=maybe(), local_path=maybe()),
        base=maybe(),
        head=maybe(),
        permalink=maybe(),
    )
    return Report(
        category=text(20),
        locale=text(10),
        date=date(2025, 1, 1),
        changeset=changeset,
        files=tuple(files),
        overview=overview,
        engine="llm",
        engine_version="0.1.0+llm.1",
        extra={"llm": {"note": text(20)}} if fdp.ConsumeBool() else {},
    )


def test_one_input(data: bytes) -> None:
    check_round_trip(build(atheris.FuzzedDataProvider(data)))


# render then parse must round-trip with no exception (tests/test_prop_render.py): nothing is allowed
if __name__ == "__main__":
    _common.main(test_one_input, allowed=())
