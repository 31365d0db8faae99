"""Report files → the site model: frozen dataclasses, one per report, with the output path of its
page. Reading is the only I/O here; everything after :func:`load_reports` is pure."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from diff_insight.config import LOCALE_RE
from diff_insight.errors import SiteError, first_line
from diff_insight.mirror import is_github_slug
from diff_insight.paths import is_safe_component
from diff_insight.render.markdown import one_line, parse_report

TYPES: tuple[str, ...] = ("new feature", "breaking change", "bug fix", "minor update")
"""The change types, in the order they are shown."""

_SHA_RE = re.compile(r"[0-9a-fA-F]{4,64}")
_BINARY_RE = re.compile(r"^Binary files differ \((?P<sizes>[^)\n]*)\)$", re.M)

Warn = Callable[[str], None]


def type_slug(type_: str) -> str:
    """A change type as a CSS class / id part: ``"bug fix"`` → ``bug-fix`` (unknown → ``minor-update``)."""
    return type_.replace(" ", "-") if type_ in TYPES else "minor-update"


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One changed file of a report."""

    path: str
    anchor: str
    """``item-xxxxxx`` (validated), the id of its section on the report page."""
    type: str
    title: str
    status: str
    additions: int
    deletions: int
    changes: int
    diff: str
    explanation: str
    previous_path: str | None
    binary: str | None
    """For a binary file: the sizes text (``"70 bytes → ? "``); ``None`` for text files."""

    @property
    def type_slug(self) -> str:
        return type_slug(self.type)


@dataclass(frozen=True, slots=True)
class SiteReport:
    """One report file, parsed and validated."""

    source: str
    """Its path relative to the reports directory (POSIX)."""
    digest: str
    """sha256 of the file's bytes."""
    locale: str
    day: date
    category: str
    title: str
    summary: str
    repository: str | None
    """``owner/name`` on GitHub when the report names one, else ``None``."""
    base: str
    head: str
    permalink: str | None
    highlights: str
    insights: str
    files: tuple[SiteFile, ...]
    counts: tuple[tuple[str, int], ...]
    """Files per type, in :data:`TYPES` order (types with no file left out)."""
    page: str = ""
    """The report page's path in the site, assigned by :func:`assign_pages`."""
    light: bool = False
    """True when loaded from the summary cache: no diffs, explanations, highlights or insights
    (enough for indexes, feeds and search; :func:`load_full` reads the rest)."""

    @property
    def range_key(self) -> tuple[str, str, str, str]:
        """What identifies the same report in another locale."""
        return (self.repository or "", self.base, self.head, self.category)

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.day.isoformat(), self.category, self.repository or "", self.head, self.source)

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


class SiteInputError(SiteError):
    """Bad input for the site: no reports, a missing reports directory, an invalid report in strict
    mode (exit code 2, like other input errors)."""

    exit_code = 2


class ReportProblem(Exception):
    """Why one file is not a usable report (turned into a warning or a SiteError)."""


def _text(fm: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = fm.get(key)
    if value is None:
        if required:
            raise ReportProblem(f"front matter has no {key!r}")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ReportProblem(f"front matter {key!r} is not a string")
    return str(value)


def parse_site_report(text: str, *, source: str, digest: str) -> SiteReport:
    """One report's text → :class:`SiteReport`; :class:`ReportProblem` when it is not a valid report."""
    try:
        parsed = parse_report(text)  # paths exact (from the front matter), anchors unique
    except Exception as exc:  # noqa: BLE001 - ValueError, YAML errors and the like
        first = first_line(exc)
        raise ReportProblem(f"cannot parse: {first}") from None
    fm = parsed.front_matter
    locale = _text(fm, "locale")
    if LOCALE_RE.fullmatch(locale) is None:
        raise ReportProblem(f"invalid locale {locale!r}")
    category = _text(fm, "category")
    if not is_safe_component(category):
        raise ReportProblem(f"invalid category {category!r}")
    raw_day = fm.get("date")
    try:
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day))
    except ValueError:
        raise ReportProblem(f"invalid date {raw_day!r}") from None
    repository = _text(fm, "repository", required=False)
    base = _text(fm, "base", required=False)
    head = _text(fm, "head", required=False)
    permalink = _text(fm, "permalink", required=False)
    files: list[SiteFile] = []
    seen: set[str] = set()
    for pf in parsed.files:
        if pf.anchor in seen:
            raise ReportProblem(f"duplicate anchor {pf.anchor}")
        seen.add(pf.anchor)
        if not pf.path:
            raise ReportProblem(f"no section for {pf.anchor}")
        prev = pf.meta.get("previous_path")
        m = _BINARY_RE.search(pf.diff)
        files.append(
            SiteFile(
                path=pf.path,
                anchor=pf.anchor,
                type=pf.type,
                title=pf.title,
                status=pf.status,
                additions=pf.additions,
                deletions=pf.deletions,
                changes=pf.changes,
                diff=pf.diff,
                explanation=pf.explanation,
                previous_path=prev if isinstance(prev, str) and prev else None,
                binary=m["sizes"] if m else None,
            )
        )
    counts: dict[str, int] = {}
    for f in files:
        counts[f.type] = counts.get(f.type, 0) + 1
    ordered = tuple((t, counts[t]) for t in TYPES if t in counts) + tuple(
        sorted((t, n) for t, n in counts.items() if t not in TYPES)
    )
    return SiteReport(
        source=source,
        digest=digest,
        locale=locale,
        day=day,
        category=category,
        title=one_line(_text(fm, "title", required=False) or f"{category} {day.isoformat()}"),
        summary=one_line(_text(fm, "summary", required=False)),
        repository=repository if is_github_slug(repository) else None,
        base=base if _SHA_RE.fullmatch(base) else "",
        head=head if _SHA_RE.fullmatch(head) else "",
        permalink=permalink if permalink.startswith(("https://", "http://")) else None,
        highlights=parsed.sections.get("Highlights", ""),
        insights=parsed.sections.get("Insights", ""),
        files=tuple(files),
        counts=ordered,
    )


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def check_reports_dir(reports_dir: Path) -> None:
    """:class:`SiteInputError` unless ``reports_dir`` is a directory."""
    if not reports_dir.is_dir():
        raise SiteInputError(f"reports directory {reports_dir} does not exist or is not a directory")


def scan_reports(reports_dir: Path, *, skip: Path | None = None, warn: Warn | None = None) -> list[Path]:
    """The ``*.md`` files under ``reports_dir`` (sorted; hidden files and folders skipped; symlinks
    that resolve outside it skipped with a warning; ``skip`` (the output folder) left out)."""
    check_reports_dir(reports_dir)
    root = reports_dir.resolve()
    skip_real = skip.resolve() if skip is not None else None
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(reports_dir, followlinks=True):
        here = Path(dirpath)
        keep: list[str] = []
        for d in sorted(dirnames):
            sub = here / d
            if d.startswith("."):
                continue
            if sub.is_symlink() and not _inside(sub, root):
                if warn:
                    warn(f"{sub}: skipped, a symbolic link to outside the reports directory")
                continue
            if skip_real is not None and sub.resolve() == skip_real:
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            if name.startswith(".") or not name.endswith(".md"):
                continue
            path = here / name
            if path.is_symlink() and not _inside(path, root):
                if warn:
                    warn(f"{path}: skipped, a symbolic link to outside the reports directory")
                continue
            if path.is_file():
                found.append(path)
    return sorted(found, key=lambda p: p.relative_to(reports_dir).as_posix())


ParseCache = dict[str, SiteReport]
"""digest → parsed report (with the source it was first seen at)."""


def load_reports(
    reports_dir: Path,
    *,
    skip: Path | None = None,
    strict: bool = False,
    warn: Warn | None = None,
    cache: ParseCache | None = None,
) -> list[SiteReport]:
    """Every report under ``reports_dir``, sorted, with :attr:`SiteReport.page` assigned.

    A file that is not a valid report is skipped with a warning (``strict``: :class:`SiteError`).
    No reports at all is a :class:`SiteError`.
    """
    reports: list[SiteReport] = []
    for path in scan_reports(reports_dir, skip=skip, warn=warn):
        rel = path.relative_to(reports_dir).as_posix()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SiteError(f"cannot read report {path}: {exc.strerror or exc}") from None
        digest = hashlib.sha256(data).hexdigest()
        cached = cache.get(digest) if cache is not None else None
        if cached is not None:
            reports.append(replace(cached, source=rel) if cached.source != rel else cached)
            continue
        try:
            text = data.decode("utf-8")
            report = parse_site_report(text, source=rel, digest=digest)
        except (ReportProblem, UnicodeDecodeError) as exc:
            reason = "not valid UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
            message = f"{path}: not a valid report: {one_line(str(reason))}"
            if strict:
                raise SiteInputError(message) from None
            if warn:
                warn(message + " (skipped)")
            continue
        if cache is not None:
            cache[digest] = to_light(report)
        reports.append(report)
    if not reports:
        raise SiteInputError(f"no reports in {reports_dir}")
    return assign_pages(reports)


def assign_pages(reports: list[SiteReport]) -> list[SiteReport]:
    """Sort the reports and give each its page path: ``{locale}/reports/{date}/{category}.html``,
    or ``{category}-{head7}.html`` (then ``-{n}``) for the later ones sharing a (locale, date,
    category)."""
    out: list[SiteReport] = []
    used: set[str] = set()
    for r in sorted(reports, key=lambda r: (r.locale, *r.sort_key)):
        stem = f"{r.locale}/reports/{r.day.isoformat()}/{r.category}"
        page = stem + ".html"
        if page in used:
            page = f"{stem}-{(r.head or 'x')[:7].lower()}.html"
            n = 2
            while page in used:
                page = f"{stem}-{(r.head or 'x')[:7].lower()}-{n}.html"
                n += 1
        used.add(page)
        out.append(replace(r, page=page))
    return out


# --------------------------------------------------------------------------- the summary cache


def to_light(r: SiteReport) -> SiteReport:
    """``r`` without its heavy parts (see :attr:`SiteReport.light`)."""
    files = tuple(replace(f, diff="", explanation="") for f in r.files)
    return replace(r, files=files, highlights="", insights="", light=True, page="")


def light_to_json(r: SiteReport) -> dict[str, Any]:
    return {
        "source": r.source,
        "locale": r.locale,
        "day": r.day.isoformat(),
        "category": r.category,
        "title": r.title,
        "summary": r.summary,
        "repository": r.repository,
        "base": r.base,
        "head": r.head,
        "permalink": r.permalink,
        "counts": [list(c) for c in r.counts],
        "files": [
            [
                f.path,
                f.anchor,
                f.type,
                f.title,
                f.status,
                f.additions,
                f.deletions,
                f.changes,
                f.previous_path,
                f.binary,
            ]
            for f in r.files
        ],
    }


def light_from_json(digest: str, d: dict[str, Any]) -> SiteReport:
    """Raises KeyError/TypeError/ValueError on a malformed entry (the cache is then ignored)."""
    files = tuple(
        SiteFile(
            path=str(f[0]),
            anchor=str(f[1]),
            type=str(f[2]),
            title=str(f[3]),
            status=str(f[4]),
            additions=int(f[5]),
            deletions=int(f[6]),
            changes=int(f[7]),
            diff="",
            explanation="",
            previous_path=f[8],
            binary=f[9],
        )
        for f in d["files"]
    )
    return SiteReport(
        source=str(d["source"]),
        digest=digest,
        locale=str(d["locale"]),
        day=date.fromisoformat(d["day"]),
        category=str(d["category"]),
        title=str(d["title"]),
        summary=str(d["summary"]),
        repository=d["repository"],
        base=str(d["base"]),
        head=str(d["head"]),
        permalink=d["permalink"],
        highlights="",
        insights="",
        files=files,
        counts=tuple((str(t), int(n)) for t, n in d["counts"]),
        light=True,
    )


def load_full(reports_dir: Path, r: SiteReport) -> SiteReport:
    """The complete report behind a light one (same page)."""
    if not r.light:
        return r
    path = reports_dir / r.source
    try:
        data = path.read_bytes()
        full = parse_site_report(
            data.decode("utf-8"), source=r.source, digest=hashlib.sha256(data).hexdigest()
        )
    except (OSError, UnicodeDecodeError, ReportProblem) as exc:
        raise SiteError(f"cannot read report {path} again: {exc}") from None
    return replace(full, page=r.page)
