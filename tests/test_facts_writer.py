"""The deterministic writer: file titles, explanations and the report overview, in every locale."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import msgspec
import pytest

from diff_insight.analysis import facts as F
from diff_insight.analysis.facts import Basis, ChangeType, Classification, Cluster, FileAnalysis, FileKind
from diff_insight.model import FileChange, Status
from diff_insight.report import FileEntry, FileText, Overview
from diff_insight.writers.base import ReportContext, Writer
from diff_insight.writers.facts_writer import (
    LIST_LIMIT,
    MAX_BULLETS,
    MAX_FACT_SENTENCES,
    PEER_LIMIT,
    FactsWriter,
)
from diff_insight.writers.i18n import SUPPORTED, Catalog, catalog

CJK = ("ja_JP", "zh_CN")
CTX = ReportContext(category="openai", repository="MicrosoftDocs/azure-ai-docs", total_files_in_range=40)


# --- building entries from our own data model -------------------------------------------------


def _kind(path: str) -> FileKind:
    ext = PurePosixPath(path).suffix
    if ext == ".md":
        return FileKind.MARKDOWN
    if ext in (".yml", ".yaml"):
        return FileKind.YAML
    if ext in (".png", ".jpg", ".bin"):
        return FileKind.BINARY
    return FileKind.TEXT


def entry(
    path: str,
    facts: Sequence[F.Fact] = (),
    *,
    type: ChangeType = ChangeType.MINOR_UPDATE,
    status: Status = Status.MODIFIED,
    title: str | None = None,
    basis: Basis = "full-text",
    cluster: Cluster | None = None,
    additions: int = 3,
    deletions: int = 1,
    previous_path: str | None = None,
    replacements: Sequence[tuple[str, str]] = (),
    old_size: int | None = None,
    new_size: int | None = None,
) -> FileEntry:
    kind = _kind(path)
    change = FileChange(
        path=path,
        status=status,
        additions=additions,
        deletions=deletions,
        patch=None if kind == FileKind.BINARY else "@@ -1 +1 @@\n-a\n+b\n",
        previous_path=previous_path,
        binary=kind == FileKind.BINARY,
        old_size=old_size,
        new_size=new_size,
    )
    analysis = FileAnalysis(
        path=path,
        file_kind=kind,
        basis=basis,
        facts=tuple(facts),
        title=title,
        replacements=tuple(replacements),
    )
    return FileEntry(change, analysis, Classification(type, "test"), cluster)


# One sample per fact type, with the text each must show (a function of the locale's catalog).
SAMPLES: dict[type[F.Fact], tuple[F.Fact, Callable[[Catalog], list[str]]]] = {
    F.DocumentAdded: (
        F.DocumentAdded("Quickstart guide", 37, ("Prerequisites", "Deploy a model")),
        lambda c: ["Prerequisites", "Deploy a model", c.msg("unit.lines", count=37)],
    ),
    F.DocumentRemoved: (F.DocumentRemoved("Old guide", 41), lambda c: [c.msg("unit.lines", count=41)]),
    F.DocumentRenamed: (
        F.DocumentRenamed("docs/old/place.md", "docs/new/place.md", True),
        lambda c: ["docs/old/place.md"],
    ),
    F.FrontMatterChanged: (
        F.FrontMatterChanged("description", "Old summary text", "New summary text"),
        lambda c: ["description", "Old summary text", "New summary text"],
    ),
    F.DateBumped: (
        F.DateBumped("ms.date", "04/16/2025", "04/23/2025"),
        lambda c: ["ms.date", c.date(date(2025, 4, 16)), c.date(date(2025, 4, 23))],
    ),
    F.HeadingAdded: (F.HeadingAdded(2, "Regional quotas"), lambda c: ["Regional quotas"]),
    F.HeadingRemoved: (F.HeadingRemoved(2, "Legacy limits"), lambda c: ["Legacy limits"]),
    F.HeadingRenamed: (
        F.HeadingRenamed(2, "Old heading", "New heading"),
        lambda c: ["Old heading", "New heading"],
    ),
    F.SectionAdded: (
        F.SectionAdded("Image generation models", 2, 24),
        lambda c: ["Image generation models", c.msg("unit.lines", count=24)],
    ),
    F.SectionRemoved: (F.SectionRemoved("Retired models", 2, 12), lambda c: ["Retired models"]),
    F.TableAdded: (
        F.TableAdded("Supported regions", 5, ("Region", "Model")),
        lambda c: ["Supported regions", c.msg("unit.rows", count=5)],
    ),
    F.TableRemoved: (F.TableRemoved("Deprecated SKUs", 3), lambda c: ["Deprecated SKUs"]),
    F.TableRowsChanged: (
        F.TableRowsChanged(
            "Model availability",
            2,
            1,
            1,
            ("gpt-image-1", "dall-e-3"),
            ("davinci",),
            ("gpt-4o",),
            ("Model", "Region"),
        ),
        lambda c: ["Model availability", "gpt-image-1", "davinci", "gpt-4o"],
    ),
    F.LinkAdded: (
        F.LinkAdded("Apply for access", "https://aka.ms/access"),
        lambda c: ["Apply for access", "https://aka.ms/access"],
    ),
    F.LinkRemoved: (F.LinkRemoved("Old blog post", "https://example.com/blog"), lambda c: ["Old blog post"]),
    F.LinkRetargeted: (
        F.LinkRetargeted("Pricing", "https://old.example.com/p", "https://new.example.com/p"),
        lambda c: ["Pricing", "https://new.example.com/p"],
    ),
    F.LinkRelabeled: (
        F.LinkRelabeled("https://learn.example.com/x", "Learn more", "Read the overview"),
        lambda c: ["Learn more", "Read the overview"],
    ),
    F.ImageAdded: (
        F.ImageAdded("Architecture diagram", "media/arch.png"),
        lambda c: ["Architecture diagram"],
    ),
    F.ImageRemoved: (F.ImageRemoved("Old screenshot", "media/old.png"), lambda c: ["Old screenshot"]),
    F.ImageRetargeted: (
        F.ImageRetargeted("Portal screenshot", "media/a.png", "media/b.png"),
        lambda c: ["Portal screenshot", "media/b.png"],
    ),
    F.CodeBlockAdded: (F.CodeBlockAdded("python", 17), lambda c: ["python", c.msg("unit.lines", count=17)]),
    F.CodeBlockRemoved: (F.CodeBlockRemoved("bash", 9), lambda c: ["bash"]),
    F.CodeBlockChanged: (F.CodeBlockChanged("json", 4, 2), lambda c: ["json", c.msg("unit.lines", count=4)]),
    F.AlertAdded: (
        F.AlertAdded("IMPORTANT", "Registration is required."),
        lambda c: ["Registration is required.", c.msg("alert.important")],
    ),
    F.AlertRemoved: (
        F.AlertRemoved("NOTE", "This feature is in preview."),
        lambda c: ["This feature is in preview.", c.msg("alert.note")],
    ),
    F.IncludeAdded: (
        F.IncludeAdded("../includes/preview-note.md"),
        lambda c: ["../includes/preview-note.md"],
    ),
    F.IncludeRemoved: (F.IncludeRemoved("../includes/old-note.md"), lambda c: ["../includes/old-note.md"]),
    F.SentenceAdded: (
        F.SentenceAdded("Access is limited to approved customers."),
        lambda c: ["Access is limited to approved customers."],
    ),
    F.SentenceRemoved: (
        F.SentenceRemoved("This model is no longer available."),
        lambda c: ["This model is no longer available."],
    ),
    F.TermReplaced: (
        F.TermReplaced("DALL-E", "image generation models", 3),
        lambda c: ["DALL-E", "image generation models"],
    ),
    F.WordsInserted: (
        F.WordsInserted("and GPT-image-1", 3),
        lambda c: [c.quote("and GPT-image-1"), c.msg("unit.times", count=3)],
    ),
    F.WordsDeleted: (F.WordsDeleted("DALL-E", 1), lambda c: [c.quote("DALL-E")]),
    F.TextEdited: (
        F.TextEdited(37, 41),
        lambda c: [c.msg("unit.lines", count=37), c.msg("unit.lines", count=41)],
    ),
    F.FormattingOnly: (
        F.FormattingOnly(("whitespace", "emphasis")),
        lambda c: [c.msg("formatting.whitespace"), c.msg("formatting.emphasis")],
    ),
    F.TocEntryAdded: (
        F.TocEntryAdded("GPT-image-1 quickstart", "gpt-image.md"),
        lambda c: ["GPT-image-1 quickstart", "gpt-image.md"],
    ),
    F.TocEntryRemoved: (F.TocEntryRemoved("DALL-E quickstart", "dall-e.md"), lambda c: ["DALL-E quickstart"]),
    F.TocEntryRenamed: (
        F.TocEntryRenamed("DALL-E", "Image generation", "dall-e.md"),
        lambda c: ["DALL-E", "Image generation"],
    ),
    F.TocEntryRetargeted: (
        F.TocEntryRetargeted("Overview", "overview.md", "concepts/overview.md"),
        lambda c: ["Overview", "concepts/overview.md"],
    ),
    F.YamlValueChanged: (
        F.YamlValueChanged("metadata.description", "Old value", "New value"),
        lambda c: ["metadata.description", "New value"],
    ),
    F.LinesChanged: (F.LinesChanged(37, 41), lambda c: [c.msg("unit.lines", count=37)]),
    F.BinaryAdded: (F.BinaryAdded(12595), lambda c: [c.size(12595)]),
    F.BinaryRemoved: (F.BinaryRemoved(2048), lambda c: [c.size(2048)]),
    F.BinaryReplaced: (F.BinaryReplaced(2048, 12595), lambda c: [c.size(2048), c.size(12595)]),
    F.EncodingReplaced: (F.EncodingReplaced(), lambda c: [c.msg("note.encoding")]),
}

_BINARY = (F.BinaryAdded, F.BinaryRemoved, F.BinaryReplaced)
_WHOLE = (*_BINARY, F.DocumentAdded, F.DocumentRemoved, F.DocumentRenamed)
_YAML = (F.TocEntryAdded, F.TocEntryRemoved, F.TocEntryRenamed, F.TocEntryRetargeted, F.YamlValueChanged)


def sample_entry(fact_type: type[F.Fact]) -> FileEntry:
    fact = SAMPLES[fact_type][0]
    name = fact_type.__name__.lower()
    if fact_type in _BINARY:
        return entry(f"media/{name}.png", [fact])
    if fact_type in _YAML:
        return entry(f"docs/{name}/toc.yml", [fact], title="Product documentation")
    if fact_type is F.LinesChanged:
        return entry(f"scripts/{name}.py", [fact])
    status = {F.DocumentAdded: Status.ADDED, F.DocumentRemoved: Status.REMOVED}.get(
        fact_type, Status.MODIFIED
    )
    return entry(f"articles/{name}.md", [fact], title=f"Guide {name}", status=status)


# --- helpers -------------------------------------------------------------------------------------

_MARKS = {"ja_JP": (("「", "」"), ("『", "』")), "zh_CN": (("“", "”"), ("《", "》"))}


def strip_verbatim(text: str, locale: str) -> str:
    """``text`` without what may stay in its own language: quoted document text, inline code,
    URLs, anchors and file names or paths."""
    text = re.sub(r"(`+).*?\1", " ", text)
    for left, right in _MARKS[locale]:
        text = re.sub(re.escape(left) + ".*?" + re.escape(right), " ", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"\(#item-[0-9a-f]{6}\)", " ", text)
    return re.sub(r"[A-Za-z0-9_./-]*[A-Za-z0-9_]\.[A-Za-z]{2,4}(?![A-Za-z])", " ", text)


def latin_words(text: str, locale: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", strip_verbatim(text, locale))


def all_text(texts: Sequence[FileText], overview: Overview) -> Iterator[str]:
    for t in texts:
        yield t.title
        yield t.explanation
    yield overview.summary
    hl = overview.highlights
    yield hl.intro
    yield hl.none_text
    yield from hl.new_features
    yield from hl.breaking_changes
    yield from hl.other_updates
    yield from overview.insights


def run(
    entries: Sequence[FileEntry], locale: str, ctx: ReportContext = CTX
) -> tuple[list[FileText], Overview]:
    w = FactsWriter()
    texts = w.describe_files(entries, locale)
    return texts, w.overview(entries, texts, locale, ctx)


def cluster_of(
    paths: Sequence[str], reps: tuple[tuple[str, str], ...] = (), identical: bool = False
) -> Cluster:
    return Cluster(id="c:" + "|".join(paths), paths=tuple(paths), replacements=reps, identical=identical)


# --- a corpus that reaches every message ----------------------------------------------------------


def _groups_corpus() -> list[FileEntry]:
    """Two facts of each kind in one file each (the group sentences and titles)."""
    out = []
    for t, (fact, _) in SAMPLES.items():
        if t in _BINARY or t in (F.DocumentAdded, F.DocumentRemoved, F.DocumentRenamed, F.EncodingReplaced):
            continue
        second = msgspec.structs.replace(fact, **_second_values(fact))
        e = sample_entry(t)
        out.append(replace(e, analysis=replace(e.analysis, facts=(fact, second))))
    return out


def _second_values(fact: F.Fact) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in fact.to_dict().items():
        if name == "kind":
            continue
        if isinstance(value, str) and name not in ("alert", "key") and not value.endswith(".md"):
            values[name] = value + " two"
        elif isinstance(value, str) and value.endswith(".md"):
            values[name] = value.replace(".md", "-2.md")
    return values


def _variants_corpus() -> list[FileEntry]:
    """Facts whose sentence depends on a missing value, and the other special shapes."""
    many = [
        SAMPLES[t][0]
        for t in (
            F.SectionAdded,
            F.HeadingAdded,
            F.TableAdded,
            F.CodeBlockAdded,
            F.AlertAdded,
            F.IncludeAdded,
            F.LinkAdded,
            F.ImageAdded,
            F.SentenceAdded,
        )
    ]
    return [
        entry("a/bare-links.md", [F.LinkAdded("", "https://x.example/a"), F.ImageAdded("", "media/x.png")]),
        entry(
            "a/bare-removed.md", [F.LinkRemoved("", "https://x.example/b"), F.ImageRemoved("", "media/y.png")]
        ),
        entry(
            "a/bare-alerts.md", [F.AlertAdded("TIP", ""), F.TableRowsChanged("table", 0, 2, 0, (), ("x",))]
        ),
        entry("a/bare-alerts2.md", [F.AlertRemoved("WARNING", ""), F.AlertAdded("CAUTION", "Careful.")]),
        entry("a/custom-alert.md", [F.AlertAdded("CUSTOM", "Odd alert.")]),
        entry("a/toc.yml", [F.TocEntryAdded("No link", None), F.TocEntryRemoved("Gone", None)]),
        entry(
            "b/toc.yml", [F.TocEntryRetargeted("Entry", None, "new.md"), F.YamlValueChanged("a.b", None, "v")]
        ),
        entry(
            "c/toc.yml", [F.TocEntryRetargeted("Entry", "old.md", None), F.YamlValueChanged("a.c", "v", None)]
        ),
        entry(
            "a/fm-added.md",
            [
                F.FrontMatterChanged("title", None, "A title"),
                F.FrontMatterChanged("ms.topic", None, "how-to"),
            ],
        ),
        entry(
            "a/fm-removed.md",
            [F.FrontMatterChanged("description", "Gone", None), F.FrontMatterChanged("ms.custom", "x", None)],
        ),
        entry("a/fm-title.md", [F.FrontMatterChanged("title", "Old title", "New title")]),
        entry("a/fm-other.md", [F.FrontMatterChanged("author", "alice", "bob")]),
        entry("a/term-once.md", [F.TermReplaced("Azure AD", "Microsoft Entra ID", 1)]),
        entry("a/words-once.md", [F.WordsInserted("preview", 1), F.WordsDeleted("legacy", 2)]),
        entry("a/code-nolang.md", [F.CodeBlockAdded("", 3), F.CodeBlockChanged("", 0, 2)]),
        entry(
            "a/tables.md",
            [
                F.TableAdded("Col A | Col B", 2, ("Col A", "Col B")),
                F.TableRemoved("table", 1),
                *[F.TableRowsChanged(f"T{i}", 1, 0, 0, (f"k{i}",)) for i in range(3)],
            ],
        ),
        entry("a/table-removed-rows.md", [F.TableRowsChanged("Limits", 0, 2, 0, (), ("a", "b"))]),
        entry("a/table-changed-rows.md", [F.TableRowsChanged("Quotas", 0, 0, 2, (), (), ("a", "b"))]),
        entry(
            "a/formatting-all.md",
            [
                F.FormattingOnly(
                    ("list-markers", "footnotes", "line-breaks", "table-alignment", "link-references", "tabs")
                )
            ],
        ),
        entry("a/too-many.md", many, type=ChangeType.NEW_FEATURE),
        entry("a/patch-only.md", [F.TextEdited(0, 2)], basis="patch"),
        entry("a/metadata-only.md", [F.LinesChanged(0, 2)], basis="metadata"),
        entry("a/no-lines.md", [F.LinesChanged(0, 0)]),
        entry("a/text-added.md", [F.TextEdited(2, 0)]),
        entry("media/unknown-added.png", [F.BinaryAdded(None)], status=Status.ADDED),
        entry("media/unknown-removed.png", [F.BinaryRemoved(None)], status=Status.REMOVED),
        entry("media/unknown-replaced.png", [F.BinaryReplaced(None, 5)]),
        entry("media/implicit.png", [], status=Status.ADDED, new_size=3 * 1024 * 1024),
        entry("media/implicit-removed.png", [], status=Status.REMOVED, old_size=5 * 1024**3),
        entry("media/implicit-replaced.png", [], old_size=100, new_size=200),
        entry("bin/tool.bin", [F.BinaryAdded(10)], status=Status.ADDED),
        entry(
            "a/moved.md",
            [],
            status=Status.RENAMED,
            previous_path="old/moved.md",
            title="Moved doc",
            additions=0,
            deletions=0,
        ),
        entry(
            "a/fm-others.md",
            [F.FrontMatterChanged("ms.topic", "a", "b"), F.FrontMatterChanged("author", "c", "d")],
        ),
        entry("a/fm-other-added.md", [F.FrontMatterChanged("ms.topic", None, "how-to")]),
        entry("a/fm-other-removed.md", [F.FrontMatterChanged("ms.custom", "x", None)]),
        entry("a/breaking.md", [F.SectionRemoved("Old API", 2, 30)], type=ChangeType.BREAKING_CHANGE),
        entry("a/many-headings.md", [F.HeadingAdded(2, f"Heading {i}") for i in range(8)]),
        entry("a/alert-removed-bare.md", [F.AlertRemoved("WARNING", "")]),
        entry("a/image-added-bare.md", [F.ImageAdded("", "media/p.png")]),
        entry("a/image-removed-bare.md", [F.ImageRemoved("", "media/q.png")]),
        entry("a/rows-added.md", [F.TableRowsChanged("Models", 2, 0, 0, ("gpt-4o", "o1"))]),
        entry("d/toc.yml", [F.TocEntryRemoved("Gone", None)]),
        entry("e/index.yml", [F.YamlValueChanged("hero.title", None, "Welcome")]),
        entry("f/index.yml", [F.YamlValueChanged("hero.title", "Welcome", None)]),
        entry("a/copied.md", [], status=Status.COPIED, previous_path="a/original.md"),
        entry("a/copied-lost.md", [], status=Status.COPIED),
        entry("a/new-empty.md", [], status=Status.ADDED),
        entry("a/gone.md", [], status=Status.REMOVED, type=ChangeType.BREAKING_CHANGE),
        entry("a/mode.sh", [], status=Status.CHANGED),
        entry("a/fixed.md", [], type=ChangeType.BUG_FIX),
        entry("a/words.yml", [], replacements=[("DALL-E", "GPT-image-1")]),
        entry("a/encoding-only.md", [F.EncodingReplaced()]),
        entry("a/doc-removed.md", [F.DocumentRemoved(None, 12)], status=Status.REMOVED),
        entry(
            "a/doc-added.md", [F.DocumentAdded(None, 12)], status=Status.ADDED, type=ChangeType.NEW_FEATURE
        ),
    ]


def _report_corpus() -> list[FileEntry]:
    """Files spread over clusters, shared terms, dates and formatting (the overview messages)."""
    reps = (("DALL-E", "image generation models"),)
    same = [f"inc/dall-e-{lang}.md" for lang in ("python", "java", "go")]
    ident = ["inc/a/note.md", "inc/b/note.md"]
    similar = ["x/one.md", "x/two.md"]
    c1, c2, c3 = cluster_of(same, reps), cluster_of(ident, identical=True), cluster_of(similar)
    term = F.TermReplaced("DALL-E", "image generation models", 2)
    out = [entry(p, [term], cluster=c1) for p in same]
    out += [
        entry(p, [F.SectionAdded("Shared", 2, 4)], cluster=c2, type=ChangeType.NEW_FEATURE) for p in ident
    ]
    out += [
        entry(p, [F.LinkAdded("Docs", "https://d.example")], cluster=c3, type=ChangeType.BUG_FIX)
        for p in similar
    ]
    out += [entry(f"t/term{i}.md", [F.TermReplaced(f"Old{i}", f"New{i}", 1)]) for i in range(5)]
    out += [entry(f"t/term{i}b.md", [F.TermReplaced(f"Old{i}", f"New{i}", 1)]) for i in range(5)]
    out += [
        entry(f"d/date{i}.md", [F.DateBumped("ms.date", "01/01/2025", f"04/2{i % 2}/2025")]) for i in range(3)
    ]
    out += [entry(f"f/fmt{i}.md", [F.FormattingOnly(("whitespace",))]) for i in range(2)]
    out += [
        entry(
            "n/new.md",
            [F.DocumentAdded("New", 3)],
            status=Status.ADDED,
            type=ChangeType.NEW_FEATURE,
            title="New",
        )
    ]
    out += [
        entry(
            "n/old.md",
            [F.DocumentRemoved("Old", 3)],
            status=Status.REMOVED,
            type=ChangeType.BREAKING_CHANGE,
            title="Old",
        )
    ]
    out += [entry("n/moved.md", [F.TextEdited(1, 1)], status=Status.RENAMED, previous_path="o/moved.md")]
    return out


def _words_corpus() -> list[FileEntry]:
    """Words inserted into and removed from sentences across files (the insights about them)."""
    out = [
        entry(f"w/filter{i}.md", [F.WordsDeleted("DALL-E", 1 + i), F.WordsInserted("and GPT-image-1", 1)])
        for i in range(3)
    ]
    out += [entry(f"w/more{i}.md", [F.WordsDeleted(f"word {j}", 1) for j in range(3)]) for i in range(2)]
    out += [entry("w/alone.md", [F.WordsInserted("only here", 1)])]
    return out


def _metadata_corpus() -> list[FileEntry]:
    """The same metadata change in several files: removed (from different values), added, changed,
    and a fourth change beyond the three an insight names."""
    out = [
        entry(f"meta/rm{i}.md", [F.FrontMatterChanged("ms.topic", f"kind {i}", None)], additions=0)
        for i in range(4)
    ]
    out += [
        entry(f"meta/add{i}.md", [F.FrontMatterChanged("author", None, "writer")], deletions=0)
        for i in range(3)
    ]
    out += [
        entry(f"meta/svc{i}.md", [F.FrontMatterChanged("ms.service", "old", "new-service")]) for i in range(2)
    ]
    out += [
        entry(f"meta/cst{i}.md", [F.FrontMatterChanged("ms.custom", "a", "b")], additions=1) for i in range(2)
    ]
    # the same removal with another fact: not in the bullet, but in the insight
    out += [entry("meta/more.md", [F.FrontMatterChanged("ms.topic", "x", None), F.HeadingAdded(2, "New")])]
    return out


REPORTS: list[tuple[list[FileEntry], ReportContext]] = [
    (_metadata_corpus(), CTX),
    ([sample_entry(t) for t in F.ALL_FACT_TYPES], CTX),
    (_groups_corpus(), CTX),
    (_variants_corpus(), replace(CTX, total_files_in_range=0)),
    (_report_corpus(), CTX),
    (_words_corpus(), CTX),
    ([], CTX),
    ([entry("one/file.md", [F.HeadingAdded(2, "Only")], type=ChangeType.NEW_FEATURE)], CTX),
    ([entry("one/minor.md", [F.HeadingAdded(2, "Only")])], CTX),
    ([entry(f"m/minor{i}.md", [F.HeadingAdded(2, f"H{i}")]) for i in range(3)], CTX),
    (
        [
            entry("one/x.md", [F.HeadingAdded(2, "X")], type=ChangeType.BUG_FIX),
            entry("one/y.md", [F.HeadingAdded(2, "Y")], type=ChangeType.NEW_FEATURE),
        ],
        CTX,
    ),
]


# --- every fact kind, every locale ------------------------------------------------------------------


def test_samples_cover_every_fact_type() -> None:
    assert set(SAMPLES) == set(F.ALL_FACT_TYPES)


@pytest.mark.parametrize("locale", SUPPORTED)
@pytest.mark.parametrize("fact_type", F.ALL_FACT_TYPES, ids=lambda t: t.kind)
def test_every_fact_kind_is_expressed(fact_type: type[F.Fact], locale: str) -> None:
    cat = catalog(locale)
    e = sample_entry(fact_type)
    bare = replace(e, analysis=replace(e.analysis, facts=()))
    [text] = FactsWriter().describe_files([e], locale)
    [without] = FactsWriter().describe_files([bare], locale)
    for expected in SAMPLES[fact_type][1](cat):
        assert expected in text.explanation, f"{expected!r} missing from {text.explanation!r}"
    assert text.explanation != without.explanation
    assert text.title
    if fact_type not in _WHOLE:  # a whole-file fact says what the status says
        assert text.title != without.title


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_catalog_message_is_reachable_and_formats(locale: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the writer over corpora that reach every message: each key is used, none fails."""
    used: set[str] = set()
    original = Catalog.msg

    def spy(self: Catalog, key: str, /, **values: Any) -> str:
        used.add(key)
        return original(self, key, **values)

    monkeypatch.setattr(Catalog, "msg", spy)
    for entries, ctx in REPORTS:
        run(entries, locale, ctx)
    assert catalog(locale).keys() - used == set()


@pytest.mark.parametrize("locale", CJK)
def test_no_english_template_words_in_cjk_output(locale: str) -> None:
    for entries, ctx in REPORTS:
        texts, overview = run(entries, locale, ctx)
        for text in all_text(texts, overview):
            assert latin_words(text, locale) == [], text


def test_the_leak_check_would_catch_english() -> None:
    assert latin_words("此次修改 was updated “kept” `code` file.md", "zh_CN") == ["was", "updated"]


# --- titles -----------------------------------------------------------------------------------------


def test_title_names_the_document_and_the_main_change() -> None:
    e = entry(
        "articles/models.md",
        [
            F.DateBumped("ms.date", "04/16/2025", "04/23/2025"),
            F.SectionAdded("Image generation models", 2, 24),
            F.TermReplaced("DALL-E", "image generation models", 3),
        ],
        title="Models",
    )
    for locale in SUPPORTED:
        [t] = FactsWriter().describe_files([e], locale)
        assert "Models" in t.title and "Image generation models" in t.title
        assert "\n" not in t.title
    en = FactsWriter().describe_files([e], "en_US")[0].title
    zh = FactsWriter().describe_files([e], "zh_CN")[0].title
    ja = FactsWriter().describe_files([e], "ja_JP")[0].title
    assert en == "Models: “Image generation models” section added"
    assert zh == "《Models》新增“Image generation models”章节"
    assert ja == "『Models』に「Image generation models」セクションを追加"


def test_title_of_a_file_that_only_loses_a_word() -> None:
    e = entry("articles/content-filter.md", [F.WordsDeleted("DALL-E", 1)])
    titles = {loc: FactsWriter().describe_files([e], loc)[0].title for loc in SUPPORTED}
    assert titles == {
        "en_US": "content-filter.md: “DALL-E” removed from the text",
        "zh_CN": "content-filter.md删除了“DALL-E”一词",
        "ja_JP": "content-filter.md から「DALL-E」という語句を削除",
    }
    titled = replace(e, analysis=replace(e.analysis, title="Content filtering"))
    assert (
        FactsWriter().describe_files([titled], "ja_JP")[0].title
        == "『Content filtering』から「DALL-E」という語句を削除"
    )
    assert (
        FactsWriter().describe_files([titled], "zh_CN")[0].title == "《Content filtering》删除了“DALL-E”一词"
    )


def test_titles_of_word_insertions_and_several_words() -> None:
    inserted = entry("a/models.md", [F.WordsInserted("and GPT-image-1", 2)], title="Models")
    several = entry("a/models.md", [F.WordsDeleted(w, 1) for w in ("DALL-E", "DALL-E 3", "legacy", "beta")])
    en = FactsWriter().describe_files([inserted, several], "en_US")
    assert en[0].title == "Models: “and GPT-image-1” added to the text"
    assert en[1].title == "models.md: “DALL-E”, “DALL-E 3”, and 2 more removed from the text"
    zh = FactsWriter().describe_files([inserted, several], "zh_CN")
    assert zh[0].title == "《Models》新增了“and GPT-image-1”一词"
    assert zh[1].title == "models.md删除了“DALL-E”和“DALL-E 3”等4个词语"
    ja = FactsWriter().describe_files([inserted, several], "ja_JP")
    assert ja[0].title == "『Models』に「and GPT-image-1」という語句を追加"
    assert ja[1].title == "models.md から「DALL-E」、「DALL-E 3」など 4 件の語句を削除"


def test_long_titles_name_the_file_instead() -> None:
    long = "A very long document title that goes on and on beyond any table cell"
    e = entry("articles/how-to/long.md", [F.HeadingAdded(2, "Setup")], title=long)
    for locale in SUPPORTED:
        [t] = FactsWriter().describe_files([e], locale)
        assert "long.md" in t.title and long not in t.title
        assert long not in t.explanation and "long.md" in t.explanation


@pytest.mark.parametrize("locale", SUPPORTED)
def test_titles_differ_between_files_with_different_changes(locale: str) -> None:
    entries = [sample_entry(t) for t in F.ALL_FACT_TYPES]
    same_doc = [
        replace(e, analysis=replace(e.analysis, title="Same document"))
        for e in entries
        if e.analysis.file_kind == FileKind.MARKDOWN
    ]
    titles = [t.title for t in FactsWriter().describe_files(same_doc, locale)]
    assert len(set(titles)) == len(titles)
    generic = {catalog(locale).msg("title.status.modified", doc="", what="", old="")}
    assert not generic & {t.replace("『Same document』", "").replace("《Same document》", "") for t in titles}


def test_title_quotes_are_cut_short() -> None:
    e = entry("a.md", [F.SentenceAdded("word " * 60)], title="Doc")
    [t] = FactsWriter().describe_files([e], "en_US")
    assert len(t.title) < 80 and "…" in t.title


# --- explanations -----------------------------------------------------------------------------------


def test_explanation_opens_with_the_document_and_the_kind_of_change() -> None:
    for type_ in ChangeType:
        e = entry("articles/models.md", [F.HeadingAdded(2, "New")], title="Models", type=type_)
        for locale in SUPPORTED:
            cat = catalog(locale)
            [t] = FactsWriter().describe_files([e], locale)
            lead = cat.msg(f"lead.{type_.value.replace(' ', '_')}", doc=cat.doc_title("Models"), what="")
            assert t.explanation.startswith(lead)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_lists_overflow_into_and_n_more(locale: str) -> None:
    cat = catalog(locale)
    links = [F.LinkAdded(f"Link number {i}", f"https://example.com/{i}") for i in range(9)]
    [t] = FactsWriter().describe_files([entry("a.md", links)], locale)
    for i in range(LIST_LIMIT):
        assert f"Link number {i}" in t.explanation
    for i in range(LIST_LIMIT, 9):
        assert f"Link number {i}" not in t.explanation
    assert cat.msg("list.more", count=9 - LIST_LIMIT) in t.explanation
    assert cat.number(9) in t.explanation


@pytest.mark.parametrize("locale", CJK)
def test_cjk_lists_use_the_ideographic_comma(locale: str) -> None:
    e = entry("a.md", [F.HeadingAdded(2, "Alpha"), F.HeadingAdded(2, "Beta"), F.HeadingAdded(2, "Gamma")])
    [t] = FactsWriter().describe_files([e], locale)
    assert re.search(r"Alpha.、.Beta", t.explanation), t.explanation


def test_only_two_new_sentences_are_quoted() -> None:
    facts = [F.SentenceAdded(f"Sentence number {i}.") for i in range(5)]
    for locale in SUPPORTED:
        [t] = FactsWriter().describe_files([entry("a.md", facts)], locale)
        assert "Sentence number 0." in t.explanation and "Sentence number 1." in t.explanation
        assert "Sentence number 2." not in t.explanation
        assert catalog(locale).number(5) in t.explanation


@pytest.mark.parametrize("locale", SUPPORTED)
def test_explanation_is_capped_and_says_what_was_left_out(locale: str) -> None:
    facts = [SAMPLES[t][0] for t in F.ALL_FACT_TYPES if t not in _BINARY and t is not F.DocumentAdded]
    [t] = FactsWriter().describe_files([entry("a.md", facts, title="Doc")], locale)
    cat = catalog(locale)
    first = t.explanation.split("\n\n")[0]
    ends = first.count("。") if locale in CJK else len(re.findall(r"[.:]\s", first + " "))
    assert ends <= MAX_FACT_SENTENCES + 2
    assert cat.msg("note.more", count=1).replace("1", "") != ""  # the note exists
    assert any(cat.msg("note.more", count=n) in t.explanation for n in range(1, len(facts)))
    # the most important facts come first
    assert t.explanation.index("Image generation models") < t.explanation.index("Regional quotas")


def test_word_edits_are_told_with_counts_next_to_term_replacements() -> None:
    e = entry(
        "articles/content-filter.md",
        [
            F.TextEdited(1, 1),
            F.SentenceAdded("A new sentence."),
            F.WordsDeleted("DALL-E", 1),
            F.WordsInserted("and GPT-image-1", 2),
            F.TermReplaced("Azure OpenAI", "Azure AI Foundry", 1),
        ],
    )
    expected = {
        "en_US": (
            "“Azure OpenAI” was replaced by “Azure AI Foundry”. "
            "“and GPT-image-1” was added to existing sentences (2 times). "
            "“DALL-E” was removed from an existing sentence. "
            "The passage “A new sentence.” was added. Other wording was revised as well"
        ),
        "zh_CN": (
            "将“Azure OpenAI”替换为“Azure AI Foundry”。在原有句子中加入了“and GPT-image-1”（共2处）。"
            "从原有句子中删除了“DALL-E”。新增了一段内容：“A new sentence.”。此外还修改了部分文字"
        ),
        "ja_JP": (
            "「Azure OpenAI」が「Azure AI Foundry」に置き換えられました。"
            "既存の文に「and GPT-image-1」という語句が追加されました（2 か所）。"
            "既存の文から「DALL-E」という語句が削除されました。"
            "「A new sentence.」という文章が追加されました。このほか、本文の一部が修正されました"
        ),
    }
    for locale, text in expected.items():
        [t] = FactsWriter().describe_files([e], locale)
        assert text in t.explanation, t.explanation


@pytest.mark.parametrize("locale", SUPPORTED)
def test_several_word_edits_of_one_kind_make_one_sentence(locale: str) -> None:
    cat = catalog(locale)
    facts = [F.WordsDeleted(f"word{i}", 2 if i == 0 else 1) for i in range(7)]
    [t] = FactsWriter().describe_files([entry("a.md", facts)], locale)
    for i in range(LIST_LIMIT):
        assert cat.quote(f"word{i}") in t.explanation
    assert cat.quote(f"word{LIST_LIMIT}") not in t.explanation
    assert cat.msg("list.more", count=7 - LIST_LIMIT) in t.explanation
    assert (
        cat.msg("fmt.detail", text=cat.quote("word0"), detail=cat.msg("unit.times", count=2)) in t.explanation
    )
    assert t.explanation.count(cat.quote("word1")) == 1


@pytest.mark.parametrize("locale", SUPPORTED)
def test_cluster_sentence_names_peers_and_shared_replacements(locale: str) -> None:
    cat = catalog(locale)
    paths = [
        f"includes/dall-e-{n}.md" for n in ("python", "java", "go", "rest", "dotnet", "studio", "ts", "cli")
    ]
    cl = cluster_of(paths, (("DALL-E", "image generation models"),))
    entries = [entry(p, [F.TermReplaced("DALL-E", "image generation models", 1)], cluster=cl) for p in paths]
    texts = FactsWriter().describe_files(entries, locale)
    second = texts[0].explanation.split("\n\n")[1]
    peers = entries[0].cluster_peers()
    for p in peers[:PEER_LIMIT]:
        assert PurePosixPath(p).name in second
    for p in peers[PEER_LIMIT:]:
        assert PurePosixPath(p).name not in second
    assert "dall-e-python.md" not in second
    assert cat.msg("list.more", count=len(peers) - PEER_LIMIT) in second
    assert cat.quote("DALL-E") in second and cat.number(len(peers)) in second


def test_cluster_peers_with_the_same_name_show_their_paths() -> None:
    paths = ["a/note.md", "b/note.md", "c/note.md"]
    cl = cluster_of(paths, identical=True)
    entries = [entry(p, [F.HeadingAdded(2, "Same")], cluster=cl) for p in paths]
    [t, *_] = FactsWriter().describe_files(entries, "en_US")
    assert "`b/note.md`" in t.explanation and "`c/note.md`" in t.explanation


def test_patch_basis_renames_and_binaries() -> None:
    for locale in SUPPORTED:
        cat = catalog(locale)
        patch, moved, image = FactsWriter().describe_files(
            [
                entry("a.md", [F.HeadingAdded(2, "X")], basis="patch"),
                entry(
                    "new/place.md", [F.TextEdited(1, 1)], status=Status.RENAMED, previous_path="old/place.md"
                ),
                entry("media/shot.png", [], old_size=2048, new_size=12595),
            ],
            locale,
        )
        assert cat.msg("note.patch") in patch.explanation
        assert "old/place.md" in moved.explanation and "place.md" in moved.title
        assert cat.size(2048) in image.explanation and cat.size(12595) in image.explanation
        assert "shot.png" in image.title


def test_document_text_cannot_inject_markdown() -> None:
    e = entry("a.md", [F.HeadingAdded(2, "Use *args and [links](x) <b>"), F.SentenceAdded("snake_case _x_")])
    [t] = FactsWriter().describe_files([e], "en_US")
    assert r"\*args" in t.explanation and r"\[links\]" in t.explanation and r"\<b>" in t.explanation
    assert "snake_case" in t.explanation and r"\_x\_" in t.explanation
    assert "*" not in t.title.replace("*args", "") and r"\*" not in t.title  # titles are plain text


def test_ms_date_is_read_as_month_day_year_and_other_keys_only_as_iso() -> None:
    ms = entry("a.md", [F.DateBumped("ms.date", "01/02/2025", "03/04/2025")])
    other = entry("b.md", [F.DateBumped("date", "03/04/2025", "2025-05-06")])
    t, u = FactsWriter().describe_files([ms, other], "en_US")
    assert "January 2, 2025" in t.explanation and "March 4, 2025" in t.explanation
    assert "`03/04/2025`" in u.explanation and "May 6, 2025" in u.explanation


# --- the overview --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", SUPPORTED)
def test_highlights_group_a_cluster_into_one_bullet(locale: str) -> None:
    cat = catalog(locale)
    paths = [f"includes/dall-e-{n}.md" for n in ("python", "java", "go")]
    cl = cluster_of(paths, (("DALL-E", "image generation models"),))
    entries = [entry(p, [F.TermReplaced("DALL-E", "image generation models", 1)], cluster=cl) for p in paths]
    entries.append(entry("other.md", [F.HeadingAdded(2, "Alone")]))
    _, ov = run(entries, locale)
    bullets = ov.highlights.other_updates
    assert len(bullets) == 2
    grouped = [b for b in bullets if "dall-e-python.md" in b]
    assert len(grouped) == 1 and all(n in grouped[0] for n in ("dall-e-java.md", "dall-e-go.md"))
    assert cat.number(3) in grouped[0] and cat.quote("DALL-E") in grouped[0]
    assert ov.highlights.new_features == () and ov.highlights.none_text == cat.msg("highlights.none")


@pytest.mark.parametrize("locale", SUPPORTED)
def test_highlights_group_date_bumps_and_cap_the_list(locale: str) -> None:
    cat = catalog(locale)
    dated = [entry(f"d/date{i}.md", [F.DateBumped("ms.date", "01/01/2025", "04/23/2025")]) for i in range(7)]
    others = [entry(f"o/file{i}.md", [F.HeadingAdded(2, f"Heading {i}")]) for i in range(20)]
    _, ov = run(others[:3] + dated, locale)
    bullets = ov.highlights.other_updates
    assert len(bullets) == 4
    assert (
        "ms.date" in bullets[-1]
        and cat.number(7) in bullets[-1]
        and cat.date(date(2025, 4, 23)) in bullets[-1]
    )
    _, ov = run(others + dated, locale)
    bullets = ov.highlights.other_updates
    assert len(bullets) == MAX_BULLETS
    assert bullets[-1] == cat.msg("highlights.more", count=20 + 7 - (MAX_BULLETS - 1))


@pytest.mark.parametrize("locale", SUPPORTED)
def test_new_features_and_breaking_changes_get_their_own_bullets(locale: str) -> None:
    entries = [
        entry(
            "a/new.md",
            [F.DocumentAdded("Brand new", 30)],
            status=Status.ADDED,
            type=ChangeType.NEW_FEATURE,
            title="Brand new",
        ),
        entry(
            "a/break.md", [F.SectionRemoved("Old API", 2, 40)], type=ChangeType.BREAKING_CHANGE, title="API"
        ),
        entry("a/minor.md", [F.HeadingAdded(2, "Small")]),
    ]
    _, ov = run(entries, locale)
    [feature] = ov.highlights.new_features
    [breaking] = ov.highlights.breaking_changes
    assert "Brand new" in feature and "(#item-" in feature
    assert "Old API" in breaking and "API" in breaking
    assert len(ov.highlights.other_updates) == 1


@pytest.mark.parametrize("locale", SUPPORTED)
def test_insights_report_terms_replaced_across_files(locale: str) -> None:
    cat = catalog(locale)
    paths = ["a/one.md", "b/two.md", "c/three.md"]
    entries = [entry(p, [F.TermReplaced("DALL-E", "image generation models", 2)]) for p in paths]
    entries.append(entry("d/four.md", [F.TermReplaced("Something", "Else", 1)]))
    _, ov = run(entries, locale)
    [para] = [p for p in ov.insights if cat.quote("DALL-E") in p]
    assert cat.quote("image generation models") in para
    assert cat.msg("unit.times", count=6) in para and cat.number(3) in para
    assert all(PurePosixPath(p).name in para for p in paths)
    assert not any(cat.quote("Something") in p for p in ov.insights)  # one file is not a pattern


@pytest.mark.parametrize("locale", SUPPORTED)
def test_insights_report_words_edited_across_files(locale: str) -> None:
    cat = catalog(locale)
    _, ov = run(_words_corpus(), locale)
    [para] = [p for p in ov.insights if cat.quote("DALL-E") in p]

    def files(*names: str) -> str:
        return cat.join(cat.code(n) for n in names)

    filters = files("filter0.md", "filter1.md", "filter2.md")
    removed = cat.msg(
        "insights.words_deleted",
        item=cat.quote("DALL-E"),
        count=3,
        times=cat.msg("unit.times", count=1 + 2 + 3),
        files=filters,
    )
    added = cat.msg(
        "insights.words_inserted",
        item=cat.quote("and GPT-image-1"),
        count=3,
        times=cat.msg("unit.times", count=3),
        files=filters,
    )
    third = cat.msg(
        "insights.words_deleted",
        item=cat.quote("word 0"),
        count=2,
        times=cat.msg("unit.times", count=2),
        files=files("more0.md", "more1.md"),
    )
    sep = cat.msg("fmt.sentence_sep")
    assert para == sep.join([removed, added, third, cat.msg("insights.more_words", count=2)])
    assert not any(cat.quote("only here") in p for p in ov.insights)  # one file is not a pattern


@pytest.mark.parametrize("locale", SUPPORTED)
def test_function_words_edited_across_files_are_no_insight(locale: str) -> None:
    """``the`` added to sentences of three files is grammar, not a pattern; a real phrase is."""
    cat = catalog(locale)
    corpus = [
        entry(
            f"g/f{i}.md",
            [F.WordsInserted("the", 1), F.WordsDeleted("And a", 1), F.WordsInserted("preview", 1)],
        )
        for i in range(3)
    ]
    texts, ov = run(corpus, locale)
    assert any(cat.quote("preview") in p for p in ov.insights)
    for word in ("the", "And a"):
        assert not any(cat.quote(word) in p for p in ov.insights), word
        assert all(cat.quote(word) in t.explanation for t in texts)  # each file still says it


@pytest.mark.parametrize("locale", SUPPORTED)
def test_insights_report_dates_articles_renames_and_share(locale: str) -> None:
    cat = catalog(locale)
    texts, ov = run(_report_corpus(), locale)
    joined = "\n".join(ov.insights)
    assert cat.date(date(2025, 4, 20)) in joined and cat.date(date(2025, 4, 21)) in joined
    assert "new.md" in joined and "old.md" in joined and "o/moved.md" in joined
    minor = sum(1 for e in _report_corpus() if e.classification.type == ChangeType.MINOR_UPDATE)
    assert cat.percent(minor / len(_report_corpus())) in joined


@pytest.mark.parametrize("locale", SUPPORTED)
def test_insights_always_have_a_paragraph(locale: str) -> None:
    for entries in ([], [entry("x.md", [F.HeadingAdded(2, "X")], type=ChangeType.NEW_FEATURE)]):
        _, ov = run(entries, locale)
        assert ov.insights and all(p.strip() for p in ov.insights)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_summary_is_plain_text_with_counts_and_names(locale: str) -> None:
    cat = catalog(locale)
    entries = _report_corpus()
    _, ov = run(entries, locale)
    assert "`" not in ov.summary and "\n" not in ov.summary and "](#" not in ov.summary
    assert cat.number(len(entries)) in ov.summary and cat.number(CTX.total_files_in_range) in ov.summary
    assert cat.quote("openai") in ov.summary
    assert cat.msg("count.new_feature", count=3) in ov.summary
    assert "Old" in ov.summary  # the breaking change is named first
    sentences = ov.summary.count("。") if locale in CJK else ov.summary.count(". ") + 1
    assert 1 <= sentences <= 3


# --- contract, determinism, locales -----------------------------------------------------------------


def test_writer_satisfies_the_protocol() -> None:
    w: Writer = FactsWriter()
    assert (w.name, w.version) == ("facts", "1")
    texts = w.describe_files([sample_entry(F.HeadingAdded)], "en_US")
    assert [t.engine for t in texts] == ["facts"]


@pytest.mark.parametrize("locale", SUPPORTED)
def test_same_input_same_output(locale: str) -> None:
    entries = _report_corpus() + _variants_corpus()
    first = run(entries, locale)
    second = run(list(entries), locale)
    assert first == second


@pytest.mark.parametrize("locale", ["fr_FR", "en", "en-US"])
def test_unsupported_locales_write_english(locale: str) -> None:
    entries = _report_corpus()
    assert run(entries, locale) == run(entries, "en_US")


def test_supported_aliases_write_the_same_as_the_full_name() -> None:
    entries = _report_corpus()
    assert run(entries, "zh-CN") == run(entries, "zh_CN")
    assert run(entries, "ja") == run(entries, "ja_JP")


def test_rows_of_tables_that_read_the_same_are_told_once() -> None:
    e = entry(
        "a.md",
        [
            F.TableRowsChanged("table", 0, 1, 0, (), ("italynorth",)),
            F.TableRowsChanged("table (2)", 0, 1, 0, (), ("uaenorth",)),
        ],
    )
    for locale in SUPPORTED:
        cat = catalog(locale)
        [t] = FactsWriter().describe_files([e], locale)
        assert (
            t.explanation.count(cat.msg("table.rows_removed", rows=cat.msg("unit.rows", count=2), count=2))
            == 1
        )
        assert "italynorth" in t.explanation and "uaenorth" in t.explanation


def test_title_names_the_change_that_made_the_type() -> None:
    """A file that gains one section and loses another is titled after the one its type comes from."""
    facts = [F.SectionAdded("Uninstall", 2, 12), F.SectionRemoved("Support for Arm", 2, 20)]
    w = FactsWriter()
    broke = w.describe_files([entry("docs/x.md", facts, type=ChangeType.BREAKING_CHANGE)], "en_US")[0].title
    feat = w.describe_files([entry("docs/x.md", facts, type=ChangeType.NEW_FEATURE)], "en_US")[0].title
    assert "Support for Arm" in broke and "removed" in broke
    assert "Uninstall" in feat and "added" in feat


def test_a_path_twice_in_one_cluster_counts_only_the_other_files_as_peers() -> None:
    """A patch series can change one file twice with the same edit as a third file: each change of
    the file has one peer (the third file), and the sentence counts one, as it names one."""
    w = FactsWriter()
    twice = entry(
        "docs/a.md", [F.TextEdited(1, 1)], cluster=cluster_of(["docs/a.md", "docs/b.md", "docs/a.md"])
    )
    once = entry("docs/a.md", [F.TextEdited(1, 1)], cluster=cluster_of(["docs/a.md", "docs/b.md"]))
    for locale in ("en_US", "ja_JP", "zh_CN"):
        sentence = w.cluster_sentence(twice, locale)
        assert "b.md" in sentence
        assert sentence == w.cluster_sentence(once, locale)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_table_the_patch_shows_no_name_for_is_not_named_with_empty_quotes(locale: str) -> None:
    """A hunk that starts inside a table shows neither the heading above it nor its header: the
    analysis gives the table an empty name, and no sentence may quote that empty name."""
    rows = F.TableRowsChanged("", 0, 1, 0, removed_keys=("gpt-4o-realtime-preview",))
    e = entry("concepts/model-retirements.md", [rows], basis="patch")
    texts, overview = run([e], locale)
    cat = catalog(locale)
    empty_quote = cat.quote("")
    assert empty_quote.strip()  # the catalog's quotes are visible, so the check below can fail
    for text in all_text(texts, overview):
        assert empty_quote not in text, text
    assert "gpt-4o-realtime-preview" in texts[0].explanation
    # with header cells but no name, the table is named by its columns
    named = entry(
        "concepts/model-retirements.md",
        [F.TableRowsChanged("", 0, 1, 0, removed_keys=("x",), columns=("Model", "Version"))],
        basis="patch",
    )
    (text,), _ = run([named], locale)
    assert cat.quote("Model") in text.explanation and cat.quote("Version") in text.explanation


@pytest.mark.parametrize("locale", SUPPORTED)
def test_breaking_files_that_only_share_a_replacement_are_listed_one_by_one(locale: str) -> None:
    """Two breaking changes that share the replacement `output` → `outputs` but each remove their own
    section: the Breaking changes list names each removal, not the shared replacement. Two files
    with identical edits still get one bullet."""
    cat = catalog(locale)
    shared = cluster_of(["a/run.md", "b/local.md"], (("output", "outputs"),))
    breaking = [
        replace(
            entry(
                p,
                [F.SectionRemoved(h, 2, 12), F.TermReplaced("output", "outputs", 2)],
                type=ChangeType.BREAKING_CHANGE,
            ),
            cluster=shared,
        )
        for p, h in (("a/run.md", "Legacy runner"), ("b/local.md", "Old local mode"))
    ]
    same = cluster_of(["c/x.md", "c/y.md"], (), identical=True)
    twins = [
        replace(
            entry(p, [F.SectionRemoved("Preview limits", 2, 5)], type=ChangeType.BREAKING_CHANGE),
            cluster=same,
        )
        for p in ("c/x.md", "c/y.md")
    ]
    _, ov = run([*breaking, *twins], locale)
    bullets = ov.highlights.breaking_changes
    assert len(bullets) == 3, bullets
    assert any(cat.quote("Legacy runner") in b for b in bullets)
    assert any(cat.quote("Old local mode") in b for b in bullets)
    assert sum(cat.quote("Preview limits") in b for b in bullets) == 1  # one bullet for the twins


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_title_names_a_repeated_heading_once(locale: str) -> None:
    """docfx zones repeat a heading per language: the title says "Prerequisites" once."""
    cat = catalog(locale)
    e = entry(
        "agents/declarative.md",
        [F.SectionAdded("Prerequisites", 2, 8), F.SectionAdded("Prerequisites", 2, 9)],
        type=ChangeType.NEW_FEATURE,
        title="Declarative Agents",
    )
    (text,), _ = run([e], locale)
    assert text.title.count(cat.quote("Prerequisites")) == 1, text.title


def test_the_writer_keeps_no_entry_alive_and_never_mixes_entries_up() -> None:
    """What the writer derives once from an entry for every locale lives as long as the entry, not
    longer; entries made one after another (which may reuse a freed address) get their own texts."""
    writer = FactsWriter()
    for i in range(1500):  # CPython gives a freed entry's address to a new one now and then
        e = entry(f"docs/page{i}.md", [F.HeadingAdded(2, f"Heading number {i}")])
        alive = weakref.ref(e)
        for locale in SUPPORTED:
            (text,) = writer.describe_files([e], locale)
            assert f"Heading number {i}" in text.explanation, (i, locale, text.explanation)
        del e, text
        assert alive() is None, "the writer still holds an entry after describing it"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_the_same_metadata_change_in_many_files_is_one_bullet_and_one_insight(locale: str) -> None:
    """504 files that only drop ``ms.topic`` read as one bullet, one insight and one summary item,
    not as 504 lines; a file with more changes keeps its own bullet but counts in the insight."""
    cat = catalog(locale)
    entries = _metadata_corpus()
    texts, ov = run(entries, locale)
    key = cat.code("ms.topic")
    bullets = ov.highlights.other_updates
    grouped = [b for b in bullets if key in b and cat.code("rm0.md") in b]
    assert len(grouped) == 1 and cat.number(4) in grouped[0]
    assert not any(cat.code("rm1.md") in b for b in bullets if b is not grouped[0])
    assert any(cat.code("more.md") in b for b in bullets)  # listed on its own
    insight = next(p for p in ov.insights if key in p)
    assert cat.number(5) in insight and cat.code("more.md") in insight
    assert any("author" in p and "writer" in p for p in ov.insights)  # added, with its value
    assert "ms.topic" in ov.summary and cat.number(4) in ov.summary
    # one bullet per shared change, whatever the number of files
    many = [entry(f"big/f{i}.md", [F.FrontMatterChanged("ms.topic", "reference", None)]) for i in range(504)]
    _, big = run(many, locale)
    assert len(big.highlights.other_updates) == 1 and cat.number(504) in big.highlights.other_updates[0]


@pytest.mark.parametrize("fact_type", list(SAMPLES), ids=lambda t: t.kind)
def test_facts_are_values(fact_type: type[F.Fact]) -> None:
    """Every fact kind behaves as a frozen value: immutable, equal and hashed by kind and values,
    picklable (the analysis workers send them), matched by positional patterns, and serialised
    with its kind."""
    import pickle

    fact = SAMPLES[fact_type][0]
    values = {k: v for k, v in fact.to_dict().items() if k != "kind"}
    twin = fact_type(**values)
    assert twin == fact and hash(twin) == hash(fact) and twin is not fact
    assert pickle.loads(pickle.dumps(fact, pickle.HIGHEST_PROTOCOL)) == fact
    assert fact.to_dict() == {"kind": fact_type.kind, **values}
    assert list(fact_type.__match_args__) == list(values)
    if values:
        name = next(iter(values))
        with pytest.raises(AttributeError):
            setattr(fact, name, None)
        changed = _second_values(fact) or {name: None}
        other = msgspec.structs.replace(fact, **changed)
        assert other != fact and type(other) is fact_type
    # a fact of another kind with the same fields and values (link added / removed) is not equal
    twins = [
        t
        for t in F.FACT_KINDS.values()
        if t is not fact_type and t.__match_args__ == fact_type.__match_args__
    ]
    for other_type in twins:
        assert other_type(**values) != fact


@pytest.mark.parametrize("locale", SUPPORTED)
def test_a_list_names_an_item_that_several_facts_share_once_with_its_count(locale: str) -> None:
    """Two removed headings with the same text are one item with how many times; "and N more"
    still counts the facts left out."""
    cat = catalog(locale)
    removed = [F.HeadingRemoved(2, "Top Contributors")] * 2 + [F.HeadingRemoved(2, "Links")]
    [t] = FactsWriter().describe_files([entry("a.md", removed)], locale)
    twice = cat.msg(
        "fmt.detail",
        text=cat.msg("fmt.quote", text="Top Contributors"),
        detail=cat.msg("unit.times", count=2),
    )
    assert twice in t.explanation, t.explanation
    assert t.explanation.count("Top Contributors") == 1
    assert cat.number(3) in t.explanation  # the sentence still counts three headings
    # the same passage added twice is quoted once, the next one after it
    passages = [F.SentenceAdded("Same text.")] * 2 + [F.SentenceAdded("Other text.")]
    [p] = FactsWriter().describe_files([entry("a.md", passages)], locale)
    assert p.explanation.count("Same text.") == 1 and "Other text." in p.explanation, p.explanation
    many = [F.HeadingAdded(2, "Same")] * 3 + [F.HeadingAdded(2, f"H{i}") for i in range(8)]
    [u] = FactsWriter().describe_files([entry("a.md", many)], locale)
    shown = 3 + 3  # the facts of the 4 items shown (the default limit): "Same" (3) and H0 to H2
    assert cat.msg("list.more", count=len(many) - shown) in u.explanation, u.explanation
    # a repeated item among those left out: "more" counts its facts, not the item once
    late = [F.HeadingAdded(2, f"H{i}") for i in range(8)] + [F.HeadingAdded(2, "Same")] * 3
    [v] = FactsWriter().describe_files([entry("a.md", late)], locale)
    assert cat.msg("list.more", count=len(late) - 4) in v.explanation, v.explanation
