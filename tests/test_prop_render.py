"""Properties of the Markdown report renderer: for reports with hostile paths, titles, explanations,
summaries, highlights, permalinks and patches, rendering then parsing gives back the same files,
types, titles, statuses and counts; the front matter is valid YAML that gives back the summary and
title; every fence is closed and longer than any backtick run inside it; and no text adds a heading,
a fence or a ``<details>`` block of its own."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import (
    MB_LINE,
    edited_doc,
    expected_patch,
    file_path,
    hostile_text,
    make_hunks,
    markdown_doc,
    prop,
)

from diff_insight.analysis.classify import RULES_BY_NAME
from diff_insight.analysis.facts import ChangeType, Classification, Cluster, FileAnalysis, FileKind
from diff_insight.config import Config
from diff_insight.model import ChangeSet, FileChange, NoContent, Repository, Status
from diff_insight.pipeline import analyze_changeset, build_reports
from diff_insight.render.markdown import (
    FIXED_HEADINGS,
    diff_block,
    diff_body,
    parse_report,
    render_file_parts,
    render_files,
    render_report,
)
from diff_insight.report import FileEntry, FileText, Highlights, Overview, Report, ReportFile, anchor_for
from diff_insight.writers.facts_writer import FactsWriter

TYPES = ["new feature", "breaking change", "bug fix", "minor update"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def one_line(text: str) -> str:
    """What a one-line field of the report holds: control characters and runs of white space
    (line breaks included) become one space."""
    return " ".join(_CONTROL.sub(" ", text).split())


# --- strategies -------------------------------------------------------------------------------


def _patch() -> st.SearchStrategy[str | None]:
    generated = st.tuples(st.lists(hostile_text(4), max_size=5), st.lists(hostile_text(4), max_size=5)).map(
        lambda t: expected_patch(
            make_hunks(
                io.BytesIO("\n".join(t[0]).encode()).readlines(),
                io.BytesIO("\n".join(t[1]).encode()).readlines(),
            ).text
        )
    )
    return st.one_of(st.none(), hostile_text(12), generated)


@st.composite
def report_file(draw: st.DrawFn, path: str) -> ReportFile:
    patch = draw(_patch())
    binary = patch is None and draw(st.booleans())
    status = draw(st.sampled_from(list(Status)))
    change = FileChange(
        path=path,
        status=status,
        additions=draw(st.integers(0, 10**7)),
        deletions=draw(st.integers(0, 10**7)),
        patch=patch,
        previous_path=draw(st.one_of(st.none(), file_path())),
        binary=binary,
        old_size=draw(st.one_of(st.none(), st.integers(0, 10**9))),
        new_size=draw(st.one_of(st.none(), st.integers(0, 10**9))),
        encoding_replaced=draw(st.booleans()),
    )
    analysis = FileAnalysis(
        path=path,
        file_kind=draw(st.sampled_from(list(FileKind))),
        basis=draw(st.sampled_from(["full-text", "patch", "metadata"])),
        facts=(),
        title=draw(st.one_of(st.none(), hostile_text(4))),
    )
    rule = draw(st.sampled_from(sorted(RULES_BY_NAME)))
    cluster = None
    if draw(st.booleans()):
        cluster = Cluster(id=draw(hostile_text(2)), paths=(path, "other.md"), replacements=(), identical=True)
    entry = FileEntry(change, analysis, Classification(RULES_BY_NAME[rule].type, rule), cluster)
    mod_type = draw(st.one_of(st.none(), st.sampled_from(TYPES)))
    text = FileText(
        title=draw(hostile_text(8)),
        explanation=draw(hostile_text(16)),
        engine=draw(st.sampled_from(["facts", "llm"])),
        note=draw(st.one_of(st.none(), hostile_text(3))),
        modification_type=None if mod_type is None else ChangeType(mod_type),
        type_reason=draw(st.one_of(st.none(), hostile_text(3))),
        method=draw(st.one_of(st.none(), st.sampled_from(["whole", "parts", "cluster"]), hostile_text(2))),
    )
    return ReportFile(entry, text)


@st.composite
def reports(draw: st.DrawFn, max_files: int = 4) -> Report:
    """A report whose every free-text field is hostile."""
    paths = draw(st.lists(file_path(), max_size=max_files, unique_by=anchor_for))
    files = tuple(draw(report_file(p)) for p in paths)
    texts = st.lists(hostile_text(6), max_size=3).map(tuple)
    overview = Overview(
        summary=draw(hostile_text(10)),
        highlights=Highlights(
            intro=draw(hostile_text(6)),
            new_features=draw(texts),
            breaking_changes=draw(texts),
            other_updates=draw(texts),
            none_text=draw(hostile_text(4)),
        ),
        insights=draw(texts),
    )
    maybe = st.one_of(st.none(), hostile_text(4))
    changeset = ChangeSet(
        files=tuple(rf.entry.change for rf in files),
        repository=Repository(slug=draw(maybe), url=draw(maybe), local_path=draw(maybe)),
        source=draw(st.sampled_from(["git", "compare-json", "patch", "github"])),
        base=draw(maybe),
        head=draw(maybe),
        permalink=draw(
            st.one_of(
                st.none(),
                st.just("https://github.com/o/r/compare/o:1111111...o:2222222"),
                hostile_text(6),
            )
        ),
    )
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["llm"] = {
            "note": draw(hostile_text(3)),
            "prompt_versions": {draw(hostile_text(2)): draw(hostile_text(2))},
        }
    return Report(
        category=draw(hostile_text(3)),
        locale=draw(st.sampled_from(["en_US", "ja_JP", "zh_CN"]) | hostile_text(2)),
        date=draw(st.dates(min_value=date(1, 1, 1))),
        changeset=changeset,
        files=files,
        overview=overview,
        engine=draw(st.sampled_from(["facts", "llm"])),
        engine_version="0.1.0+facts.1",
        extra=extra,
    )


# --- checks -----------------------------------------------------------------------------------

_LINE_END = re.compile(r"\r\n|\r|\n")  # CommonMark's line endings
_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_TAG = re.compile(r"\\.|<(/?)(details|summary)(?=[\s/>]|$)", re.IGNORECASE | re.DOTALL)
_FILE_HEAD = re.compile(r"^## .*\{#(item-[0-9a-f]{6})\}$")


def check_structure(text: str, report: Report) -> None:
    """The report's Markdown as CommonMark sees its lines: every fence closed (a diff fence longer
    than the backtick runs inside), one ``diff`` and one ``json`` fence per file, unescaped ``<details>`` and
    ``<summary>`` tags outside fences only ours, and only our headings."""
    assert text.startswith("---\n")
    end = text.index("\n---\n", 4)
    lines = _LINE_END.split(text[end + 5 :])
    fences: list[tuple[str, list[str]]] = []
    headings: list[str] = []
    tags: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _OPEN.match(line)
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            mark = m.group(1)
            close = re.compile(rf"^ {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                j += 1
            assert j < len(lines), f"fence {mark!r} opened on line {i} is never closed"
            content = lines[i + 1 : j]
            longest = max((len(r) for ln in content for r in re.findall("`+", ln)), default=0)
            if m.group(2).strip() == "diff":
                assert len(mark) > longest
            fences.append((m.group(2).strip(), content))
            i = j + 1
            continue
        if _HEADING.match(line):
            headings.append(line)
        for tm in _TAG.finditer(line):
            if tm.group(2):
                key = tm.group(1) + tm.group(2).lower()
                tags[key] = tags.get(key, 0) + 1
        i += 1
    n = len(report.files)
    assert sorted(info for info, _ in fences) == sorted(["diff"] * n + ["json"] * n)
    assert tags == ({"details": n, "/details": n, "summary": n, "/summary": n} if n else {})
    file_heads = [h for h in headings if _FILE_HEAD.match(h)]
    assert [_FILE_HEAD.match(h).group(1) for h in file_heads] == [rf.entry.anchor for rf in report.files]  # type: ignore[union-attr]
    rest = sorted(h for h in headings if h not in file_heads)
    assert rest == sorted([*FIXED_HEADINGS, *["### Summary"] * n, *["### Explanation"] * n])


def check_round_trip(report: Report) -> str:
    text = render_report(report)
    parsed = parse_report(text)
    fm = parsed.front_matter
    end = text.index("\n---\n", 4)
    assert yaml.safe_load(text[4:end]) == fm
    assert fm["title"] == report.title
    assert fm["summary"] == one_line(report.overview.summary)
    assert fm["date"] == report.date.isoformat()
    assert (fm["base"], fm["head"]) == (report.changeset.base, report.changeset.head)
    assert fm.get("permalink") == (report.changeset.permalink or None)
    assert fm["counts"]["files"] == len(report.files)
    assert fm["counts"]["additions"] == sum(rf.entry.change.additions for rf in report.files)
    for key, value in report.extra.items():
        assert fm[key] == value
    expected = [
        (
            rf.entry.change.path,
            rf.entry.anchor,
            str(rf.type),
            one_line(rf.text.title),
            str(rf.entry.change.status),
            rf.entry.change.additions,
            rf.entry.change.deletions,
            rf.entry.change.changes,
        )
        for rf in report.files
    ]
    got = [
        (f.path, f.anchor, f.type, f.title, f.status, f.additions, f.deletions, f.changes)
        for f in parsed.files
    ]
    assert got == expected
    assert [f["path"] for f in fm["files"]] == [rf.entry.change.path for rf in report.files]
    assert [f["type"] for f in fm["files"]] == [str(rf.type) for rf in report.files]
    assert [f.get("previous_path") for f in fm["files"]] == [
        rf.entry.change.previous_path or None for rf in report.files
    ]
    for f, rf in zip(parsed.files, report.files, strict=True):
        body = diff_body(rf.entry.change)
        assert f.diff == (body or "\n")  # the whole patch, as shown
        change = rf.entry.change
        if change.patch is not None and not change.binary:
            # independent of diff_body: the source's patch itself, with NUL shown as U+FFFD and a
            # final newline added where it lacks one
            shown = change.patch.replace("\x00", "\ufffd")
            assert (shown if shown.endswith("\n") else shown + "\n") in f.diff
    check_structure(text, report)
    return text


@prop(5)
@given(reports())
def test_render_then_parse_gives_the_report_back(report: Report) -> None:
    check_round_trip(report)


@prop(2)
@given(reports(max_files=6), st.lists(st.integers(0, 6), max_size=4))
def test_files_rendered_in_chunks_give_the_same_report(report: Report, cuts: list[int]) -> None:
    """A report put together from its files rendered in consecutive chunks (as worker processes
    render them, a chunk may hold no file) is the report rendered at once."""
    parts = [render_file_parts(rf) for rf in report.files]
    blocks = [diff_block(rf.entry.change) for rf in report.files]
    bounds = [0, *sorted(min(c, len(parts)) for c in cuts), len(parts)]
    chunks = [render_files(parts[a:b], tuple(blocks[a:b])) for a, b in zip(bounds, bounds[1:], strict=False)]
    whole = render_report(report)
    assert render_report(report, chunks=chunks) == whole
    assert render_report(report, parts, blocks) == whole
    if not report.files:
        assert "\nfiles: []\n" in whole
    else:
        with pytest.raises(ValueError, match="every file"):
            render_report(report, chunks=[c for c in chunks if c.heads][1:])


def simple_report(
    path: str = "docs/a.md",
    patch: str | None = "@@ -1 +1 @@\n-a\n+b",
    title: str = "Title",
    explanation: str = "Explained.",
    summary: str = "Summary.",
    permalink: str | None = "https://github.com/o/r/compare/a...b",
    none_text: str = "None.",
    insight: str = "Insight.",
) -> Report:
    change = FileChange(path=path, status=Status.MODIFIED, additions=1, deletions=1, patch=patch)
    entry = FileEntry(
        change,
        FileAnalysis(path, FileKind.MARKDOWN, "patch", ()),
        Classification(ChangeType.MINOR_UPDATE, "default"),
    )
    return Report(
        category="all",
        locale="en_US",
        date=date(2025, 1, 1),
        changeset=ChangeSet(files=(change,), permalink=permalink),
        files=(ReportFile(entry, FileText(title=title, explanation=explanation)),),
        overview=Overview(summary, Highlights(insight, (), (), (), none_text), (insight,)),
        engine="facts",
        engine_version="0.1.0+facts.1",
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"path": "docs/</details>.md"},
        {"path": "docs/<details open>/x.md"},
        {"path": "a\n# Modified Contents\n.md"},
        {"path": "x\r\n```\r\n.md"},
        {"explanation": "text\r```\rmore"},
        {"explanation": "text\r</details>\r<details>"},
        {"explanation": "a\r\n## docs/b.md{#item-000000}"},
        {"none_text": "```"},
        {"none_text": "<details>"},
        {"permalink": "<details>"},
        {"permalink": "https://x\n# Summary Table\n```"},
        {"insight": "```python"},
        {"insight": "<pre>"},
        {"title": "a | b \\ c <details> `x`"},
        {"patch": "@@ -1 +1 @@\n-````\n+`````\n</details>\n---\n\x00"},
        {"patch": None},
    ],
)
def test_hostile_fields(fields: dict[str, Any]) -> None:
    check_round_trip(simple_report(**fields))


def test_one_megabyte_lines() -> None:
    path = "docs/" + "long-" * 20 + ".md"
    patch = "@@ -1 +1 @@\n-" + MB_LINE + "\n+" + MB_LINE[::-1]
    change = FileChange(path=path, status=Status.MODIFIED, additions=1, deletions=1, patch=patch)
    entry = FileEntry(
        change,
        FileAnalysis(path, FileKind.MARKDOWN, "patch", ()),
        Classification(ChangeType.MINOR_UPDATE, "default"),
    )
    text = FileText(title=MB_LINE, explanation=MB_LINE + "\n</details>\n" + MB_LINE)
    report = Report(
        category="all",
        locale="en_US",
        date=date(2025, 1, 1),
        changeset=ChangeSet(files=(change,), permalink="https://github.com/o/r/compare/a...b"),
        files=(ReportFile(entry, text),),
        overview=Overview(MB_LINE, Highlights(MB_LINE, (MB_LINE,), (), (), "None."), (MB_LINE,)),
        engine="facts",
        engine_version="0.1.0+facts.1",
    )
    rendered = check_round_trip(report)
    assert len(rendered) > 5 * len(MB_LINE)


# --- the real pipeline on random documents --------------------------------------------------


def _change(old: str, new: str, path: str) -> FileChange:
    h = make_hunks(io.BytesIO(old.encode()).readlines(), io.BytesIO(new.encode()).readlines())
    return FileChange(
        path=path,
        status=Status.MODIFIED,
        additions=h.additions,
        deletions=h.deletions,
        patch=expected_patch(h.text),
    )


@prop(1)
@given(
    st.lists(
        st.tuples(
            file_path((".md", ".yml")), markdown_doc().flatmap(lambda d: st.tuples(st.just(d), edited_doc(d)))
        ),
        min_size=1,
        max_size=3,
        unique_by=lambda t: anchor_for(t[0]),
    )
)
def test_facts_engine_reports_round_trip(docs: list[tuple[str, tuple[str, str]]]) -> None:
    changes = tuple(_change(old, new + "\nadded line\n", path) for path, (old, new) in docs)
    changeset = ChangeSet(files=changes, repository=Repository(slug="o/r"), base="1" * 40, head="2" * 40)
    entries = analyze_changeset(changeset, NoContent(), workers=1)
    reports_, left_out = build_reports(
        changeset, entries, Config(), date(2025, 1, 2), ["en_US", "ja_JP"], FactsWriter()
    )
    assert left_out == 0 and len(reports_) == 2
    for report in reports_:
        check_round_trip(report)
