"""The built sample site in headless Chromium, as a reader uses it: the landing page, each locale's
index of the latest days, report pages opened by clicking, diffs that open on click and are
highlighted, summary-table anchors, search (paths and Japanese titles), the language switch, the
archive, category and about pages, and a phone viewport without horizontal scrolling.

Every page is guarded (see ``tests/browser.py``): a console error, a page error, a dialog, an HTTP
error or any request that would leave 127.0.0.1 fails the test. Expectations come from the report
files themselves (parsed with our renderer's parser), not from the site.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from tests.browser import PHONE, GuardedPage, OpenPage, SiteServer, horizontal_overflow
from tests.site_helpers import (
    BINARY_FILE,
    HUGE_FILE,
    HUGE_LINES,
    LOCALES,
    RENAMED_FROM,
    RENAMED_TO,
    SampleSite,
)

from diff_insight.config import SiteConfig
from diff_insight.render.markdown import parse_report
from diff_insight.site import build_site

pytest_plugins = ["tests.browser"]

INDEX_DAYS = 5
"""``[site] index_days`` default."""
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{2,}")


def bcp47(locale: str) -> str:
    return locale.replace("_", "-")


@dataclass(frozen=True)
class Expected:
    """One report file, as the site must show it."""

    locale: str
    day: date
    category: str
    page: str
    paths: tuple[str, ...]
    titles: tuple[str, ...]
    diffs: tuple[str, ...]


def _expected(reports_dir: Path) -> list[Expected]:
    out: list[Expected] = []
    for path in sorted(reports_dir.rglob("*.md")):
        rep = parse_report(path.read_text(encoding="utf-8"))
        fm = rep.front_matter
        day = date.fromisoformat(str(fm["date"]))
        out.append(
            Expected(
                locale=fm["locale"],
                day=day,
                category=fm["category"],
                page=f"{fm['locale']}/reports/{day.isoformat()}/{fm['category']}.html",
                paths=tuple(f.path for f in rep.files),
                titles=tuple(f.title for f in rep.files),
                diffs=tuple(f.diff for f in rep.files),
            )
        )
    pages = [e.page for e in out]
    assert len(set(pages)) == len(pages), "the sample has two reports for one (locale, day, category)"
    return out


@pytest.fixture(scope="module")
def expected(sample_site: SampleSite) -> list[Expected]:
    reports = _expected(sample_site.reports_dir)
    assert {r.locale for r in reports} == set(LOCALES)
    return reports


@pytest.fixture(scope="module")
def server(sample_site: SampleSite) -> Iterator[SiteServer]:
    with SiteServer(sample_site.site_dir) as srv:
        yield srv


def _of(expected: list[Expected], locale: str) -> list[Expected]:
    return [e for e in expected if e.locale == locale]


def _hrefs(gp: GuardedPage, selector: str) -> list[str]:
    """Site-relative paths of the links matching ``selector`` (resolved by the browser)."""
    urls = gp.page.locator(selector).evaluate_all("as => as.map(a => a.href)")
    return [gp.server.path_of(u).split("#")[0] for u in urls]


def _lang(gp: GuardedPage) -> str:
    return str(gp.page.evaluate("document.documentElement.lang"))


# ---------------------------------------------------------------------------------------------------


def test_landing_page_links_every_locale(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    gp = open_page(server, "index.html")
    for locale in LOCALES:
        assert _hrefs(gp, f'main a[hreflang="{bcp47(locale)}"]') == [f"{locale}/index.html"], locale
    gp.page.locator('main a[hreflang="ja-JP"]').click()
    gp.page.wait_for_url(server.url("ja_JP/index.html"))
    assert _lang(gp) == "ja-JP"
    ja_days = {e.day for e in _of(expected, "ja_JP")}
    assert gp.page.locator("section.day").count() == min(len(ja_days), INDEX_DAYS) == 3
    gp.guard.check()


@pytest.mark.parametrize("locale", LOCALES)
def test_locale_index_lists_the_latest_days_newest_first(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    gp = open_page(server, f"{locale}/index.html")
    assert _lang(gp) == bcp47(locale)
    by_day: dict[date, set[str]] = defaultdict(set)
    for e in _of(expected, locale):
        by_day[e.day].add(e.page)
    days = sorted(by_day, reverse=True)[:INDEX_DAYS]
    sections = gp.page.locator("section.day")
    assert sections.count() == len(days)
    shown = sections.locator("h2 time[datetime]").evaluate_all(
        "ts => ts.map(t => t.getAttribute('datetime'))"
    )
    assert shown == [d.isoformat() for d in days]
    for i, day in enumerate(days):
        section = sections.nth(i)
        label = section.locator("time").inner_text()
        assert label.strip(), "a day without its date"
        if locale != "en_US":  # a localized date, not the ISO one
            assert f"{day.month}月" in label and f"{day.day}日" in label, label
        items = section.locator("li.report-item")
        assert items.count() == len(by_day[day])
        assert set(_hrefs(gp, f"section.day >> nth={i} >> li.report-item a[href*='reports/']")) == by_day[day]
        for j in range(items.count()):
            assert items.nth(j).locator(".summary").inner_text().strip(), "a report item without summary"
    gp.guard.check()


def test_index_shows_only_index_days(sample_site: SampleSite, tmp_path: Path) -> None:
    """With ``[site] index_days = 2`` the index keeps the two newest days (no browser needed; the
    en_US reports only, to keep it quick)."""
    reports = tmp_path / "reports"
    shutil.copytree(sample_site.reports_dir / "en_US", reports / "en_US")
    build_site(reports, tmp_path / "site", SiteConfig(index_days=2))
    days = sorted({e.day for e in _expected(reports)}, reverse=True)
    assert len(days) > 2
    html = (tmp_path / "site/en_US/index.html").read_text(encoding="utf-8")
    assert html.count('<section class="day">') == 2
    assert re.findall(r'<time datetime="([0-9-]+)"', html) == [d.isoformat() for d in days[:2]]


@pytest.mark.parametrize("locale", ["ja_JP", "en_US"])
def test_report_opens_from_the_index_by_click(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    gp = open_page(server, f"{locale}/index.html")
    link = gp.page.locator("section.day li.report-item a[href*='reports/']").first
    target = gp.server.path_of(link.evaluate("a => a.href"))
    link.click()
    gp.page.wait_for_url(server.url(target))
    report = next(e for e in expected if e.page == target)
    article = gp.page.locator("article.report")
    assert article.is_visible()
    assert report.category in article.locator("header").inner_text()
    assert gp.page.locator("article.report aside.notice").is_visible()
    headings = gp.page.locator("section.file h3").all_inner_texts()
    assert [h.strip() for h in headings] == list(report.paths)
    gp.guard.check()


def _report_with_both_kinds(expected: list[Expected], locale: str) -> tuple[Expected, int]:
    for e in _of(expected, locale):
        for i, diff in enumerate(e.diffs):
            lines = diff.splitlines()
            if (
                any(x.startswith("+") for x in lines)
                and any(x.startswith("-") for x in lines)
                and len(lines) < 200
            ):
                return e, i
    raise AssertionError("the sample has no small diff with both added and removed lines")


def test_diffs_are_closed_and_open_highlighted_on_click(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    report, index = _report_with_both_kinds(expected, "en_US")
    gp = open_page(server, report.page)
    details = gp.page.locator("details.diff")
    assert details.count() == sum(1 for d in report.diffs if d)
    assert details.evaluate_all("ds => ds.filter(d => d.open).length") == 0, "a diff is open by default"
    section = gp.page.locator("section.file").nth(index)
    assert section.locator("h3").inner_text().strip() == report.paths[index]
    diff = section.locator("details.diff")
    pre = diff.locator(".highlight pre")
    assert not pre.is_visible()
    diff.locator("summary").click()
    assert diff.evaluate("d => d.open")
    assert pre.is_visible()
    added, removed = pre.locator("span.gi").first, pre.locator("span.gd").first
    assert added.is_visible() and removed.is_visible()
    colours = [
        s.evaluate("e => { const c = getComputedStyle(e); return [c.color, c.backgroundColor]; }")
        for s in (added, removed)
    ]
    assert colours[0] != colours[1], f"added and removed lines look the same: {colours}"
    plain = pre.evaluate("p => getComputedStyle(p).color")
    assert colours[0][0] != plain or colours[0][1] != "rgba(0, 0, 0, 0)", "added lines are not highlighted"
    # every line of the diff is on the page
    text = pre.inner_text()
    for line in report.diffs[index].splitlines():
        assert line.rstrip() in text, line
    diff.locator("summary").click()
    assert not pre.is_visible()
    gp.guard.check()


def test_huge_diff_opens_complete(server: SiteServer, open_page: OpenPage, expected: list[Expected]) -> None:
    report = next(e for e in _of(expected, "zh_CN") if HUGE_FILE in e.paths)
    gp = open_page(server, report.page)
    i = report.paths.index(HUGE_FILE)
    diff = gp.page.locator("section.file").nth(i).locator("details.diff")
    diff.locator("summary").click()
    pre = diff.locator("pre")
    assert pre.is_visible()
    lines = pre.evaluate("p => p.textContent.split('\\n').filter(l => l.startsWith('+')).length")
    assert lines >= HUGE_LINES
    assert f"Row {HUGE_LINES - 1}: <i>{HUGE_LINES - 1}</i> & more" in pre.evaluate("p => p.textContent")
    assert pre.locator("span.gi").count() >= HUGE_LINES
    gp.guard.check()


def test_summary_table_links_scroll_to_their_sections(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    report = max(_of(expected, "ja_JP"), key=lambda e: len(e.paths))
    assert len(report.paths) >= 2
    gp = open_page(server, None, viewport={"width": 1000, "height": 500})
    gp.goto(report.page)
    links = gp.page.locator("table.summary a[href^='#']")
    anchors = links.evaluate_all("as => as.map(a => a.getAttribute('href').slice(1))")
    assert len(anchors) == len(report.paths)
    for anchor in anchors:
        assert gp.page.locator(f"section.file[id='{anchor}']").count() == 1, anchor
    last = anchors[-1]
    top = f"document.getElementById('{last}').getBoundingClientRect().top"
    assert gp.page.evaluate(top) > gp.page.evaluate("innerHeight"), "the last section is not below the fold"
    links.last.click()
    gp.page.wait_for_function(f"location.hash === '#{last}'")
    gp.page.wait_for_function(f"{top} >= -2 && {top} < innerHeight / 2")
    assert gp.page.evaluate("scrollY") > 0
    gp.guard.check()


def _unique_path(expected: list[Expected], locale: str) -> tuple[str, Expected]:
    mine = _of(expected, locale)
    for e in mine:
        for path in e.paths:
            if sum(path in other.paths for other in mine) == 1 and "<" not in path:
                return path, e
    raise AssertionError("no file path unique to one report")


def _search(gp: GuardedPage, query: str) -> list[str]:
    gp.page.locator("#search").fill(query)
    gp.page.locator("#search-results li a").first.wait_for(state="visible")
    return _hrefs(gp, "#search-results li a")


@pytest.mark.parametrize("locale", LOCALES)
def test_search_finds_a_file_path(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    path, report = _unique_path(expected, locale)
    gp = open_page(server, f"{locale}/archive.html")
    results = _search(gp, path)
    assert report.page in results, (path, results)
    gp.page.locator("#search-results li a").nth(results.index(report.page)).click()
    gp.page.wait_for_url(server.url(report.page))
    assert path in gp.page.locator("section.file h3").all_inner_texts()
    gp.guard.check()


def test_search_finds_a_japanese_title_fragment(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    mine = _of(expected, "ja_JP")
    fragments = {m for e in mine for t in e.titles for m in CJK.findall(t)}
    assert fragments, "no Japanese titles in the ja_JP reports"

    def holders(fragment: str) -> set[str]:
        return {e.page for e in mine if any(fragment in t for t in e.titles)}

    fragment = min(fragments, key=lambda f: (len(holders(f)), -len(f), f))
    gp = open_page(server, "ja_JP/index.html")
    results = _search(gp, fragment)
    assert holders(fragment) <= set(results), (fragment, results)
    gp.guard.check()


def test_search_without_match_says_so(server: SiteServer, open_page: OpenPage) -> None:
    gp = open_page(server, "en_US/index.html")
    gp.page.locator("#search").fill("zzzz-no-such-thing")
    gp.page.locator("#search-results li").first.wait_for(state="visible")
    assert gp.page.locator("#search-results a").count() == 0
    gp.guard.check()


def test_language_switch_keeps_the_report(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    report = max(_of(expected, "ja_JP"), key=lambda e: len(e.paths))
    gp = open_page(server, report.page)
    current = "ja_JP"
    for target in ("en_US", "zh_CN", "ja_JP"):
        langs = gp.page.locator("nav.lang a[hreflang]")
        offered = langs.evaluate_all("as => as.map(a => a.getAttribute('hreflang'))")
        assert sorted(offered) == sorted(bcp47(x) for x in LOCALES if x != current), offered
        gp.page.locator(f"nav.lang a[hreflang='{bcp47(target)}']").click()
        page = report.page.replace("ja_JP/", f"{target}/", 1)
        gp.page.wait_for_url(server.url(page))
        assert _lang(gp) == bcp47(target)
        assert gp.page.locator("section.file h3").all_inner_texts() == list(report.paths)
        current = target
    gp.guard.check()


@pytest.mark.parametrize("page", ["index.html", "category/guide.html"])
def test_language_switch_keeps_the_page(server: SiteServer, open_page: OpenPage, page: str) -> None:
    gp = open_page(server, f"zh_CN/{page}")
    gp.page.locator("nav.lang a[hreflang='ja-JP']").click()
    gp.page.wait_for_url(server.url(f"ja_JP/{page}"))
    assert _lang(gp) == "ja-JP"
    gp.guard.check()


@pytest.mark.parametrize("locale", LOCALES)
def test_archive_lists_every_report_by_month(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    gp = open_page(server, f"{locale}/archive.html")
    mine = _of(expected, locale)
    months = {e.day.strftime("%Y-%m") for e in mine}
    assert gp.page.locator("section.month").count() == len(months)
    assert sorted(_hrefs(gp, "section.month a[href*='reports/']")) == sorted(e.page for e in mine)
    gp.guard.check()


@pytest.mark.parametrize("locale", LOCALES)
def test_category_pages_list_their_reports_newest_first(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    mine = _of(expected, locale)
    gp = open_page(server, f"{locale}/index.html")
    categories = sorted({e.category for e in mine})
    nav = _hrefs(gp, "nav a[href*='category/']")
    assert sorted(set(nav)) == [f"{locale}/category/{c}.html" for c in categories]
    for i, category in enumerate(categories):
        if i == 0:  # by the navigation, as a reader would; the others directly
            gp.page.locator(f"nav a[href$='category/{category}.html']").first.click()
            gp.page.wait_for_url(server.url(f"{locale}/category/{category}.html"))
        else:
            gp.goto(f"{locale}/category/{category}.html")
        listed = _hrefs(gp, "main a[href*='reports/']")
        wanted = [e.page for e in sorted(mine, key=lambda e: e.day, reverse=True) if e.category == category]
        assert list(dict.fromkeys(listed)) == wanted
    gp.guard.check()


def test_about_page_shows_the_notice(server: SiteServer, open_page: OpenPage) -> None:
    """By the navigation, in one locale (the crawl below checks the notice on every about page)."""
    locale = "zh_CN"
    gp = open_page(server, f"{locale}/index.html")
    gp.page.locator("nav a[href$='about.html']").first.click()
    gp.page.wait_for_url(server.url(f"{locale}/about.html"))
    notice = gp.page.locator("aside.notice")
    assert notice.count() == 1 and notice.is_visible()
    assert len(notice.inner_text().strip()) > 20
    assert "https://github.com/contoso/sample-docs" in _external(gp, "aside.notice a")
    gp.guard.check()


def _external(gp: GuardedPage, selector: str) -> list[str]:
    return [str(u) for u in gp.page.locator(selector).evaluate_all("as => as.map(a => a.href)")]


def test_every_page_loads_cleanly_and_report_pages_show_the_notice(
    server: SiteServer, open_page: OpenPage, expected: list[Expected]
) -> None:
    """All pages: the right ``lang``, the stylesheet applied, the header parts of the contract, a
    language switch to the same page in each other locale; every report and about page: the notice;
    and (the guard) no console error, dialog or outside request anywhere."""
    gp = open_page(server)
    pages = sorted(p.relative_to(server.root).as_posix() for p in server.root.rglob("*.html"))
    report_pages = {e.page for e in expected}
    assert report_pages <= set(pages)
    for rel in pages:
        gp.goto(rel)
        info = gp.page.evaluate(
            """() => ({
              lang: document.documentElement.lang,
              css: [...document.styleSheets].filter(s => s.href && s.href.endsWith('static/site.css')
                     && s.cssRules.length > 0).length,
              title: (document.querySelector('header a[href$="index.html"]') || {}).textContent || '',
              search: !!document.querySelector('form.search[role=search] input#search[type=search]')
                      && !!document.getElementById('search-results'),
              notice: [...document.querySelectorAll('aside.notice')].map(n => n.innerText.trim()),
              langs: [...document.querySelectorAll('nav.lang a[hreflang]')]
                       .map(a => [a.getAttribute('hreflang'), a.href]),
            })"""
        )
        locale = rel.split("/")[0]
        if locale in LOCALES:
            assert info["lang"] == bcp47(locale), rel
            langs = {tag: gp.server.path_of(url) for tag, url in info["langs"]}
            wanted = {}
            for other in LOCALES:
                if other != locale:
                    same = other + rel[len(locale) :]
                    wanted[bcp47(other)] = same if (server.root / same).is_file() else f"{other}/index.html"
            assert langs == wanted, f"{rel}: language switch {langs}"
        assert info["css"] == 1, f"{rel}: static/site.css not applied"
        assert info["title"].strip(), f"{rel}: no site title linking to the index"
        assert info["search"], f"{rel}: no search form"
        if rel in report_pages or rel.endswith("/about.html"):
            assert len(info["notice"]) == 1 and info["notice"][0], f"{rel}: no notice"
            assert gp.page.locator("aside.notice").is_visible()
    gp.guard.check()


def test_renamed_and_binary_files(server: SiteServer, open_page: OpenPage, expected: list[Expected]) -> None:
    renamed = next(e for e in _of(expected, "en_US") if RENAMED_TO in e.paths)
    gp = open_page(server, renamed.page)
    section = gp.page.locator("section.file").nth(renamed.paths.index(RENAMED_TO))
    assert RENAMED_FROM in section.inner_text()
    binary = next(e for e in _of(expected, "en_US") if BINARY_FILE in e.paths)
    gp.goto(binary.page)
    section = gp.page.locator("section.file").nth(binary.paths.index(BINARY_FILE))
    assert section.locator("details.diff").count() == 0, "a binary file shows a diff"
    assert "byte" in section.inner_text().lower(), "the binary file's note (sizes) is missing"
    gp.guard.check()


@pytest.mark.parametrize("locale", LOCALES)
def test_phone_viewport_never_scrolls_sideways(
    server: SiteServer, open_page: OpenPage, expected: list[Expected], locale: str
) -> None:
    mine = _of(expected, locale)
    longest = max(mine, key=lambda e: max(len(x) for d in e.diffs for x in d.splitlines() or [""]))
    widest = max(mine, key=lambda e: len(e.paths))
    gp = open_page(server, None, **PHONE)
    for rel in dict.fromkeys((f"{locale}/index.html", longest.page, widest.page)):
        gp.goto(rel)
        gp.page.locator("details.diff").evaluate_all("ds => ds.forEach(d => { d.open = true; })")
        problem = horizontal_overflow(gp.page)
        assert problem is None, problem
        # the coloured diff rows are as wide as the longest line of their diff, not ragged
        widths = gp.page.locator(".highlight pre").evaluate_all(
            """pres => pres.map(p => [...p.querySelectorAll('.gi,.gd,.gu')]
                .map(r => Math.round(r.getBoundingClientRect().width)))
                .filter(ws => ws.length)"""
        )
        for ws in widths:
            assert max(ws) - min(ws) <= 1, (rel, ws)
        if rel == longest.page:
            assert widths and max(max(ws) for ws in widths) > 390  # a line wider than the phone
    gp.guard.check()
