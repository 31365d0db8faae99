"""Safe HTML for report content: Markdown prose (markdown-it-py, raw HTML off, only http(s),
mailto and in-page anchor links) and diffs (Pygments ``diff`` lexer; very long diffs get a cheap
per-line colouring instead, complete and escaped)."""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

HIGHLIGHT_MAX_LINES = 3000
"""Diffs with more lines than this are coloured per line without Pygments (same classes)."""
HIGHLIGHT_MAX_CHARS = 400_000

_SAFE_LINK = re.compile(r"(?:https?://|mailto:|#)[^\s]*", re.I)


def _validate_link(url: str) -> bool:
    return _SAFE_LINK.match(url.strip()) is not None


def _make_md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.disable("image")
    md.validateLink = _validate_link  # type: ignore[method-assign]
    return md


_MD = _make_md()


_HIGHLIGHT_HEADINGS = {
    "## New features": "new_features",
    "## Breaking changes": "breaking_changes",
    "## Other updates": "other_updates",
}


def localize_highlights(text: str, strings: dict[str, str]) -> str:
    """The report's fixed ``## New features`` … sub-headings (English in every locale, as in the
    seed format) as headings in the page's language, one level below the section (h1 → h3)."""
    return "\n".join(
        f"# {strings[_HIGHLIGHT_HEADINGS[line]]}" if line in _HIGHLIGHT_HEADINGS else line
        for line in text.split("\n")
    )


@lru_cache(maxsize=8192)
def markdown(text: str) -> Markup:
    """Markdown prose → safe HTML (any HTML in ``text`` shows as text)."""
    if not text:
        return Markup("")
    tokens = _MD.parse(text)
    for tok in tokens:  # the page has its own h1/h2: report headings start at h3
        if tok.type in ("heading_open", "heading_close"):
            tok.tag = f"h{min(6, int(tok.tag[1]) + 2)}"
    html = _MD.renderer.render(tokens, _MD.options, {})
    # tables from reports can be wide: let them scroll on their own
    html = html.replace("<table>", '<div class="table-wrap"><table>').replace("</table>", "</table></div>")
    return Markup(html)


_FORMATTER = HtmlFormatter(nowrap=True)
_LEXER = DiffLexer(stripnl=False, ensurenl=True)


def _line_class(line: str) -> str | None:
    if line.startswith("+"):
        return "gi"
    if line.startswith("-"):
        return "gd"
    if line.startswith("@@"):
        return "gu"
    if line.startswith(("rename ", "diff ", "index ", "Binary ")):
        return "gh"
    return None


def _plain_diff(diff: str) -> str:
    out: list[str] = []
    for line in diff.splitlines(keepends=True):
        body = line.rstrip("\n")
        cls = _line_class(body)
        esc = str(escape(body))
        out.append(f'<span class="{cls}">{esc}</span>\n' if cls else esc + "\n")
    return "".join(out)


@lru_cache(maxsize=256)
def highlight_diff(diff: str) -> tuple[Markup, bool]:
    """``(html, highlighted)``: the diff as the inside of ``<div class="highlight"><pre>``;
    ``highlighted`` is false when it was too long for Pygments."""
    lines = diff.count("\n")
    if lines > HIGHLIGHT_MAX_LINES or len(diff) > HIGHLIGHT_MAX_CHARS:
        return Markup(_plain_diff(diff)), False
    return Markup(highlight(diff, _LEXER, _FORMATTER)), True
