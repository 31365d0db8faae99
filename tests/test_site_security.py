"""Content is data, never code: XSS payloads from documentation (diffs, titles, file names) and from
LLM-style prose (explanations, titles, summaries) render as visible text on the built site and run
nothing, in headless Chromium.

The reports are real: a repository built with git whose documents carry the payloads, reported by
``diff-insight report``; one report is then edited the way an untrusted model could write it; the site
is built with ``diff-insight site build``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from tests.browser import PHONE, GuardedPage, OpenPage, SiteServer, build_site_cli, horizontal_overflow
from tests.gitrepo import GitRepo
from tests.site_helpers import LOCALES

from diff_insight.cli import cli

pytest_plugins = ["tests.browser"]

# what documentation content carries (it reaches the site in diffs, headings → titles, file names)
DOC_PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src=x onerror="window.__xss=1">',
    "[click me](javascript:alert(1))",
    "[data link](data:text/html,<script>alert(1)</script>)",
    "![data image](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<!-- a hidden HTML comment -->",
    '<div onclick="window.__xss=1">raw HTML block</div>',
    "<svg><script>window.__xss=1</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
)
LONG_TOKEN = "https://example.com/" + "x" * 380
LONG_PATH = "articles/xss/" + "a-very-long-directory-name-without-breaks-" * 3 + "/and-a-long-file-name.md"
WIDE_TABLE = (
    "| "
    + " | ".join(f"column {i}" for i in range(12))
    + " |\n"
    + "|"
    + "---|" * 12
    + "\n"
    + "| "
    + " | ".join("cell-" + "y" * 30 for _ in range(12))
    + " |"
)
RENAMED_FROM = "articles/xss/<b>bold<i>.md"
RENAMED_TO = "articles/xss/<b>x\"y'z.md"
IMG_NAMED = "articles/xss/<img src=x onerror=alert(1)>.md"

# what an untrusted model could write into a report
LLM_TITLE = "LLM title <script>window.__xss=1</script> <img src=x onerror=alert(1)>"
LLM_SUMMARY = 'LLM summary <script>window.__xss=1</script> <img src=x onerror="window.__xss=1"> [s](javascript:alert(1))'
LLM_EXPLANATION = """\
The model wrote <script>window.__xss=1</script> and <img src=x onerror="window.__xss=1"> here.

[click me](javascript:alert(1)) [data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) [vb link](vbscript:msgbox(1)) <javascript:alert(1)>

![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+) ![tracker](https://tracker.example/pixel.png)

<!-- llm comment -->

<div>
<iframe src="javascript:alert(1)"></iframe>
</div>

<svg><script>window.__xss=1</script></svg>

[a safe link](https://example.com/ok)"""
LLM_LONG = f"Long code: `{'z' * 200}` and a long link [{LONG_TOKEN}]({LONG_TOKEN}).\n\n{WIDE_TABLE}"
"""Layout payloads: an unbreakable code span, a long link, a table of twelve wide columns."""
LLM_HIGHLIGHT = (
    "- [evil highlight](javascript:alert(1)) <img src=x onerror=alert(1)> <style>body{display:none}</style>"
)
VISIBLE_LLM_TEXT = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<!-- llm comment -->",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<svg><script>window.__xss=1</script></svg>",
    "click me",
    "a safe link",
)

CSP_REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
}

CONTENT_ELEMENTS = (
    'article script, article img[onerror], article svg, article iframe, a[href^="javascript:"], '
    '[src^="data:text"]'
)
"""Elements that can only come from content that escaped its escaping."""

INSPECT = """() => {
  const handlers = [];
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.trim().toLowerCase();
      if (a.name.startsWith('on')) handlers.push(el.tagName + '[' + a.name + ']');
      if ((a.name === 'href' || a.name === 'src' || a.name === 'action' || a.name === 'data')
          && /^(javascript|vbscript|data):/.test(v)) bad.push(el.tagName + '[' + a.name + '=' + a.value + ']');
    }
  }
  const scripts = [...document.scripts].map(s => s.getAttribute('src') || 'inline:' + s.textContent.slice(0, 40));
  return {
    xss: typeof window.__xss,
    content: [...document.querySelectorAll(SELECTOR)].map(e => e.outerHTML.slice(0, 120)),
    handlers, bad, scripts,
    iframes: document.querySelectorAll('iframe, object, embed, frame').length,
  };
}""".replace("SELECTOR", repr(CONTENT_ELEMENTS))


@dataclass(frozen=True)
class XssSite:
    root: Path
    reports: Path
    site: Path
    llm_report: Path
    """The report whose prose was replaced with model-style payloads (en_US)."""
    llm_anchor: str


def _commit_payload_repo(repo: GitRepo) -> tuple[str, str]:
    intro = "---\ntitle: Payloads\nms.date: 01/01/2025\n---\n\n# Payloads\n\nIntro.\n"
    repo.write("articles/xss/payloads.md", intro)
    repo.write(RENAMED_FROM, "# Bold\n\nOld name.\n")
    repo.write("articles/safe/plain.md", "# Plain\n\nNothing to see.\n")
    base = repo.commit("base")
    repo.write(
        "articles/xss/payloads.md",
        intro + "\n## <script>alert(1)</script> section\n\n" + "\n".join(DOC_PAYLOADS) + "\n",
    )
    repo.write(LONG_PATH, f"# Long lines\n\nA link: {LONG_TOKEN}\n\n{WIDE_TABLE}\n")
    repo.rename(RENAMED_FROM, RENAMED_TO)
    repo.write(IMG_NAMED, "# <img src=x onerror=alert(1)> title\n\nText with <b>bold</b> & ampersand.\n")
    repo.write("articles/safe/plain.md", "# Plain\n\nNothing to see, still.\n")
    head = repo.commit("head")
    return base, head


def _inject_llm_payloads(path: Path) -> str:
    """Rewrite a generated report the way an untrusted model could have written it; return the
    anchor of the file whose title and explanation now carry payloads."""
    text = path.read_text(encoding="utf-8")
    end = text.index("\n---\n", 4)
    fm = yaml.safe_load(text[4:end])
    body = text[end + 5 :]
    fm["summary"] = LLM_SUMMARY
    fm["permalink"] = "javascript:alert(1)"
    body = body.replace("# Highlights\n", "# Highlights\n" + LLM_HIGHLIGHT + "\n\n", 1)
    body = body.replace("# Insights\n", "# Insights\n" + LLM_HIGHLIGHT + "\n\n", 1)
    # the payload file's title: in its summary-table row and in its JSON block
    row = re.compile(
        r"^(\| \[payloads\.md\]\(#(item-[0-9a-f]{6})\) \| [a-z ]+ \| )(.*?)( \| [a-z]+ \|)", re.M
    )
    found = row.search(body)
    assert found, "the generated report has no row for payloads.md"
    anchor = found[2]
    body = row.sub(lambda m: m[1] + LLM_TITLE + m[4], body, count=1)
    json_title = re.compile(
        r"(^## articles/xss/payloads\.md\{#" + anchor + r"\}\n.*?\"modification_title\": )(\".*?\")$",
        re.M | re.S,
    )
    body, n = json_title.subn(lambda m: m[1] + json.dumps(LLM_TITLE, ensure_ascii=False), body, count=1)
    assert n == 1, "the JSON block of payloads.md not found"
    # its explanation: everything after "### Explanation" up to the next file's heading
    section = re.compile(
        r"(^## articles/xss/payloads\.md\{#"
        + anchor
        + r"\}\n.*?^### Explanation\n)(.*?)(?=^## .*\{#item-|\Z)",
        re.M | re.S,
    )
    body, n = section.subn(lambda m: m[1] + LLM_EXPLANATION + "\n\n" + LLM_LONG + "\n\n", body)
    assert n == 1, "explanation of payloads.md not found"
    path.write_text(
        "---\n" + yaml.safe_dump(fm, allow_unicode=True, sort_keys=False) + "---\n" + body, "utf-8"
    )
    return anchor


@pytest.fixture(scope="module")
def xss_site(tmp_path_factory: pytest.TempPathFactory) -> XssSite:
    root = tmp_path_factory.mktemp("xss")
    repo = GitRepo(root)
    base, head = _commit_payload_repo(repo)
    config = root / "diff-insight.toml"
    config.write_text(
        'locales = ["ja_JP", "zh_CN", "en_US"]\n[categories]\nxss = ["articles/xss"]\nsafe = ["articles/safe"]\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli,
        ["report", str(repo.path), base, head, "--config", str(config), "--out-dir", str(root), "--quiet",
         "--out", "reports/{locale}/%Y%m/report-%Y%m%d-{category}.md"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    reports = root / "reports"
    llm_report = next((reports / "en_US").rglob("*-xss.md"))
    anchor = _inject_llm_payloads(llm_report)
    site = root / "site"
    build_site_cli(reports, site)
    return XssSite(root=root, reports=reports, site=site, llm_report=llm_report, llm_anchor=anchor)


@pytest.fixture(scope="module")
def xss_server(xss_site: XssSite) -> Iterator[SiteServer]:
    with SiteServer(xss_site.site) as server:
        yield server


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))


def _report_pages(site: Path, locale: str, category: str) -> list[str]:
    return sorted(
        p.relative_to(site).as_posix() for p in (site / locale / "reports").rglob(f"{category}*.html")
    )


def _open_all_diffs(gp: GuardedPage) -> int:
    """Click every diff's summary (as a reader would) and check it opened; return how many."""
    summaries = gp.page.locator("details.diff > summary")
    count = summaries.count()
    for i in range(count):
        if not summaries.nth(i).evaluate("s => s.parentElement.open"):
            summaries.nth(i).click()
    assert gp.page.locator("details.diff[open]").count() == count, "a diff did not open on click"
    return count


def _assert_inert(gp: GuardedPage, where: str) -> None:
    found = gp.page.evaluate(INSPECT)
    assert found["xss"] == "undefined", f"{where}: a payload ran (window.__xss is set)"
    assert found["content"] == [], f"{where}: elements from content: {found['content']}"
    assert found["handlers"] == [], f"{where}: inline event handlers: {found['handlers']}"
    assert found["bad"] == [], f"{where}: script/data URLs in attributes: {found['bad']}"
    assert found["iframes"] == 0, f"{where}: frames or objects on the page"
    for src in found["scripts"]:
        assert src.endswith("static/search.js"), f"{where}: unexpected script {src!r}"
    gp.guard.check()


# ---------------------------------------------------------------------------------------------------
# the built files (no browser)


class _HeadScan(HTMLParser):
    """The CSP meta tag and what comes before it; scripts and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.csp: list[str] = []
        self.before_csp: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")
        elif not self.csp and tag in ("script", "link", "style", "img", "body", "base"):
            self.before_csp.append(tag)
        self.handlers += [f"<{tag} {k}>" for k in a if k.startswith("on")]
        if tag == "script":
            self.scripts.append(a.get("src") or "")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


def _csp_directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def test_every_page_has_a_strict_csp_first_and_no_inline_script(xss_site: XssSite) -> None:
    pages = _pages(xss_site.site)
    assert len(pages) >= 3 * 4, pages  # per locale at least index, archive, about and a report
    for rel in pages:
        scan = _HeadScan()
        scan.feed((xss_site.site / rel).read_text(encoding="utf-8"))
        assert len(scan.csp) == 1, f"{rel}: {len(scan.csp)} CSP meta tags"
        assert scan.before_csp == [], f"{rel}: {scan.before_csp} come before the CSP meta tag"
        policy = _csp_directives(scan.csp[0])
        for directive, value in CSP_REQUIRED.items():
            assert policy.get(directive) == [value], f"{rel}: {directive} is {policy.get(directive)}"
        for directive, values in policy.items():
            assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(values), (
                f"{rel}: {directive} {values}"
            )
        assert scan.handlers == [], f"{rel}: event-handler attributes {scan.handlers}"
        assert scan.inline_scripts == 0, f"{rel}: inline script"
        assert all(s.endswith("static/search.js") for s in scan.scripts), f"{rel}: scripts {scan.scripts}"


def test_payloads_reach_the_built_pages_escaped(xss_site: XssSite) -> None:
    """The payloads are in the reports and in the pages' text, as escaped text (so the browser tests
    below really test something)."""
    llm_page = _report_pages(xss_site.site, "en_US", "xss")
    assert len(llm_page) == 1, llm_page
    html = (xss_site.site / llm_page[0]).read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>window.__xss" not in html and "<script>alert" not in html
    assert not re.search(r"""\ssrc=["']?[^"'>]*tracker""", html), "a remote image from model prose"


# ---------------------------------------------------------------------------------------------------
# in Chromium


def test_no_page_of_the_payload_site_runs_content(xss_server: SiteServer, open_page: OpenPage) -> None:
    """Every page: no dialog, no script from content, no request off 127.0.0.1. (Content in a closed
    ``<details>`` is parsed and loaded like any other, so the diffs are covered without opening them.)
    The lists (index, archive, category) show the summaries' payloads as text."""
    gp = open_page(xss_server)
    diffs = 0
    for rel in _pages(xss_server.root):
        gp.goto(rel)
        diffs += gp.page.locator("details.diff").count()
        locale, _, page = rel.partition("/")
        if page in ("index.html", "archive.html", "category/xss.html"):
            text = gp.page.locator("main").inner_text()
            if locale == "en_US":
                assert "LLM summary <script>window.__xss=1</script>" in text, rel
            else:
                assert "<script>alert(1)</script>" in text, rel
        _assert_inert(gp, rel)
    assert diffs >= 3 * 4, f"only {diffs} diffs on the payload site"


@pytest.mark.parametrize("locale", LOCALES)
def test_document_payloads_show_as_text(xss_server: SiteServer, open_page: OpenPage, locale: str) -> None:
    (page,) = _report_pages(xss_server.root, locale, "xss")
    gp = open_page(xss_server, page)
    assert _open_all_diffs(gp) >= 2
    text = gp.page.locator("article.report").inner_text()
    for payload in DOC_PAYLOADS:
        assert payload in text, f"{page}: {payload!r} is not visible"
    headings = gp.page.locator("section.file h3").all_inner_texts()
    assert any(RENAMED_TO in h for h in headings), headings
    assert any(IMG_NAMED in h for h in headings), headings
    # the renamed file shows its old name, as text
    renamed = gp.page.locator("section.file", has_text=RENAMED_TO)
    assert RENAMED_FROM in renamed.inner_text()
    # the diff title from the document's heading, as text, in the summary table
    assert "<img src=x onerror=alert(1)> title" in gp.page.locator("table.summary").inner_text()
    _assert_inert(gp, page)


def test_llm_prose_payloads_show_as_text(
    xss_server: SiteServer, xss_site: XssSite, open_page: OpenPage
) -> None:
    (page,) = _report_pages(xss_server.root, "en_US", "xss")
    gp = open_page(xss_server, page)
    section = gp.page.locator(f"section.file#{xss_site.llm_anchor}")
    text = section.inner_text()
    for payload in VISIBLE_LLM_TEXT:
        assert payload in text, f"{payload!r} is not visible in the explanation"
    assert LLM_TITLE in text, "the model's title is not shown as text"
    assert section.locator("a", has_text="a safe link").get_attribute("href") == "https://example.com/ok"
    assert section.locator("img").count() == 0, "an image from model prose is rendered"
    article = gp.page.locator("article.report").inner_text()
    assert "LLM summary <script>window.__xss=1</script>" in article
    assert "<img src=x onerror=alert(1)> <style>body{display:none}</style>" in article
    links = gp.page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert not [h for h in links if h.strip().lower().startswith(("javascript", "vbscript", "data"))]
    _assert_inert(gp, page)


@pytest.mark.parametrize(
    ("locale", "query", "expected"),
    [
        ("en_US", "onerror", "<img src=x onerror="),
        ("ja_JP", "script", "<script>alert(1)</script>"),
        ("en_US", "LLM title", "LLM summary <script>window.__xss=1</script>"),
    ],
)
def test_search_results_show_payloads_as_text(
    xss_server: SiteServer, open_page: OpenPage, locale: str, query: str, expected: str
) -> None:
    gp = open_page(xss_server, f"{locale}/index.html")
    gp.page.locator("#search").fill(query)
    results = gp.page.locator("#search-results li a")
    results.first.wait_for(state="visible")
    texts = gp.page.locator("#search-results").inner_text()
    assert expected in texts, texts
    assert gp.page.locator("#search-results img, #search-results script, #search-results svg").count() == 0
    _assert_inert(gp, f"{locale}/index.html?search={query}")


@pytest.mark.parametrize("locale", LOCALES)
def test_phone_viewport_with_long_lines_and_wide_tables(
    xss_server: SiteServer, open_page: OpenPage, locale: str
) -> None:
    """A 400-character unbreakable line in a diff, a long path, a twelve-column table and a 200-character
    code span must scroll inside their boxes, never the page."""
    gp = open_page(xss_server, None, **PHONE)
    (page,) = _report_pages(xss_server.root, locale, "xss")
    for rel in (f"{locale}/index.html", page) if locale == "ja_JP" else (page,):
        gp.goto(rel)
        _open_all_diffs(gp)
        if rel == page:
            text = gp.page.locator("article.report").inner_text()
            assert LONG_TOKEN in text and LONG_PATH in text
        problem = horizontal_overflow(gp.page)
        assert problem is None, problem
    gp.guard.check()
