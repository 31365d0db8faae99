"""A real sample site for the website tests: a git repository built here, reports written by our
pipeline (three locales, three categories, three days, a rename, a binary file, a diff of more than
5,000 changed lines, XSS samples in the documentation and in a file name), and the site built from
them. Also imported by the browser tests.

Public API (kept stable):

* ``build_sample_site(tmp_path, *, site=None) -> SampleSite``: reports in ``tmp_path/reports``, site
  in ``tmp_path/site``.
* ``make_sample_reports(tmp_path) -> SampleSite``: the same without building the site (``site_dir``
  does not exist yet).
* ``add_report_day(sample, *, category="guide") -> list[Path]``: one more commit on the next day and
  its reports (one per locale, for that category), written into ``sample.reports_dir``.
* ``SampleSite.build(out_dir=None, **kw) -> BuildSummary``, ``SampleSite.report_page(locale, day,
  category) -> Path``, ``SampleSite.xss_page(locale) -> Path``.
* ``check_links(site_dir) -> list[str]``: broken internal links and anchors (empty = none).
* Constants: ``LOCALES``, ``CATEGORIES``, ``REPOSITORY``, ``DAYS``, ``XSS_SAMPLES``, ``XSS_FILE``,
  ``HUGE_FILE``, ``HUGE_LINES``, ``RENAMED_FROM``, ``RENAMED_TO``, ``BINARY_FILE``.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.gitrepo import GitRepo
from tests.site_links import check_links as _check_links

from diff_insight.config import Config, SiteConfig
from diff_insight.pipeline import ReportRequest, generate_reports
from diff_insight.site import BuildSummary, build_site

LOCALES = ("ja_JP", "zh_CN", "en_US")
CATEGORIES = ("api", "guide", "other")
REPOSITORY = "contoso/sample-docs"
DAYS = (date(2024, 3, 2), date(2024, 3, 3), date(2024, 3, 4))
"""The report days (the day of each range's head commit)."""

XSS_SAMPLES = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<!-- a hidden HTML comment -->",
    '<div class="raw" onclick="alert(1)">raw HTML block</div>',
    "<svg><script>alert(1)</script></svg>",
)
XSS_FILE = "docs/guide/<b>bold</b> \"quoted\" 'name'.md"
"""A changed file whose NAME carries HTML and quotes (day 1, category guide)."""
XSS_DAY = DAYS[0]
RENAMED_FROM = "docs/api/old-name.md"
RENAMED_TO = "docs/api/new-name.md"
BINARY_FILE = "media/logo.png"
HUGE_FILE = "docs/api/huge.md"
HUGE_LINES = 5200
"""Lines added to :data:`HUGE_FILE` on day 2 (more than 5,000 changed lines)."""

CONFIG = {
    "locales": list(LOCALES),
    "repository": REPOSITORY,
    "categories": {"api": ["docs/api"], "guide": ["docs/guide"]},
    "catch_all": {"enabled": True, "name": "other"},
}

_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)


def _article(title: str, body: str, day: str = "03/01/2024") -> str:
    return f"---\ntitle: {title}\nms.date: {day}\nms.topic: conceptual\n---\n\n# {title}\n\n{body}\n"


def _xss_article() -> str:
    body = "\n\n".join(
        [
            "Inline samples: " + XSS_SAMPLES[0] + " and " + XSS_SAMPLES[1] + ".",
            "A link: " + XSS_SAMPLES[2] + " and an image: " + XSS_SAMPLES[3],
            XSS_SAMPLES[4],
            XSS_SAMPLES[5],
            XSS_SAMPLES[6],
            "## <img src=x onerror=alert(1)> heading",
            "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
        ]
    )
    return _article("<script>alert(1)</script> Security samples", body, "03/02/2024")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class SampleSite:
    """A sample repository, its reports and (after :func:`build_sample_site`) the site."""

    root: Path
    repo_path: Path
    reports_dir: Path
    site_dir: Path
    config: Config
    commits: tuple[str, ...]
    """The commits; report ``i`` covers ``commits[i]..commits[i + 1]``."""
    days: tuple[date, ...]
    summary: BuildSummary | None = None

    @property
    def site(self) -> SiteConfig:
        return self.config.site

    def build(self, out_dir: Path | None = None, **kwargs: Any) -> BuildSummary:
        """Build the site again (incrementally when ``out_dir`` holds a previous build)."""
        return build_site(self.reports_dir, out_dir or self.site_dir, self.site, **kwargs)

    def report_page(self, locale: str, day: date, category: str, out_dir: Path | None = None) -> Path:
        return (out_dir or self.site_dir) / locale / "reports" / day.isoformat() / f"{category}.html"

    def xss_page(self, locale: str, out_dir: Path | None = None) -> Path:
        """The report page that shows the XSS samples (and the file with HTML in its name)."""
        return self.report_page(locale, XSS_DAY, "guide", out_dir)


def _repo(root: Path) -> GitRepo:
    """Reopen a copied repository without re-running ``git init`` side effects that matter."""
    return GitRepo(root.parent, name=root.name)


def _write_reports(repo_path: Path, base: str, head: str, config: Config, reports_dir: Path) -> list[Path]:
    result = generate_reports(
        ReportRequest("git", str(repo_path), base, head, out_root=reports_dir.parent), config
    )
    return [r.path for r in result.reports]


def _generate(root: Path) -> tuple[Path, tuple[str, ...], Path]:
    repo = GitRepo(root, name="repo")
    repo.set_origin(f"https://github.com/{REPOSITORY}.git")  # permalinks to the compare view
    config = Config.from_dict(CONFIG)
    repo.write("docs/guide/intro.md", _article("Introduction", "Welcome to the sample documentation."))
    repo.write(
        "docs/guide/setup.md", _article("Setup", "Install the tool.\n\n## Requirements\n\nPython 3.11.")
    )
    repo.write(RENAMED_FROM, _article("Old API name", "The reference of the API.\n\n" + "Line.\n" * 20))
    repo.write("docs/api/reference.md", _article("API reference", "| Name | Value |\n|---|---|\n| a | 1 |"))
    repo.write(BINARY_FILE, _PNG)
    repo.write("toc.yml", "- name: Introduction\n  href: docs/guide/intro.md\n")
    c0 = repo.commit("initial", _at(date(2024, 3, 1)))
    # day 1: XSS samples, a file name with HTML, a rename, a binary change
    repo.write("docs/guide/intro.md", _xss_article())
    repo.write(
        XSS_FILE, _article('<b>bold</b> "quoted"', "A file whose name has HTML in it. " + XSS_SAMPLES[0])
    )
    repo.rename(RENAMED_FROM, RENAMED_TO)
    repo.write(BINARY_FILE, _PNG + b"\x00more")
    repo.write(
        "toc.yml", "- name: Introduction\n  href: docs/guide/intro.md\n- name: <b>x</b>\n  href: x.md\n"
    )
    c1 = repo.commit("day 1", _at(DAYS[0]))
    # day 2: a huge diff
    repo.write(
        HUGE_FILE, _article("Huge", "\n".join(f"Row {i}: <i>{i}</i> & more" for i in range(HUGE_LINES)))
    )
    repo.write(
        "docs/guide/setup.md", _article("Setup", "Install the tool.\n\n## Requirements\n\nPython 3.12.")
    )
    c2 = repo.commit("day 2", _at(DAYS[1]))
    # day 3: small edits in every category
    repo.write("docs/api/reference.md", _article("API reference", "| Name | Value |\n|---|---|\n| a | 2 |"))
    repo.write(
        "docs/guide/setup.md", _article("Setup", "Install the tool.\n\n## Requirements\n\nPython 3.13.")
    )
    repo.write("toc.yml", "- name: Introduction\n  href: docs/guide/intro.md\n")
    c3 = repo.commit("day 3", _at(DAYS[2]))
    commits = (c0, c1, c2, c3)
    reports_dir = root / "reports"
    for base, head in zip(commits, commits[1:], strict=False):
        _write_reports(repo.path, base, head, config, reports_dir)
    return repo.path, commits, reports_dir


_CACHE: dict[str, tuple[Path, tuple[str, ...]]] = {}
_LOCK = threading.Lock()


def _cached_template() -> tuple[Path, tuple[str, ...]]:
    """Generate the sample once per process (in a temp folder) and copy it for every test."""
    with _LOCK:
        if "sample" not in _CACHE:
            root = Path(tempfile.mkdtemp(prefix="diff-insight-site-sample-"))
            atexit.register(shutil.rmtree, root, True)
            _repo_path, commits, _reports = _generate(root)
            _CACHE["sample"] = (root, commits)
        return _CACHE["sample"]


def make_sample_reports(tmp_path: Path) -> SampleSite:
    """The sample repository and its reports in ``tmp_path`` (``repo/``, ``reports/``); no site yet."""
    template, commits = _cached_template()
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "repo", tmp_path / "repo", symlinks=True)
    shutil.copytree(template / "reports", tmp_path / "reports", symlinks=True)
    config = Config.from_dict(CONFIG)
    return SampleSite(
        root=tmp_path,
        repo_path=tmp_path / "repo",
        reports_dir=tmp_path / "reports",
        site_dir=tmp_path / "site",
        config=config,
        commits=commits,
        days=DAYS,
    )


def build_sample_site(tmp_path: Path, *, site: SiteConfig | None = None) -> SampleSite:
    """Sample reports (see :func:`make_sample_reports`) and the site built from them in
    ``tmp_path/site``. ``site`` overrides the ``[site]`` settings."""
    sample = make_sample_reports(tmp_path)
    if site is not None:
        sample = replace(sample, config=sample.config.replaced(site=site))
    summary = sample.build()
    return replace(sample, summary=summary)


def add_report_day(sample: SampleSite, *, category: str = "guide") -> list[Path]:
    """Commit one more change (in ``category``: ``guide``, ``api`` or ``other``) on the day after
    the last commit and write its reports (one per locale) into ``sample.reports_dir``. Returns
    the written report files."""
    repo = _repo(sample.repo_path)
    last = repo.git("log", "-1", "--format=%cI").strip()
    day = datetime.fromisoformat(last).date() + timedelta(days=1)
    target = {"guide": "docs/guide/new-page.md", "api": "docs/api/new-page.md", "other": "extra/notes.md"}[
        category
    ]
    base = repo.head()
    repo.write(target, _article(f"New page {day.isoformat()}", f"Added on {day.isoformat()}."))
    head = repo.commit(f"new day {day}", _at(day))
    return _write_reports(sample.repo_path, base, head, sample.config, sample.reports_dir)


# --------------------------------------------------------------------------- link checking


def check_links(site_dir: Path) -> list[str]:
    """Broken internal links and anchors of the site (empty: none); see
    :func:`tests.site_links.check_links`."""
    report = _check_links(site_dir)
    assert report.checked > 0, f"no internal links found in {site_dir}"
    return report.problems
