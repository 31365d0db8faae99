"""The static website of the reports: ``diff-insight site build`` and ``site serve``.

Data flows one way: report files → :mod:`~diff_insight.site.model` (frozen dataclasses) →
:mod:`~diff_insight.site.builder` (pages, feeds, search index) → files in OUT_DIR.
"""

from __future__ import annotations

from diff_insight.site.builder import MANIFEST, BuildSummary, build_site
from diff_insight.site.paths import resolve_dirs

__all__ = ["MANIFEST", "BuildSummary", "build_site", "resolve_dirs"]
