"""Every relative link of the built sample site resolves: the target file exists and its ``#fragment``
is an id in it (plain Python over the built files, no browser); and the checker itself finds what it
should."""

from __future__ import annotations

from pathlib import Path

from tests.site_helpers import SampleSite
from tests.site_links import check_links

pytest_plugins = ["tests.browser"]


def test_sample_site_has_no_broken_links(sample_site: SampleSite) -> None:
    site = sample_site.site_dir
    report = check_links(site)
    assert report.problems == []
    # it looked at a real site: every page type, anchors included
    assert report.pages >= 3 * 4
    assert report.checked >= report.pages * 5
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    for locale in ("ja_JP", "zh_CN", "en_US"):
        assert {f"{locale}/index.html", f"{locale}/archive.html", f"{locale}/about.html"} <= pages
        assert any(p.startswith(f"{locale}/reports/") for p in pages)
        assert any(p.startswith(f"{locale}/category/") for p in pages)


def _page(root: Path, rel: str, body: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{body}</body></html>", encoding="utf-8")
    return path


def test_checker_finds_each_kind_of_broken_link(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _page(site, "index.html", '<a href="en_US/index.html">en</a><a href="en_US/">dir</a>')
    _page(
        site,
        "en_US/index.html",
        '<link rel="stylesheet" href="../static/site.css"><section id="top"></section>'
        '<a href="#top">ok</a><a href="reports/2025-01-01/a.html#item-000001">ok</a>'
        '<a href="https://github.com/x/y">external</a><a href="mailto:a@example.com">mail</a>'
        '<a href="reports/2025-01-01/missing.html">missing</a>'
        '<a href="reports/2025-01-01/a.html#item-ffffff">bad fragment</a>'
        '<a href="#nowhere">bad local fragment</a>'
        '<a href="/en_US/index.html">absolute</a>'
        '<a href="javascript:alert(1)">script</a>'
        '<img src="data:image/png;base64,AAAA">'
        '<a href="../../outside.html">outside</a>'
        '<form class="search" data-index="search-index.json"></form>'
        '<script src="../static/search.js"></script>',
    )
    _page(
        site,
        "en_US/reports/2025-01-01/a.html",
        '<section id="item-000001"></section><p id="x"></p><i id="x">',
    )
    (site / "static").mkdir()
    (site / "static/site.css").write_text("", encoding="utf-8")
    (site / "en_US/search-index.json").write_text("[]", encoding="utf-8")
    report = check_links(site)
    problems = "\n".join(report.problems)
    assert "missing.html does not exist" in problems
    assert "no id 'item-ffffff' in a.html" in problems
    assert "no id 'nowhere' in index.html" in problems
    assert "absolute path" in problems
    assert "'javascript:alert(1)'>: not a relative link" in problems
    assert "data:image/png" in problems
    assert "leaves the site" in problems
    assert "static/search.js does not exist" in problems
    assert "duplicate id 'x'" in problems
    assert len(report.problems) == 9, problems
    assert report.external == 2
    (site / "static/search.js").write_text("", encoding="utf-8")
    assert len(check_links(site).problems) == 8
