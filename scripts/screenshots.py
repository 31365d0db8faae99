#!/usr/bin/env python3
"""Full-page PNG screenshots of the website in headless Chromium, for looking at it.

For each locale (ja_JP, zh_CN, en_US), light and dark colour scheme, phone (390×844, scale 2, mobile)
and desktop (1280×900): the locale's index and one report page with one diff opened. The site is the
sample site of ``tests/site_helpers.py`` (built in a temporary folder), or ``--reports DIR`` built with
``diff-insight site build``, or an already built ``--site DIR``. It is served on 127.0.0.1; nothing is
fetched from anywhere else. Problems (console errors, requests that would leave 127.0.0.1, horizontal
scrolling on the phone) are printed and make the exit code 1.

    .venv/bin/python scripts/screenshots.py [--site DIR | --reports DIR] [--out build/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.browser and tests.site_helpers

from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from tests.browser import (  # noqa: E402
    PHONE,
    GuardedPage,
    SiteServer,
    horizontal_overflow,
    launch_chromium,
    new_guarded_page,
)

LOCALES = ("ja_JP", "zh_CN", "en_US")
DEVICES: dict[str, dict[str, object]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
SCHEMES = ("light", "dark")
MAX_DIFF_LINES = 400
"""The diff opened for the report screenshot: the first with both added and removed lines and at most
this many lines (else the first diff)."""

PICK_DIFF = """(max) => {
  const all = [...document.querySelectorAll('details.diff')];
  const ok = all.filter(d => d.querySelector('.gi') && d.querySelector('.gd')
                        && d.querySelector('pre').textContent.split('\\n').length <= max);
  const chosen = ok[0] || all[0];
  return chosen ? all.indexOf(chosen) : -1;
}"""


def _build(reports: Path | None, work: Path) -> Path:
    if reports is None:
        from tests.site_helpers import build_sample_site

        sample = build_sample_site(work / "sample")
        print(f"built the sample site from {sample.reports_dir}", file=sys.stderr)
        return sample.site_dir
    from diff_insight.site import build_site

    out = work / "site"
    summary = build_site(reports, out, warn=lambda m: print(f"warning: {m}", file=sys.stderr))
    print(f"built the site of {summary.reports} report(s) from {reports}", file=sys.stderr)
    return out


def _report_page(site: Path, locale: str, wanted: str | None) -> str | None:
    """The report page to show: ``wanted`` (relative to the locale), else one whose diffs add and remove
    lines, with the most files (newest first on a tie), leaving out huge pages."""
    if wanted:
        return f"{locale}/{wanted}"
    pages = [p for p in (site / locale / "reports").glob("*/*.html") if p.stat().st_size < 150_000]
    if not pages:
        return None

    def interest(page: Path) -> tuple[bool, int, str, str]:
        html = page.read_text(encoding="utf-8")
        both = 'class="gi"' in html and 'class="gd"' in html
        return both, html.count('class="file"'), page.parent.name, page.name

    return max(pages, key=interest).relative_to(site).as_posix()


def _shoot(gp: GuardedPage, rel: str, out: Path, *, open_diff: bool, phone: bool) -> list[str]:
    problems: list[str] = []
    gp.goto(rel)
    if open_diff:
        index = gp.page.evaluate(PICK_DIFF, MAX_DIFF_LINES)
        if index >= 0:
            gp.page.locator("details.diff > summary").nth(index).click()
            gp.page.evaluate("window.scrollTo(0, 0)")
    if phone:
        problem = horizontal_overflow(gp.page, PHONE["viewport"]["width"])
        if problem:
            problems.append(problem)
    gp.page.screenshot(path=str(out), full_page=True)
    return problems


def take(
    browser: Browser, server: SiteServer, out_dir: Path, report: str | None
) -> tuple[list[Path], list[str]]:
    written: list[Path] = []
    problems: list[str] = []
    for device, options in DEVICES.items():
        for scheme in SCHEMES:
            gp = new_guarded_page(browser, server, color_scheme=scheme, **options)
            try:
                for locale in LOCALES:
                    if not (server.root / locale / "index.html").exists():
                        problems.append(f"{locale}: no index page in the site")
                        continue
                    shots = [("index", f"{locale}/index.html", False)]
                    page = _report_page(server.root, locale, report)
                    if page:
                        shots.append(("report", page, True))
                    for kind, rel, open_diff in shots:
                        path = out_dir / f"{locale}-{kind}-{device}-{scheme}.png"
                        problems += _shoot(gp, rel, path, open_diff=open_diff, phone=device == "phone")
                        written.append(path)
                problems += [f"{device}/{scheme}: {p}" for p in gp.guard.problems()]
            finally:
                gp.close()
    return written, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--site", type=Path, help="an already built site")
    source.add_argument("--reports", type=Path, help="a reports directory to build the site from")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots", help="output folder")
    parser.add_argument(
        "--report-page", help="the report page to show, relative to the locale (reports/DAY/CATEGORY.html)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="diff-insight-shots-") as tmp:
        site = args.site if args.site else _build(args.reports, Path(tmp))
        with sync_playwright() as playwright, SiteServer(site) as server:
            browser = launch_chromium(playwright)
            try:
                written, problems = take(browser, server, args.out, args.report_page)
            finally:
                browser.close()
    for path in written:
        print(path)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(f"{len(written)} screenshot(s) in {args.out}, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
