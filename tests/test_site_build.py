"""The static website built from real reports (tests/site_helpers.py): layout and DOM contract,
escaping of hostile content, links, search index, determinism, configuration, errors and the CLI."""

from __future__ import annotations

import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.site_helpers import (
    BINARY_FILE,
    CATEGORIES,
    DAYS,
    HUGE_FILE,
    HUGE_LINES,
    LOCALES,
    RENAMED_FROM,
    RENAMED_TO,
    REPOSITORY,
    XSS_FILE,
    SampleSite,
    build_sample_site,
    check_links,
    make_sample_reports,
)

from diff_insight.cli import cli
from diff_insight.config import SiteConfig
from diff_insight.errors import SiteError
from diff_insight.site import build_site
from diff_insight.site.paths import default_reports_dir

BADGES = {"badge-new-feature", "badge-breaking-change", "badge-bug-fix", "badge-minor-update"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSite:
    return build_sample_site(tmp_path_factory.mktemp("site"))


class Doc(HTMLParser):
    """Elements of a page: (tag, attrs, text inside until the next tag) plus ids and scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.elements.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        out = []
        for t, a in self.elements:
            if t != tag:
                continue
            if all(
                (v in a.get(k.rstrip("_"), "").split()) if k.endswith("_") else a.get(k) == v
                for k, v in attrs.items()
            ):
                out.append(a)
        return out


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_layout_of_the_site(sample: SampleSite) -> None:
    site = sample.site_dir
    assert (site / "index.html").is_file()
    assert (site / "static" / "site.css").stat().st_size < 15_000
    assert (site / "static" / "search.js").stat().st_size < 8_000
    for loc in LOCALES:
        for name in ("index.html", "archive.html", "about.html", "feed.atom", "search-index.json"):
            assert (site / loc / name).is_file(), f"{loc}/{name}"
        for cat in CATEGORIES:
            assert (site / loc / "category" / f"{cat}.html").is_file()
            assert (site / loc / "category" / f"{cat}.atom").is_file()
        for day in DAYS:
            assert sample.report_page(loc, day, "guide").is_file()
    landing = Doc((site / "index.html").read_text("utf-8"))
    hrefs = {a["hreflang"]: a["href"] for a in landing.find("a") if "hreflang" in a}
    assert hrefs == {"ja-JP": "ja_JP/index.html", "zh-CN": "zh_CN/index.html", "en-US": "en_US/index.html"}
    assert check_links(site) == []


def test_every_page_follows_the_contract(sample: SampleSite) -> None:
    pages = html_pages(sample.site_dir)
    assert len(pages) > 40
    for page in pages:
        rel = page.relative_to(sample.site_dir).as_posix()
        html = page.read_text("utf-8")
        doc = Doc(html)
        locale = rel.split("/")[0] if "/" in rel and not rel.startswith("static") else "en_US"
        assert doc.find("html")[0]["lang"] == locale.replace("_", "-"), rel
        csp = doc.find("meta", **{"http-equiv": "Content-Security-Policy"})
        assert csp and "script-src 'self'" in csp[0]["content"] and "default-src 'self'" in csp[0]["content"]
        assert doc.find("meta", name="viewport"), rel
        forms = doc.find("form", class_="search")
        assert (
            len(forms) == 1
            and forms[0]["role"] == "search"
            and forms[0]["data-index"].endswith("search-index.json")
        )
        assert doc.find("input", id="search", type="search")
        assert doc.find("ul", id="search-results")
        lang_links = [a for a in doc.find("a") if "hreflang" in a]
        others = {loc.replace("_", "-") for loc in LOCALES} - (
            set() if rel == "index.html" else {locale.replace("_", "-")}
        )
        assert {a["hreflang"] for a in lang_links} >= others, rel
        # the only stylesheet and script are ours, relative
        scripts = doc.find("script")
        assert len(scripts) == 1 and scripts[0]["src"].endswith("static/search.js"), rel
        assert not scripts[0]["src"].startswith(("/", "http")), rel
        css = [a for a in doc.find("link") if a.get("rel") == "stylesheet"]
        assert len(css) == 1 and css[0]["href"].endswith("static/site.css")
        assert "http://" not in " ".join(a.get("src", "") for _t, a in doc.elements)
        if rel != "index.html":
            nav = [a["href"] for a in doc.find("a")]
            depth = rel.count("/") - 1
            prefix = "../" * depth
            for target in ("index.html", "archive.html", "about.html"):
                assert prefix + target in nav, (rel, target)


def test_report_page_structure(sample: SampleSite) -> None:
    page = sample.report_page("en_US", DAYS[0], "api")
    html = page.read_text("utf-8")
    doc = Doc(html)
    assert doc.find("article", class_="report")
    notice = re.search(r'<aside class="notice">(.*?)</aside>', html, re.S)
    assert notice is not None
    assert f'<a href="https://github.com/{REPOSITORY}">{REPOSITORY}</a>' in notice.group(1)
    assert f"https://github.com/{REPOSITORY}/blob/" in notice.group(1) and "/LICENSE" in notice.group(1)
    assert "generated automatically" in notice.group(1) and "check the original" in notice.group(1)
    compare = [a for a in doc.find("a", class_="button")]
    assert compare and compare[0]["href"].startswith(f"https://github.com/{REPOSITORY}/compare/")
    # summary table: every anchor names a file section on the page
    table_links = re.search(r'<table class="summary">(.*?)</table>', html, re.S)
    assert table_links is not None
    anchors = re.findall(r'href="#(item-[0-9a-f]{6})"', table_links.group(1))
    assert anchors and all(a in doc.ids for a in anchors)
    sections = doc.find("section", class_="file")
    assert len(sections) == len(anchors)
    for badge in re.findall(r'<span class="badge (badge-[a-z-]+)">', html):
        assert badge in BADGES
    assert "modification_type" not in html and "```json" not in html
    # rename: old path shown; source link at the head commit
    assert RENAMED_FROM in html and RENAMED_TO in html
    head = sample.commits[1]
    assert f'href="https://github.com/{REPOSITORY}/blob/{head}/{RENAMED_TO}"' in html
    # diffs: collapsed, Pygments classes
    details = doc.find("details", class_="diff")
    assert details and all("open" not in d for d in details)
    assert '<div class="highlight"><pre>' in html and f"rename from {RENAMED_FROM}" in html
    html = sample.report_page("en_US", DAYS[2], "api").read_text("utf-8")
    assert '<span class="gi">+| a | 2 |' in html and '<span class="gd">-| a | 1 |' in html


def test_binary_file_has_a_note_instead_of_a_diff(sample: SampleSite) -> None:
    html = sample.report_page("ja_JP", DAYS[0], "other").read_text("utf-8")
    section = re.search(
        r'<section class="file" id="item-[0-9a-f]{6}">\s*<h3><code>'
        + re.escape(BINARY_FILE)
        + r"</code></h3>(.*?)</section>",
        html,
        re.S,
    )
    assert section is not None
    assert '<p class="binary">' in section.group(1) and "<details" not in section.group(1)
    assert f"blob/{sample.commits[1]}/{BINARY_FILE}" in section.group(1)


def test_huge_diff_is_complete_and_escaped(sample: SampleSite) -> None:
    html = sample.report_page("zh_CN", DAYS[1], "api").read_text("utf-8")
    assert HUGE_FILE in html
    rows = re.findall(r"\+Row (\d+): &lt;i&gt;\1&lt;/i&gt; &amp; more", html)
    assert len(rows) == HUGE_LINES and rows[-1] == str(HUGE_LINES - 1)
    assert "<i>" not in html


def _security_problems(html: str) -> list[str]:
    problems = []
    doc = Doc(html)
    for tag, attrs in doc.elements:
        for name, value in attrs.items():
            if name.startswith("on"):
                problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "data", "xlink:href") and re.match(
                r"\s*(javascript|data|vbscript|file):", value, re.I
            ):
                problems.append(f"<{tag} {name}={value!r}>")
        if tag in ("script",) and not (
            attrs.get("src", "").endswith("static/search.js") and "/" in attrs["src"]
        ):
            problems.append(f"<script {attrs}>")
        if tag in ("iframe", "object", "embed", "svg", "img", "style", "base", "math"):
            problems.append(f"<{tag}>")
    if html.count("<script") != 1:
        problems.append(f"{html.count('<script')} <script tags")
    return problems


def test_xss_samples_render_as_text(sample: SampleSite) -> None:
    for loc in LOCALES:
        html = sample.xss_page(loc).read_text("utf-8")
        assert _security_problems(html) == [], loc
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "[click](javascript:alert(1))" in html
        assert "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)" in html
        assert "&lt;!-- a hidden HTML comment --&gt;" in html
        assert "&lt;svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;" in html
        assert '&lt;div class="raw" onclick="alert(1)"&gt;raw HTML block&lt;/div&gt;' in html
        # the file whose name has HTML and quotes: shown as text, its anchor works
        escaped_name = "docs/guide/&lt;b&gt;bold&lt;/b&gt; &#34;quoted&#34; &#39;name&#39;.md"
        assert f"<h3><code>{escaped_name}</code></h3>" in html
        assert "<b>" not in html
        doc = Doc(html)
        texts = "".join(doc.text)
        assert XSS_FILE in texts
        assert "<script>alert(1)</script>" in texts  # visible as text
    for page in html_pages(sample.site_dir):
        assert _security_problems(page.read_text("utf-8")) == [], page


def test_language_switch_points_at_the_same_page(sample: SampleSite) -> None:
    doc = Doc(sample.report_page("ja_JP", DAYS[2], "api").read_text("utf-8"))
    nav = {a["hreflang"]: a["href"] for a in doc.find("a") if "hreflang" in a}
    assert nav["en-US"] == f"../../../en_US/reports/{DAYS[2].isoformat()}/api.html"
    assert nav["zh-CN"] == f"../../../zh_CN/reports/{DAYS[2].isoformat()}/api.html"
    doc = Doc((sample.site_dir / "zh_CN" / "category" / "guide.html").read_text("utf-8"))
    nav = {a["hreflang"]: a["href"] for a in doc.find("a") if "hreflang" in a}
    assert nav == {"en-US": "../../en_US/category/guide.html", "ja-JP": "../../ja_JP/category/guide.html"}


def test_index_archive_and_category_pages(sample: SampleSite, tmp_path: Path) -> None:
    html = (sample.site_dir / "ja_JP" / "index.html").read_text("utf-8")
    days = re.findall(r'<section class="day">\s*<h2><time datetime="(\d{4}-\d\d-\d\d)">([^<]+)</time>', html)
    assert [d for d, _ in days] == [d.isoformat() for d in reversed(DAYS)]
    assert days[0][1] == f"{DAYS[2].year}年{DAYS[2].month}月{DAYS[2].day}日"
    assert html.count('<li class="report-item">') == 8
    assert 'class="summary"' in html
    archive = (sample.site_dir / "en_US" / "archive.html").read_text("utf-8")
    assert archive.count('<section class="month"') == 1 and "March 2024" in archive
    assert archive.count('<li class="report-item">') == 8
    cat = (sample.site_dir / "zh_CN" / "category" / "guide.html").read_text("utf-8")
    dates = re.findall(r'href="\.\./reports/(\d{4}-\d\d-\d\d)/guide\.html"', cat)
    assert dates == [d.isoformat() for d in reversed(DAYS)]
    # index_days
    out = tmp_path / "site2"
    build_site(sample.reports_dir, out, SiteConfig(index_days=2))
    html = (out / "en_US" / "index.html").read_text("utf-8")
    assert html.count('<section class="day">') == 2 and 'href="archive.html"' in html


def test_search_index(sample: SampleSite) -> None:
    for loc in LOCALES:
        path = sample.site_dir / loc / "search-index.json"
        data = json.loads(path.read_text("utf-8"))
        rows = data["r"]
        assert len(rows) == 8
        for row in rows:
            assert (path.parent / row["u"]).is_file()
            assert row["t"] and row["s"] and row["f"]
        files = {f for row in rows for f in row["f"]}
        assert {XSS_FILE, RENAMED_FROM, RENAMED_TO, HUGE_FILE, BINARY_FILE} <= files
    ja = (sample.site_dir / "ja_JP" / "search-index.json").read_text("utf-8")
    assert "を追加" in ja  # change titles in Japanese, not escaped


def test_full_build_is_deterministic(sample: SampleSite, tmp_path: Path) -> None:
    def tree(root: Path) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*")
            if p.is_file()
        }

    build_site(sample.reports_dir, tmp_path / "a", sample.site)
    build_site(sample.reports_dir, tmp_path / "b", sample.site)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a == b and a == tree(sample.site_dir)


def test_notice_and_license_from_the_config(tmp_path: Path) -> None:
    site = SiteConfig(
        title="Docs <news>",
        notice="Made by a machine from {repository} <b>sic</b>; see the source.",
        license="CC-BY-4.0",
        license_url="https://example.com/license",
    )
    sample = build_sample_site(tmp_path, site=site)
    html = sample.report_page("en_US", DAYS[0], "guide").read_text("utf-8")
    notice = re.search(r'<aside class="notice">(.*?)</aside>', html, re.S)
    assert notice is not None
    assert notice.group(1) == (
        f'Made by a machine from <a href="https://github.com/{REPOSITORY}">{REPOSITORY}</a> '
        "&lt;b&gt;sic&lt;/b&gt;; see the source."
    )
    assert "Docs &lt;news&gt;" in html
    about = (sample.site_dir / "ja_JP" / "about.html").read_text("utf-8")
    assert "Made by a machine" in about
    sample2 = build_sample_site(
        tmp_path / "second", site=SiteConfig(license="CC-BY-4.0", license_url="https://example.com/l")
    )
    html = sample2.report_page("zh_CN", DAYS[0], "guide").read_text("utf-8")
    assert '<a href="https://example.com/l" rel="license">CC-BY-4.0</a>' in html
    assert "自动生成" in html


def test_invalid_reports_are_skipped_or_fail_in_strict_mode(tmp_path: Path) -> None:
    sample = make_sample_reports(tmp_path)
    bad = sample.reports_dir / "en_US" / "broken.md"
    bad.write_text("---\ndate: [unclosed\n---\n# nothing\n", encoding="utf-8")
    (sample.reports_dir / "README.md").write_text("# not a report\n", encoding="utf-8")
    warnings: list[str] = []
    summary = build_site(sample.reports_dir, sample.site_dir, warn=warnings.append)
    assert summary.reports == 24
    assert any("broken.md" in w and "not a valid report" in w for w in warnings)
    assert any("README.md" in w for w in warnings)
    before = {p: p.read_bytes() for p in sample.site_dir.rglob("*") if p.is_file()}
    with pytest.raises(SiteError, match=r"(broken|README)\.md: not a valid report"):
        build_site(sample.reports_dir, sample.site_dir, strict=True)
    assert {p: p.read_bytes() for p in sample.site_dir.rglob("*") if p.is_file()} == before


def test_missing_empty_and_unwritable_directories(tmp_path: Path) -> None:
    with pytest.raises(SiteError, match="does not exist"):
        build_site(tmp_path / "nope", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SiteError, match="no reports in"):
        build_site(tmp_path / "empty", tmp_path / "out")
    sample = make_sample_reports(tmp_path / "s")
    blocker = tmp_path / "file"
    blocker.write_text("keep me", encoding="utf-8")
    with pytest.raises(SiteError, match="not a directory"):
        build_site(sample.reports_dir, blocker)
    with pytest.raises(SiteError):
        build_site(sample.reports_dir, blocker / "sub")
    assert blocker.read_text(encoding="utf-8") == "keep me"
    with pytest.raises(SiteError, match="must not be or contain"):
        build_site(sample.reports_dir, sample.reports_dir)


def test_symlinks_out_of_the_reports_directory_are_skipped(tmp_path: Path) -> None:
    sample = make_sample_reports(tmp_path / "s")
    outside = tmp_path / "outside"
    outside.mkdir()
    src = next(sample.reports_dir.rglob("*.md"))
    secret = outside / "secret.md"
    secret.write_text(src.read_text("utf-8").replace("category: ", "category: secret", 1), encoding="utf-8")
    os.symlink(secret, sample.reports_dir / "link.md")
    os.symlink(outside, sample.reports_dir / "linkdir")
    warnings: list[str] = []
    summary = build_site(sample.reports_dir, sample.site_dir, warn=warnings.append)
    assert summary.reports == 24
    assert sum("symbolic link to outside" in w for w in warnings) == 2
    assert not list(sample.site_dir.rglob("*secret*"))


def test_cli_site_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = make_sample_reports(tmp_path)
    runner = CliRunner()
    res = runner.invoke(cli, ["site", "build", str(sample.reports_dir), str(tmp_path / "out")])
    assert res.exit_code == 0, res.stderr
    assert "24 report(s) in 3 locale(s)" in res.stderr
    assert (tmp_path / "out" / "en_US" / "index.html").is_file()
    # defaults from the config: [site] out_dir, reports_dir from `out`
    (tmp_path / "diff-insight.toml").write_text(
        '[site]\nout_dir = "public"\ntitle = "Sample news"\nindex_days = 3\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["site", "build"])
    assert res.exit_code == 0, res.stderr
    assert "Sample news" in (tmp_path / "public" / "index.html").read_text("utf-8")
    assert default_reports_dir("reports/{locale}/%Y%m/report-%Y%m%d-{category}.md") == "reports"
    # errors: one line, exit code 2 for bad input, 2 for a bad config key
    res = runner.invoke(cli, ["site", "build", str(tmp_path / "missing"), str(tmp_path / "o2")])
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("diff-insight: error: reports directory")
    (tmp_path / "diff-insight.toml").write_text("[site]\nindex_days = 0\n", encoding="utf-8")
    res = runner.invoke(cli, ["site", "build"])
    assert res.exit_code == 2 and "site.index_days" in res.stderr
    (tmp_path / "diff-insight.toml").write_text('[site]\nbase_url = "javascript:x"\n', encoding="utf-8")
    res = runner.invoke(cli, ["site", "build"])
    assert res.exit_code == 2 and "site.base_url" in res.stderr


def test_highlight_subheadings_are_in_the_page_language(tmp_path: Path) -> None:
    """The report keeps the seed's English sub-headings; the page shows them in its own language,
    one level below the Highlights heading."""
    from tests.site_helpers import XSS_DAY, build_sample_site

    sample = build_sample_site(tmp_path)
    expected = {
        "ja_JP": ("新機能", "破壊的変更", "その他の更新"),
        "zh_CN": ("新功能", "重大变更", "其他更新"),
        "en_US": ("New features", "Breaking changes", "Other updates"),
    }
    for locale, labels in expected.items():
        html = sample.report_page(locale, XSS_DAY, "guide").read_text(encoding="utf-8")
        highlights = html.split('class="prose highlights"', 1)[1].split("</section>", 1)[0]
        assert [f"<h3>{label}</h3>" in highlights for label in labels] == [True] * 3, locale
        if locale != "en_US":
            assert "New features" not in highlights


def test_default_reports_dir_reads_the_template_literally() -> None:
    # a regression test: `%%` is a literal percent sign, not the start of a date code
    assert default_reports_dir("out%%x/{locale}/{category}.md") == "out%x"
    assert default_reports_dir("a{{b}}/c/{locale}/%Y/{category}.md") == "a{b}/c"
    assert default_reports_dir("{locale}/{category}.md") == "reports"
    assert default_reports_dir("x%Y/{locale}/{category}.md") == "reports"


def test_repository_dot_dot_gets_no_github_links(tmp_path: Path) -> None:
    # a regression test: `a/..` is not a GitHub repository (https://github.com/a/.. is no page)
    sample = make_sample_reports(tmp_path)
    changed = 0
    for report in sample.reports_dir.rglob("*.md"):
        text = report.read_text("utf-8")
        new = re.sub(r"(?m)^repository: .*$", "repository: a/..", text, count=1)
        changed += new != text
        report.write_text(new, "utf-8")
    assert changed
    build_site(sample.reports_dir, sample.site_dir, sample.config.site)
    for page in html_pages(sample.site_dir):
        html = page.read_text("utf-8")
        assert "github.com/a/" not in html, page
        assert "/blob/" not in html, page  # no links to files on GitHub (the permalink stays)
