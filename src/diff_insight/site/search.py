"""The per-locale search index: a compact JSON list that static/search.js searches in the browser."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence

from diff_insight.site.model import SiteReport

MAX_TITLES = 40
"""Change titles kept per report (the index stays small for reports of hundreds of files)."""


def search_index(locale: str, reports: Sequence[SiteReport]) -> str:
    """JSON: ``{"v": 1, "r": [{"u", "t", "s", "d", "c", "f", "x"}, …]}``, newest first. ``u`` is
    relative to the index file (``{locale}/search-index.json``); ``f`` file paths, ``x`` change
    titles (unique, at most :data:`MAX_TITLES`)."""
    rows = []
    for r in sorted(reports, key=lambda r: r.sort_key, reverse=True):
        titles: list[str] = []
        seen: set[str] = set()
        for f in r.files:
            if f.title not in seen and len(titles) < MAX_TITLES:
                seen.add(f.title)
                titles.append(f.title)
        paths = sorted({f.path for f in r.files} | {f.previous_path for f in r.files if f.previous_path})
        rows.append(
            {
                "u": posixpath.relpath(r.page, locale),
                "t": r.title,
                "s": r.summary,
                "d": r.day.isoformat(),
                "c": r.category,
                "f": paths,
                "x": titles,
            }
        )
    return json.dumps({"v": 1, "r": rows}, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
