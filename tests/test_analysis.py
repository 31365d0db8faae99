"""Facts computed from real git patches, from full texts and from the patch alone."""

from __future__ import annotations

import pytest
from tests.analysis_helpers import analyze, change_from

from diff_insight.analysis import facts as F
from diff_insight.analysis.facts import FileKind
from diff_insight.model import FileChange, Status

FM = "---\ntitle: Image models\nms.date: 01/15/2025\nms.topic: conceptual\n---\n\n"
BODY = """\
# Image models

Intro paragraph about DALL-E models.

## Availability

| Model | Region |
|---|---|
| dall-e-3 | East US |
| dall-e-2 | West US |

## Use the API

```python
client = Client()
client.generate("cat")
```

See the [reference](https://example.com/ref) and ![diagram](media/flow.png).

## Next steps

Read the [DALL-E how-to guide](how-to/dall-e.md).
"""
DOC = FM + BODY


def kinds(a: F.FileAnalysis) -> list[str]:
    return [f.kind for f in a.facts]


def one(a: F.FileAnalysis, t: type[F.Fact]) -> F.Fact:
    found = a.of(t)
    assert len(found) == 1, (t.kind, a.facts)
    return found[0]


@pytest.mark.parametrize("full", [True, False])
def test_date_bump(full: bool) -> None:
    a = analyze(DOC, DOC.replace("01/15/2025", "04/23/2025"), full=full)
    assert a.facts == (F.DateBumped("ms.date", "01/15/2025", "04/23/2025"),)
    assert a.basis == ("full-text" if full else "patch")


def test_front_matter_change_added_and_removed_keys() -> None:
    new = DOC.replace("title: Image models", "title: Image generation models").replace(
        "ms.topic: conceptual\n", "ms.custom: build-2025\n"
    )
    a = analyze(DOC, new)
    got = {(f.key, f.old, f.new) for f in a.of(F.FrontMatterChanged)}  # type: ignore[attr-defined]
    assert ("title", "Image models", "Image generation models") in got
    assert ("ms.topic", "conceptual", None) in got
    assert ("ms.custom", None, "build-2025") in got
    assert a.title == "Image generation models"


def test_front_matter_only_change_takes_the_title_from_the_body_when_the_front_matter_has_none() -> None:
    """A change inside the front matter does not scan the body, except for a title: without one in
    the front matter it is the first H1, as for any other change."""
    untitled = DOC.replace("title: Image models\n", "")
    a = analyze(untitled, untitled.replace("01/15/2025", "04/23/2025"))
    assert a.facts == (F.DateBumped("ms.date", "01/15/2025", "04/23/2025"),)
    assert a.basis == "full-text" and a.title == "Image models"
    titled = DOC.replace("# Image models", "# Body heading")
    b = analyze(titled, titled.replace("01/15/2025", "04/23/2025"))
    assert b.title == "Image models"  # the front matter's title wins, as for any other change
    # an edit of the front matter and of the body: the body's facts are there too
    c = analyze(DOC, DOC.replace("01/15/2025", "04/23/2025").replace("## Next steps", "## What's next"))
    assert kinds(c)[:2] == ["date_bumped", "heading_renamed"], c.facts


@pytest.mark.parametrize("full", [True, False])
def test_heading_renamed(full: bool) -> None:
    a = analyze(DOC, DOC.replace("## Use the API", "## Call the image API"), full=full)
    assert one(a, F.HeadingRenamed) == F.HeadingRenamed(2, "Use the API", "Call the image API")


@pytest.mark.parametrize("full", [True, False])
def test_section_rewritten_under_a_renamed_heading_is_no_new_section(full: bool) -> None:
    """A heading replaced by one of the same level, together with all of its section's text, is
    a renamed heading with edited text, not a section removed and another added; a heading of
    another level, or a code line that looks like one, renames nothing."""
    doc = "# Title\n\n## Old name\n\nOld text here.\n\n## End\n\nLast.\n"
    a = analyze(
        doc, doc.replace("## Old name\n\nOld text here.", "## New name\n\nNew text there."), full=full
    )
    assert one(a, F.HeadingRenamed) == F.HeadingRenamed(2, "Old name", "New name")
    assert not a.of(F.SectionAdded) and not a.of(F.SectionRemoved)
    b = analyze(doc, doc.replace("## Old name\n\nOld text here.", "### New name\n\nNew text there."))
    assert one(b, F.SectionAdded) == F.SectionAdded("New name", 3, 4)
    assert one(b, F.SectionRemoved) == F.SectionRemoved("Old name", 2, 4)
    fenced = "# Title\n\n```\n## Old name\n```\n\nText.\n"
    c = analyze(fenced, fenced.replace("## Old name", "## New name"))
    assert not c.of(F.HeadingRenamed)


def test_section_added_with_size_and_heading_added() -> None:
    new = DOC.replace(
        "## Next steps", "## Limits\n\nImages must be smaller than 4 MB.\n\nPNG only.\n\n## Next steps"
    )
    a = analyze(DOC, new)
    sec = one(a, F.SectionAdded)
    assert sec == F.SectionAdded("Limits", 2, 6)
    assert not a.of(F.HeadingAdded)  # the section fact covers its heading


def test_section_removed() -> None:
    new = DOC.replace(BODY[BODY.index("## Use the API") : BODY.index("## Next steps")], "")
    a = analyze(DOC, new)
    rem = one(a, F.SectionRemoved)
    assert rem.heading == "Use the API" and rem.lines >= 7  # type: ignore[attr-defined]
    assert not a.of(F.CodeBlockRemoved)  # covered by the section


@pytest.mark.parametrize("full", [True, False])
def test_table_rows_added_removed_changed(full: bool) -> None:
    new = DOC.replace("| dall-e-3 | East US |", "| dall-e-3 | East US, Sweden Central |").replace(
        "| dall-e-2 | West US |\n", "| gpt-image-1 | West US 2 |\n"
    )
    a = analyze(DOC, new, full=full)
    t = one(a, F.TableRowsChanged)
    assert (t.added, t.removed, t.changed) == (1, 1, 1)  # type: ignore[attr-defined]
    assert t.added_keys == ("gpt-image-1",) and t.removed_keys == ("dall-e-2",)  # type: ignore[attr-defined]
    assert t.changed_keys == ("dall-e-3",)  # type: ignore[attr-defined]
    if full:
        assert t.table == "Availability" and t.columns == ("Model", "Region")  # type: ignore[attr-defined]


def test_table_added() -> None:
    new = DOC.replace("## Next steps", "| Size | Price |\n|---|---|\n| S | 1 |\n| L | 2 |\n\n## Next steps")
    a = analyze(DOC, new)
    assert one(a, F.TableAdded) == F.TableAdded("Use the API", 2, ("Size", "Price"))


@pytest.mark.parametrize("full", [True, False])
def test_links_retargeted_added_removed(full: bool) -> None:
    new = DOC.replace("https://example.com/ref", "https://example.com/reference").replace(
        "Read the [DALL-E how-to guide](how-to/dall-e.md).", "Read the [FAQ](faq.md)."
    )
    a = analyze(DOC, new, full=full)
    assert one(a, F.LinkRetargeted) == F.LinkRetargeted(
        "reference", "https://example.com/ref", "https://example.com/reference"
    )
    assert one(a, F.LinkAdded) == F.LinkAdded("FAQ", "faq.md")
    assert one(a, F.LinkRemoved) == F.LinkRemoved("DALL-E how-to guide", "how-to/dall-e.md")


def test_link_relabeled_and_images() -> None:
    new = (
        DOC.replace("[DALL-E how-to guide]", "[Image API how-to guide]").replace(
            "media/flow.png", "media/flow-v2.png"
        )
        + '\n:::image type="content" source="media/new.png" alt-text="New UI":::\n'
    )
    a = analyze(DOC, new)
    assert one(a, F.LinkRelabeled) == F.LinkRelabeled(
        "how-to/dall-e.md", "DALL-E how-to guide", "Image API how-to guide"
    )
    assert one(a, F.ImageRetargeted) == F.ImageRetargeted("diagram", "media/flow.png", "media/flow-v2.png")
    assert one(a, F.ImageAdded) == F.ImageAdded("New UI", "media/new.png")


@pytest.mark.parametrize("full", [True, False])
def test_code_block_changed(full: bool) -> None:
    a = analyze(
        DOC, DOC.replace('client.generate("cat")', 'client.generate(prompt="cat")\nclient.close()'), full=full
    )
    assert one(a, F.CodeBlockChanged) == F.CodeBlockChanged("python", 2, 1)


def test_code_block_added_and_removed() -> None:
    new = DOC.replace("## Next steps", "```bash\npip install client\n```\n\n## Next steps").replace(
        '```python\nclient = Client()\nclient.generate("cat")\n```\n', ""
    )
    a = analyze(DOC, new)
    assert one(a, F.CodeBlockAdded) == F.CodeBlockAdded("bash", 1)
    assert one(a, F.CodeBlockRemoved) == F.CodeBlockRemoved("python", 2)


def test_hunk_starting_after_a_code_block_is_prose_in_patch_mode() -> None:
    # the hunk's first context line is a closing fence: the edited line must not count as code
    long_code = "\n".join(f"line{i} = {i}" for i in range(30))
    old = f"# T\n\n```python\n{long_code}\n```\n\nThe DALL-E APIs filter content.\n"
    new = old.replace("The DALL-E APIs", "The Image APIs")
    a = analyze(old, new, full=False)
    assert not a.of(F.CodeBlockChanged)
    assert one(a, F.TermReplaced) == F.TermReplaced("DALL-E", "Image", 1)


def test_an_alert_is_quoted_as_a_reader_sees_it() -> None:
    new = DOC.replace("## Next steps", "> [!NOTE]\n> Use the [**PSWSMan**][04] module.\n\n## Next steps")
    a = analyze(DOC + "\n[04]: https://example.com/m\n", new + "\n[04]: https://example.com/m\n")
    assert one(a, F.AlertAdded) == F.AlertAdded("NOTE", "Use the PSWSMan module.")


def test_alert_and_include() -> None:
    new = DOC.replace(
        "## Next steps",
        "> [!IMPORTANT]\n> Quotas apply.\n\n[!INCLUDE [quota](includes/quota.md)]\n\n## Next steps",
    )
    a = analyze(DOC, new)
    assert one(a, F.AlertAdded) == F.AlertAdded("IMPORTANT", "Quotas apply.")
    assert one(a, F.IncludeAdded) == F.IncludeAdded("includes/quota.md")
    b = analyze(new, DOC)
    assert one(b, F.AlertRemoved) == F.AlertRemoved("IMPORTANT", "Quotas apply.")
    assert one(b, F.IncludeRemoved) == F.IncludeRemoved("includes/quota.md")


def test_sentence_added_and_removed_verbatim() -> None:
    new = DOC.replace(
        "Intro paragraph about DALL-E models.\n",
        "Intro paragraph about DALL-E models.\n\nGPT-image-1 is in limited preview.\n",
    )
    a = analyze(DOC, new)
    assert one(a, F.SentenceAdded) == F.SentenceAdded("GPT-image-1 is in limited preview.")
    b = analyze(new, DOC)
    assert one(b, F.SentenceRemoved) == F.SentenceRemoved("GPT-image-1 is in limited preview.")


@pytest.mark.parametrize("full", [True, False])
def test_sentences_are_quoted_as_a_reader_sees_them(full: bool) -> None:
    """A new paragraph is quoted with its links and images by their text (the link facts report
    the targets); each list item is a sentence of its own, without its marker; a reference
    definition, a list item that is only a link and a line that is only an include are no
    sentences (their link and include facts report them)."""
    added = (
        "Read the [API guide](how-to/api.md) and the [quota page][quota] first.\n\n"
        "- Deploy a model with ![icon](media/i.png) the portal.\n"
        "- Call it from [Python][py] code.\n"
        "- [Samples](https://example.com/samples)\n"
        "- [Cookbook][cook]\n"
        '- `[void]("")`\n\n'
        "[!INCLUDE [quota](includes/quota.md)]\n\n"
        "[quota]: https://example.com/quota\n"
        "[py]: https://example.com/py\n"
        "[cook]: https://example.com/cook\n"
    )
    new = DOC.replace("## Next steps\n", "## Next steps\n\n" + added)
    a = analyze(DOC, new, full=full)
    assert [f.text for f in a.of(F.SentenceAdded)] == [  # type: ignore[attr-defined]
        "Read the API guide and the quota page first.",
        "Deploy a model with icon the portal.",
        "Call it from Python code.",
        '`[void]("")`',  # code, not a link
    ]
    assert {f.url for f in a.of(F.LinkAdded)} >= {  # type: ignore[attr-defined]
        "how-to/api.md",
        "https://example.com/samples",
        "https://example.com/cook",
    }
    assert one(a, F.IncludeAdded) == F.IncludeAdded("includes/quota.md")
    b = analyze(new, DOC, full=full)
    assert [f.text for f in b.of(F.SentenceRemoved)] == [  # type: ignore[attr-defined]
        f.text  # type: ignore[attr-defined]
        for f in a.of(F.SentenceAdded)
    ]


@pytest.mark.parametrize(
    "text,shown",
    [
        ("See [the guide](a.md).", "See the guide."),
        ("See [the guide][1] and [more][].", "See the guide and more."),
        ("[![Build](badge.svg)](https://ci.example.com) passes.", "Build passes."),
        ("1. Open `[switch]` settings.", "Open `[switch]` settings."),
        ("* Keep [shortcut] links as they are.", "Keep [shortcut] links as they are."),
        ("Plain text.", "Plain text."),
        ('Use `[void]("")` or [the docs](d.md).', 'Use `[void]("")` or the docs.'),
        ("See [`Get-Command`](/ps/gc) now.", "See `Get-Command` now."),
        ("- The **ThreadJob** module, not `a**b**c`.", "The ThreadJob module, not `a**b**c`."),
        ("2 ** 3 is **not** 2 **", "2 ** 3 is not 2 **"),
        ('<a id="jobs"></a>Press <kbd>Ctrl</kbd>+<kbd>C</kbd><br/>.', "Press Ctrl+C."),
        (
            "Get it from <https://example.com/x> if a < b, not `<b>`.",
            "Get it from <https://example.com/x> if a < b, not `<b>`.",
        ),
    ],
)
def test_readable_text_of_a_line(text: str, shown: str) -> None:
    from diff_insight.analysis.analyze import readable

    assert readable(text) == shown


@pytest.mark.parametrize("full", [True, False])
def test_term_replacement_counted(full: bool) -> None:
    new = DOC.replace("DALL-E models.", "image generation models.").replace(
        "[DALL-E how-to guide]", "[image generation how-to guide]"
    )
    a = analyze(DOC, new, full=full)
    t = one(a, F.TermReplaced)
    assert t == F.TermReplaced("DALL-E", "image generation", 2)
    assert a.replacements.count(("DALL-E", "image generation")) == 2


def test_formatting_only_list_markers_and_whitespace() -> None:
    old = FM + "# T\n\n•\tFirst item\n•\tSecond   item\n"
    new = FM + "# T\n\n- First item\n- Second item\n"
    a = analyze(old, new)
    f = one(a, F.FormattingOnly)
    assert "list-markers" in f.what  # type: ignore[attr-defined]
    assert kinds(a) == ["formatting_only"]


def test_rewrap_is_formatting_but_reword_is_not() -> None:
    old = FM + "# T\n\nA long sentence that is wrapped\nover two lines.\n"
    a = analyze(old, old.replace("wrapped\nover", "wrapped over"))
    assert kinds(a) == ["formatting_only"]
    b = analyze(old, old.replace("long sentence", "short phrase"))
    assert "formatting_only" not in kinds(b)


def test_footnote_renumbering_is_formatting() -> None:
    old = FM + "# T\n\nSee [docs][1] and [blog][2].\n\n[1]: https://a.example\n[2]: https://b.example\n"
    new = FM + "# T\n\nSee [docs][2] and [blog][3].\n\n[2]: https://a.example\n[3]: https://b.example\n"
    a = analyze(old, new)
    assert not a.of(F.LinkRelabeled) and not a.of(F.LinkAdded)
    assert kinds(a) == ["formatting_only"]
    assert "footnotes" in a.of(F.FormattingOnly)[0].what  # type: ignore[attr-defined]


def test_new_document_and_removed_document() -> None:
    a = analyze(None, DOC)
    d = one(a, F.DocumentAdded)
    assert d == F.DocumentAdded(
        "Image models", DOC.count("\n"), ("Availability", "Use the API", "Next steps")
    )
    assert len(a.facts) == 1
    b = analyze(DOC, None)
    assert one(b, F.DocumentRemoved) == F.DocumentRemoved("Image models", DOC.count("\n"))


def test_renamed_document() -> None:
    a = analyze(
        DOC,
        DOC.replace("01/15/2025", "02/01/2025"),
        path="docs/new-name.md",
        status=Status.RENAMED,
        previous_path="docs/old-name.md",
    )
    assert one(a, F.DocumentRenamed) == F.DocumentRenamed("docs/old-name.md", "docs/new-name.md", True)
    assert one(a, F.DateBumped)


TOC = """\
items:
  - name: Overview
    href: overview.md
  - name: DALL-E quickstart
    href: dall-e-quickstart.md
  - name: Old page
    href: old.md
"""


def test_toc_entries_renamed_added_removed_retargeted() -> None:
    new = (
        TOC.replace("DALL-E quickstart", "Image generation quickstart")
        .replace("  - name: Old page\n    href: old.md\n", "  - name: New page\n    href: new.md\n")
        .replace("href: overview.md", "href: intro/overview.md")
    )
    a = analyze(TOC, new, path="docs/toc.yml")
    assert a.file_kind == FileKind.YAML
    assert one(a, F.TocEntryRenamed) == F.TocEntryRenamed(
        "DALL-E quickstart", "Image generation quickstart", "dall-e-quickstart.md"
    )
    assert one(a, F.TocEntryAdded) == F.TocEntryAdded("New page", "new.md")
    assert one(a, F.TocEntryRemoved) == F.TocEntryRemoved("Old page", "old.md")
    assert one(a, F.TocEntryRetargeted) == F.TocEntryRetargeted(
        "Overview", "overview.md", "intro/overview.md"
    )


def test_yaml_value_changed() -> None:
    old = "title: Azure docs  # < 60 chars\nsummary: Short text\n"
    a = analyze(old, old.replace("Short text", "Shorter text"), path="docs/index.yml")
    assert one(a, F.YamlValueChanged) == F.YamlValueChanged("summary", "Short text", "Shorter text")
    assert a.title == "Azure docs"


def test_other_text_and_binary_files() -> None:
    a = analyze("a = 1\n", "a = 2\nb = 3\n", path="src/app.py")
    assert a.facts == (F.LinesChanged(2, 1),)
    from diff_insight.analysis.analyze import analyze_file

    for status, expected in (
        (Status.ADDED, F.BinaryAdded(70)),
        (Status.REMOVED, F.BinaryRemoved(10)),
        (Status.MODIFIED, F.BinaryReplaced(10, 70)),
    ):
        ch = FileChange("m/x.png", status, 0, 0, None, binary=True, old_size=10, new_size=70)
        assert analyze_file(ch).facts == (expected,)


def test_missing_patch_is_metadata_only() -> None:
    from diff_insight.analysis.analyze import analyze_file

    ch = FileChange("docs/big.md", Status.MODIFIED, 900, 20, None)
    a = analyze_file(ch)
    assert a.basis == "metadata" and a.facts == (F.LinesChanged(900, 20),)


def test_encoding_replacement_flagged() -> None:
    from diff_insight.analysis.analyze import analyze_file

    ch = FileChange(
        "docs/x.md", Status.MODIFIED, 1, 1, "@@ -1 +1 @@\n-caf\ufffd\n+cafe\n", encoding_replaced=True
    )
    assert F.EncodingReplaced() in analyze_file(ch).facts


def test_text_edited_counts_rewrites() -> None:
    old = FM + "# T\n\nThe service supports three regions today and more regions later this year.\n"
    new = (
        FM
        + "# T\n\nThe service supports three regions today, and you can request more regions later this year.\n"
    )
    a = analyze(old, new)
    te = one(a, F.TextEdited)
    assert (te.added, te.removed) == (1, 1)  # type: ignore[attr-defined]
    assert not a.of(F.SentenceAdded)
    # a sentence replaced by an unrelated one is a removal and an addition, not an edit
    b = analyze(old, FM + "# T\n\nYou can deploy the model in any region listed on the availability page.\n")
    assert b.of(F.SentenceAdded) and b.of(F.SentenceRemoved) and not b.of(F.TextEdited)


def test_change_key_ignores_line_numbers_and_front_matter() -> None:
    body = "# T\n\n" + "filler\n" * 10 + "The DALL-E APIs filter content.\n"
    a = analyze(FM + body, FM.replace("01/15", "02/02") + body.replace("DALL-E", "Image"))
    b = analyze(FM + "extra\n\n" + body, FM + "extra\n\n" + body.replace("DALL-E", "Image"))
    c = analyze(FM + body, FM + body.replace("DALL-E", "Video"))
    assert a.change_key == b.change_key != c.change_key
    assert analyze(FM + body, FM.replace("01/15", "02/02") + body).change_key is None


def test_every_fact_serialises() -> None:
    for t in F.ALL_FACT_TYPES:
        assert t.kind in F.FACT_KINDS
    f = F.TermReplaced("a", "b", 2)
    assert f.to_dict() == {"kind": "term_replaced", "old": "a", "new": "b", "count": 2}


def test_front_matter_fast_path_agrees_with_yaml() -> None:
    import yaml

    from diff_insight.analysis.markdown import _simple_front_matter, parse_front_matter

    simple = ["title: Image models", "ms.date: 04/23/2025", "ms.topic: conceptual", "author: a-b.c"]
    assert _simple_front_matter(simple) == {k: str(v) for k, v in yaml.safe_load("\n".join(simple)).items()}
    # anything YAML would read differently takes the YAML path
    for tricky in (["title: 'Quoted: yes'"], ["ms.custom:", "  - build-2025"], ["title: a # comment"]):
        assert _simple_front_matter(tricky) is None
    assert parse_front_matter(["ms.custom:", "  - a", "  - b"]) == {"ms.custom": "a, b"}
    # a value reads the same whichever path parsed it (the second list needs YAML)
    fast = parse_front_matter(["flag: true"])["flag"]
    slow = parse_front_matter(["flag: true", "x: 'y'"])["flag"]
    assert fast == slow == "true"


def test_huge_rewrite_gets_line_statistics_only() -> None:
    """Beyond MAX_DETAILED_LINES changed lines a modified file is summarised by its line counts
    (its diff is still reported whole); below the limit the same kind of edit gets word facts."""
    from diff_insight.analysis.analyze import MAX_DETAILED_LINES

    n = MAX_DETAILED_LINES // 2 + 1
    old = "# Big\n\n" + "".join(f"Line {i} mentions DALL-E.\n" for i in range(n))
    new = "# Big\n\n" + "".join(f"Line {i} mentions Image API.\n" for i in range(n))
    a = analyze(old, new, full=True)
    assert a.basis == "patch"
    assert [type(f) for f in a.facts] == [F.LinesChanged]
    assert a.facts[0] == F.LinesChanged(n, n)
    small = analyze(old[:2000], new[:2000], full=True)
    assert any(isinstance(f, F.TermReplaced) for f in small.facts)


def test_version_number_change_is_content() -> None:
    a = analyze("# Setup\n\nPython 3.11.\n", "# Setup\n\nPython 3.12.\n")
    assert a.facts == (F.TermReplaced("3.11", "3.12", 1),)
    from diff_insight.analysis.words import is_typo_fix

    assert not is_typo_fix("3.11", "3.12")  # a new version is not a spelling fix
    assert is_typo_fix("recieve", "receive")


def test_link_targets_keep_balanced_parentheses() -> None:
    a = analyze("# A\n\nText.\n", "# A\n\nText.\n\nSee [the page](https://example.com/a_(b)) now.\n")
    links = [f for f in a.facts if isinstance(f, F.LinkAdded)]
    assert [lk.url for lk in links] == ["https://example.com/a_(b)"]


def test_formatting_only_is_not_claimed_beside_a_new_section() -> None:
    a = analyze(
        "# A\n\nText here.\n\n* one\n* two\n",
        "# A\n\nText here.\n\n- one\n- two\n\n## New section\n\nBody of the new section.\n",
    )
    assert a.facts == (F.SectionAdded("New section", 2, 3),)
    b = analyze("# A\n\nText here.\n\n* one\n* two\n", "# A\n\nText here.\n\n- one\n- two\n")
    assert [type(f) for f in b.facts] == [F.FormattingOnly]


@pytest.mark.parametrize("full", [True, False])
def test_a_footnote_marker_inserted_into_a_sentence_is_not_a_word_insertion(full: bool) -> None:
    """``<sup>4</sup>`` added after a word is markup around no words: no ``words_inserted`` fact
    (which would otherwise name the file in its title), while a real word beside it still is one."""
    old = "# Limits\n\nStreaming is available for all models in the service today.\n"
    marker = "# Limits\n\nStreaming <sup>4</sup> is available for all models in the service today.\n"
    a = analyze(old, marker, full=full)
    assert a.of(F.WordsInserted) == []
    assert a.of(F.TextEdited) == []
    word = "# Limits\n\nStreaming <sup>4</sup> is available for all paid models in the service today.\n"
    b = analyze(old, word, full=full)
    assert [f.text for f in b.of(F.WordsInserted) if isinstance(f, F.WordsInserted)] == ["paid"]


_REF_OLD = (
    "# Tab completion\n\nFor more information, see [ArgumentCompleter][ArgumentCompleter].\n\n"
    "![Tab and menu completion examples](media/tab-menu-complete.gif)\n\n"
    "<!-- link references -->\n"
    "[ArgumentCompleter]: /powershell/module/argumentcompleter\n"
    "[ValidateSet]: /powershell/module/validateset\n"
)
_REF_NEW = (
    "# Tab completion\n\nFor more information, see [ArgumentCompleter][04].\n\n"
    "![Tab and menu completion examples][07]\n\n"
    "<!-- link references -->\n"
    "[04]: /powershell/module/argumentcompleter\n"
    "[05]: /powershell/module/validateset-v2\n"
    "[07]: media/tab-menu-complete.gif\n"
)


@pytest.mark.parametrize("full", [True, False])
def test_reference_labels_renamed_and_links_moved_to_reference_style_change_no_link(full: bool) -> None:
    """Reference definitions renamed to numbers (`[ArgumentCompleter]: u` → `[04]: u`) and an image
    rewritten in reference style (`![alt](u)` → `![alt][07]` + `[07]: u`) change no link a reader
    sees; a definition whose URL changed is still a retargeted link."""
    a = analyze(_REF_OLD, _REF_NEW, full=full)
    assert a.of(F.LinkRelabeled) == []
    assert a.of(F.ImageRemoved) == [] and a.of(F.ImageAdded) == []
    added = [(f.text, f.url) for f in a.of(F.LinkAdded) if isinstance(f, F.LinkAdded)]
    removed = [(f.text, f.url) for f in a.of(F.LinkRemoved) if isinstance(f, F.LinkRemoved)]
    # the ValidateSet definition got a new label *and* a new URL: one link out, one in
    assert added == [("05", "/powershell/module/validateset-v2")]
    assert removed == [("ValidateSet", "/powershell/module/validateset")]
    retargeted = analyze(
        _REF_OLD,
        _REF_OLD.replace("[ValidateSet]: /powershell/module/validateset", "[ValidateSet]: /new"),
        full=full,
    )
    assert [
        (f.text, f.old, f.new) for f in retargeted.of(F.LinkRetargeted) if isinstance(f, F.LinkRetargeted)
    ] == [("ValidateSet", "/powershell/module/validateset", "/new")]


def test_only_renamed_reference_labels_is_a_formatting_change() -> None:
    old = "# A\n\nSee [the guide][guide].\n\n[guide]: https://example.com/guide\n"
    new = "# A\n\nSee [the guide][01].\n\n[01]: https://example.com/guide\n"
    a = analyze(old, new)
    assert a.of(F.LinkRelabeled) == [] and a.of(F.LinkAdded) == [] and a.of(F.LinkRemoved) == []
    fmt = a.of(F.FormattingOnly)
    assert len(fmt) == 1 and isinstance(fmt[0], F.FormattingOnly) and "link-references" in fmt[0].what


_INLINE = (
    "---\nms.date: 01/02/2020\n---\n# Console\n\nSwitch between commands. See\n"
    "[How to use tab completion](tab-completion.md)\nfor help in typing commands.\n\n"
    "## See also\n\n- [Introducing the ISE](introducing-the-ise.md)\n"
)
_BY_REFERENCE = (
    "---\nms.date: 11/20/2025\n---\n# Console\n\nSwitch between commands. See "
    "[How to use tab completion][01] for help\nin typing commands.\n\n"
    "## See also\n\n- [Introducing the ISE][02]\n\n<!-- link references -->\n"
    "[01]: tab-completion.md\n[02]: introducing-the-ise.md\n"
)


@pytest.mark.parametrize("full", [True, False])
def test_links_rewritten_in_reference_style_are_formatting(full: bool) -> None:
    """Inline links rewritten as reference links to the same targets (the definitions gathered at
    the end under a comment) change no text and no link: formatting, with the date bump, and the
    definitions are no sentences. The same rewrite with a new target is a retargeted link."""
    a = analyze(_INLINE, _BY_REFERENCE, full=full)
    assert a.facts == (
        F.DateBumped("ms.date", "01/02/2020", "11/20/2025"),
        F.FormattingOnly(("link-references",)),
    )
    from diff_insight.analysis.classify import classify

    assert classify(change_from(_INLINE, _BY_REFERENCE), a).rule == "formatting-only"
    moved_target = _BY_REFERENCE.replace("[02]: introducing-the-ise.md", "[02]: ise/overview.md")
    moved = analyze(_INLINE, moved_target, full=full)
    assert [
        (f.text, f.old, f.new) for f in moved.of(F.LinkRetargeted) if isinstance(f, F.LinkRetargeted)
    ] == [("Introducing the ISE", "introducing-the-ise.md", "ise/overview.md")]
    assert not moved.of(F.FormattingOnly) and not moved.of(F.SentenceAdded)


@pytest.mark.parametrize("full", [True, False])
def test_reference_definitions_apart_from_their_links_are_no_text(full: bool) -> None:
    """Definitions added at the end of a document, apart from the links rewritten to use them, and
    definitions put in another order, are formatting, not sentences or content."""
    middle = "".join(f"Unchanged paragraph {i}.\n\n" for i in range(6))
    old = f"# A\n\nSee [the guide](g.md) and [the FAQ](f.md).\n\n{middle}"
    new = f"# A\n\nSee [the guide][1] and [the FAQ][2].\n\n{middle}<!-- links -->\n[1]: g.md\n[2]: f.md\n"
    a = analyze(old, new, full=full)
    assert a.facts == (F.FormattingOnly(("link-references",)),)
    # a comment alone is not a change of links
    commented = analyze(old, old + "<!-- reviewed -->\n", full=full)
    assert not commented.of(F.FormattingOnly)
    reordered = analyze(new, new.replace("[1]: g.md\n[2]: f.md\n", "[2]: f.md\n[1]: g.md\n"), full=full)
    assert reordered.facts == (F.FormattingOnly(("link-references",)),)


@pytest.mark.parametrize("full", [True, False])
def test_a_link_inside_a_code_span_is_code(full: bool) -> None:
    old = '# A\n\n- Prevents completion on expressions that return **void** like (`[void]("")`)\n'
    new = '# A\n\n- Prevents completion on expressions that return **void** like (`[void]""`)\n'
    a = analyze(old, new, full=full)
    assert a.of(F.LinkRemoved) == [] and a.of(F.LinkAdded) == []
    # a link whose text is code is still a link
    b = analyze("# A\n\nText.\n", "# A\n\nText, see [`Get-Command`](/ps/get-command).\n", full=full)
    assert [(f.text, f.url) for f in b.of(F.LinkAdded) if isinstance(f, F.LinkAdded)] == [
        ("`Get-Command`", "/ps/get-command")
    ]


@pytest.mark.parametrize("full", [True, False])
def test_reference_links_are_named_by_their_text_not_their_number(full: bool) -> None:
    """Numbered reference definitions renumbered along with new links: every link is named by the
    text that uses it, and a renumbered link whose target is unchanged is no change at all."""
    old = (
        "# Support\n\nAsk in the [PowerShell forums][01] or file a [GitHub issue][02].\n\n"
        "[01]: https://forums.example/ps\n[02]: https://github.com/ps/issues\n"
    )
    new = (
        "# Support\n\nAsk in the [Discord server][01], the [PowerShell forums][02] or file a "
        "[GitHub issue][03].\n\n"
        "[01]: https://discord.example/ps\n[02]: https://forums.example/ps\n[03]: https://github.com/ps/issues\n"
    )
    a = analyze(old, new, full=full)
    added = [(f.text, f.url) for f in a.of(F.LinkAdded) if isinstance(f, F.LinkAdded)]
    assert added == [("Discord server", "https://discord.example/ps")]
    assert a.of(F.LinkRemoved) == [] and a.of(F.LinkRetargeted) == [] and a.of(F.LinkRelabeled) == []
    assert not any(isinstance(f, F.TermReplaced) and f.old.isdigit() for f in a.facts), a.facts


def test_a_definition_retargeted_under_an_unchanged_link_is_named_by_the_link_text() -> None:
    old = "# A\n\nRead the [install guide][03] first.\n\n[03]: /install/v1\n"
    new = "# A\n\nRead the [install guide][03] first.\n\n[03]: /install/v2\n"
    a = analyze(old, new)
    assert [(f.text, f.old, f.new) for f in a.of(F.LinkRetargeted) if isinstance(f, F.LinkRetargeted)] == [
        ("install guide", "/install/v1", "/install/v2")
    ]


@pytest.mark.parametrize("full", [True, False])
def test_words_that_move_across_the_lines_of_a_wrapped_paragraph_are_no_edit(full: bool) -> None:
    """A paragraph re-wrapped around an edit: the lines are compared as one text, so the word that
    moved to the next line is neither removed from one sentence nor added to another."""
    old = (
        "# Keys\n\nThese keybindings can be changed using **PSReadLine** cmdlets or the application that's hosting\n"
        "PowerShell. Keybindings can be different on non-Windows platforms.\n"
    )
    new = (
        "# Keys\n\nThe keybindings can be changed using **PSReadLine** cmdlets or the application that's\n"
        "hosting PowerShell. Keybindings can be different on non-Windows platforms.\n"
    )
    a = analyze(old, new, full=full)
    assert a.facts == (F.TermReplaced("These", "The", 1),)


def test_a_long_rewrite_in_a_paragraph_keeps_its_short_term_replacements() -> None:
    old = (
        "# A\n\nUse DALL-E to create images from text prompts in the portal. The service is slow and"
        " was built long ago. Pricing depends on the size of each image.\n"
    )
    new = (
        "# A\n\nUse Image API to create images from text prompts in the portal. Requests now finish"
        " within seconds for most prompts. Pricing depends on the size of each image.\n"
    )
    a = analyze(old, new)
    assert F.TermReplaced("DALL-E", "Image API", 1) in a.facts
    assert any(isinstance(f, F.TextEdited) for f in a.facts)


@pytest.mark.parametrize("full", [True, False])
def test_a_new_version_in_a_download_url_is_content(full: bool) -> None:
    """A bare URL (here in a code span) is text no link fact covers: its new version is a change,
    not "no content changes"."""
    url = (
        "`https://github.com/PowerShell/PowerShell/releases/download/v{v}/powershell-{v}-linux-arm64.tar.gz`"
    )
    old = "# Install\n\n- PowerShell 7.4 - " + url.format(v="7.4.11") + "\n"
    new = "# Install\n\n- PowerShell 7.4 - " + url.format(v="7.4.12") + "\n"
    a = analyze(old, new, full=full)
    terms = [(f.old, f.new) for f in a.of(F.TermReplaced) if isinstance(f, F.TermReplaced)]
    assert ("v7.4.11", "v7.4.12") in terms, a.facts


@pytest.mark.parametrize("full", [True, False])
def test_a_table_rewritten_whole_is_compared_row_by_row(full: bool) -> None:
    """Every line of a table changed (re-aligned), one row edited, one added: the table is neither
    new nor lost; its rows say what changed, and the file is no new feature."""
    from diff_insight.analysis.classify import classify

    old = (
        "# Labels\n\n## Tag labels\n\n| Label | Meaning |\n|---|---|\n"
        "| tag-a | First tag |\n| tag-b | Second tag |\n| tag-c | Third tag |\n"
    )
    new = (
        "# Labels\n\n## Tag labels\n\n| Label  | Meaning      |\n| ------ | ------------ |\n"
        "| tag-a  | First tag    |\n| tag-b  | The second   |\n| tag-c  | Third tag    |\n| tag-d  | Fourth tag   |\n"
    )
    a = analyze(old, new, full=full)
    assert a.of(F.TableAdded) == [] and a.of(F.TableRemoved) == [], a.facts
    rows = [f for f in a.of(F.TableRowsChanged) if isinstance(f, F.TableRowsChanged)]
    assert len(rows) == 1
    r = rows[0]
    assert (r.table, r.added, r.removed, r.changed) == ("Tag labels", 1, 0, 1)
    assert r.added_keys == ("tag-d",) and r.changed_keys == ("tag-b",)
    if full:
        ch = change_from(old, new)
        assert classify(ch, a).type != F.ChangeType.NEW_FEATURE


def test_table_row_keys_are_the_text_of_reference_links() -> None:
    old = "# Verbs\n\n| Verb | Prefix |\n|---|---|\n| [Add][04] | a |\n"
    new = "# Verbs\n\n| Verb | Prefix |\n|---|---|\n| [Add][04] | a |\n| **[Clear][05]** | cl |\n"
    a = analyze(old, new)
    (rows,) = [f for f in a.of(F.TableRowsChanged) if isinstance(f, F.TableRowsChanged)]
    assert rows.added_keys == ("Clear",)


def test_an_inserted_autolink_is_words_and_an_inserted_tag_is_markup() -> None:
    """An autolink (``<https://…>``) is text a reader sees; an HTML tag such as ``<br/>`` is
    markup around no words."""
    old = "# A\n\nRead the guide for details on quotas and limits.\n"
    linked = analyze(old, old.replace("guide", "guide <https://example.com/quota>"))
    assert linked.facts == (F.WordsInserted("<https://example.com/quota>", 1),)
    broken = analyze(old, old.replace("guide", "guide<br/>"))
    assert not broken.of(F.WordsInserted)


def test_words_moved_within_a_sentence_are_no_inserted_or_deleted_words() -> None:
    """“every month” left one place of the sentence for another: it is neither added nor removed
    text, the sentence was reworded."""
    old = "# A\n\nThe module is installed by default on Windows and it is updated by Windows Update every month.\n"
    new = "# A\n\nOn Windows the module is installed by default and it is updated every month by Windows Update.\n"
    a = analyze(old, new)
    words = [f.text for f in a.facts if isinstance(f, F.WordsInserted | F.WordsDeleted)]
    assert "every month" not in words, a.facts
    assert a.of(F.TextEdited), a.facts


def test_words_are_compared_without_link_markup() -> None:
    """Linking words that were there is a new link and no new words; a word added inside a link's
    text is quoted without brackets."""
    old = "# A\n\nRun Set-ExecutionPolicy first, then read the guide about signing scripts.\n"
    linked = analyze(old, old.replace("Set-ExecutionPolicy", "[Set-ExecutionPolicy](/ps/sep)"))
    assert linked.facts == (F.LinkAdded("Set-ExecutionPolicy", "/ps/sep"),)
    before = old.replace("the guide", "[the guide][g]") + "\n[g]: /guide\n"
    grown = analyze(before, before.replace("[the guide]", "[the signing guide]"))
    assert [(f.text, f.count) for f in grown.of(F.WordsInserted)] == [("signing", 1)]  # type: ignore[attr-defined]


def test_the_end_of_a_link_begun_on_an_earlier_line_is_no_words() -> None:
    """A link text wrapped over two lines: when only its target changes, on the second line, no
    word changed."""
    old = "# A\n\nMacros can use the\n[reference for\nattributes](../ref/attributes.html) in items.\n"
    a = analyze(old, old.replace("../ref/", "../../ref/"))
    assert not [f for f in a.facts if isinstance(f, F.TermReplaced | F.WordsInserted | F.TextEdited)], a.facts
