"""A link checker for a built site, in plain Python (no browser): every relative ``href``/``src`` of
every HTML page must name a file of the site, and every ``#fragment`` an ``id`` in that file.

Reusable from bench scripts: ``python -m tests.site_links SITE_DIR`` prints the broken links and exits
with 1 when there are any.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})
"""Schemes of links that leave the site (not followed; the site may link to GitHub)."""
LINK_ATTRIBUTES = {
    "a": ("href",),
    "link": ("href",),
    "area": ("href",),
    "script": ("src",),
    "img": ("src",),
    "source": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "object": ("data",),
    "form": ("action",),
}
"""Attributes that reference another resource, per element; ``data-index`` counts on any element."""


@dataclass
class PageLinks:
    """The ids and outgoing references of one HTML file."""

    ids: set[str] = field(default_factory=set)
    refs: list[tuple[str, str, str]] = field(default_factory=list)
    """(element, attribute, value) for every reference."""
    duplicate_ids: set[str] = field(default_factory=set)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links = PageLinks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = LINK_ATTRIBUTES.get(tag, ())
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                if name == "id" and value in self.links.ids:
                    self.links.duplicate_ids.add(value)
                self.links.ids.add(value)
            elif name in wanted or name == "data-index":
                self.links.refs.append((tag, name, value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def parse_page(path: Path) -> PageLinks:
    """The ids and references of the HTML file at ``path``."""
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    collector.close()
    return collector.links


@dataclass
class LinkReport:
    """What :func:`check_links` found."""

    pages: int = 0
    checked: int = 0
    """Relative references resolved (fragments included)."""
    external: int = 0
    problems: list[str] = field(default_factory=list)


def _resolve(site: Path, page: Path, target: str) -> Path | None:
    """The file a relative URL path names, or None when it leaves ``site``."""
    resolved = (page.parent / unquote(target)).resolve() if target else page.resolve()
    root = site.resolve()
    if resolved != root and root not in resolved.parents:
        return None
    if resolved.is_dir():
        resolved = resolved / "index.html"
    return resolved


def check_links(site: Path, pages: Iterable[Path] | None = None) -> LinkReport:
    """Check every reference of every ``*.html`` under ``site`` (or of ``pages``).

    A problem is: an absolute path (``/x``) or a scheme other than http/https/mailto (``javascript:``,
    ``data:``, ``file:``) in a reference, a target outside the site or missing, a fragment that is no
    ``id`` of its target page, or a duplicate ``id`` within a page.
    """
    site = Path(site)
    report = LinkReport()
    cache: dict[Path, PageLinks] = {}

    def links_of(path: Path) -> PageLinks:
        if path not in cache:
            cache[path] = parse_page(path)
        return cache[path]

    for page in sorted(pages if pages is not None else site.rglob("*.html")):
        report.pages += 1
        rel_page = page.relative_to(site).as_posix()
        links = links_of(page)
        for dup in sorted(links.duplicate_ids):
            report.problems.append(f"{rel_page}: duplicate id {dup!r}")
        for tag, attr, value in links.refs:
            where = f"{rel_page}: <{tag} {attr}={value!r}>"
            url = value.strip()
            parts = urlsplit(url)
            if parts.scheme in EXTERNAL_SCHEMES:
                report.external += 1
                continue
            if parts.scheme or parts.netloc:
                report.problems.append(f"{where}: not a relative link")
                continue
            if parts.path.startswith("/"):
                report.problems.append(f"{where}: absolute path (the site must work from any base path)")
                continue
            report.checked += 1
            target = _resolve(site, page, parts.path)
            if target is None:
                report.problems.append(f"{where}: leaves the site")
                continue
            if not target.is_file():
                report.problems.append(
                    f"{where}: {target.relative_to(site.resolve()).as_posix()} does not exist"
                )
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html" and fragment not in links_of(target).ids:
                report.problems.append(f"{where}: no id {fragment!r} in {target.name}")
    return report


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.site_links SITE_DIR", file=sys.stderr)
        return 2
    report = check_links(Path(argv[0]))
    for line in report.problems:
        print(line)
    print(
        f"{report.pages} pages, {report.checked} relative links checked, {report.external} external, "
        f"{len(report.problems)} problems",
        file=sys.stderr,
    )
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
