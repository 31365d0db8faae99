"""Facts about one file's change: pure functions over the change, its patch and (when known) the
full old and new texts."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from diff_insight.analysis import facts as F
from diff_insight.analysis.facts import Basis, FileAnalysis, FileKind, quote
from diff_insight.analysis.hunks import Block, Hunk, HunkLine, blocks_of, parse_hunks, side_lines
from diff_insight.analysis.markdown import (
    Doc,
    K,
    Table,
    scan,
    scan_front_matter,
    scan_partial,
    scan_text,
    split_row,
)
from diff_insight.analysis.normalize import formatting_kinds
from diff_insight.analysis.words import WordDiff, pair_lines, word_diff
from diff_insight.model import FileChange, Status, TextContent

MARKDOWN_EXT = {".md", ".markdown", ".mdx"}
YAML_EXT = {".yml", ".yaml"}
DATE_KEYS = {"ms.date", "date", "updated", "lastmod", "last_updated", "ms.lastreviewed", "ms.reviewed"}
MAX_SENTENCES = 20
MAX_DETAILED_LINES = 50_000
"""A modified file with more changed lines than this gets line statistics only: its diff is still
reported whole, but word-level facts about every line of, say, a 50 MB rewrite would cost minutes
and gigabytes and say nothing a reader could use."""
MAX_LIST = 12

_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*"
    # the destination: <in angle brackets>, or without spaces and with balanced parentheses
    r"(?:<([^<>\n]*)>|((?:[^()\s<>]|\([^()\s]*\))*))"
    r"(?:\s+[\"'][^\"']*[\"'])?\s*\)"
)
_REFDEF = re.compile(r"^\s{0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$")
_INCLUDE = re.compile(r"\[!INCLUDE\s*\[([^\]]*)\]\(\s*([^)\s]+)\s*\)\]", re.IGNORECASE)
_DOCFX_IMAGE = re.compile(r":::image\b([^:]*?)(?::::|$)", re.IGNORECASE)
_ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')
_ALERT = re.compile(r"\[!(NOTE|TIP|IMPORTANT|CAUTION|WARNING)\]", re.IGNORECASE)
_YAML_KV = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w.\-]*)\s*:\s*(.*?)\s*$")
_MD_INLINE = re.compile(r"<sup>.*?</sup>|[`*_]|<[^>]+>", re.IGNORECASE)
_YAML_COMMENT = re.compile(r"\s+#.*$")


def suffix(path: str) -> str:
    """The extension of the last component of a ``/``-separated path, as
    ``PurePosixPath(path).suffix`` gives it (without building a path object)."""
    name = path.rstrip("/").rpartition("/")[2]
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def file_kind(change: FileChange) -> FileKind:
    if change.binary:
        return FileKind.BINARY
    ext = suffix(change.path).lower()
    if ext in MARKDOWN_EXT:
        return FileKind.MARKDOWN
    if ext in YAML_EXT:
        return FileKind.YAML
    return FileKind.TEXT


def is_date_key(key: str) -> bool:
    k = key.lower()
    return k in DATE_KEYS or k.endswith("date") or k.endswith(".date")


def _plain(text: str) -> str:
    """Cell or heading text without Markdown emphasis, code marks, tags or link targets."""
    text = _LINK.sub(_link_text, text)
    if "][" in text:
        text = _REFLINK.sub(_link_text, text)
    return " ".join(_MD_INLINE.sub("", text).split())


def _link_text(m: re.Match[str]) -> str:
    """The text of a match of :data:`_LINK` or :data:`_REFLINK`."""
    return m.group(2)


def _doc_from_patch_side(hunks: list[Hunk], side: str) -> Doc:
    known = side_lines(hunks, side)
    return scan(known, complete=True) if known else scan({}, complete=True)


# --- links ------------------------------------------------------------------------------------


_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
_REFLINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\[([^\[\]]*)\]")
"""A reference link or image, ``[text][label]`` (``[text][]`` uses the text as its label)."""


def _ref_key(label: str) -> str:
    return " ".join(label.split()).casefold()


def _ref_label(m: re.Match[str]) -> str:
    """The normalized label a match of :data:`_REFLINK` uses (``[text][]``: its text)."""
    return _ref_key(m.group(3) or m.group(2))


def _is_definition(text: str) -> bool:
    """Whether ``text`` is a reference definition, ``[label]: URL``."""
    return "]:" in text and _REFDEF.match(text) is not None


def _in_code(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether ``pos`` lies in one of the code ``spans`` (what looks like a link there is code)."""
    return any(a <= pos < b for a, b in spans)


def _definitions(doc: Doc) -> dict[str, str]:
    """The reference definitions the document's known lines hold, by normalized label (the first
    definition of a label wins, as in CommonMark)."""
    out: dict[str, str] = {}
    for text in doc.lines.values():
        if "]:" in text:
            m = _REFDEF.match(text)
            if m:
                out.setdefault(_ref_key(m.group(1)), m.group(2))
    return out


class _LineLinks(NamedTuple):
    links: list[tuple[str, str]]
    """Inline links as (text, URL)."""
    images: list[tuple[str, str]]
    """Inline and docfx images as (alt text, URL)."""
    includes: list[str]
    definitions: list[tuple[str, str]]
    """Reference definitions (``[label]: URL``) as (label, URL)."""


def _usage_texts(doc: Doc, labels: Iterable[str]) -> dict[str, str]:
    """The text of the first reference link that uses each label (by normalized label)."""
    wanted = {_ref_key(x) for x in labels}
    out: dict[str, str] = {}
    if not wanted:
        return out
    for text in doc.lines.values():
        if "][" not in text:
            continue
        for m in _REFLINK.finditer(text):
            key = _ref_label(m)
            if key in wanted and key not in out:
                out[key] = " ".join(m.group(2).split())
    return out


def _named(defs: list[tuple[str, str]], doc: Doc) -> list[tuple[str, str]]:
    """Reference definitions as (link text, URL): the text of a link that uses the label, else the
    label itself."""
    names = _usage_texts(doc, (label for label, _ in defs))
    return [(names.get(_ref_key(label), label), url) for label, url in defs]


def _links(text: str, refs: dict[str, str] | None = None) -> _LineLinks:
    """The links, images, includes and reference definitions of one line. What looks like a link
    inside a code span (`` `[void]("")` ``) is code, not a link. Reference links and images
    (``[text][label]``) count as links to their definition's URL when ``refs`` has it."""
    # each pattern is only looked for where the text holds its literal part: all need a "[" but
    # the docfx image, which needs ":::" (most lines have neither)
    if "[" not in text and ":::" not in text:
        return _LineLinks([], [], [], [])
    includes: list[str] = []
    if "[!" in text:
        includes = [m.group(2) for m in _INCLUDE.finditer(text)]
        text = _INCLUDE.sub("", text)
    links: list[tuple[str, str]] = []
    images: list[tuple[str, str]] = []
    if ":::" in text:
        for m in _DOCFX_IMAGE.finditer(text):
            attrs = dict(_ATTR.findall(m.group(1)))
            if "source" in attrs:
                images.append((attrs.get("alt-text", ""), attrs["source"]))
    spans: list[tuple[int, int]] | None = None if "`" in text else []
    for m in _LINK.finditer(text) if "](" in text else ():
        if spans is None:
            spans = [c.span() for c in _CODE_SPAN.finditer(text)]
        if _in_code(m.start(), spans):
            continue
        label = " ".join(m.group(2).split())
        target = m.group(3) if m.group(3) is not None else m.group(4)
        (images if m.group(1) else links).append((label, target))
    if refs and "][" in text:
        if spans is None:
            spans = [c.span() for c in _CODE_SPAN.finditer(text)]
        for m in _REFLINK.finditer(text):
            if _in_code(m.start(), spans):
                continue
            label = " ".join(m.group(2).split())
            url = refs.get(_ref_label(m))
            if url is not None:
                (images if m.group(1) else links).append((label, url))
    definitions: list[tuple[str, str]] = []
    m2 = _REFDEF.match(text) if "]:" in text else None
    if m2 and not links:
        definitions.append((m2.group(1), m2.group(2)))
    return _LineLinks(links, images, includes, definitions)


def _count_links(
    found: _LineLinks,
    links: Counter[tuple[str, str]],
    images: Counter[tuple[str, str]],
    includes: Counter[str],
    definitions: Counter[tuple[str, str]],
) -> None:
    """Add one line's links, images, includes and definitions to the counts of its side."""
    if found.links:  # each one is mostly empty: no Counter.update call for nothing
        links.update(found.links)
    if found.images:
        images.update(found.images)
    if found.includes:
        includes.update(found.includes)
    if found.definitions:
        definitions.update(found.definitions)


def _drop_by_url(
    defs: list[tuple[str, str]], *inline: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], int]:
    """Reference definitions left after cancelling each against an inline link or image of the same
    URL on the other side of the change (a link rewritten in reference style, or back), removing
    that inline entry too; and how many were cancelled."""
    left: list[tuple[str, str]] = []
    cancelled = 0
    for label, url in defs:
        for pool in inline:
            k = next((i for i, (_, u) in enumerate(pool) if u == url), -1)
            if k >= 0:
                del pool[k]
                cancelled += 1
                break
        else:
            left.append((label, url))
    return left, cancelled


def _pair_refs(
    removed: Counter[tuple[str, str]], added: Counter[tuple[str, str]]
) -> tuple[
    list[tuple[str, str, str]], list[tuple[str, str, str]], list[tuple[str, str]], list[tuple[str, str]], int
]:
    """Cancel identical links, then pair by text (retargeted) and by URL (relabeled).

    Returns (retargeted, relabeled, added, removed, renumbered) where renumbered counts numeric
    reference labels that only changed number (footnote renumbering)."""
    common = removed & added
    removed = removed - common
    added = added - common
    rem = sorted(removed.elements())
    add = sorted(added.elements())
    retargeted: list[tuple[str, str, str]] = []
    relabeled: list[tuple[str, str, str]] = []
    renumbered = 0
    used: set[int] = set()
    rest_rem: list[tuple[str, str]] = []
    for text, url in rem:
        j = next((k for k, (t, _) in enumerate(add) if k not in used and t == text and t), -1)
        if j >= 0:
            used.add(j)
            retargeted.append((text, url, add[j][1]))
            continue
        j = next((k for k, (_, u) in enumerate(add) if k not in used and u == url and u), -1)
        if j >= 0:
            used.add(j)
            if text.isdigit() and add[j][0].isdigit():
                renumbered += 1
            else:
                relabeled.append((url, text, add[j][0]))
            continue
        rest_rem.append((text, url))
    rest_add = [a for k, a in enumerate(add) if k not in used]
    return retargeted, relabeled, rest_add, rest_rem, renumbered


# --- the analysis ---------------------------------------------------------------------------


class _Acc:
    """Facts and bookkeeping collected while walking the change blocks."""

    def __init__(self) -> None:
        self.facts: list[F.Fact] = []
        self.replacements: list[tuple[str, str]] = []
        self.inserted: list[str] = []
        self.deleted: list[str] = []
        self.formatting: list[str] = []
        self.formatting_blocks = 0
        self.content_blocks = 0
        self.text_added = 0
        self.text_removed = 0
        self.passages_added: list[str] = []
        """Text longer than a short phrase added inside an existing paragraph."""
        self.passages_removed: list[str] = []

    def edited(self) -> None:
        """One more line of edited text on each side ("other wording was revised")."""
        self.text_added += 1
        self.text_removed += 1


def analyze_file(
    change: FileChange, old: TextContent | None = None, new: TextContent | None = None
) -> FileAnalysis:
    """Compute the facts of one file's change.

    ``old`` and ``new`` are the full texts when the source can give them; otherwise the facts come
    from the patch hunks alone (``basis == "patch"``).
    """
    kind = file_kind(change)
    acc = _Acc()
    if change.encoding_replaced or (old and old.replaced) or (new and new.replaced):
        acc.facts.append(F.EncodingReplaced())
    if change.status == Status.RENAMED and change.previous_path:
        acc.facts.append(F.DocumentRenamed(change.previous_path, change.path, change.changes > 0))

    if kind == FileKind.BINARY:
        acc.facts.extend(_binary_facts(change))
        return _result(change, kind, "metadata", acc, None, None)
    if change.patch is None:
        if change.changes or change.status in (Status.ADDED, Status.REMOVED):
            acc.facts.append(F.LinesChanged(change.additions, change.deletions))
        return _result(change, kind, "metadata", acc, None, None)

    whole_new = change.status in (Status.ADDED, Status.COPIED) and change.deletions == 0
    whole_old = change.status == Status.REMOVED
    if change.changes > MAX_DETAILED_LINES and not whole_new and not whole_old:
        acc.facts.append(F.LinesChanged(change.additions, change.deletions))
        return _result(change, kind, "patch", acc, None, None)

    hunks = parse_hunks(change.patch)
    if whole_new or whole_old:
        doc = _doc_from_patch_side(hunks, "new" if whole_new else "old")
        title = doc.title() if kind == FileKind.MARKDOWN else _yaml_title(doc)
        lines = change.additions if whole_new else change.deletions
        if kind in (FileKind.MARKDOWN, FileKind.YAML):
            if whole_new:
                h2 = tuple(h.text for h in doc.headings if h.level == 2)[:MAX_LIST]
                acc.facts.append(F.DocumentAdded(title, lines, h2))
            else:
                acc.facts.append(F.DocumentRemoved(title, lines))
        else:
            acc.facts.append(F.LinesChanged(change.additions, change.deletions))
        return _result(change, kind, "full-text", acc, title, None)

    basis: Basis = "full-text" if (old is not None and new is not None) else "patch"
    blocks = blocks_of(hunks)
    if basis == "full-text":
        assert old is not None and new is not None
        old_doc, new_doc = _full_docs(kind, blocks, old.text, new.text)
    else:
        old_doc, new_doc = scan_partial(side_lines(hunks, "old")), scan_partial(side_lines(hunks, "new"))
    title = new_doc.title() or old_doc.title()
    if kind == FileKind.MARKDOWN:
        _markdown_facts(acc, blocks, old_doc, new_doc, basis)
    elif kind == FileKind.YAML:
        _yaml_facts(acc, hunks, blocks)
        title = title or _yaml_title(new_doc)
    else:
        if change.changes:
            acc.facts.append(F.LinesChanged(change.additions, change.deletions))
    key = _change_key(blocks, old_doc, new_doc)
    return _result(change, kind, basis, acc, title, key)


def _full_docs(kind: FileKind, blocks: Sequence[Block], old: str, new: str) -> tuple[Doc, Doc]:
    """The scans of both full texts; of their front matter only when the change is all there (the
    common date bump: the bodies are equal and no fact reads them)."""
    if kind == FileKind.MARKDOWN:
        fm_old = scan_front_matter(old, (ln.old_no or 0 for b in blocks for ln in b.removed))
        fm_new = (
            scan_front_matter(new, (ln.new_no or 0 for b in blocks for ln in b.added))
            if fm_old is not None
            else None
        )
        if fm_old is not None and fm_new is not None:
            return fm_old, fm_new
    return scan_text(old), scan_text(new)


_SOURCE_ATTR = re.compile(r'\bsource="[^"]*"')
"""A docfx image's source: the image facts report it."""
_LINK_END = re.compile(r"(?<=\])\([^)\s]*(?:\s+\"[^\"]*\")?\)|(?<=\])\[[^\[\]]*\]")
"""The target or label after a link text's closing bracket, ``](url)`` or ``][label]``."""


def words_only(text: str) -> str:
    """The words of ``text`` for word-level comparison: each link and image by its text (the link
    and image facts report targets and labels), without a docfx image's source; a reference
    definition (``[label]: URL``) has none. A bare URL, an autolink or an HTML ``href`` is text no
    link fact covers (a download URL in a code span whose version changed)."""
    if _is_definition(text):
        return ""
    text = _link_texts(text)
    if "](" in text or "][" in text:  # the end of a link that starts on an earlier line
        text = _outside_code(_LINK_END, text, None)
    return _SOURCE_ATTR.sub("", text) if 'source="' in text else text


def is_term(old: str, new: str) -> bool:
    """A replacement worth reporting as a term: short, with letters or digits on both sides (a
    version ``3.11`` → ``3.12`` or a limit ``10`` → ``20`` is content too)."""
    return (
        len(old.split()) <= 6
        and len(new.split()) <= 6
        and any(c.isalnum() for c in old)
        and any(c.isalnum() for c in new)
    )


def _short_phrase(text: str) -> bool:
    return len(text.split()) <= 6 and any(c.isalpha() for c in text)


_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
"""An HTML tag (``<a id="x">``, ``</kbd>``, ``<br/>``), not an autolink (``<https://…>``)."""


def _markup_only(text: str) -> bool:
    """Inserted or deleted text that is HTML markup around no words: a footnote marker such as
    ``<sup>4</sup>``, a ``<br>``. Formatting, not a phrase."""
    bare = _HTML_TAG.sub("", text)
    return bare != text and not any(c.isalpha() for c in bare)


def _word_edits(acc: _Acc, wd: WordDiff, text_changed: bool) -> None:
    """Record short insertions and deletions inside a line; a line edited beyond short phrases
    counts as edited text."""
    if not text_changed:
        return
    if wd.rewrite:
        acc.edited()
        return
    inserted = [t for t in wd.inserted if not _markup_only(t)]
    deleted = [t for t in wd.deleted if not _markup_only(t)]
    short_ins = [t for t in inserted if _short_phrase(t)]
    short_del = [t for t in deleted if _short_phrase(t)]
    acc.inserted.extend(short_ins)
    acc.deleted.extend(short_del)
    if len(short_ins) != len(inserted) or len(short_del) != len(deleted):
        acc.edited()


def _paragraph_edits(acc: _Acc, wd: WordDiff) -> None:
    """Record the edits inside a prose paragraph: its short replacements as terms, its short
    insertions and deletions as words, longer ones as passages; longer rewrites of parts of it count
    as edited text, and do not hide the short edits around them (a paragraph is long)."""
    if wd.mostly_new:
        acc.edited()
        return
    inserted = [t for t in wd.inserted if not _markup_only(t)]
    deleted = [t for t in wd.deleted if not _markup_only(t)]
    edited = len(wd.short_replacements) != len(wd.replacements)
    for words, short, passages in (
        (inserted, acc.inserted, acc.passages_added),
        (deleted, acc.deleted, acc.passages_removed),
    ):
        for t in words:
            if _short_phrase(t):
                short.append(t)
            elif any(c.isalpha() for c in t):
                passages.append(t)  # a sentence or more, inside an existing paragraph
            else:
                edited = True  # punctuation
    if edited:
        acc.edited()
    acc.replacements.extend(r for r in wd.short_replacements if is_term(*r))


def _yaml_title(doc: Doc) -> str | None:
    for no in sorted(doc.lines)[:40]:
        m = _YAML_KV.match(doc.lines[no])
        if m and m.group(3) in ("title", "name") and not m.group(1) and m.group(4):
            return _YAML_COMMENT.sub("", m.group(4)).strip("'\"") or None
    return None


_META_FACTS = (F.FrontMatterChanged, F.DateBumped, F.DocumentRenamed, F.EncodingReplaced)
"""Facts about a file's metadata, not its body."""


def _result(
    change: FileChange, kind: FileKind, basis: Basis, acc: _Acc, title: str | None, key: str | None
) -> FileAnalysis:
    facts = list(acc.facts)
    inserted, deleted = Counter(acc.inserted), Counter(acc.deleted)
    moved = inserted & deleted
    if moved:  # words that left one place of a sentence for another: no word came or went
        inserted -= moved
        deleted -= moved
        acc.edited()
    for text, c in sorted(inserted.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_LIST]:
        facts.append(F.WordsInserted(quote(text, 80), c))
    for text, c in sorted(deleted.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_LIST]:
        facts.append(F.WordsDeleted(quote(text, 80), c))
    # "only the formatting changed" would contradict a section, table or code block that was added
    # or removed whole (those lines are covered before the blocks are looked at)
    body = [f for f in acc.facts if not isinstance(f, _META_FACTS)]
    if acc.content_blocks == 0 and acc.formatting_blocks > 0 and not body:
        facts.append(F.FormattingOnly(tuple(dict.fromkeys(acc.formatting))))
    if acc.text_added or acc.text_removed:
        facts.append(F.TextEdited(acc.text_added, acc.text_removed))
    return FileAnalysis(
        path=change.path,
        file_kind=kind,
        basis=basis,
        facts=tuple(facts),
        title=quote(title, 120) if title else None,
        replacements=tuple(acc.replacements),
        change_key=key,
    )


def _binary_facts(change: FileChange) -> list[F.Fact]:
    if change.status in (Status.ADDED, Status.COPIED):
        return [F.BinaryAdded(change.new_size)]
    if change.status == Status.REMOVED:
        return [F.BinaryRemoved(change.old_size)]
    if change.status == Status.RENAMED and change.old_id and change.old_id == change.new_id:
        return []
    return [F.BinaryReplaced(change.old_size, change.new_size)]


def _change_key(blocks: Sequence[Block], old_doc: Doc, new_doc: Doc) -> str | None:
    """A hash of the changed lines outside the front matter, without their line numbers and
    indentation: files whose keys are equal carry the same edit (None: nothing but front matter)."""
    old_fm = old_doc.front_matter_range is not None
    new_fm = new_doc.front_matter_range is not None
    parts: list[str] = []
    for b in blocks:
        for ln in b.removed:
            if old_fm and ln.old_no is not None and old_doc.kinds.get(ln.old_no) == K.FRONT_MATTER:
                continue
            parts.append("-" + ln.text.strip())
        for ln in b.added:
            if new_fm and ln.new_no is not None and new_doc.kinds.get(ln.new_no) == K.FRONT_MATTER:
                continue
            parts.append("+" + ln.text.strip())
    if not parts:
        return None
    parts.append("")  # every line ends with a line break
    text = "\n".join(parts).encode("utf-8", "replace")
    return hashlib.sha1(text, usedforsecurity=False).hexdigest()[:16]


# --- Markdown ---------------------------------------------------------------------------------

_PROSE_KINDS = {K.PROSE, K.QUOTE, K.ALERT, K.DIRECTIVE, K.HTML_COMMENT}
_WORD_KINDS = _PROSE_KINDS | {K.TABLE, K.HEADING}


def _front_matter_facts(acc: _Acc, blocks: Sequence[Block], old_doc: Doc, new_doc: Doc, basis: Basis) -> None:
    if basis == "full-text":
        old_fm, new_fm = old_doc.front_matter, new_doc.front_matter
        touched = any(
            (ln.old_no is not None and old_doc.kinds.get(ln.old_no) == K.FRONT_MATTER)
            for b in blocks
            for ln in b.removed
        ) or any(
            (ln.new_no is not None and new_doc.kinds.get(ln.new_no) == K.FRONT_MATTER)
            for b in blocks
            for ln in b.added
        )
        if not touched:
            return
    else:
        old_fm, new_fm = {}, {}
        for b in blocks:
            for ln in b.removed:
                if ln.old_no is not None and old_doc.kinds.get(ln.old_no) == K.FRONT_MATTER:
                    m = _YAML_KV.match(ln.text)
                    if m and not m.group(1):
                        old_fm[m.group(3)] = m.group(4).strip("'\"")
            for ln in b.added:
                if ln.new_no is not None and new_doc.kinds.get(ln.new_no) == K.FRONT_MATTER:
                    m = _YAML_KV.match(ln.text)
                    if m and not m.group(1):
                        new_fm[m.group(3)] = m.group(4).strip("'\"")
    for key in list(dict.fromkeys([*old_fm, *new_fm])):
        o, n = old_fm.get(key), new_fm.get(key)
        if o == n:
            continue
        if o is not None and n is not None and is_date_key(key):
            acc.facts.append(F.DateBumped(key, o, n))
        else:
            acc.facts.append(
                F.FrontMatterChanged(
                    key, quote(o, 120) if o is not None else None, quote(n, 120) if n is not None else None
                )
            )


def _markdown_facts(acc: _Acc, blocks: Sequence[Block], old_doc: Doc, new_doc: Doc, basis: Basis) -> None:
    _front_matter_facts(acc, blocks, old_doc, new_doc, basis)
    added_new = {ln.new_no for b in blocks for ln in b.added if ln.new_no is not None}
    removed_old = {ln.old_no for b in blocks for ln in b.removed if ln.old_no is not None}

    # headings replaced in place (a removed and an added heading of the same level in one block)
    # are renames, not whole new sections
    renamed_new: set[int] = set()
    renamed_old: set[int] = set()
    for b in blocks:
        if not b.removed or not b.added:
            continue
        r_at = old_doc.heading_levels(ln.old_no for ln in b.removed if ln.old_no is not None)
        a_at = new_doc.heading_levels(ln.new_no for ln in b.added if ln.new_no is not None)
        r_levels, a_levels = set(r_at.values()), set(a_at.values())
        renamed_new.update(no for no, level in a_at.items() if level in r_levels)
        renamed_old.update(no for no, level in r_at.items() if level in a_levels)

    # whole sections
    covered_new: set[int] = set()
    covered_old: set[int] = set()
    section_facts: list[F.Fact] = []
    for doc, changed, covered, ctor, renamed in (
        (new_doc, added_new, covered_new, F.SectionAdded, renamed_new),
        (old_doc, removed_old, covered_old, F.SectionRemoved, renamed_old),
    ):
        for h in doc.headings:
            if h.line not in changed or h.line in covered or h.line in renamed:
                continue
            end = doc.section_end(h)
            span = []
            whole = True
            for k in range(h.line, end + 1):
                if k not in doc.lines:
                    break
                if k not in changed and doc.kinds.get(k) != K.BLANK:
                    whole = False
                    break
                span.append(k)
            body = [k for k in span[1:] if doc.kinds.get(k) != K.BLANK]
            if whole and body:
                covered.update(span)
                section_facts.append(ctor(h.text, h.level, len(span)))
    acc.facts.extend(section_facts)

    heading_facts: list[F.Fact] = []
    table_rows_removed: dict[str, list[str]] = {}
    table_rows_added: dict[str, list[str]] = {}
    table_columns: dict[str, tuple[str, ...]] = {}
    code_changed: dict[str, list[int]] = {}
    links_rem: Counter[tuple[str, str]] = Counter()
    links_add: Counter[tuple[str, str]] = Counter()
    imgs_rem: Counter[tuple[str, str]] = Counter()
    imgs_add: Counter[tuple[str, str]] = Counter()
    defs_rem: Counter[tuple[str, str]] = Counter()
    defs_add: Counter[tuple[str, str]] = Counter()
    refs_old: dict[str, str] | None = None
    refs_new: dict[str, str] | None = None
    inc_rem: Counter[str] = Counter()
    inc_add: Counter[str] = Counter()
    alert_facts: list[F.Fact] = []
    sentences_add: list[list[HunkLine]] = []
    sentences_rem: list[list[HunkLine]] = []
    table_whole: list[F.Fact] = []
    code_whole: list[F.Fact] = []

    new_whole = [
        t
        for t in new_doc.tables
        if t.start in added_new
        and t.start not in covered_new
        and all(k in added_new for k in range(t.start, t.end + 1))
    ]
    old_whole = [
        t
        for t in old_doc.tables
        if t.start in removed_old
        and t.start not in covered_old
        and all(k in removed_old for k in range(t.start, t.end + 1))
    ]
    # a table removed and added again under the same name was rewritten (re-aligned, columns
    # changed, rows re-sorted): its rows are compared, it is neither a new nor a lost table
    old_names = {t.name for t in old_whole if t.name}
    rewritten = {t.name for t in new_whole if t.name in old_names}
    for t in new_whole:
        covered_new.update(range(t.start, t.end + 1))
        if t.name not in rewritten:
            table_whole.append(F.TableAdded(t.name, max(0, t.end - t.start - 1), t.header))
    for t in old_whole:
        covered_old.update(range(t.start, t.end + 1))
        if t.name not in rewritten:
            table_whole.append(F.TableRemoved(t.name, max(0, t.end - t.start - 1)))
    if rewritten:
        _rewritten_tables(
            rewritten, old_whole, new_whole, old_doc, new_doc, table_rows_removed, table_rows_added
        )
        for t in new_whole:
            if t.name in rewritten:
                table_columns.setdefault(t.name, t.header)
    for f in new_doc.fences:
        if (
            f.start in added_new
            and f.start not in covered_new
            and all(k in added_new for k in range(f.start, f.end + 1))
        ):
            covered_new.update(range(f.start, f.end + 1))
            code_whole.append(F.CodeBlockAdded(f.lang, max(0, f.end - f.start - 1)))
    for f in old_doc.fences:
        if (
            f.start in removed_old
            and f.start not in covered_old
            and all(k in removed_old for k in range(f.start, f.end + 1))
        ):
            covered_old.update(range(f.start, f.end + 1))
            code_whole.append(F.CodeBlockRemoved(f.lang, max(0, f.end - f.start - 1)))

    for b in blocks:
        rem = [
            ln
            for ln in b.removed
            if ln.old_no not in covered_old and old_doc.kinds.get(ln.old_no or 0) != K.FRONT_MATTER
        ]
        add = [
            ln
            for ln in b.added
            if ln.new_no not in covered_new and new_doc.kinds.get(ln.new_no or 0) != K.FRONT_MATTER
        ]
        if not rem and not add:
            continue
        fk = formatting_kinds([ln.text for ln in rem], [ln.text for ln in add])
        if fk is not None:
            acc.formatting.extend(fk)
            acc.formatting_blocks += 1
            continue
        rkind = [old_doc.kinds.get(ln.old_no or 0, K.UNKNOWN) for ln in rem]
        akind = [new_doc.kinds.get(ln.new_no or 0, K.UNKNOWN) for ln in add]
        # reference definitions (with blank lines and comments) are no text, and links written
        # another way (inline or by reference) to the same targets are formatting: their links are
        # still counted below, where those of the two sides cancel out
        restyled = False
        if _may_restyle(rem) and _may_restyle(add):
            if refs_old is None and any("][" in ln.text for ln in rem):
                refs_old = _definitions(old_doc)
            if refs_new is None and any("][" in ln.text for ln in add):
                refs_new = _definitions(new_doc)
            restyled = _link_form(rem, rkind, refs_old) == _link_form(add, akind, refs_new)
        if restyled or _definitions_only(rem, rkind, add, akind):
            acc.formatting.append("link-references")
            acc.formatting_blocks += 1
        else:
            acc.content_blocks += 1

        # code
        for ln, k in zip(rem, rkind, strict=True):
            if k in (K.CODE, K.FENCE):
                lang = (
                    old_doc.fences[old_doc.block[ln.old_no or 0]].lang
                    if (ln.old_no or 0) in old_doc.block
                    else ""
                )
                code_changed.setdefault(lang, [0, 0])[1] += 1
        for ln, k in zip(add, akind, strict=True):
            if k in (K.CODE, K.FENCE):
                lang = (
                    new_doc.fences[new_doc.block[ln.new_no or 0]].lang
                    if (ln.new_no or 0) in new_doc.block
                    else ""
                )
                code_changed.setdefault(lang, [0, 0])[0] += 1

        # links, images, includes, alerts (outside code)
        for ln, k in zip(rem, rkind, strict=True):
            if k in (K.CODE, K.FENCE):
                continue
            if refs_old is None and "][" in ln.text:
                refs_old = _definitions(old_doc)
            _count_links(_links(ln.text, refs_old), links_rem, imgs_rem, inc_rem, defs_rem)
        for ln, k in zip(add, akind, strict=True):
            if k in (K.CODE, K.FENCE):
                continue
            if refs_new is None and "][" in ln.text:
                refs_new = _definitions(new_doc)
            _count_links(_links(ln.text, refs_new), links_add, imgs_add, inc_add, defs_add)

        # word-level pairing of text (prose paragraphs, table rows, headings): the lines of a
        # wrapped paragraph are compared as one text, so words moving across line ends are no edit
        r_units = _units(rem, rkind, "old")
        a_units = _units(add, akind, "new")
        r_texts = [
            " ".join(rem[i].text.strip() for i in u) if len(u) > 1 else rem[u[0]].text for u in r_units
        ]
        a_texts = [
            " ".join(add[i].text.strip() for i in u) if len(u) > 1 else add[u[0]].text for u in a_units
        ]
        pairs = pair_lines(r_texts, a_texts)
        paired_r = {i for pi, _ in pairs for i in r_units[pi]}
        paired_a = {j for _, pj in pairs for j in a_units[pj]}
        unchanged_rows_r: set[int] = set()
        unchanged_rows_a: set[int] = set()
        for pi, pj in pairs:
            ru, au = r_units[pi], a_units[pj]
            o, n = r_texts[pi], a_texts[pj]
            pair_fmt = formatting_kinds([rem[i].text for i in ru], [add[j].text for j in au])
            if pair_fmt is not None:
                acc.formatting.extend(pair_fmt)
                unchanged_rows_r.update(ru)
                unchanged_rows_a.update(au)
                continue
            wo, wn = words_only(o), words_only(n)
            wd = word_diff(wo, wn)
            ri, ai = ru[0], au[0]
            if rkind[ri] == K.HEADING and akind[ai] == K.HEADING:
                oh = old_doc.heading_before(rem[ri].old_no or 0)
                nh = new_doc.heading_before(add[ai].new_no or 0)
                if oh and nh and oh.text != nh.text:
                    heading_facts.append(F.HeadingRenamed(nh.level, oh.text, nh.text))
            if rkind[ri] == K.PROSE and akind[ai] == K.PROSE:
                if wo != wn:
                    _paragraph_edits(acc, wd)
            else:  # a table row, a heading: a line of its own, rewritten when mostly changed
                _word_edits(acc, wd, wo != wn)
                if not wd.rewrite:
                    acc.replacements.extend(r for r in wd.replacements if is_term(*r))

        # headings added/removed that were not paired
        for i, (ln, k) in enumerate(zip(rem, rkind, strict=True)):
            if k == K.HEADING and i not in paired_r:
                oh = old_doc.heading_before(ln.old_no or 0)
                if oh:
                    heading_facts.append(F.HeadingRemoved(oh.level, oh.text))
        for i, (ln, k) in enumerate(zip(add, akind, strict=True)):
            if k == K.HEADING and i not in paired_a:
                nh = new_doc.heading_before(ln.new_no or 0)
                if nh:
                    heading_facts.append(F.HeadingAdded(nh.level, nh.text))

        # table rows
        for i, (ln, k) in enumerate(zip(rem, rkind, strict=True)):
            if k == K.TABLE and i not in unchanged_rows_r:
                ot = (
                    old_doc.tables[old_doc.block[ln.old_no or 0]]
                    if (ln.old_no or 0) in old_doc.block
                    else None
                )
                if ot is not None and ln.old_no == ot.start + 1:
                    continue  # separator row
                name = ot.name if ot else ""
                table_columns.setdefault(name, ot.header if ot else ())
                table_rows_removed.setdefault(name, []).append(_row_key(ln.text))
        for i, (ln, k) in enumerate(zip(add, akind, strict=True)):
            if k == K.TABLE and i not in unchanged_rows_a:
                nt = (
                    new_doc.tables[new_doc.block[ln.new_no or 0]]
                    if (ln.new_no or 0) in new_doc.block
                    else None
                )
                if nt is not None and ln.new_no == nt.start + 1:
                    continue
                name = nt.name if nt else ""
                table_columns[name] = nt.header if nt else table_columns.get(name, ())
                table_rows_added.setdefault(name, []).append(_row_key(ln.text))

        # alerts
        for ln, k in zip(rem, rkind, strict=True):
            if k == K.ALERT:
                alert_facts.append(F.AlertRemoved(_alert_kind(ln.text), _alert_text(old_doc, ln.old_no or 0)))
        for ln, k in zip(add, akind, strict=True):
            if k == K.ALERT:
                alert_facts.append(F.AlertAdded(_alert_kind(ln.text), _alert_text(new_doc, ln.new_no or 0)))

        # whole new/removed sentences: unpaired prose lines
        sentences_add.extend(
            _runs([add[i] for i, k in enumerate(akind) if k == K.PROSE and i not in paired_a], "new")
        )
        sentences_rem.extend(
            _runs([rem[i] for i, k in enumerate(rkind) if k == K.PROSE and i not in paired_r], "old")
        )

    acc.facts.extend(heading_facts)
    acc.facts.extend(table_whole)
    for name in list(dict.fromkeys([*table_rows_removed, *table_rows_added])):
        rows_r = Counter(table_rows_removed.get(name, []))
        rows_a = Counter(table_rows_added.get(name, []))
        both = rows_r & rows_a
        radd = rows_a - both
        rrem = rows_r - both
        if not (both or radd or rrem):
            continue
        acc.facts.append(
            F.TableRowsChanged(
                table=quote(name, 80),
                added=sum(radd.values()),
                removed=sum(rrem.values()),
                changed=sum(both.values()),
                added_keys=tuple(quote(k, 60) for k in list(radd.elements())[:8]),
                removed_keys=tuple(quote(k, 60) for k in list(rrem.elements())[:8]),
                changed_keys=tuple(quote(k, 60) for k in list(both.elements())[:8]),
                columns=tuple(quote(c, 40) for c in table_columns.get(name, ()))[:12],
            )
        )
    acc.facts.extend(code_whole)
    for lang, (n_add, n_rem) in code_changed.items():
        acc.facts.append(F.CodeBlockChanged(lang, n_add, n_rem))
    acc.facts.extend(alert_facts)
    for target in sorted((inc_add - inc_rem).elements()):
        acc.facts.append(F.IncludeAdded(target))
    for target in sorted((inc_rem - inc_add).elements()):
        acc.facts.append(F.IncludeRemoved(target))
    ret, rel, ladd, lrem, renum = _pair_refs(links_rem, links_add)
    iret, _relabeled, iadd, irem, _ = _pair_refs(imgs_rem, imgs_add)  # a new alt text alone is not news
    # reference definitions: a new URL under the same label is a retargeted link; a new label for
    # the same URL (`[ArgumentCompleter]: …` → `[04]: …`) changes no text a reader sees, nor does a
    # link or image rewritten between inline and reference style
    dret, drel, dadd, drem, drenum = _pair_refs(defs_rem, defs_add)
    # a definition whose URL a changed reference link on the same side resolves to is counted
    # through that link (renumbered definitions reuse labels for other URLs)
    urls_rem = {u for _, u in links_rem} | {u for _, u in imgs_rem}
    urls_add = {u for _, u in links_add} | {u for _, u in imgs_add}
    if defs_add or defs_rem:  # links in whole new or removed sections and tables count too
        for lines, refs, doc, urls in (
            ([ln for b in blocks for ln in b.added if ln.new_no in covered_new], refs_new, new_doc, urls_add),
            (
                [ln for b in blocks for ln in b.removed if ln.old_no in covered_old],
                refs_old,
                old_doc,
                urls_rem,
            ),
        ):
            used = [ln.text for ln in lines if "][" in ln.text]
            if used:
                refs = refs if refs is not None else _definitions(doc)
                for text in used:
                    found = _links(text, refs)
                    urls.update(u for _, u in found.links)
                    urls.update(u for _, u in found.images)
    dret = [(t, o, n) for t, o, n in dret if o not in urls_rem and n not in urls_add]
    dadd = [(t, u) for t, u in dadd if u not in urls_add]
    drem = [(t, u) for t, u in drem if u not in urls_rem]
    dadd, to_ref = _drop_by_url(dadd, lrem, irem)
    drem, to_inline = _drop_by_url(drem, ladd, iadd)
    if renum or drenum:
        acc.formatting.append("footnotes")
    if drel or to_ref or to_inline:
        acc.formatting.append("link-references")
    if dret:
        names = _usage_texts(new_doc, (label for label, _, _ in dret))
        ret += [(names.get(_ref_key(label), label), o, n) for label, o, n in dret]
    ladd += _named(dadd, new_doc) if dadd else []
    lrem += _named(drem, old_doc) if drem else []
    acc.facts.extend(F.LinkRetargeted(quote(t, 100), o, n) for t, o, n in ret)
    acc.facts.extend(F.LinkRelabeled(u, quote(o, 100), quote(n, 100)) for u, o, n in rel)
    acc.facts.extend(F.LinkAdded(quote(t, 100), u) for t, u in ladd)
    acc.facts.extend(F.LinkRemoved(quote(t, 100), u) for t, u in lrem)
    acc.facts.extend(F.ImageRetargeted(quote(t, 100), o, n) for t, o, n in iret)
    acc.facts.extend(F.ImageAdded(quote(t, 100), u) for t, u in iadd)
    acc.facts.extend(F.ImageRemoved(quote(t, 100), u) for t, u in irem)
    added_texts = _sentences(sentences_add, acc.passages_added)
    removed_texts = _sentences(sentences_rem, acc.passages_removed)
    acc.facts.extend(F.SentenceAdded(quote(t)) for t in added_texts[:MAX_SENTENCES])
    acc.facts.extend(F.SentenceRemoved(quote(t)) for t in removed_texts[:MAX_SENTENCES])
    counts = Counter(acc.replacements)
    for (o, n), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        acc.facts.append(F.TermReplaced(quote(o, 80), quote(n, 80), c))


_ITEM_START = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def _units(lines: Sequence[HunkLine], kinds: Sequence[K], side: str) -> list[list[int]]:
    """The changed lines of one side that take part in word-level comparison, as units: the lines
    of one prose paragraph (consecutive, not blank, each list item its own) form one unit; a
    heading, a table row or any other line is a unit of its own."""
    units: list[list[int]] = []
    prev_no = -2
    for i, (ln, k) in enumerate(zip(lines, kinds, strict=True)):
        if k not in _WORD_KINDS and k != K.UNKNOWN:
            prev_no = -2
            continue
        no = (ln.new_no if side == "new" else ln.old_no) or 0
        joins = (
            k == K.PROSE
            and units
            and no == prev_no + 1
            and kinds[units[-1][-1]] == K.PROSE
            and ln.text.strip() != ""
            and not _ITEM_START.match(ln.text)
        )
        if joins:
            units[-1].append(i)
        else:
            units.append([i])
        prev_no = no if ln.text.strip() else -2
    return units


def _may_restyle(lines: Sequence[HunkLine]) -> bool:
    return any("](" in ln.text or "][" in ln.text for ln in lines)


def _link_form(lines: Sequence[HunkLine], kinds: Sequence[K], refs: dict[str, str] | None) -> str:
    """The text of ``lines`` with every link written inline to its target (a reference link
    resolved through ``refs``), without reference definitions, HTML comments and white space:
    equal for two sides that write the same links in different ways."""
    out: list[str] = []
    for ln, k in zip(lines, kinds, strict=True):
        text = ln.text
        if k == K.HTML_COMMENT or _is_definition(text):
            continue
        if "](" in text:
            text = _LINK.sub(_inline_form, text)
        if "][" in text and refs:
            text = _REFLINK.sub(lambda m: _resolved_form(m, refs), text)
        out.append(text)
    return "".join("".join(out).split())


def _inline_form(m: re.Match[str]) -> str:
    return f"{m.group(1)}[{m.group(2)}]({m.group(3) if m.group(3) is not None else m.group(4)})"


def _resolved_form(m: re.Match[str], refs: dict[str, str]) -> str:
    url = refs.get(_ref_label(m))
    return m.group(0) if url is None else f"{m.group(1)}[{m.group(2)}]({url})"


def _definitions_only(
    rem: Sequence[HunkLine], rkind: Sequence[K], add: Sequence[HunkLine], akind: Sequence[K]
) -> bool:
    """Whether the changed lines of a block are reference definitions (at least one), blank lines
    and HTML comments: nothing a reader sees as text."""
    seen = False
    for lines, kinds in ((rem, rkind), (add, akind)):
        for ln, k in zip(lines, kinds, strict=True):
            text = ln.text
            if _is_definition(text):
                seen = True
            elif k != K.HTML_COMMENT and text.strip():
                return False
    return seen


def _runs(lines: Iterable[HunkLine], side: str) -> list[list[HunkLine]]:
    """Group lines with consecutive line numbers into paragraphs. A list item starts one of its own;
    a reference definition (``[label]: URL``) belongs to none: it is no text, the link facts
    report it."""
    out: list[list[HunkLine]] = []
    prev = -2
    for ln in lines:
        no = (ln.new_no if side == "new" else ln.old_no) or 0
        text = ln.text
        if not text.strip() or _is_definition(text):
            prev = -2
            continue
        if out and no == prev + 1 and not _ITEM_START.match(text):
            out[-1].append(ln)
        else:
            out.append([ln])
        prev = no
    return out


_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")


def _outside_code(pattern: re.Pattern[str], text: str, group: int | None) -> str:
    """``text`` with each match of ``pattern`` that does not start in a code span replaced by its
    ``group`` (by nothing when None): what looks like a link or bold text inside `` `…` `` is code."""
    spans = [c.span() for c in _CODE_SPAN.finditer(text)] if "`" in text else []

    def keep(m: re.Match[str]) -> str:
        if _in_code(m.start(), spans):
            return m.group(0)
        return "" if group is None else m.group(group)

    return pattern.sub(keep, text)


def _link_texts(text: str) -> str:
    """``text`` with each link and image (inline or by reference, outside code spans) by its text."""
    for _ in range(3):  # a linked image, [![alt](src)](url), takes two rounds
        if "](" not in text and "][" not in text:
            break
        text = _outside_code(_REFLINK, _outside_code(_LINK, text, 2), 2)
    return text


def readable(text: str) -> str:
    """Document text as a reader sees it, for quoting: each link and image by its text (the link
    and image facts report the targets), bold text without its markers, no HTML tags (their text
    stays) and a list item without its marker. Code spans stay as they are."""
    text = _link_texts(text)
    if "**" in text:
        text = _outside_code(_BOLD, text, 1)
    if "<" in text:
        text = _outside_code(_HTML_TAG, text, None)
    return _ITEM_START.sub("", text, count=1)


def _has_words_outside_links(text: str) -> bool:
    """Whether ``text`` has words besides its links, images and includes."""
    if "](" in text or "][" in text:
        text = _outside_code(_REFLINK, _outside_code(_LINK, _INCLUDE.sub("", text), None), None)
    return any(c.isalnum() for c in _ITEM_START.sub("", text, count=1))


def _sentences(runs: Iterable[Sequence[HunkLine]], passages: Iterable[str]) -> list[str]:
    """The readable text of each paragraph (a run of lines) and passage. One made of links and
    includes alone (a list item that is a link) is left out: the link and include facts report it."""
    texts = [" ".join(ln.text.strip() for ln in run) for run in runs]
    texts.extend(passages)
    return [readable(t) for t in texts if _has_words_outside_links(t)]


_CELL_SPACE = re.compile(r"\s*\|\s*")


def _rewritten_tables(
    names: set[str],
    old_tables: Sequence[Table],
    new_tables: Sequence[Table],
    old_doc: Doc,
    new_doc: Doc,
    rows_removed: dict[str, list[str]],
    rows_added: dict[str, list[str]],
) -> None:
    """The row keys of tables rewritten whole: rows whose text is unchanged (up to the spacing around
    cells) cancel out; the others are added, removed, or changed when their key is on both sides."""

    def rows(doc: Doc, t: Table) -> Counter[str]:
        body = (doc.lines.get(k, "") for k in range(t.start + 2, t.end + 1))  # after header and separator
        return Counter(_CELL_SPACE.sub("|", ln.strip()) for ln in body if ln.strip())

    for name in sorted(names):
        old = sum((rows(old_doc, t) for t in old_tables if t.name == name), Counter[str]())
        new = sum((rows(new_doc, t) for t in new_tables if t.name == name), Counter[str]())
        same = old & new
        rows_removed.setdefault(name, []).extend(_row_key(r) for r in (old - same).elements())
        rows_added.setdefault(name, []).extend(_row_key(r) for r in (new - same).elements())


def _row_key(line: str) -> str:
    cells = split_row(line)
    for c in cells:
        p = _plain(c)
        if p:
            return p
    return _plain(line) or line.strip()


def _alert_kind(line: str) -> str:
    m = _ALERT.search(line)
    return m.group(1).upper() if m else "NOTE"


def _alert_text(doc: Doc, line: int) -> str:
    parts: list[str] = []
    k = line + 1
    while doc.kinds.get(k) == K.QUOTE and len(parts) < 6:
        parts.append(doc.lines[k].lstrip().lstrip(">").strip())
        k += 1
    return quote(readable(" ".join(p for p in parts if p)), 140)


# --- YAML ---------------------------------------------------------------------------------------


def _yaml_entries(hunk: Hunk, lines: Sequence[HunkLine], side: str) -> list[tuple[str, str | None]]:
    """(name, href) of the ``name:`` lines among ``lines``, looking for the entry's ``href`` in the
    same side of the hunk."""
    seq = [ln for ln in hunk.lines if ln.tag == " " or ln.tag == ("-" if side == "old" else "+")]
    pos = {id(ln): i for i, ln in enumerate(seq)}
    out: list[tuple[str, str | None]] = []
    for ln in lines:
        m = _YAML_KV.match(ln.text)
        if not m or m.group(3) != "name":
            continue
        indent = len(m.group(1)) + len(m.group(2) or "")
        href = None
        i = pos.get(id(ln), -1)
        for k in list(range(i + 1, min(len(seq), i + 4))) + list(range(i - 1, max(-1, i - 3), -1)):
            mm = _YAML_KV.match(seq[k].text)
            if not mm:
                continue
            k_indent = len(mm.group(1)) + len(mm.group(2) or "")
            if mm.group(3) == "name" or k_indent < indent - 2:
                if k > i:
                    continue
                break
            if mm.group(3) == "href" and k_indent == indent:
                href = mm.group(4).strip("'\"") or None
                break
        out.append((m.group(4).strip("'\""), href))
    return out


def _is_key(text: str, key: str) -> bool:
    m = _YAML_KV.match(text)
    return bool(m and m.group(3) == key)


def _value(text: str) -> str | None:
    m = _YAML_KV.match(text)
    return (_YAML_COMMENT.sub("", m.group(4)).strip("'\"") or None) if m else None


def _context_name(hunk: Hunk, line: HunkLine, tag: str) -> str | None:
    """The ``name:`` of the TOC entry that ``line`` belongs to, when that name line is unchanged
    context just above it (on the same side)."""
    seq = [ln for ln in hunk.lines if ln.tag in (" ", tag)]
    idx = next((i for i, ln in enumerate(seq) if ln is line), -1)
    for k in range(idx - 1, max(-1, idx - 4), -1):
        if _is_key(seq[k].text, "name"):
            return _value(seq[k].text) if seq[k].tag == " " else None
    return None


def _yaml_facts(acc: _Acc, hunks: list[Hunk], blocks: Sequence[Block]) -> None:
    toc_rem: list[tuple[str, str | None]] = []
    toc_add: list[tuple[str, str | None]] = []
    href_rem: list[tuple[str, str]] = []
    href_add: list[tuple[str, str]] = []
    retargets: list[tuple[str, str | None, str | None]] = []
    for b in blocks:
        h = hunks[b.hunk]
        toc_rem.extend(_yaml_entries(h, b.removed, "old"))
        toc_add.extend(_yaml_entries(h, b.added, "new"))
        # hrefs changed under an unchanged name: the entry's name is a context line above
        r_h = {n: ln for ln in b.removed if _is_key(ln.text, "href") and (n := _context_name(h, ln, "-"))}
        a_h = {n: ln for ln in b.added if _is_key(ln.text, "href") and (n := _context_name(h, ln, "+"))}
        for name, r in r_h.items():
            if name in a_h:
                retargets.append((name, _value(r.text), _value(a_h[name].text)))
        rem_kv: dict[str, list[str]] = {}
        add_kv: dict[str, list[str]] = {}
        plain_rem: list[str] = []
        plain_add: list[str] = []
        for ln in b.removed:
            m = _YAML_KV.match(ln.text)
            if m and m.group(4) and m.group(4) not in ("|", ">", "|-", ">-"):
                rem_kv.setdefault(m.group(3), []).append(_YAML_COMMENT.sub("", m.group(4)).strip("'\""))
            else:
                plain_rem.append(ln.text)
        for ln in b.added:
            m = _YAML_KV.match(ln.text)
            if m and m.group(4) and m.group(4) not in ("|", ">", "|-", ">-"):
                add_kv.setdefault(m.group(3), []).append(_YAML_COMMENT.sub("", m.group(4)).strip("'\""))
            else:
                plain_add.append(ln.text)
        if formatting_kinds([ln.text for ln in b.removed], [ln.text for ln in b.added]) is not None:
            acc.formatting.extend(
                formatting_kinds([ln.text for ln in b.removed], [ln.text for ln in b.added]) or ()
            )
            acc.formatting_blocks += 1
            continue
        acc.content_blocks += 1
        for key in dict.fromkeys([*rem_kv, *add_kv]):
            if key == "name":
                continue
            olds, news = rem_kv.get(key, []), add_kv.get(key, [])
            if key == "href":
                href_rem.extend((key, v) for v in olds)
                href_add.extend((key, v) for v in news)
                continue
            for i in range(max(len(olds), len(news))):
                o = olds[i] if i < len(olds) else None
                n = news[i] if i < len(news) else None
                if o is not None and n is not None:
                    wd = word_diff(o, n)
                    if not wd.rewrite:
                        acc.replacements.extend(r for r in wd.replacements if is_term(*r))
                    if len(o) > 80 and len(n) > 80 and not wd.rewrite and wd.replacements:
                        continue  # the term replacements say it better than two cut-off values
                acc.facts.append(
                    F.YamlValueChanged(
                        key,
                        quote(o, 120) if o is not None else None,
                        quote(n, 120) if n is not None else None,
                    )
                )
        for pi, pj in pair_lines(plain_rem, plain_add):
            wd = word_diff(plain_rem[pi], plain_add[pj])
            _word_edits(acc, wd, True)
            if not wd.rewrite:
                acc.replacements.extend(r for r in wd.replacements if is_term(*r))
    # TOC entries
    rem = list(toc_rem)
    add = list(toc_add)
    used: set[int] = set()
    for name, href in rem:
        j = next((k for k, (n2, h2) in enumerate(add) if k not in used and href and h2 == href), -1)
        if j >= 0:
            used.add(j)
            if add[j][0] != name:
                acc.facts.append(F.TocEntryRenamed(name, add[j][0], href))
            continue
        j = next((k for k, (n2, _) in enumerate(add) if k not in used and n2 == name), -1)
        if j >= 0:
            used.add(j)
            if add[j][1] != href:
                acc.facts.append(F.TocEntryRetargeted(name, href, add[j][1]))
            continue
        acc.facts.append(F.TocEntryRemoved(name, href))
    for k, (name, href) in enumerate(add):
        if k not in used:
            acc.facts.append(F.TocEntryAdded(name, href))
    for name, o, n in retargets:
        acc.facts.append(F.TocEntryRetargeted(name, o, n))
    counts = Counter(acc.replacements)
    for (o, n), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        acc.facts.append(F.TermReplaced(quote(o, 80), quote(n, 80), c))
