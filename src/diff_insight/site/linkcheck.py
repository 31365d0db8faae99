"""Internal link check of a built site: every relative ``href``/``src``/``data-index`` of every
HTML page must name a file of the site, and every ``#fragment`` an id on its target page."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if value is not None and name in ("href", "src", "data-index"):
                self.links.append(value)


def check_links(site_dir: Path) -> tuple[int, list[str]]:
    """``(links checked, broken links as "page -> link")``. Absolute URLs (with a scheme or host)
    are not checked."""
    pages: dict[Path, _Collector] = {}
    for dirpath, _dirs, files in os.walk(site_dir):
        for name in files:
            if name.endswith(".html"):
                path = Path(dirpath) / name
                c = _Collector()
                c.feed(path.read_text(encoding="utf-8"))
                c.close()
                pages[path.resolve()] = c
    root = site_dir.resolve()
    broken: list[str] = []
    checked = 0
    exists: dict[Path, bool] = {}
    for page, c in sorted(pages.items()):
        for link in c.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            checked += 1
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            where = f"{page.relative_to(root).as_posix()} -> {link}"
            if target not in exists:
                exists[target] = target.is_relative_to(root) and target.is_file()
            if not exists[target]:
                broken.append(where)
                continue
            if parts.fragment:
                other = pages.get(target)
                if other is None or parts.fragment not in other.ids:
                    broken.append(where)
    return checked, broken
