"""Sorting changed files into report categories.

A category is a name and a list of patterns (see :class:`~diff_insight.config.Config`). A pattern
is either

* a **path prefix** (no ``*``, ``?`` or ``[``): ``articles/search`` matches ``articles/search``
  itself and everything below it (``articles/search/x.md``), but not ``articles/searchable/x.md``.
  A trailing ``/`` is ignored.
* a **glob** (contains ``*``, ``?`` or ``[``), matched against whole path components:

  - ``*`` matches any run of characters except ``/``; ``?`` one character except ``/``;
  - ``[abc]``, ``[a-z]``, ``[!abc]`` / ``[^abc]`` match one character (never ``/``) of / not of
    the set; a ``[`` without a closing ``]`` is a literal ``[``;
  - ``**/`` at the start of a component matches zero or more directories (``**/index.md``
    matches ``index.md`` and ``a/b/index.md``); any other ``**`` matches anything, ``/``
    included (``articles/**`` matches every file below ``articles``).

  Like a prefix, a glob that matches a directory also matches everything below it:
  ``articles/ai-*`` matches ``articles/ai-services/openai/x.md``.

Matching is case-sensitive. Categories are tried in configuration order and the first one with
a matching pattern wins. A file that matches no category goes to the catch-all category when it
is enabled, and is left out otherwise. With no categories configured, every file goes to one
category named :data:`DEFAULT_CATEGORY`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diff_insight.config import Config

DEFAULT_CATEGORY = "all"
"""The single category used when the configuration defines none."""

GLOB_CHARS = frozenset("*?[")

Matcher = Callable[[str], bool]


def is_glob(pattern: str) -> bool:
    """Whether ``pattern`` is a glob (contains ``*``, ``?`` or ``[``) rather than a path prefix."""
    return any(c in GLOB_CHARS for c in pattern)


def _check_pattern(pattern: str) -> str:
    """Validate a pattern's shape; return it without trailing ``/``. Raises ValueError."""
    if not pattern.strip():
        raise ValueError("empty pattern")
    if pattern != pattern.strip():
        raise ValueError(f"pattern {pattern!r} has leading or trailing whitespace")
    if "\0" in pattern:
        raise ValueError(f"pattern {pattern!r} contains a NUL character")
    if "\\" in pattern:
        raise ValueError(f"pattern {pattern!r} contains a backslash; use / to separate directories")
    if pattern.startswith("/"):
        raise ValueError(f"pattern {pattern!r} starts with '/'; patterns are relative to the repository root")
    stripped = pattern.rstrip("/")
    components = stripped.split("/")
    if any(c in (".", "..") for c in components):
        raise ValueError(f"pattern {pattern!r} contains a '.' or '..' component")
    if "" in components:
        raise ValueError(f"pattern {pattern!r} contains an empty component ('//')")
    return stripped


def _translate_class(body: str, pattern: str) -> str:
    """Regex for the inside of a ``[...]`` class (without brackets), negation already removed."""
    items: list[str] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = body[k], body[k + 2]
            if lo > hi:
                raise ValueError(f"pattern {pattern!r} has an invalid range {lo}-{hi} in a [...] class")
            items.append(f"{re.escape(lo)}-{re.escape(hi)}")
            k += 3
        else:
            items.append(re.escape(body[k]))
            k += 1
    return "".join(items)


def glob_to_regex(glob: str) -> str:
    """Translate a glob (see the module docstring) into a regex matching exactly the same strings.

    The result matches the glob alone; :func:`compile_pattern` adds "or anything below it".
    Raises ValueError for an invalid character range such as ``[z-a]``.
    """
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            j = i
            while j < n and glob[j] == "*":
                j += 1
            if j - i == 1:
                out.append("[^/]*")
            elif (i == 0 or glob[i - 1] == "/") and j < n and glob[j] == "/":
                out.append("(?:[^/]+/)*")
                j += 1  # the '/' is part of the repetition
            else:
                out.append(".*")
            i = j
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = i + 1
            negate = j < n and glob[j] in "!^"
            if negate:
                j += 1
            if j < n and glob[j] == "]":  # a leading ']' is literal
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal '['
                out.append(re.escape(c))
                i += 1
                continue
            start = i + 1 + (1 if negate else 0)
            body = _translate_class(glob[start:j], glob)
            out.append(f"(?!/)[{'^' if negate else ''}{body}]")
            i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> Matcher:
    """A predicate telling whether a repository path matches ``pattern``.

    Raises ValueError (with the pattern and the reason) for an invalid pattern: empty, with
    leading/trailing whitespace, NUL, backslash, a leading ``/``, ``.``/``..``/empty components, or
    an invalid ``[...]`` range.
    """
    stripped = _check_pattern(pattern)
    if not is_glob(stripped):
        prefix = stripped + "/"
        return lambda path: path == stripped or path.startswith(prefix)
    regex = re.compile(f"(?:{glob_to_regex(stripped)})(?:/.*)?", re.DOTALL)
    return lambda path: regex.fullmatch(path) is not None


class Categorizer:
    """Assigns each changed file to a category of a validated :class:`Config`."""

    def __init__(self, config: Config) -> None:
        self._rules: list[tuple[str, list[Matcher]]] = [
            (name, [compile_pattern(p) for p in patterns]) for name, patterns in config.categories.items()
        ]
        self._fallback: str | None
        if not self._rules:
            self._fallback = DEFAULT_CATEGORY
        elif config.catch_all.enabled:
            self._fallback = config.catch_all.name
        else:
            self._fallback = None
        order = [name for name, _ in self._rules]
        if self._fallback is not None and self._fallback not in order:
            order.append(self._fallback)
        self._order: tuple[str, ...] = tuple(order)

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category a file can land in, in report order (the catch-all last, unless it
        shares its name with a configured category, which it then merges into)."""
        return self._order

    def category_of(self, path: str) -> str | None:
        """The category of a repository path (for a rename: the new path); ``None`` = left out."""
        for name, matchers in self._rules:
            if any(match(path) for match in matchers):
                return name
        return self._fallback

    def split(self, paths: Iterable[str]) -> tuple[dict[str, list[int]], list[int]]:
        """Group the indexes of ``paths`` by category.

        Returns ``(groups, left_out)``: ``groups`` maps category names, in :attr:`categories`
        order, to the indexes of their files in input order (categories without files are
        omitted); ``left_out`` lists the indexes of files that match no category while the
        catch-all is disabled.
        """
        groups: dict[str, list[int]] = {name: [] for name in self._order}
        left_out: list[int] = []
        for index, path in enumerate(paths):
            category = self.category_of(path)
            if category is None:
                left_out.append(index)
            else:
                groups[category].append(index)
        return {name: indexes for name, indexes in groups.items() if indexes}, left_out
