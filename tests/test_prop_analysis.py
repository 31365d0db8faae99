"""Properties of the analysis (Markdown scanner, hunks, words, formatting, facts, classification):
for random Markdown documents with front matter, headings, tables, fences, alerts and links, and for
hostile text, it never raises, gives the same facts twice, and classifies every file into one of the
four types with the rule that fired."""

from __future__ import annotations

import io
import json
from pathlib import PurePosixPath

from hypothesis import assume, example, given
from hypothesis import strategies as st
from tests.strategies import (
    MB_LINE,
    edited_doc,
    expected_patch,
    hostile_line,
    hostile_text,
    make_hunks,
    markdown_doc,
    prop,
)

from diff_insight.analysis.analyze import (
    _DOCFX_IMAGE,
    _INCLUDE,
    _LINK,
    _LINK_END,
    _REFDEF,
    _REFLINK,
    _SOURCE_ATTR,
    _links,
    _outside_code,
    analyze_file,
    suffix,
    words_only,
)
from diff_insight.analysis.classify import RULES_BY_NAME, classify
from diff_insight.analysis.clusters import cluster_files
from diff_insight.analysis.facts import FACT_KINDS, ChangeType, FileAnalysis
from diff_insight.analysis.hunks import blocks_of, parse_hunks, side_lines
from diff_insight.analysis.markdown import Doc, K, scan_front_matter, scan_partial, scan_text
from diff_insight.analysis.normalize import (
    _LETTERS,
    _REFLABEL,
    _SUP,
    _letters,
    _link_references,
    formatting_kinds,
)
from diff_insight.analysis.words import _TOKEN, _tokenize, pair_lines, similarity, word_diff
from diff_insight.model import FileChange, Status, TextContent


def _lines(text: str) -> list[bytes]:
    return io.BytesIO(text.encode("utf-8", errors="surrogatepass")).readlines()


def make_change(old: str | None, new: str | None, path: str, status: Status) -> FileChange:
    h = make_hunks(_lines(old or ""), _lines(new or ""))
    return FileChange(
        path=path,
        status=status,
        additions=h.additions,
        deletions=h.deletions,
        patch=expected_patch(h.text),
        previous_path="docs/old-name.md" if status is Status.RENAMED else None,
    )


def check_analysis(change: FileChange, old: str | None, new: str | None) -> FileAnalysis:
    """Analyse with full texts (when both are given) and from the patch alone; check the invariants
    of both; return the full-text analysis."""
    results = []
    texts: list[tuple[TextContent | None, TextContent | None]] = [(None, None)]
    if old is not None and new is not None:
        texts.insert(0, (TextContent(old, len(old.encode())), TextContent(new, len(new.encode()))))
    for o, n in texts:
        a = analyze_file(change, o, n)
        assert analyze_file(change, o, n) == a  # deterministic
        assert a.path == change.path
        assert a.basis in ("full-text", "patch", "metadata")
        if o is None and a.basis == "full-text":
            assert change.status in (Status.ADDED, Status.REMOVED, Status.COPIED)
        for f in a.facts:
            assert FACT_KINDS[f.kind] is type(f)
            json.dumps(f.to_dict(), ensure_ascii=False)  # facts serialise (prompts, debug output)
        c = classify(change, a)
        assert isinstance(c.type, ChangeType)
        assert RULES_BY_NAME[c.rule].type is c.type
        results.append(a)
    return results[0]


_PATHS = st.sampled_from(["docs/article.md", "toc.yml", "notes.txt", "docs/a b/記事.markdown"])


@prop(4)
@given(markdown_doc().flatmap(lambda old: st.tuples(st.just(old), edited_doc(old))), _PATHS)
@example(("---\ntitle: x\n---\n# T\n", "---\ntitle: y\nms.date: 01/02/2025\n---\n# T\n"), "docs/a.md")
@example(("| a |\n|---|\n| 1 |\n", "| a |\n|---|\n| 2 |\n| 3 |\n"), "docs/a.md")
@example(("```\ncode\n", "```\ncode\nmore\n"), "docs/a.md")
@example(("x\n", "x\n" + MB_LINE + "\n"), "docs/a.md")
def test_modified_documents(docs: tuple[str, str], path: str) -> None:
    old, new = docs
    if old == new:
        new = new + "\nNew paragraph.\n"
    for status in (Status.MODIFIED, Status.RENAMED):
        check_analysis(make_change(old, new, path, status), old, new)


@prop(2)
@given(markdown_doc(), markdown_doc(), _PATHS)
def test_unrelated_documents(old: str, new: str, path: str) -> None:
    assume(old != new)
    check_analysis(make_change(old, new, path, Status.MODIFIED), old, new)


@prop(2)
@given(markdown_doc(), _PATHS, st.sampled_from([Status.ADDED, Status.REMOVED, Status.COPIED]))
def test_added_and_removed_documents(doc: str, path: str, status: Status) -> None:
    if not doc:
        doc = "x\n"
    old, new = (None, doc) if status in (Status.ADDED, Status.COPIED) else (doc, None)
    a = check_analysis(make_change(old, new, path, status), old, new)
    if path.endswith((".md", ".markdown", ".yml")):
        kind = "document_added" if new is not None else "document_removed"
        assert [f.kind for f in a.facts if f.kind.startswith("document_")] == [kind]


@prop(2)
@given(
    st.text(max_size=400).map(lambda s: "@@ -1,3 +1,3 @@\n" + s),
    _PATHS,
    st.integers(0, 50),
    st.integers(0, 50),
)
@example("@@ -1 +1 @@\n-| a |\n+| a | b |", "docs/a.md", 1, 1)
@example("@@ -99999999999999999999 +1 @@\n-x\n+y", "docs/a.md", 1, 1)
@example("@@ -0,0 +1,3 @@\n+---\n+title: x\n+---", "docs/a.md", 3, 0)
def test_arbitrary_patch_text(patch: str, path: str, adds: int, dels: int) -> None:
    # patch-only sources hand us whatever the input held: the analysis must cope
    for status in (Status.MODIFIED, Status.ADDED, Status.REMOVED):
        change = FileChange(path=path, status=status, additions=adds, deletions=dels, patch=patch)
        check_analysis(change, None, None)


@prop(2)
@given(markdown_doc())
def test_scanner_invariants(doc: str) -> None:
    check_scan(doc)


def check_scan(doc: str) -> None:
    """Line numbers of headings, fences and tables are in range and sorted; every line has a kind."""
    d = scan_text(doc)
    n = d.last_line
    assert [h.line for h in d.headings] == sorted(h.line for h in d.headings)
    for h in d.headings:
        assert 1 <= h.line <= n and 1 <= h.level <= 6
    for f in d.fences:
        assert 1 <= f.start <= f.end <= n
    for t in d.tables:
        assert 1 <= t.start <= t.end <= n
    kinds = {d.kinds.get(i) for i in range(1, n + 1)}
    assert all(isinstance(k, K) for k in kinds)
    title = d.title()
    assert title is None or isinstance(title, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in d.front_matter.items())
    assert scan_text(doc).headings == d.headings  # deterministic
    assert d.kinds.get(n + 1, K.BLANK) == K.BLANK  # beyond the text: the default, every time
    assert d.kinds.get(n + 1) == K.UNKNOWN
    # the kinds are remembered once asked for, and marking a line again is not hidden by that
    fm_end = d.front_matter_range[1] if d.front_matter_range else 0
    if n > fm_end:
        other = K.DIRECTIVE if d.kinds.get(n) != K.DIRECTIVE else K.ALERT
        d.kinds[n] = other
        assert d.kinds.get(n) == other


@prop(2)
@given(markdown_doc(), st.lists(st.integers(1, 12), max_size=4))
@example("---\ntitle: T\n---\n# H\n", [2])
@example("---\nms.date: 1\n---\n# Heading\n", [2])
@example("---\r\ntitle: T\r\n...\r\nbody\r\n", [1, 3])
@example("---\ntitle: T\n", [1])
@example("---\ntitle: T\n---\n", [4])
def test_front_matter_scan_agrees_with_the_whole_scan(doc: str, changed: list[int]) -> None:
    """Where the front-matter-only scan answers, it says what the whole scan says about the front
    matter and the title (all a change inside the front matter reads); else it has a reason."""
    whole = scan_text(doc)
    part = scan_front_matter(doc, changed)
    if part is None:
        fm = whole.front_matter_range
        no_title = Doc(lines={}, front_matter_lines=whole.front_matter_lines).title() is None
        assert fm is None or any(c > fm[1] for c in changed) or no_title
        return
    assert part.front_matter_range == whole.front_matter_range is not None
    assert all(c <= part.front_matter_range[1] for c in changed)
    assert part.front_matter_lines == whole.front_matter_lines
    assert part.front_matter == whole.front_matter
    assert part.title() == whole.title() is not None
    assert part.last_line == whole.last_line
    for k in range(1, part.front_matter_range[1] + 1):
        assert part.kinds.get(k) == whole.kinds.get(k) == K.FRONT_MATTER


@prop(2)
@given(st.dictionaries(st.integers(1, 60), hostile_line(4), max_size=30))
@example({1: "key: value", 2: "other: x", 3: "```", 7: "| a | b |", 8: "|---|---|"})
@example({1: "---", 2: "```"})
def test_partial_scan_of_any_lines(known: dict[int, str]) -> None:
    d = scan_partial(known)
    for line in known:
        assert isinstance(d.kinds.get(line), K)
    d.title()
    _ = d.front_matter


@prop(2)
@given(markdown_doc().flatmap(lambda old: st.tuples(st.just(old), edited_doc(old))))
def test_hunks_follow_the_patch(docs: tuple[str, str]) -> None:
    old, new = docs
    h = make_hunks(_lines(old), _lines(new))
    patch = expected_patch(h.text) or ""
    hunks = parse_hunks(patch)
    assert sum(ln.tag == "+" for hk in hunks for ln in hk.lines) == h.additions
    assert sum(ln.tag == "-" for hk in hunks for ln in hk.lines) == h.deletions
    blocks = blocks_of(hunks)
    assert sum(len(b.added) for b in blocks) == h.additions
    new_lines = new.replace("\r\n", "\n").split("\n")
    for no, text in side_lines(hunks, "new").items():
        assert new_lines[no - 1].rstrip("\r") == text


@prop(2)
@given(st.lists(hostile_line(5), max_size=6), st.lists(hostile_line(5), max_size=6))
@example(["**a** b"], ["a b"])
@example(["| a | b |"], ["|a|b|"])
@example(["1. x"], ["- x"])
def test_words_and_formatting_never_fail(removed: list[str], added: list[str]) -> None:
    kinds = formatting_kinds(removed, added)
    assert kinds is None or (kinds and all(isinstance(k, str) for k in kinds))
    for i, j in pair_lines(removed, added):
        assert 0 <= i < len(removed) and 0 <= j < len(added)
        wd = word_diff(removed[i], added[j])
        assert 0.0 <= similarity(removed[i], added[j]) <= 1.0
        if removed[i] == added[j]:
            assert not (wd.replacements or wd.inserted or wd.deleted)


@prop(1)
@given(st.lists(st.tuples(markdown_doc(), hostile_text(3)), min_size=1, max_size=4))
def test_clusters_take_each_file_once(docs: list[tuple[str, str]]) -> None:
    analyses = []
    for i, (doc, extra) in enumerate(docs):
        new = doc + "\n" + extra.replace("\r", "") + "\n"
        change = make_change(doc, new, f"docs/{i}.md", Status.MODIFIED)
        if change.patch is None:
            continue
        analyses.append(analyze_file(change))
    clusters = cluster_files(analyses)
    seen = [p for c in clusters for p in c.paths]
    assert len(seen) == len(set(seen))
    assert set(seen) <= {a.path for a in analyses}


_PATH_PARTS = st.text(alphabet="ab.MD_- é", min_size=1, max_size=6).filter(lambda p: p not in (".", ".."))


@prop(1)
@given(st.lists(_PATH_PARTS, min_size=1, max_size=4), st.booleans())
@example(["a", "b.md"], False)
@example([".hidden"], False)
@example(["name."], False)
@example(["a..md"], False)
@example(["x.tar.gz"], True)
def test_suffix_is_pathlibs(parts: list[str], trailing_slash: bool) -> None:
    """The fast extension of a repository path is what ``PurePosixPath.suffix`` says."""
    path = "/".join(parts) + ("/" if trailing_slash else "")
    assert suffix(path) == PurePosixPath(path).suffix


_LINKISH = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "[",
                "]",
                "(",
                ")",
                "](",
                "][",
                "]:",
                "!",
                '"',
                "`",
                " ",
                "\t",
                "\n",
                "word",
                "ünï",
                "x_1",
                "-",
                "[!INCLUDE [a](b.md)]",
                "[!include",
                ":::image",
                ":::",
                'source="a.png"',
                "<sup>1</sup>",
                "<SUP>",
                "<",
                "http://x.y/z",
                "[a][b]",
                "[a]: http://u",
                "’",
                "\x1c",
                "\u3000",
                "、",
            ]
        ),
        hostile_text(2),
    ),
    max_size=14,
).map("".join)
"""Text rich in the literal parts of the link, reference, include, image and footnote patterns."""


@prop(2)
@given(st.one_of(_LINKISH, hostile_text(), st.text(st.characters(max_codepoint=127))))
@example("it's 2 o'clock — «ok» _x_ 3.5")
@example("a\x1cb\x1fc")
def test_letters_are_the_unicode_patterns(text: str) -> None:
    """The byte-table shortcut for ASCII text keeps exactly the letters the Unicode pattern keeps."""
    assert _letters(text) == _LETTERS.sub("", text)


@prop(2)
@given(_LINKISH)
@example("see [a](b) and [c][d]")
@example('x :::image source="i.png" alt-text="A":::')
@example("  [label]: http://example.com/x")
def test_pattern_shortcuts_skip_only_text_without_a_match(text: str) -> None:
    """Each pattern is skipped where the text lacks its literal part: there it finds nothing, and
    the functions that skip it give what the pattern alone gives."""
    if "[!" not in text:
        assert _INCLUDE.search(text) is None
    if ":::" not in text:
        assert _DOCFX_IMAGE.search(text) is None
    if "](" not in text:
        assert _LINK.search(text) is None
    if "<" not in text:
        assert _SUP.search(text) is None
    assert _link_references(text) == _REFLABEL.sub(
        lambda m: "[]" if m.group(1) is None else m.group(1) + "[]:", text
    )
    unguarded = text
    for _ in range(3):
        unguarded = _outside_code(_REFLINK, _outside_code(_LINK, unguarded, 2), 2)
    unguarded = _outside_code(_LINK_END, unguarded, None)
    whole = "" if "]:" in text and _REFDEF.match(text) else _SOURCE_ATTR.sub("", unguarded)
    assert words_only(text) == whole
    if "[" not in text and ":::" not in text:
        assert _links(text, {"a": "http://u", "b": "http://v"}) == ([], [], [], [])


@prop(2)
@given(st.one_of(_LINKISH, hostile_text(), st.text(st.characters(max_codepoint=0x3100))))
@example("it's 2 o'clock — «ok» _x_ 3.5")
@example(" \u00a0a\u2028b\u3000c ")
def test_tokens_are_the_token_pattern(text: str) -> None:
    """The split that word diffs use gives the tokens of the token pattern, with their offsets."""
    words, ends = _tokenize(text)
    spans = [(words[i], ends[2 * i], ends[2 * i + 1]) for i in range(len(words))]
    assert spans == [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
