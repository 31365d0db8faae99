"""Shared hypothesis strategies and settings for the property suites (``tests/test_prop_*.py``).

Profiles: ``ci`` (the default: few examples, derandomized, so the suite is fast and repeatable) and
``long`` (thousands of examples, random), chosen with ``DIFF_INSIGHT_HYPOTHESIS_PROFILE=long``.
Tests take their settings from :func:`prop`, which scales a per-test weight by the profile; other
test files keep hypothesis' own defaults (no profile is loaded globally).
"""

from __future__ import annotations

import difflib
import os
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PROFILE_ENV = "DIFF_INSIGHT_HYPOTHESIS_PROFILE"

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile(
    "ci", max_examples=15, deadline=None, derandomize=True, database=None, suppress_health_check=_SLOW_OK
)
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=_SLOW_OK)
PROFILE = os.environ.get(PROFILE_ENV, "ci")
_BASE = settings.get_profile(PROFILE)


def prop(weight: float = 1.0) -> settings:
    """Settings for one property test: the profile's ``max_examples`` times ``weight``."""
    return settings(_BASE, max_examples=max(1, int(_BASE.max_examples * weight)))


# --- text ---------------------------------------------------------------------------------------

RTL = ["\u202e", "\u202b", "\u200f", "مرحبا بالعالم", "שלום עולם", "\u202egnp.exe"]
CONTROL = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x1f", "\x7f", "\x85", "\x9b"]
BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x1c", "\x1d", "\x1e"]
MARKUP = [
    "`",
    "``",
    "```",
    "````",
    "`" * 9,
    "~~~",
    "```diff",
    "````diff",
    "<details>",
    "</details>",
    "<DETAILS open>",
    "<summary>Diff</summary>",
    "</summary>",
    "<pre>",
    "<!--",
    "---",
    "...",
    "***",
    "# Modified Contents",
    "# Summary Table",
    "### Explanation",
    "## x.md{#item-abcdef}",
    "{#item-000000}",
    '{target="_blank"}',
    "| a | b |",
    "|---|---|",
    "|",
    "\\",
    "\\|",
    "[",
    "]",
    "](#x)",
    "*",
    "_",
    "> [!NOTE]",
    ':::image source="a.png" alt-text="x":::',
    "[!INCLUDE [x](../includes/x.md)]",
    "@@ -1 +1 @@",
    "diff --git a/x b/x",
    "--- a/x",
    "+++ b/x",
    "\\ No newline at end of file",
    "title: x",
    "key: 'quoted: value'",
    "&amp;",
    "'",
    '"',
    ": ",
    " #",
    "- ",
    "%",
    "{",
    "}",
    "\t",
    "  ",
    "\ufeff",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\xa0",
    "😀",
    "e\u0301",
    "日本語のテキスト",
    "中文",
]
HOSTILE_PIECES = RTL + CONTROL + BREAKS + MARKUP

unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
"""Surrogate-free random unicode."""


def hostile_text(max_pieces: int = 8) -> st.SearchStrategy[str]:
    """Random unicode mixed with backtick runs, HTML tags, ``---``, control characters, line breaks,
    right-to-left text and Markdown/diff look-alikes."""
    piece = st.one_of(st.sampled_from(HOSTILE_PIECES), unicode_text, st.sampled_from(["a", "word", " "]))
    return st.lists(piece, max_size=max_pieces).map("".join)


def hostile_line(max_pieces: int = 8) -> st.SearchStrategy[str]:
    """Hostile text without ``\\n`` (one physical line of a file; ``\\r`` may remain)."""
    return hostile_text(max_pieces).map(lambda s: s.replace("\n", " "))


MB_LINE = "x`<details>" + "é" * (1 << 19) + "```" + "y" * (1 << 19)
"""A line of more than 1 MB (with markup at both ends), for single-example tests."""


# --- paths and git quoting ------------------------------------------------------------------------

_SEGMENT_PIECES = [
    "docs",
    "a b",
    'q"uote',
    "back\\slash",
    "tab\there",
    "new\nline",
    "café",
    "日本",
    "\u202eevil",
    "b",
    "x b",
    "-dash",
    "#hash",
    "{#item-abcdef}",
    "`tick`",
    "</details>",
    "\r",
    "\x7f",
    "+plus",
    "@@",
]


def path_segment() -> st.SearchStrategy[str]:
    plain = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=8)
    seg = st.lists(st.one_of(st.sampled_from(_SEGMENT_PIECES), plain), min_size=1, max_size=3).map("".join)
    return seg.filter(lambda s: s not in (".", "..") and "/" not in s and "\x00" not in s)


def file_path(ext: Sequence[str] = (".md", ".yml", ".txt", ".png", "")) -> st.SearchStrategy[str]:
    """A repository path: 1-3 hostile segments (spaces, quotes, non-ASCII, newlines, tabs) and an
    extension."""
    return st.tuples(st.lists(path_segment(), min_size=1, max_size=3), st.sampled_from(list(ext))).map(
        lambda t: "/".join(t[0]) + t[1]
    )


_C_NAMES = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\"}


def git_quote(path: bytes) -> bytes:
    """Quote a path the way git does with ``core.quotePath`` on (the default)."""
    if not any(b < 0x20 or b in (0x22, 0x5C, 0x7F) or b >= 0x80 for b in path):
        return path
    out = bytearray(b'"')
    for b in path:
        if b in _C_NAMES:
            out += b"\\" + _C_NAMES[b].encode()
        elif b < 0x20 or b >= 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    return bytes(out + b'"')


# --- unified diffs with known counts ---------------------------------------------------------------

_CONTENT_PIECES = [
    b"a",
    b"b",
    b"same",
    b"--- a/x",
    b"+++ b/x",
    b"-- ",
    b"diff --git a/x b/x",
    b"@@ -1 +1 @@",
    b"\\ No newline at end of file",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"\r",
    b"\t",
    b"```",
    b"</details>",
    b"---",
    "\u202eتعديل".encode(),
    "日本".encode(),
    b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001",
]


def content_line() -> st.SearchStrategy[bytes]:
    """One line of file content without its end: diff look-alikes, NUL, invalid UTF-8, CR."""
    piece = st.one_of(
        st.sampled_from(_CONTENT_PIECES),
        st.binary(max_size=6).map(lambda b: b.replace(b"\n", b"")),
        unicode_text.map(lambda s: s.replace("\n", "").encode("utf-8")),
    )
    return st.lists(piece, max_size=4).map(b"".join)


@st.composite
def file_lines(draw: st.DrawFn, max_lines: int = 12) -> list[bytes]:
    """A file as lines with their ends: LF or CRLF, and maybe no newline at the end."""
    body = draw(st.lists(content_line(), max_size=max_lines))
    crlf = draw(st.booleans())
    lines = [ln + (b"\r\n" if crlf else b"\n") for ln in body]
    if draw(st.booleans()) and lines:
        lines[-1] = lines[-1].rstrip(b"\n")  # "\ No newline at end of file"
    return lines


@st.composite
def edited_lines(draw: st.DrawFn, old: list[bytes]) -> list[bytes]:
    """A new version of ``old``: lines kept, dropped, replaced and inserted."""
    new: list[bytes] = []
    for ln in old:
        op = draw(st.sampled_from(["keep", "keep", "keep", "drop", "replace", "insert"]))
        if op == "keep":
            new.append(ln)
        elif op == "replace":
            new.append(draw(content_line()) + b"\n")
        elif op == "insert":
            new.extend([ln, draw(content_line()) + b"\n"])
    if draw(st.booleans()):
        new.extend(ln + b"\n" for ln in draw(st.lists(content_line(), max_size=3)))
    if draw(st.booleans()) and new:
        new[-1] = new[-1].rstrip(b"\n")
    return new


@dataclass(frozen=True)
class Hunks:
    """Hunk text (from the first ``@@`` on, each line with its ``\\n``) and its counts."""

    text: bytes
    additions: int
    deletions: int


def make_hunks(old: Sequence[bytes], new: Sequence[bytes], context: int = 3, short: bool = True) -> Hunks:
    """The unified-diff hunks between two line lists (lines keep their ends; a last line without
    ``\\n`` gets git's ``\\ No newline at end of file`` marker). ``short`` omits ``,1`` counts."""
    sm = difflib.SequenceMatcher(None, list(old), list(new), autojunk=False)
    out: list[bytes] = []
    adds = dels = 0

    def emit(prefix: bytes, line: bytes) -> None:
        if line.endswith(b"\n"):
            out.append(prefix + line)
        else:
            out.append(prefix + line + b"\n\\ No newline at end of file\n")

    def rng(start: int, length: int) -> bytes:
        first = start + 1 if length else start
        if length == 1 and short:
            return b"%d" % first
        return b"%d,%d" % (first, length)

    for group in sm.get_grouped_opcodes(context):
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        out.append(b"@@ -" + rng(i1, i2 - i1) + b" +" + rng(j1, j2 - j1) + b" @@\n")
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                for ln in old[a1:a2]:
                    emit(b" ", ln)
                continue
            for ln in old[a1:a2]:
                emit(b"-", ln)
                dels += 1
            for ln in new[b1:b2]:
                emit(b"+", ln)
                adds += 1
    return Hunks(b"".join(out), adds, dels)


def expected_patch(hunks: bytes) -> str | None:
    """What a parser should keep as a file's ``patch``: the hunks without the final ``\\n``."""
    if not hunks:
        return None
    data = hunks[:-1] if hunks.endswith(b"\n") else hunks
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class FileSection:
    """One file's section of a generated ``git diff``, with what a parser must find in it."""

    text: bytes
    path: str
    previous_path: str | None
    status: str
    additions: int
    deletions: int
    patch: str | None
    binary: bool


def _ab(prefix: bytes, path: bytes) -> bytes:
    return git_quote(prefix + path)


def _minus_plus(old: bytes | None, new: bytes | None) -> bytes:
    def side(mark: bytes, prefix: bytes, p: bytes | None) -> bytes:
        if p is None:
            return mark + b" /dev/null\n"
        tab = b"\t" if b" " in p else b""
        return mark + b" " + _ab(prefix, p) + tab + b"\n"

    return side(b"---", b"a/", old) + side(b"+++", b"b/", new)


@st.composite
def git_file_section(draw: st.DrawFn, path: str | None = None) -> FileSection:
    """A file section as ``git diff`` writes it: modified, added, removed, renamed (with or without
    edits), mode change or binary, with hostile paths and contents."""
    path = path if path is not None else draw(file_path())
    p = path.encode("utf-8")
    kind = draw(st.sampled_from(["modified", "added", "removed", "renamed", "mode", "binary"]))
    old = draw(file_lines())
    head = b"diff --git " + _ab(b"a/", p) + b" " + _ab(b"b/", p) + b"\n"
    if kind == "mode":
        text = head + b"old mode 100644\nnew mode 100755\n"
        return FileSection(text, path, None, "changed", 0, 0, None, False)
    if kind == "binary":
        text = head + b"index 1111111..2222222 100644\nBinary files " + _ab(b"a/", p) + b" and "
        text += _ab(b"b/", p) + b" differ\n"
        return FileSection(text, path, None, "modified", 0, 0, None, True)
    if kind == "added":
        new = draw(file_lines())
        if not new:
            new = [b"x\n"]
        h = make_hunks([], new, short=draw(st.booleans()))
        text = head + b"new file mode 100644\nindex 0000000..2222222\n" + _minus_plus(None, p) + h.text
        return FileSection(text, path, None, "added", h.additions, 0, expected_patch(h.text), False)
    if kind == "removed":
        if not old:
            old = [b"x\n"]
        h = make_hunks(old, [], short=draw(st.booleans()))
        text = head + b"deleted file mode 100644\nindex 1111111..0000000\n" + _minus_plus(p, None) + h.text
        return FileSection(text, path, None, "removed", 0, h.deletions, expected_patch(h.text), False)
    new = draw(edited_lines(old))
    h = make_hunks(old, new, context=draw(st.integers(0, 3)), short=draw(st.booleans()))
    if kind == "renamed":
        prev = draw(file_path().filter(lambda q: q != path))
        q = prev.encode("utf-8")
        head = b"diff --git " + _ab(b"a/", q) + b" " + _ab(b"b/", p) + b"\n"
        text = head + b"similarity index 90%\nrename from " + git_quote(q) + b"\nrename to " + git_quote(p)
        text += b"\n"
        if h.text:
            text += b"index 1111111..2222222 100644\n" + _minus_plus(q, p) + h.text
        return FileSection(
            text, path, prev, "renamed", h.additions, h.deletions, expected_patch(h.text), False
        )
    if not h.text:  # no change at all: git shows nothing; make it a one-line edit
        old, new = [b"a\n"], [b"b\n"]
        h = make_hunks(old, new)
    text = head + b"index 1111111..2222222 100644\n" + _minus_plus(p, p) + h.text
    return FileSection(text, path, None, "modified", h.additions, h.deletions, expected_patch(h.text), False)


@st.composite
def git_diff(draw: st.DrawFn, max_files: int = 4) -> tuple[bytes, list[FileSection]]:
    """A whole ``git diff`` (optionally wrapped as a ``git format-patch`` mail) and its sections;
    paths are distinct."""
    paths = draw(st.lists(file_path(), min_size=1, max_size=max_files, unique=True))
    sections = [draw(git_file_section(p)) for p in paths]
    prevs = [s.previous_path for s in sections if s.previous_path]
    if len(set(prevs)) != len(prevs):
        sections = [s for s in sections if s.previous_path is None] or sections[:1]
    body = b"".join(s.text for s in sections)
    if draw(st.booleans()):
        body = (
            b"From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
            b"From: A <a@example.com>\nDate: Mon, 1 Jan 2024 12:00:00 +0000\nSubject: [PATCH] x\n\n"
            b"Body with --- and +++ lines\n---\n x | 2 +-\n\n" + body + b"-- \n2.39.5\n\n"
        )
    return body, sections


# --- Markdown documents ----------------------------------------------------------------------------

_WORDS = ["Azure", "model", "deploy", "the", "endpoint", "recieve", "receive", "its", "it's", "token", "SDK"]
words = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6).map(" ".join)
inline_text = st.one_of(words, words, hostile_line(4))


@st.composite
def md_block(draw: st.DrawFn) -> list[str]:
    """One Markdown block as lines: heading, paragraph, table, fence, alert, list, link, image,
    include, directive, comment or hostile lines."""
    kind = draw(
        st.sampled_from(
            [
                "heading",
                "setext",
                "para",
                "para",
                "table",
                "fence",
                "alert",
                "list",
                "links",
                "image",
                "include",
                "comment",
                "hostile",
                "blank",
            ]
        )
    )
    t = draw(inline_text)
    if kind == "heading":
        level = draw(st.integers(1, 7))
        return ["#" * level + " " + t + draw(st.sampled_from(["", " {#anchor}", " ##"]))]
    if kind == "setext":
        return [t, draw(st.sampled_from(["===", "---"]))]
    if kind == "para":
        return draw(st.lists(inline_text, min_size=1, max_size=3))
    if kind == "table":
        ncols = draw(st.integers(1, 4))
        header = "| " + " | ".join(draw(st.lists(words, min_size=ncols, max_size=ncols))) + " |"
        sep = "|" + "|".join(draw(st.sampled_from(["---", ":--", "--:", ":-:"])) for _ in range(ncols)) + "|"
        rows = [
            "| " + " | ".join(draw(st.lists(inline_text, min_size=ncols, max_size=ncols))) + " |"
            for _ in range(draw(st.integers(0, 4)))
        ]
        return [header, sep, *rows]
    if kind == "fence":
        mark = draw(st.sampled_from(["```", "````", "~~~"]))
        lang = draw(st.sampled_from(["", "python", "azurecli", "json"]))
        body = draw(st.lists(inline_text, max_size=4))
        close = [] if draw(st.integers(0, 4)) == 0 else [mark]
        return [mark + lang, *body, *close]
    if kind == "alert":
        return [f"> [!{draw(st.sampled_from(['NOTE', 'TIP', 'WARNING', 'caution']))}]", "> " + t]
    if kind == "list":
        return ["- " + x for x in draw(st.lists(inline_text, min_size=1, max_size=3))]
    if kind == "links":
        url = draw(st.sampled_from(["https://example.com/a", "../b.md", "#x", "https://e.com/(p)", ""]))
        return [f"See [{t}]({url}) and [ref][1].", f"[1]: {url}"]
    if kind == "image":
        return [
            f"![{t}](media/{draw(words)}.png)",
            f':::image type="content" source="m/{t}.png" alt-text="{t}":::',
        ]
    if kind == "include":
        return [f"[!INCLUDE [{t}](../includes/{draw(words)}.md)]"]
    if kind == "comment":
        return ["<!-- " + t + " -->"]
    if kind == "blank":
        return [""]
    return draw(st.lists(hostile_line(6), min_size=1, max_size=3))


@st.composite
def front_matter(draw: st.DrawFn) -> list[str]:
    keys = draw(
        st.lists(
            st.sampled_from(["title", "ms.date", "author", "description", "ms.topic", "date"]), unique=True
        )
    )
    lines = ["---"]
    for k in keys:
        v = draw(
            st.one_of(
                words,
                st.sampled_from(["01/02/2025", "2025-03-04", "'quoted: x'", '"dq"', "[a, b]", "", "~", "|"]),
                hostile_line(3),
            )
        )
        lines.append(f"{k}: {v}")
    if draw(st.booleans()):
        lines += ["tags:", "  - one", "  - two"]
    lines.append(draw(st.sampled_from(["---", "---", "...", "--- "])))
    return lines


@st.composite
def markdown_doc(draw: st.DrawFn) -> str:
    """A random Markdown document: optional front matter, then blocks separated by blank lines."""
    lines: list[str] = draw(front_matter()) if draw(st.booleans()) else []
    for block in draw(st.lists(md_block(), max_size=8)):
        lines.extend(block)
        if draw(st.booleans()):
            lines.append("")
    end = draw(st.sampled_from(["\n", "\n", "", "\r\n"]))
    return end.join(lines) + (end if lines else "")


@st.composite
def edited_doc(draw: st.DrawFn, old: str) -> str:
    """A new version of a Markdown document: lines kept, dropped, replaced, blocks inserted."""
    lines = old.split("\n")
    out: list[str] = []
    for ln in lines:
        op = draw(st.sampled_from(["keep", "keep", "keep", "keep", "drop", "edit", "block"]))
        if op == "keep":
            out.append(ln)
        elif op == "edit":
            words_ = ln.split(" ")
            if words_:
                i = draw(st.integers(0, len(words_) - 1))
                words_[i] = draw(st.sampled_from(_WORDS + ["**" + words_[i] + "**", "`x`", ""]))
            out.append(" ".join(words_))
        elif op == "block":
            out.append(ln)
            out.extend(draw(md_block()))
    return "\n".join(out)


# --- compare JSON ---------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    hostile_text(4),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["files", "sha"]), unicode_text), inner, max_size=4),
    ),
    max_leaves=20,
)

STATUSES = ["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]


@st.composite
def compare_file(draw: st.DrawFn, filename: str) -> dict[str, Any]:
    """One entry of a compare response's ``files``, its counts consistent with its patch."""
    status = draw(st.sampled_from(STATUSES))
    entry: dict[str, Any] = {"filename": filename, "status": status}
    if status in ("renamed", "copied"):
        entry["previous_filename"] = draw(file_path())
    if draw(st.integers(0, 5)) == 0:  # no patch: binary, too large, or a pure rename
        a, d = draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))
    else:
        old = draw(file_lines())
        new = draw(edited_lines(old))
        h = make_hunks(old, new)
        patch = expected_patch(h.text)
        if patch is not None:
            entry["patch"] = patch
        a, d = h.additions, h.deletions
    entry.update(additions=a, deletions=d, changes=a + d)
    if draw(st.booleans()):
        entry["sha"] = draw(st.text(alphabet="0123456789abcdef", min_size=40, max_size=40))
        entry["blob_url"] = "https://github.com/o/r/blob/x/" + filename
    return entry


@st.composite
def compare_document(draw: st.DrawFn) -> dict[str, Any]:
    """A valid compare response with hostile file names, permalinks and commit dates."""
    names = draw(st.lists(file_path(), min_size=0, max_size=4, unique=True))
    doc: dict[str, Any] = {"files": [draw(compare_file(n)) for n in names]}
    sha = st.text(alphabet="0123456789abcdef", min_size=7, max_size=40)
    if draw(st.booleans()):
        doc["permalink_url"] = draw(
            st.one_of(
                st.builds(
                    lambda o, b, h: f"https://github.com/{o}/docs/compare/{o}:{b}...{o}:{h}",
                    st.sampled_from(["Owner", "a-b", "x1"]),
                    sha,
                    sha,
                ),
                hostile_text(4),
            )
        )
    if draw(st.booleans()):
        doc["html_url"] = draw(hostile_text(3))
    if draw(st.booleans()):
        doc["merge_base_commit"] = {"sha": draw(sha)}
    if draw(st.booleans()):
        stamps = st.one_of(
            st.builds(
                lambda d, m: (
                    d.replace(microsecond=0).isoformat()
                    + (f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" if m else "Z")
                ),
                st.datetimes(),
                st.integers(-1439, 1439),
            ),
            st.sampled_from(
                [
                    "2025-04-23T17:30:00+02:00",
                    "2025-01-01T00:00:00Z",
                    "2025-01-01T00:00:00-23:59",
                    "0001-01-01T00:00:00+23:59",
                ]
            ),
        )
        doc["commits"] = [
            {"sha": draw(sha), "commit": {"committer": {"date": draw(stamps)}}}
            for _ in range(draw(st.integers(1, 3)))
        ]
    return doc


# --- TOML -------------------------------------------------------------------------------------------


def toml_string(s: str) -> str:
    """A TOML basic string holding ``s`` exactly."""
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v else "nan"
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{toml_string(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_document(data: dict[str, Any]) -> str:
    """Top-level scalars and arrays as ``key = value``, tables as ``[table]`` sections, lists of
    tables as ``[[name]]``."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for k, v in data.items():
        if isinstance(v, dict) or (isinstance(v, list) and v and all(isinstance(x, dict) for x in v)):
            tables.append((k, v))
        else:
            lines.append(f"{toml_string(k)} = {toml_value(v)}")
    for k, v in tables:
        items = v if isinstance(v, list) else [v]
        for item in items:
            lines.append(
                ("[[" if isinstance(v, list) else "[")
                + toml_string(k)
                + ("]]" if isinstance(v, list) else "]")
            )
            lines.extend(f"{toml_string(kk)} = {toml_value(vv)}" for kk, vv in item.items())
    return "\n".join(lines) + "\n"


_CONFIG_STRINGS = st.one_of(
    st.sampled_from(
        [
            "en_US",
            "ja_JP",
            "xx",
            "EN",
            "UTC",
            "Asia/Tokyo",
            "Not/AZone",
            "../etc",
            "facts",
            "llm",
            "articles/search",
            "**/media/**",
            "[z-a]",
            "[",
            "reports/{locale}/{category}.md",
            "reports/%Y/{category}-{locale}.md",
            "{locale}",
            "../{category}/{locale}",
            "/abs/{category}{locale}",
            "%Q{category}{locale}",
            "owner/name",
            "a/b/c",
            "http://example.com",
            "main",
            "",
        ]
    ),
    hostile_text(3),
)
_CONFIG_SCALARS = st.one_of(
    _CONFIG_STRINGS,
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(),
)
_CONFIG_VALUES = st.one_of(_CONFIG_SCALARS, st.lists(_CONFIG_SCALARS, max_size=3))
_KEYS = {
    "": [
        "locales",
        "out",
        "timezone",
        "engine",
        "repository",
        "categories",
        "catch_all",
        "llm",
        "source",
        "site",
        "repositories",
        "source_path",
    ],
    "catch_all": ["enabled", "name"],
    "llm": [
        "provider",
        "models",
        "api_key_file",
        "concurrency",
        "requests_per_minute",
        "tokens_per_minute",
        "max_calls",
        "timeout",
        "budget_tokens",
        "cache",
    ],
    "source": ["path", "branch", "mirror_dir"],
    "site": ["reports_dir", "out_dir", "title", "index_days", "base_url", "notice", "license", "license_url"],
    "repositories": [
        "source",
        "branch",
        "categories",
        "locales",
        "out",
        "engine",
        "timezone",
        "repository",
        "catch_all",
    ],
    "categories": ["openai", "search", "Search", "bad name", "a.b", "-x", "日本"],
}


@st.composite
def config_data(draw: st.DrawFn) -> dict[str, Any]:
    """A configuration as data: known keys (and some unknown ones) with valid and invalid values."""
    key = st.one_of(st.sampled_from(_KEYS[""]), unicode_text)
    data: dict[str, Any] = {}
    for k in draw(st.lists(key, max_size=6, unique=True)):
        if k == "categories":
            data[k] = {
                c: draw(st.one_of(st.lists(_CONFIG_STRINGS, max_size=3), _CONFIG_SCALARS))
                for c in draw(
                    st.lists(
                        st.one_of(st.sampled_from(_KEYS["categories"]), unicode_text), max_size=3, unique=True
                    )
                )
            }
        elif k in ("catch_all", "llm", "source", "site"):
            sub: dict[str, Any] = {
                s: draw(_CONFIG_VALUES)
                for s in draw(st.lists(st.sampled_from(_KEYS[k]), max_size=4, unique=True))
            }
            if k == "llm" and draw(st.booleans()):
                sub["models"] = {"file": draw(_CONFIG_STRINGS), "report": draw(_CONFIG_SCALARS)}
            data[k] = sub
        elif k == "repositories":
            data[k] = [
                {
                    s: draw(_CONFIG_VALUES)
                    for s in draw(st.lists(st.sampled_from(_KEYS[k]), max_size=4, unique=True))
                }
                for _ in range(draw(st.integers(1, 2)))
            ]
        elif k == "locales":
            data[k] = draw(st.lists(_CONFIG_STRINGS, max_size=4))
        else:
            data[k] = draw(_CONFIG_VALUES)
    return data


def modified_section(path: str, old: Sequence[bytes], new: Sequence[bytes]) -> FileSection | None:
    """The ``git diff`` section of an in-place edit of ``path`` (None when nothing changed)."""
    h = make_hunks(old, new)
    if not h.text:
        return None
    p = path.encode("utf-8")
    text = b"diff --git " + _ab(b"a/", p) + b" " + _ab(b"b/", p) + b"\nindex 1111111..2222222 100644\n"
    text += _minus_plus(p, p) + h.text
    return FileSection(text, path, None, "modified", h.additions, h.deletions, expected_patch(h.text), False)
