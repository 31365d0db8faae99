"""The site builder: reports → pages (pure planning and rendering) → files (atomic writes, an
incremental manifest written last).

Incremental rules: a report page is re-rendered only when its key changes (the report's bytes, its
path, its language links, its locale's categories, or the global hash of templates, static files,
site settings and code); every other page is cheap and is rendered on every build but written only
when its bytes differ. Outputs of the previous build that have no source any more are deleted.

Crash safety: before writing any page the manifest is rewritten with every page that may be touched
marked dirty and every output that may appear listed; pages are written atomically; the final
manifest is written last. A build killed at any point leaves complete files only, and the next build
repairs everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from diff_insight import __version__
from diff_insight.config import SiteConfig
from diff_insight.errors import RenderError, SiteError
from diff_insight.paths import atomic_write_text
from diff_insight.site import feeds, i18n, search
from diff_insight.site.model import (
    ParseCache,
    SiteFile,
    SiteInputError,
    SiteReport,
    Warn,
    check_reports_dir,
    light_from_json,
    light_to_json,
    load_full,
    load_reports,
    type_slug,
)
from diff_insight.site.render import highlight_diff, localize_highlights, markdown
from diff_insight.workers import forked_pool, worker_count

MANIFEST = ".diff-insight-site.json"
"""The incremental manifest in OUT_DIR."""
MANIFEST_VERSION = 1

_HERE = Path(__file__).parent
TEMPLATES = _HERE / "templates"
STATIC = _HERE / "static"
STATIC_FILES = ("site.css", "search.js")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What a build did. Paths are relative to OUT_DIR (POSIX)."""

    reports: int
    locales: tuple[str, ...]
    pages: int
    """Outputs of the site (pages, feeds, indexes, static files)."""
    written: tuple[str, ...]
    deleted: tuple[str, ...]
    rendered: int
    """Pages rendered (report pages whose key had not changed are not)."""
    warnings: tuple[str, ...] = ()

    @property
    def unchanged(self) -> int:
        return self.pages - len(self.written)


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    render: Callable[[], str | bytes]
    key: str | None = None
    """Report pages: the hash of everything they depend on (skip rendering when unchanged)."""


@dataclass(slots=True)
class Manifest:
    global_hash: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = True

    def dumps(self) -> str:
        return (
            json.dumps(
                {
                    "version": MANIFEST_VERSION,
                    "generator": f"diff-insight {__version__}",
                    "complete": self.complete,
                    "global": self.global_hash,
                    "inputs": self.inputs,
                    "pages": self.pages,
                },
                sort_keys=True,
                indent=0,
                ensure_ascii=False,
            )
            + "\n"
        )

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(complete=False)
        if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
            return cls(complete=False)
        pages = data.get("pages")
        inputs = data.get("inputs")
        return cls(
            global_hash=str(data.get("global", "")),
            inputs=inputs if isinstance(inputs, dict) else {},
            pages={
                k: v
                for k, v in (pages if isinstance(pages, dict) else {}).items()
                if isinstance(k, str) and isinstance(v, dict) and _safe_rel(k)
            },
            complete=bool(data.get("complete", False)),
        )


def _safe_rel(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=65536)
def rel(from_page: str, target: str) -> str:
    """Relative URL from the page ``from_page`` to ``target`` (both normalized paths relative to
    the site root)."""
    here = from_page.split("/")[:-1]
    there = target.split("/")
    i = 0
    while i < len(here) and i < len(there) - 1 and here[i] == there[i]:
        i += 1
    return "/".join([".."] * (len(here) - i) + there[i:])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _code_and_assets_hash() -> str:
    from diff_insight.render import markdown as report_format  # parse_report

    h = hashlib.sha256(__version__.encode())
    files = [Path(report_format.__file__)]
    for folder, pattern in ((_HERE, "*.py"), (TEMPLATES, "*.html"), (STATIC, "*")):
        files += sorted(folder.glob(pattern))
    for p in files:
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def global_hash(settings: SiteConfig) -> str:
    """Changes when the code, templates, static files or site settings change."""
    cfg = {k: v for k, v in settings.as_dict().items() if k not in ("reports_dir", "out_dir")}
    return _sha((_code_and_assets_hash() + json.dumps(cfg, sort_keys=True)).encode())


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = markdown
    env.filters["localize_highlights"] = localize_highlights
    return env


@dataclass(frozen=True, slots=True)
class LangLink:
    lang: str
    name: str
    href: str


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    href: str


# --------------------------------------------------------------------------- the site plan


class SitePlan:
    """Everything the pages need, computed once from the reports (pure)."""

    def __init__(
        self, reports: Sequence[SiteReport], settings: SiteConfig, reports_dir: Path | None = None
    ) -> None:
        self.settings = settings
        self.reports_dir = reports_dir
        self.reports = list(reports)
        self.locales: tuple[str, ...] = tuple(sorted({r.locale for r in reports}))
        self.by_locale: dict[str, list[SiteReport]] = {loc: [] for loc in self.locales}
        for r in sorted(reports, key=lambda r: r.sort_key, reverse=True):
            self.by_locale[r.locale].append(r)
        self.categories: dict[str, tuple[str, ...]] = {
            loc: tuple(sorted({r.category for r in rs})) for loc, rs in self.by_locale.items()
        }
        self.siblings: dict[tuple[str, ...], dict[str, str]] = {}
        for r in sorted(reports, key=lambda r: (r.locale, *r.sort_key)):
            self.siblings.setdefault(self._sibling_key(r), {}).setdefault(r.locale, r.page)
        self.repositories: tuple[str, ...] = tuple(sorted({r.repository for r in reports if r.repository}))
        self.global_hash = global_hash(settings)
        self.site_key = settings.base_url or settings.title
        self.env = _env()

    @staticmethod
    def _sibling_key(r: SiteReport) -> tuple[str, ...]:
        key: tuple[str, ...] = r.range_key
        if not r.base and not r.head:
            key += (r.day.isoformat(),)
        return key

    # ----- links shared by every page

    def lang_links(self, page: str, locale: str | None, same: Callable[[str], str | None]) -> list[LangLink]:
        out = []
        for loc in self.locales:
            if loc == locale:
                continue
            target = same(loc) or f"{loc}/index.html"
            out.append(LangLink(i18n.bcp47(loc), i18n.language_name(loc), rel(page, target)))
        return out

    def base_context(self, page: str, locale: str, title: str, lang_links: list[LangLink]) -> dict[str, Any]:
        t = i18n.strings(locale)
        loc_dir = f"{locale}/"
        return {
            "t": t,
            "lang": i18n.bcp47(locale),
            "locale": locale,
            "site_title": self.settings.title,
            "page_title": title,
            "csp": CSP,
            "css_href": rel(page, "static/site.css"),
            "js_href": rel(page, "static/search.js"),
            "home_href": rel(page, loc_dir + "index.html"),
            "index_href": rel(page, loc_dir + "search-index.json"),
            "feed_href": rel(page, loc_dir + "feed.atom"),
            "nav": [
                Link(t["latest"], rel(page, loc_dir + "index.html")),
                Link(t["archive"], rel(page, loc_dir + "archive.html")),
                Link(t["about"], rel(page, loc_dir + "about.html")),
            ],
            "category_links": [
                Link(c, rel(page, f"{loc_dir}category/{c}.html")) for c in self.categories.get(locale, ())
            ],
            "lang_links": lang_links,
            "current": page,
        }

    def item(self, page: str, r: SiteReport) -> dict[str, Any]:
        """What a list entry shows for one report."""
        t = i18n.strings(r.locale)
        return {
            "href": rel(page, r.page),
            "category": r.category,
            "category_href": rel(page, f"{r.locale}/category/{r.category}.html"),
            "date": r.day.isoformat(),
            "date_text": i18n.long_date(r.day, r.locale),
            "summary": r.summary,
            "title": r.title,
            "repository": r.repository if len(self.repositories) > 1 else None,
            "files_text": t["files_count_one"]
            if len(r.files) == 1
            else t["files_count"].format(n=len(r.files)),
            "counts": [(type_slug(tp), t.get(tp, tp), n) for tp, n in r.counts],
        }

    # ----- pages

    def pages(self) -> list[Page]:
        pages: list[Page] = [
            Page("index.html", self.render_landing),
            *(Page(f"static/{name}", _static_reader(name)) for name in STATIC_FILES),
        ]
        for loc in self.locales:
            reports = self.by_locale[loc]
            pages += [
                Page(f"{loc}/index.html", _bind(self.render_index, loc)),
                Page(f"{loc}/archive.html", _bind(self.render_archive, loc)),
                Page(f"{loc}/about.html", _bind(self.render_about, loc)),
                Page(f"{loc}/feed.atom", _bind(self.render_feed, loc, None)),
                Page(f"{loc}/search-index.json", _bind(search.search_index, loc, reports)),
            ]
            for c in self.categories[loc]:
                pages.append(Page(f"{loc}/category/{c}.html", _bind(self.render_category, loc, c)))
                pages.append(Page(f"{loc}/category/{c}.atom", _bind(self.render_feed, loc, c)))
        # the same range in every locale one after the other: its diffs are highlighted once
        by_range = sorted(self.reports, key=lambda r: (self._sibling_key(r), r.locale, r.page))
        for r in by_range:
            pages.append(Page(r.page, _bind(self.render_report, r), key=self.report_key(r)))
        return pages

    def report_key(self, r: SiteReport) -> str:
        sib = self.siblings.get(self._sibling_key(r), {})
        parts = [
            self.global_hash,
            r.digest,
            r.page,
            json.dumps(sorted(sib.items())),
            json.dumps(self.locales),
            json.dumps(self.categories.get(r.locale, ())),
        ]
        return _sha("\0".join(parts).encode())

    def _render(self, template: str, **ctx: Any) -> str:
        return self.env.get_template(template).render(**ctx)

    def render_landing(self) -> str:
        page = "index.html"
        first = "en_US" if "en_US" in self.locales else self.locales[0]
        ctx = self.base_context(
            page, first, self.settings.title, self.lang_links(page, None, lambda _l: None)
        )
        ctx["locale_links"] = [
            {
                "lang": i18n.bcp47(loc),
                "name": i18n.language_name(loc),
                "href": f"{loc}/index.html",
                "latest": i18n.strings(loc)["latest"],
                "count": i18n.strings(loc)["reports_total"].format(n=len(self.by_locale[loc])),
            }
            for loc in self.locales
        ]
        return self._render("landing.html", **ctx)

    def render_index(self, locale: str) -> str:
        page = f"{locale}/index.html"
        t = i18n.strings(locale)
        ctx = self.base_context(
            page, locale, t["latest"], self.lang_links(page, locale, lambda other: f"{other}/index.html")
        )
        days: list[date] = sorted({r.day for r in self.by_locale[locale]}, reverse=True)
        shown = days[: self.settings.index_days]
        ctx["days"] = [
            {
                "iso": d.isoformat(),
                "text": i18n.long_date(d, locale),
                "items": [
                    self.item(page, r)
                    for r in sorted(
                        (r for r in self.by_locale[locale] if r.day == d), key=lambda r: r.sort_key
                    )
                ],
            }
            for d in shown
        ]
        ctx["more"] = len(days) > len(shown)
        ctx["archive_href"] = rel(page, f"{locale}/archive.html")
        return self._render("index.html", **ctx)

    def render_archive(self, locale: str) -> str:
        page = f"{locale}/archive.html"
        t = i18n.strings(locale)
        ctx = self.base_context(
            page, locale, t["archive"], self.lang_links(page, locale, lambda other: f"{other}/archive.html")
        )
        months: dict[str, list[SiteReport]] = {}
        for r in self.by_locale[locale]:
            months.setdefault(r.day.strftime("%Y-%m"), []).append(r)
        ctx["months"] = [
            {
                "iso": m,
                "text": i18n.month_name(rs[0].day.replace(day=1), locale),
                "items": [self.item(page, r) for r in rs],
            }
            for m, rs in sorted(months.items(), reverse=True)
        ]
        return self._render("archive.html", **ctx)

    def render_category(self, locale: str, category: str) -> str:
        page = f"{locale}/category/{category}.html"
        t = i18n.strings(locale)

        def same(loc: str) -> str | None:
            return f"{loc}/category/{category}.html" if category in self.categories.get(loc, ()) else None

        ctx = self.base_context(
            page, locale, t["reports_in"].format(category=category), self.lang_links(page, locale, same)
        )
        ctx["category"] = category
        ctx["items"] = [self.item(page, r) for r in self.by_locale[locale] if r.category == category]
        ctx["category_feed_href"] = f"{category}.atom"
        ctx["feed_title"] = t["feed_category"].format(category=category)
        return self._render("category.html", **ctx)

    def render_about(self, locale: str) -> str:
        page = f"{locale}/about.html"
        t = i18n.strings(locale)
        ctx = self.base_context(
            page, locale, t["about"], self.lang_links(page, locale, lambda other: f"{other}/about.html")
        )
        repos = sorted({r.repository for r in self.by_locale[locale] if r.repository})
        ctx["repositories"] = [Link(r, f"https://github.com/{r}") for r in repos]
        newest = self.by_locale[locale][0]
        ctx["notice"] = self.notice(newest, ref="HEAD")  # HEAD: the page stays the same as reports come
        ctx["feeds"] = [Link(t["feed"], "feed.atom")] + [
            Link(t["feed_category"].format(category=c), f"category/{c}.atom") for c in self.categories[locale]
        ]
        return self._render("about.html", **ctx)

    def render_feed(self, locale: str, category: str | None) -> str:
        t = i18n.strings(locale)
        reports = [r for r in self.by_locale[locale] if category is None or r.category == category]
        if category is None:
            own = f"{locale}/feed.atom"
            alternate = f"{locale}/index.html"
            title = f"{self.settings.title} ({i18n.language_name(locale)})"
        else:
            own = f"{locale}/category/{category}.atom"
            alternate = f"{locale}/category/{category}.html"
            title = f"{self.settings.title}: {category} ({i18n.language_name(locale)})"
        base = self.settings.base_url
        if base:
            root = base if base.endswith("/") else base + "/"

            def link(r: SiteReport) -> str:
                return root + r.page

            self_href, alt_href = root + own, root + alternate
        else:

            def link(r: SiteReport) -> str:
                return rel(own, r.page)

            self_href, alt_href = posixpath.basename(own), rel(own, alternate)
        del t
        return feeds.atom_feed(
            reports=reports,
            title=title,
            feed_href=self_href,
            alternate_href=alt_href,
            site_key=self.site_key,
            locale=locale,
            category=category,
            link=link,
        )

    def notice(self, r: SiteReport, ref: str | None = None) -> Markup:
        """The machine-generated-text notice, with the repository and its license (at ``ref``,
        default: the report's head commit) linked."""
        t = i18n.strings(r.locale)
        s = self.settings
        repo_html: Markup | None = None
        if r.repository:
            repo_html = Markup('<a href="{}">{}</a>').format(
                f"https://github.com/{r.repository}", r.repository
            )
        if s.notice is not None:
            return escape(s.notice).replace(Markup("{repository}"), repo_html or escape(r.repository or ""))
        if repo_html is None:
            return escape(t["notice_no_repo"])
        if s.license and s.license_url:
            lic = Markup('<a href="{}" rel="license">{}</a>').format(s.license_url, s.license)
        elif s.license:
            lic = escape(s.license)
        elif s.license_url:
            lic = Markup('<a href="{}" rel="license">{}</a>').format(s.license_url, t["license"])
        else:
            ref = ref or r.head or "HEAD"
            url = f"https://github.com/{r.repository}/blob/{ref}/LICENSE"
            lic = Markup('<a href="{}" rel="license">{}</a>').format(url, t["license"])
        return (
            escape(t["notice"]).replace(Markup("{repository}"), repo_html).replace(Markup("{license}"), lic)
        )

    def render_report(self, r: SiteReport) -> str:
        if r.light:
            if self.reports_dir is None:
                raise SiteError(f"report {r.source}: no reports directory to read it from")
            r = load_full(self.reports_dir, r)
        page = r.page
        t = i18n.strings(r.locale)
        sib = self.siblings.get(self._sibling_key(r), {})
        ctx = self.base_context(
            page,
            r.locale,
            f"{r.category} · {i18n.long_date(r.day, r.locale)}",
            self.lang_links(page, r.locale, sib.get),
        )
        ctx["feed_href"] = rel(page, f"{r.locale}/category/{r.category}.atom")
        ctx["r"] = r
        ctx["date_text"] = i18n.long_date(r.day, r.locale)
        ctx["category_href"] = rel(page, f"{r.locale}/category/{r.category}.html")
        ctx["counts"] = [(type_slug(tp), t.get(tp, tp), n) for tp, n in r.counts]
        ctx["notice"] = self.notice(r)
        ctx["files"] = [self.file_view(r, f) for f in r.files]
        ctx["other_languages"] = [
            LangLink(i18n.bcp47(loc), i18n.language_name(loc), rel(page, sib[loc]))
            for loc in self.locales
            if loc != r.locale and loc in sib
        ]
        ctx["repo_href"] = f"https://github.com/{r.repository}" if r.repository else None
        return self._render("report.html", **ctx)

    def file_view(self, r: SiteReport, f: SiteFile) -> dict[str, Any]:
        t = i18n.strings(r.locale)
        source = None
        if r.repository and r.head and f.status != "removed":
            source = f"https://github.com/{r.repository}/blob/{r.head}/{_quote_path(f.path)}"
        diff_html: Markup | None = None
        highlighted = True
        if f.binary is None and f.diff:
            diff_html, highlighted = highlight_diff(f.diff)
        return {
            "f": f,
            "name": f.path.rsplit("/", 1)[-1],
            "slug": f.type_slug,
            "type_text": t.get(f.type, f.type),
            "status_text": t.get(f.status, f.status),
            "source": source,
            "diff_html": diff_html,
            "highlighted": highlighted,
            "diff_lines": f.diff.count("\n"),
        }


def _quote_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/-._~")


def _bind(fn: Callable[..., str], *args: Any) -> Callable[[], str]:
    return lambda: fn(*args)


def _static_reader(name: str) -> Callable[[], bytes]:
    return lambda: (STATIC / name).read_bytes()


# --------------------------------------------------------------------------- I/O


STAGE = ".diff-insight-tmp"
"""The folder in OUT_DIR where every file is written before it is renamed into place, so a build
killed at any moment leaves no partial file among the pages (only here, and the next build
clears it). Removed at the end of every build."""


def _write(out_dir: Path, rel_path: str, data: bytes) -> None:
    try:
        atomic_write_text(out_dir / rel_path, data.decode("utf-8"), temp_dir=out_dir / STAGE)
    except RenderError as exc:
        raise SiteError(str(exc)) from None


def _remove_stale_temps(out_dir: Path) -> None:
    """Empty and remove the staging folder: what is left there is from a killed build (everything
    in it is ours; a symbolic link in its place is not followed)."""
    shutil.rmtree(out_dir / STAGE, ignore_errors=True)


def _prune_empty_dirs(out_dir: Path, paths: Iterable[str]) -> None:
    dirs = sorted({posixpath.dirname(p) for p in paths if "/" in p}, key=lambda d: -d.count("/"))
    for d in dirs:
        while d:
            with contextlib.suppress(OSError):
                (out_dir / d).rmdir()
            d = posixpath.dirname(d)


def _check_dirs(reports_dir: Path, out_dir: Path) -> None:
    check_reports_dir(reports_dir)  # before OUT_DIR is created
    r, o = reports_dir.resolve(), out_dir.resolve()
    if r == o or r.is_relative_to(o):
        raise SiteInputError(f"the output directory {out_dir} must not be or contain the reports directory")
    if out_dir.exists() and not out_dir.is_dir():
        raise SiteError(f"output directory {out_dir} is not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SiteError(f"cannot create output directory {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise SiteError(f"output directory {out_dir} is not writable")


CACHE = ".diff-insight-site-cache.json"
"""Summaries of the reports by content hash (what indexes, feeds and search need), so that a
rebuild parses only new or changed reports. Safe to delete."""
PARALLEL_MIN_PAGES = 48
_SHARED: dict[str, Any] = {}


def _cache_version() -> str:
    return _code_and_assets_hash()


def _load_cache(path: Path) -> ParseCache:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != _cache_version():
            return {}
        return {k: light_from_json(k, v) for k, v in data["reports"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}


def _save_cache(path: Path, reports: Sequence[SiteReport], cache: ParseCache) -> None:
    digests = {r.digest for r in reports}
    for stale in set(cache) - digests:
        del cache[stale]
    body = {d: light_to_json(cache[d]) for d in sorted(cache)}
    text = json.dumps({"version": _cache_version(), "reports": body}, sort_keys=True, ensure_ascii=False)
    data = (text + "\n").encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    with contextlib.suppress(SiteError):  # only a cache
        _write(path.parent, path.name, data)  # path.parent is OUT_DIR


def _render_bytes(p: Page) -> bytes:
    out = p.render()
    return out.encode("utf-8") if isinstance(out, str) else out


def _render_chunk(bounds: tuple[int, int]) -> list[bytes]:
    pages: list[Page] = _SHARED["pages"]
    return [_render_bytes(p) for p in pages[bounds[0] : bounds[1]]]


def _render_all(pages: list[Page]) -> Iterable[tuple[Page, bytes]]:
    """Render ``pages``: the cheap ones here, the report pages in forked workers when there are
    many (the pages of one range stay together, so their diffs are highlighted once per worker)."""
    for p in pages:
        if p.key is None:
            yield p, _render_bytes(p)
    pages = [p for p in pages if p.key is not None]
    workers = worker_count(len(pages), PARALLEL_MIN_PAGES)
    if workers == 1:
        for p in pages:
            yield p, _render_bytes(p)
        return
    size = max(8, min(64, len(pages) // (workers * 4) or 1))
    chunks = [(i, min(i + size, len(pages))) for i in range(0, len(pages), size)]
    _SHARED["pages"] = pages
    try:
        with forked_pool(workers) as pool:
            for (lo, _hi), datas in zip(chunks, pool.map(_render_chunk, chunks), strict=True):
                for k, data in enumerate(datas):
                    yield pages[lo + k], data
    finally:
        _SHARED.pop("pages", None)


def build_site(
    reports_dir: Path,
    out_dir: Path,
    settings: SiteConfig | None = None,
    *,
    strict: bool = False,
    warn: Warn | None = None,
    parse_cache: ParseCache | None = None,
) -> BuildSummary:
    """Build (or update) the site in ``out_dir`` from the reports under ``reports_dir``.

    Raises :class:`SiteError` (one line) for a missing or empty reports directory, an unwritable
    output directory, or (``strict``) a file that is not a valid report; invalid reports are
    otherwise skipped with a warning. Nothing in ``out_dir`` is left half-written.
    """
    settings = settings or SiteConfig()
    reports_dir, out_dir = Path(reports_dir), Path(out_dir)
    warnings: list[str] = []

    def _warn(message: str) -> None:
        warnings.append(message)
        if warn:
            warn(message)

    _check_dirs(reports_dir, out_dir)
    cache_path = out_dir / CACHE
    cache = parse_cache if parse_cache is not None else _load_cache(cache_path)
    cached_before = set(cache) if parse_cache is None else None
    reports = load_reports(reports_dir, skip=out_dir, strict=strict, warn=_warn, cache=cache)
    plan = SitePlan(reports, settings, reports_dir)
    pages = plan.pages()
    manifest_path = out_dir / MANIFEST
    old = Manifest.load(manifest_path)
    _remove_stale_temps(out_dir)

    def reusable(p: Page) -> bool:
        entry = old.pages.get(p.path)
        if p.key is None or entry is None or entry.get("key") != p.key:
            return False
        try:
            return (out_dir / p.path).stat().st_size == entry.get("size")
        except OSError:
            return False

    keep = {p.path for p in pages if reusable(p)}
    planned = {p.path for p in pages}
    # 1. the pending manifest: whatever this build may touch is dirty until the final manifest
    pending = Manifest(global_hash=plan.global_hash, inputs=old.inputs, complete=False)
    for path in sorted(set(old.pages) | planned):
        entry = dict(old.pages.get(path, {}))
        if path not in keep:
            entry.pop("key", None)
        pending.pages[path] = entry
    pending_written = False

    def before_change() -> None:
        """Written before the first change to OUT_DIR (a no-op build touches nothing)."""
        nonlocal pending_written
        if not pending_written:
            _write(out_dir, MANIFEST, pending.dumps().encode("utf-8"))
            pending_written = True

    # 2. the pages
    final = Manifest(global_hash=plan.global_hash, complete=True)
    final.inputs = {r.source: r.digest for r in sorted(reports, key=lambda r: r.source)}
    written: list[str] = []
    todo = [p for p in pages if p.path not in keep]
    for p in pages:
        if p.path in keep:
            final.pages[p.path] = old.pages[p.path]
    for p, data in _render_all(todo):
        digest = _sha(data)
        target = out_dir / p.path
        same = False
        try:
            if target.stat().st_size == len(data):
                same = _sha(target.read_bytes()) == digest
        except OSError:
            same = False
        if not same:
            before_change()
            _write(out_dir, p.path, data)
            written.append(p.path)
        record: dict[str, Any] = {"sha256": digest, "size": len(data)}
        if p.key is not None:
            record["key"] = p.key
        final.pages[p.path] = record
    if cached_before is None or cached_before != {r.digest for r in reports}:
        _save_cache(cache_path, reports, cache)

    # 3. outputs without a source any more
    deleted: list[str] = []
    for path in sorted(set(old.pages) - planned):
        target = out_dir / path
        before_change()
        try:
            target.unlink()
            deleted.append(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise SiteError(f"cannot delete stale page {target}: {exc.strerror or exc}") from None
    _prune_empty_dirs(out_dir, deleted)

    # 4. the manifest, last (unless it is already what it should be)
    final_bytes = final.dumps().encode("utf-8")
    try:
        current = manifest_path.read_bytes()
    except OSError:
        current = b""
    if current != final_bytes:
        _write(out_dir, MANIFEST, final_bytes)
    with contextlib.suppress(OSError):
        (out_dir / STAGE).rmdir()
    return BuildSummary(
        reports=len(reports),
        locales=plan.locales,
        pages=len(pages),
        written=tuple(sorted(written)),
        deleted=tuple(deleted),
        rendered=len(todo),
        warnings=tuple(warnings),
    )
