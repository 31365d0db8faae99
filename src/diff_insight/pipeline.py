"""The wiring: source → change set → analysis → writer → report → Markdown → files.

The CLI calls :func:`generate_reports`; later front ends (daily runs, backfill) call it too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from diff_insight import __version__
from diff_insight.analysis.analyze import analyze_file, file_kind
from diff_insight.analysis.classify import classify
from diff_insight.analysis.clusters import cluster_files
from diff_insight.analysis.facts import Classification, FileAnalysis, FileKind
from diff_insight.categories import Categorizer
from diff_insight.config import Config
from diff_insight.errors import RenderError
from diff_insight.model import ChangeSet, ContentReader, FileChange, Status
from diff_insight.paths import fsync_directory, fsync_files, render_out_path, write_temp
from diff_insight.report import (
    FileEntry,
    FileText,
    Overview,
    Report,
    ReportFile,
    anchor_numbers,
)
from diff_insight.request import OpenedSource
from diff_insight.request import ReportRequest as ReportRequest  # re-exported: part of the pipeline API
from diff_insight.request import open_source as open_source
from diff_insight.workers import forked_pool, worker_count
from diff_insight.writers.base import ReportContext, Writer
from diff_insight.writers.i18n import preload, resolve_locale

if TYPE_CHECKING:
    from diff_insight.render.markdown import RenderedFiles

# The writers and the renderer (diff_insight.writers.facts_writer, diff_insight.render.markdown)
# are imported where they are used: a report imports them while its analysis runs (see
# _prepare_writing), not before, where they would delay the analysis.

log = logging.getLogger("diff_insight")

MAX_FULL_TEXT = 4 * 1024 * 1024
"""Files larger than this are analysed from their patch only."""


@dataclass(frozen=True, slots=True)
class WrittenReport:
    path: Path
    category: str
    locale: str
    files: int


@dataclass(slots=True)
class RunResult:
    reports: list[WrittenReport]
    changeset: ChangeSet
    left_out: int
    """Files that matched no category while the catch-all was off."""
    warnings: list[str]
    usage: dict[str, Any] | None = None
    """LLM usage of the run (calls, cache hits, tokens), when the LLM engine wrote it."""
    planned: list[Any] = field(default_factory=list)
    """The model calls of the run (with ``dry_run``, the calls it would make)."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """Run options of the writing engine that are not in the config."""

    engine: Literal["facts", "llm"] | None = None
    """Overrides the config's ``engine``."""
    no_cache: bool = False
    dry_run: bool = False


def make_writer(config: Config, options: EngineOptions, out_root: Path) -> Writer:
    """The deterministic writer, or the LLM writer with its client and cache."""
    engine = options.engine or config.engine
    if engine == "facts":
        from diff_insight.writers.facts_writer import FactsWriter

        return FactsWriter()
    from diff_insight.llm.cache import LLMCache
    from diff_insight.llm.client import LLMClient
    from diff_insight.llm.errors import LLMConfigError
    from diff_insight.llm.settings import LLMSettings, Role, settings_from_env
    from diff_insight.llm.writer import LLMWriter

    llm = config.llm
    knobs: dict[str, Any] = dict(
        concurrency=llm.concurrency,
        requests_per_minute=llm.requests_per_minute,
        tokens_per_minute=llm.tokens_per_minute,
        max_calls=llm.max_calls,
        timeout=llm.timeout,
    )
    models: dict[Role, str] = {"file": llm.models.file, "report": llm.models.report}
    try:
        settings = settings_from_env(
            provider=llm.provider, models=models, api_key_file=llm.api_key_file, **knobs
        )
    except LLMConfigError:
        if not options.dry_run:
            raise
        # a dry run calls nothing: it can plan without a provider
        settings = LLMSettings(
            provider="compatible", base_url="http://dry-run.invalid/v1", models=models, **knobs
        )
    cache = None
    if not options.no_cache and not options.dry_run:
        secrets = [settings.api_key.get_secret_value()] if settings.api_key else []
        cache = LLMCache(out_root / llm.cache, secrets=secrets)
    client = LLMClient(settings, cache)
    return LLMWriter(client, budget_tokens=llm.budget_tokens, dry_run=options.dry_run)


class Progress:
    """Progress callbacks; the CLI supplies a rich implementation."""

    def start(self, phase: str, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def stop(self) -> None: ...


def default_workers(n_files: int) -> int:
    """Processes for a range of ``n_files`` files (see :func:`~diff_insight.workers.worker_count`)."""
    return worker_count(n_files, PARALLEL_MIN_FILES)


PARALLEL_MIN_FILES = 150
"""Ranges with fewer files are analysed in one process (starting workers would cost more)."""

# State shared with forked workers (read-only, inherited copy-on-write, never pickled).
_SHARED: dict[str, Any] = {}


_Analysed = tuple[FileAnalysis, Classification]
"""A file's facts and its type (which does not depend on the other files)."""


def _analyze_chunk(indexes: list[int]) -> list[_Analysed]:
    files: Sequence[FileChange] = _SHARED["files"]
    reader = _SHARED.get("worker_reader")
    if reader is None:
        reader = _SHARED["reader"].fresh()
        _SHARED["worker_reader"] = reader
    return list(_analyze_files((files[i] for i in indexes), reader))


CHUNKS_PER_WORKER = 16


def _analysis_cost(change: FileChange) -> int:
    """A rough cost of analysing ``change``: the bytes it scans (full texts only where
    :func:`_analyze_one` reads them), plus a fixed cost per file."""
    cost = 2000 + len(change.patch or "")
    if _reads_texts(change):
        cost += (change.old_size or 0) + (change.new_size or 0)
    return cost


def _balanced_chunks(files: Sequence[FileChange], workers: int) -> list[list[int]]:
    """The indexes of ``files`` in chunks of about equal cost, costliest files first (so that no
    worker is left with a large file at the end while the others wait)."""
    costs = [_analysis_cost(f) for f in files]
    target = max(1, sum(costs) // (workers * CHUNKS_PER_WORKER))
    chunks: list[list[int]] = []
    current: list[int] = []
    total = 0
    for i in sorted(range(len(files)), key=lambda k: -costs[k]):
        current.append(i)
        total += costs[i]
        if total >= target:
            chunks.append(current)
            current, total = [], 0
    if current:
        chunks.append(current)
    return chunks


def analyze_changeset(
    changeset: ChangeSet,
    reader: ContentReader,
    progress: Progress | None = None,
    workers: int | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> list[FileEntry]:
    """Facts, type and cluster of every file, in diff order. Full texts are read one file at a
    time and dropped after use. Large ranges are analysed by several forked processes; the result
    does not depend on how many. ``meanwhile`` is called in this process while they work (after
    the analysis, when there are none): preparing the next stage there costs no time."""
    files = changeset.files
    n_workers = default_workers(len(files)) if workers is None else workers
    analyses: list[_Analysed] = []
    if n_workers > 1 and len(files) > 1:
        _SHARED.update(files=files, reader=reader)
        try:
            found: dict[int, _Analysed] = {}
            with forked_pool(n_workers) as pool:
                pending = {pool.submit(_analyze_chunk, c): c for c in _balanced_chunks(files, n_workers)}
                if progress:
                    progress.start("analysing", len(files))
                if meanwhile is not None:  # the workers are forked at the first submit
                    meanwhile()
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        chunk = pending.pop(fut)
                        found.update(zip(chunk, fut.result(), strict=True))
                        if progress:
                            progress.advance(len(chunk))
            analyses = [found[i] for i in range(len(files))]
        finally:
            _SHARED.clear()
            if progress:
                progress.stop()
    else:
        if progress:
            progress.start("analysing", len(files))
        for analysis in _analyze_files(files, reader):
            analyses.append(analysis)
            if progress:
                progress.advance()
        if progress:
            progress.stop()
        if meanwhile is not None:
            meanwhile()
    clusters = cluster_files([a for a, _ in analyses])
    cluster_of = {p: c for c in clusters for p in c.paths}
    return [
        FileEntry(
            change=change,
            analysis=analysis,
            classification=classification,
            cluster=cluster_of.get(change.path),
        )
        for change, (analysis, classification) in zip(files, analyses, strict=True)
    ]


def number_anchors(entries: Sequence[FileEntry], groups: Iterable[Sequence[int]]) -> list[FileEntry]:
    """``entries`` with the anchor numbers (:attr:`FileEntry.occurrence`) of the reports that hold
    them: each group is one report's files, in report order (see :func:`anchor_numbers`)."""
    out = list(entries)
    for group in groups:
        for i, n in zip(group, anchor_numbers([entries[i].path for i in group]), strict=True):
            if out[i].occurrence != n:
                out[i] = replace(out[i], occurrence=n)
    return out


def _reads_texts(change: FileChange) -> bool:
    """Whether the analysis of ``change`` reads its full texts (a changed Markdown file)."""
    return bool(
        change.patch
        and change.status in (Status.MODIFIED, Status.RENAMED)
        and file_kind(change) == FileKind.MARKDOWN
    )


def _analyze_files(files: Iterable[FileChange], reader: ContentReader) -> Iterator[_Analysed]:
    """:func:`_analyze_one` and the type of each file, with the texts they read announced to
    ``reader`` first."""
    files = list(files)
    reader.prefetch([(c, side) for c in files if _reads_texts(c) for side in ("old", "new")])
    for change in files:
        analysis = _analyze_one(change, reader)
        yield analysis, classify(change, analysis)


def _analyze_one(change: FileChange, reader: ContentReader) -> FileAnalysis:
    old = new = None
    if _reads_texts(change):
        old = reader.read(change, "old")
        new = reader.read(change, "new") if old is not None else None
        if old is None or new is None or old.size > MAX_FULL_TEXT or new.size > MAX_FULL_TEXT:
            old = new = None
    return analyze_file(change, old, new)


def report_day(request: ReportRequest, changeset: ChangeSet, config: Config) -> date:
    tz = config.tzinfo
    if request.day is not None:
        return request.day
    if changeset.head_time is not None:
        return changeset.head_time.astimezone(tz).date()
    return datetime.now(tz).date()


@dataclass(frozen=True, slots=True)
class ReportJob:
    """One report to write: a category's files in one locale."""

    category: str
    locale: str
    members: tuple[int, ...]
    """Indexes into the analysed entries, in diff order."""
    context: ReportContext


def plan_reports(
    changeset: ChangeSet, entries: Sequence[FileEntry], config: Config, locales: Sequence[str]
) -> tuple[list[ReportJob], int, list[FileEntry]]:
    """One job per (category with changes × locale), the number of files left out, and the entries
    with the anchors of their category's report (the jobs index into these)."""
    groups, left_out = Categorizer(config).split(e.change.path for e in entries)
    entries = number_anchors(entries, groups.values())
    repo_name = changeset.repository.slug or (
        Path(changeset.repository.local_path).name if changeset.repository.local_path else None
    )
    jobs = [
        ReportJob(
            category,
            locale,
            tuple(idx),
            ReportContext(category=category, repository=repo_name, total_files_in_range=len(entries)),
        )
        for category, idx in groups.items()
        for locale in locales
    ]
    return jobs, len(left_out), entries


def _report(
    job: ReportJob,
    changeset: ChangeSet,
    members: Sequence[FileEntry],
    texts: Sequence[FileText],
    overview: Overview,
    day: date,
    writer: Writer,
) -> Report:
    meta = getattr(writer, "report_metadata", None)
    extra = meta(job.category, [e.path for e in members]) if meta is not None else {}
    return Report(
        category=job.category,
        locale=job.locale,
        date=day,
        changeset=changeset,
        files=tuple(ReportFile(e, t) for e, t in zip(members, texts, strict=True)),
        overview=overview,
        engine=writer.name,
        engine_version=f"{__version__}+{writer.name}.{writer.version}",
        extra=extra,
    )


def build_report(
    job: ReportJob, changeset: ChangeSet, entries: Sequence[FileEntry], day: date, writer: Writer
) -> Report:
    members = [entries[i] for i in job.members]
    texts = writer.describe_files(members, job.locale)
    overview = writer.overview(members, texts, job.locale, job.context)
    return _report(job, changeset, members, texts, overview, day, writer)


def build_reports(
    changeset: ChangeSet,
    entries: Sequence[FileEntry],
    config: Config,
    day: date,
    locales: Sequence[str],
    writer: Writer,
) -> tuple[list[Report], int]:
    """One report per (category with changes × locale), and the number of files left out."""
    jobs, left_out, entries = plan_reports(changeset, entries, config, locales)
    return [build_report(j, changeset, entries, day, writer) for j in jobs], left_out


_TextFields = tuple[Any, ...]
"""A :class:`FileText` as the tuple of its fields (pickled several times faster than the object)."""
_text_fields: Callable[[FileText], _TextFields] = attrgetter(*(f.name for f in fields(FileText)))


def _describe_chunk(task: tuple[tuple[int, ...], int, int]) -> list[tuple[list[_TextFields], RenderedFiles]]:
    """Worker: the texts and the rendered files (:func:`~diff_insight.render.markdown.render_files`,
    with the Diff blocks, built once for all the locales) of files ``a:b`` of jobs ``group`` (one
    category in every locale: the same files)."""
    from diff_insight.render.markdown import diff_block, render_file_parts, render_files

    group, a, b = task
    sh = _SHARED
    jobs: Sequence[ReportJob] = sh["jobs"]
    entries: Sequence[FileEntry] = sh["entries"]
    members = [entries[k] for k in jobs[group[0]].members[a:b]]
    blocks = tuple(diff_block(e.change) for e in members)
    out: list[tuple[list[_TextFields], RenderedFiles]] = []
    for i in group:
        texts = sh["writer"].describe_files(members, jobs[i].locale)
        parts = [render_file_parts(ReportFile(e, t)) for e, t in zip(members, texts, strict=True)]
        out.append(([_text_fields(t) for t in texts], render_files(parts, blocks)))
    return out


def _overview_job(task: tuple[int, list[FileText]]) -> Overview:
    i, texts = task
    sh = _SHARED
    job: ReportJob = sh["jobs"][i]
    members = [sh["entries"][k] for k in job.members]
    overview: Overview = sh["writer"].overview(members, texts, job.locale, job.context)
    return overview


def _job_groups(jobs: Sequence[ReportJob]) -> list[tuple[int, ...]]:
    """Indexes of the jobs that share their files (one category in every locale)."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, j in enumerate(jobs):
        groups.setdefault(j.members, []).append(i)
    return [tuple(g) for g in groups.values()]


def _render_tasks(
    jobs: Sequence[ReportJob],
    changeset: ChangeSet,
    entries: Sequence[FileEntry],
    day: date,
    writer: Writer,
    workers: int,
) -> list[str]:
    """Every job's Markdown, in chunks of files balanced across jobs: each chunk is described and
    rendered in every locale of its category by forked processes, and each job's overview follows
    as soon as its chunks are done (or first, for a writer whose overview does not read the file
    texts). The result equals :func:`build_report` + :func:`render_report` in one process."""
    from diff_insight.render.markdown import render_report

    groups = _job_groups(jobs)
    renderings = sum(len(jobs[g[0]].members) * len(g) for g in groups)  # files × locales
    per_task = -(-renderings // (workers * 8))
    size = max(8, per_task // max(len(g) for g in groups))  # files per task
    tasks = [
        (g, a, min(a + size, len(jobs[g[0]].members)))
        for g in groups
        for a in range(0, len(jobs[g[0]].members), size)
    ]
    parts: list[dict[int, tuple[list[_TextFields], RenderedFiles]]] = [{} for _ in jobs]
    expected = [0] * len(jobs)
    for g, _a, _b in tasks:
        for i in g:
            expected[i] += 1
    overviews: dict[int, Overview] = {}
    # an overview that does not read the file texts (the facts engine's) goes first: it is the
    # longest task, and would otherwise run alone at the end
    early = not getattr(writer, "overview_uses_texts", True)
    _SHARED.update(jobs=jobs, entries=entries, writer=writer)

    def texts_of(i: int) -> list[FileText]:
        return [FileText(*fields) for k in sorted(parts[i]) for fields in parts[i][k][0]]

    try:
        with forked_pool(workers) as pool:
            pending: dict[Future[Any], tuple[str, tuple[int, ...], int]] = {}
            for i, j in enumerate(jobs):  # and jobs without files: overview only
                if early or not j.members:
                    pending[pool.submit(_overview_job, (i, []))] = ("o", (i,), 0)
            for t in tasks:
                pending[pool.submit(_describe_chunk, t)] = ("d", t[0], t[1])
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    kind, group, a = pending.pop(fut)
                    if kind == "o":
                        overviews[group[0]] = fut.result()
                        continue
                    for i, part in zip(group, fut.result(), strict=True):
                        parts[i][a] = part
                        if not early and len(parts[i]) == expected[i]:
                            pending[pool.submit(_overview_job, (i, texts_of(i)))] = ("o", (i,), 0)
    finally:
        _SHARED.clear()
    out: list[str] = []
    for i, job in enumerate(jobs):
        members = [entries[k] for k in job.members]
        report = _report(job, changeset, members, texts_of(i), overviews[i], day, writer)
        chunks = [parts[i].pop(k)[1] for k in sorted(parts[i])]
        out.append(render_report(report, chunks=chunks))
        del chunks  # in the report now: not kept while the next one is put together
    return out


def render_jobs(
    jobs: Sequence[ReportJob],
    changeset: ChangeSet,
    entries: Sequence[FileEntry],
    day: date,
    writer: Writer,
    workers: int = 1,
) -> list[str]:
    """The Markdown of every job, in order; several forked processes when the writer allows it."""
    if workers > 1 and jobs and getattr(writer, "parallel_safe", False):
        return _render_tasks(jobs, changeset, entries, day, writer, workers)
    from diff_insight.render.markdown import render_report

    blocks = _diff_blocks(jobs, entries)
    return [
        render_report(build_report(j, changeset, entries, day, writer), blocks=[blocks[k] for k in j.members])
        for j in jobs
    ]


def _diff_blocks(jobs: Sequence[ReportJob], entries: Sequence[FileEntry]) -> dict[int, str]:
    """Each file's Diff block, once for all the reports (locales) that show it."""
    from diff_insight.render.markdown import diff_block

    return {k: diff_block(entries[k].change) for j in jobs for k in j.members}


_TEMP_REPORT = re.compile(r"\.tmp-(?:(?P<pid>[0-9]+)-)?[A-Za-z0-9_]+\.md")
_STALE_UNOWNED_SECONDS = 3600


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_temps(directory: Path) -> list[Path]:
    """Delete the ``.tmp-<pid>-*.md`` files of :func:`write_all` in ``directory`` whose process is
    gone (left by a killed run), and older ``.tmp-*.md`` files without a pid that are more than
    an hour old. Returns what was removed; errors are ignored."""
    removed: list[Path] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = _TEMP_REPORT.fullmatch(name)
        if m is None:
            continue
        path = directory / name
        if m.group("pid") is not None:
            stale = int(m.group("pid")) != os.getpid() and not _pid_alive(int(m.group("pid")))
        else:
            try:
                stale = now - path.lstat().st_mtime > _STALE_UNOWNED_SECONDS
            except OSError:
                continue
        if stale:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


STAGE_DIR = Path(".diff-insight") / "tmp"
"""Where :func:`write_all` stages the reports of a run, relative to the output root."""


def _same_device(a: Path, b: Path) -> bool:
    try:
        return os.stat(a).st_dev == os.stat(b).st_dev
    except OSError:
        return False


def write_all(items: Sequence[tuple[Path, str]], *, stage_dir: Path | None = None) -> None:
    """Write every file to a temporary file first, then move them all into place, so a failure
    leaves earlier reports untouched and no half-written file behind.

    The temporary files are ``.tmp-<pid>-<random>.md`` in ``stage_dir`` (the run's
    ``<out_root>/.diff-insight/tmp``), so a run that is killed (SIGKILL, power loss) before the
    renames leaves nothing in the report directories; where ``stage_dir`` is not given or is on
    another file system than a report's directory, next to the report instead. Stale temporary
    files of dead processes are removed from both places (:func:`remove_stale_temps`).
    New reports get the umask's mode, a replaced report keeps its mode (:func:`write_temp`), and
    the directories are fsynced after the renames, so the renames are durable before the caller (a
    daily run) records the state."""
    staged: list[tuple[Path, Path]] = []
    current: Path | None = None
    done = False
    made_stage = False
    prefix = f".tmp-{os.getpid()}-"
    try:
        if stage_dir is not None and items:
            made_stage = not stage_dir.exists()
            stage_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_temps(stage_dir)
        for directory in dict.fromkeys(path.parent for path, _ in items):
            remove_stale_temps(directory)
        for path, text in items:
            current = path
            path.parent.mkdir(parents=True, exist_ok=True)
            where = (
                stage_dir if stage_dir is not None and _same_device(stage_dir, path.parent) else path.parent
            )
            staged.append(
                (write_temp(where, text, target=path, name=lambda t: f"{prefix}{t}.md", sync=False), path)
            )
        fsync_files([tmp for tmp, _ in staged])  # every report is on disk before the first rename
        for tmp, path in staged:
            current = path
            os.replace(tmp, path)
        for directory in dict.fromkeys(path.parent for path, _ in items):
            fsync_directory(directory)
        done = True
    except (OSError, UnicodeError) as exc:
        target = current if current is not None else (items[0][0] if items else Path("."))
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RenderError(f"cannot write report {target}: {reason}") from None
    finally:
        if not done:  # also on KeyboardInterrupt: no temp file of ours stays behind
            for tmp, _ in staged:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        if made_stage and stage_dir is not None:  # leave no empty directories of ours behind
            with contextlib.suppress(OSError):
                stage_dir.rmdir()
                stage_dir.parent.rmdir()


def _prepare_writing(locales: Sequence[str]) -> None:
    """Load what writing reports in ``locales`` needs: the writers, the renderer and the locale data
    (:func:`~diff_insight.writers.i18n.preload`). Done while the analysis runs, so that it costs no
    time and the writing processes, forked later, inherit it."""
    import diff_insight.render.markdown
    import diff_insight.writers.facts_writer  # noqa: F401

    preload(locales)


def generate_reports(
    request: ReportRequest,
    config: Config,
    *,
    writer: Writer | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
    engine: EngineOptions | None = None,
    source: Future[OpenedSource] | None = None,
) -> RunResult:
    """Read the changes, analyse them, write every report. Returns what was written.

    ``source`` is the request's source when the caller started opening it already
    (:func:`~diff_insight.request.start_source`)."""
    warnings: list[str] = []

    def _warn(msg: str) -> None:
        warnings.append(msg)
        if warn:
            warn(msg)

    locales: list[str] = []
    for loc in config.locales:
        eff, msg = resolve_locale(loc)
        if msg:
            _warn(msg)
        if eff not in locales:
            locales.append(eff)
    changeset, reader = open_source(request) if source is None else source.result()
    try:
        entries = analyze_changeset(changeset, reader, progress, meanwhile=lambda: _prepare_writing(locales))
    finally:
        reader.close()
    if config.repository and changeset.repository.slug is None:
        from diff_insight.model import Repository

        changeset = replace(
            changeset,
            repository=Repository(
                config.repository, changeset.repository.url, changeset.repository.local_path
            ),
        )
    day = report_day(request, changeset, config)
    jobs, left_out, entries = plan_reports(changeset, entries, config, locales)
    if left_out:
        _warn(f"{left_out} file(s) matched no category and were left out (catch-all is off)")
    paths = [
        render_out_path(config.out, category=j.category, locale=j.locale, day=day, root=request.out_root)
        for j in jobs
    ]
    if len(set(paths)) != len(paths):
        raise RenderError(
            f"the output template {config.out!r} maps different reports to the same file; "
            "include {category} and {locale}"
        )
    options = engine or EngineOptions()
    writer = writer or make_writer(config, options, request.out_root)
    prepare = getattr(writer, "prepare", None)
    if prepare is not None:
        by_category: dict[str, ReportJob] = {}
        for j in jobs:
            by_category.setdefault(j.category, j)
        prepare([(j.context, [entries[i] for i in j.members]) for j in by_category.values()], locales)
    usage = writer.usage.as_dict() if hasattr(writer, "usage") else None
    planned = list(getattr(getattr(writer, "usage", None), "planned", []))
    if options.dry_run:
        return RunResult([], changeset, left_out, warnings, usage, planned)
    texts = render_jobs(jobs, changeset, entries, day, writer, workers=default_workers(len(entries)))
    items = list(zip(paths, texts, strict=True))
    written = [
        WrittenReport(path, j.category, j.locale, len(j.members)) for path, j in zip(paths, jobs, strict=True)
    ]
    write_all(items, stage_dir=request.out_root / STAGE_DIR)
    return RunResult(written, changeset, left_out, warnings, usage, planned)
