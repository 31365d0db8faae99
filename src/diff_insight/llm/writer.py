"""The LLM writer: titles, explanations and the report overview written by a model, grounded in the
analysis facts, at a fraction of one-call-per-file.

How calls are spent:
- files whose change the facts describe exactly (date-only, formatting-only, binary, pure renames)
  cost nothing: the deterministic text is used;
- files of one cluster (the same edit) cost one call, reused for every member;
- small files share a call (packed in diff order up to a token budget; results are joined by path);
- a file whose patch alone exceeds the budget is explained in parts (one call per run of whole hunks,
  "map") and then as a whole from the facts and the notes on its parts ("reduce");
- every locale of the run comes from the same call;
- one call per report (category) writes the summary, highlights and insights.
A call that fails for good (after retries and one re-ask) falls back to the deterministic text for
the files it covered, and the report's metadata says so.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from diff_insight.analysis.facts import ChangeType
from diff_insight.llm.errors import LLMAuthError, LLMCallCapExceeded, LLMError
from diff_insight.llm.prompts import STYLE, prompt, prompt_versions
from diff_insight.llm.tokens import estimate_tokens
from diff_insight.model import Status
from diff_insight.report import FileEntry, FileText, Highlights, Overview
from diff_insight.writers.base import ReportContext
from diff_insight.writers.facts_writer import FactsWriter
from diff_insight.writers.i18n import catalog

log = logging.getLogger("diff_insight.llm")

DEFAULT_BUDGET = 8000
"""Input tokens per call, prompt included (patches beyond it are split on hunk boundaries)."""
MAX_FILES_PER_CALL = 12
EXACT_RULES = {"date-only", "formatting-only", "media-added", "media-removed", "media-changed"}
"""Rules whose facts say everything: no model call."""


_TypeName = Literal["new feature", "breaking change", "bug fix", "minor update"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _localized(locales: Sequence[str], name: str) -> type[BaseModel]:
    fields: dict[str, Any] = {loc: (str, Field(min_length=1)) for loc in locales}
    return create_model(name, __base__=_Strict, **fields)


def file_schema(locales: Sequence[str]) -> type[BaseModel]:
    """``{"files": [{path, modification_type, type_reason, title{loc}, explanation{loc}}]}``."""
    text = _localized(locales, "LocalizedText")
    item = create_model(
        "FileNote",
        __base__=_Strict,
        path=(str, ...),
        modification_type=(_TypeName, ...),
        type_reason=(str, ...),
        title=(text, ...),
        explanation=(text, ...),
    )
    return create_model("FileNotes", __base__=_Strict, files=(list[item], ...))  # type: ignore[valid-type]


class PartNotes(_Strict):
    notes: str


def overview_schema(locales: Sequence[str]) -> type[BaseModel]:
    one = create_model(
        "LocaleOverview",
        __base__=_Strict,
        summary=(str, Field(min_length=1)),
        intro=(str, Field(min_length=1)),
        new_features=(list[str], ...),
        breaking_changes=(list[str], ...),
        other_updates=(list[str], ...),
        insights=(list[str], Field(min_length=1)),
    )
    fields: dict[str, Any] = {loc: (one, ...) for loc in locales}
    return create_model("Overviews", __base__=_Strict, **fields)


@dataclass(slots=True)
class _FileResult:
    type: ChangeType
    type_reason: str
    titles: dict[str, str]
    explanations: dict[str, str]
    method: str


@dataclass(slots=True)
class PlannedCall:
    """One model call the run will make (or, with ``--dry-run``, would make)."""

    kind: str
    role: Literal["file", "report"]
    paths: tuple[str, ...]
    input_tokens: int
    """Estimated before the call; the server's figure after it."""
    output_tokens: int = 0
    cached: bool | None = None
    """None until called (and with ``--dry-run``)."""


@dataclass(slots=True)
class LLMUsage:
    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    fallbacks: int = 0
    planned: list[PlannedCall] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "fallbacks": self.fallbacks,
        }


def _facts_json(e: FileEntry) -> str:
    """The facts, compact: the same vocabulary the deterministic writer and the tests use."""
    return json.dumps([f.to_dict() for f in e.analysis.facts], ensure_ascii=False, separators=(",", ":"))


def _nonce(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()[:12]


def _fence_safe(text: str, nonce: str) -> str:
    # a document cannot close the data block: its text never contains the nonce-bearing marker
    return text.replace(f"DATA-{nonce}", f"DATA-{nonce[:6]}…")


class LLMWriter:
    """The :class:`~diff_insight.writers.base.Writer` backed by a model. Call :meth:`prepare`
    with every report's files first (the pipeline does); it makes all calls concurrently."""

    name = "llm"
    version = "1"
    parallel_safe = False

    def __init__(self, client: Any, *, budget_tokens: int = DEFAULT_BUDGET, dry_run: bool = False) -> None:
        self.client = client
        self.budget = budget_tokens
        self.dry_run = dry_run
        self.facts = FactsWriter()
        self.usage = LLMUsage()
        self.prompt_versions = prompt_versions()
        self._files: dict[tuple[str, int], _FileResult] = {}
        """Answers by :func:`_key`: a path changed twice (a patch series) gets an answer per change."""
        self._fallback_reason: dict[tuple[str, int], str] = {}
        """Why an entry (by :func:`_key`) has the facts engine's text instead of a model answer."""
        self._overviews: dict[str, dict[str, Any]] = {}
        self._overview_fallback: dict[str, str] = {}
        """Categories whose overview call failed (their overview is the facts engine's), and why."""
        self._last_failure: str | None = None
        self._locales: list[str] = []

    # --- the Writer interface -------------------------------------------------------------------

    def describe_files(self, entries: Sequence[FileEntry], locale: str) -> list[FileText]:
        base = self.facts.describe_files(entries, locale)
        out: list[FileText] = []
        for e, fact_text in zip(entries, base, strict=True):
            r = self._files.get(_key(e))
            if r is None:
                reason = self._fallback_reason.get(
                    _key(e), "exact" if not self._needs_model(e) else "no model result"
                )
                out.append(
                    FileText(
                        fact_text.title,
                        fact_text.explanation,
                        engine="facts",
                        method="facts",
                        note=None if reason == "exact" else f"fallback: {reason}",
                    )
                )
                continue
            explanation = r.explanations[locale].strip()
            peers = self.facts.cluster_sentence(e, locale)
            if peers:
                explanation += "\n\n" + peers
            out.append(
                FileText(
                    title=r.titles[locale].strip(),
                    explanation=explanation,
                    engine="llm",
                    method=r.method,
                    modification_type=r.type if r.type != e.classification.type else None,
                    type_reason=r.type_reason if r.type != e.classification.type else None,
                )
            )
        return out

    def overview(
        self, entries: Sequence[FileEntry], texts: Sequence[FileText], locale: str, context: ReportContext
    ) -> Overview:
        data = self._overviews.get(context.category, {}).get(locale)
        if data is None:
            return self.facts.overview(entries, texts, locale, context)
        none_text = catalog(locale).msg("highlights.none")
        return Overview(
            summary=data["summary"],
            highlights=Highlights(
                intro=data["intro"],
                new_features=tuple(data["new_features"]),
                breaking_changes=tuple(data["breaking_changes"]),
                other_updates=tuple(data["other_updates"]),
                none_text=none_text,
            ),
            insights=tuple(data["insights"]),
        )

    # --- planning and calling -------------------------------------------------------------------

    def prepare(
        self, reports: Sequence[tuple[ReportContext, Sequence[FileEntry]]], locales: Sequence[str]
    ) -> None:
        """Make every call of the run (file notes first, then one overview per report)."""
        self._locales = list(locales)
        _run_to_completion(self._prepare(reports))

    async def _prepare(self, reports: Sequence[tuple[ReportContext, Sequence[FileEntry]]]) -> None:
        seen: set[tuple[str, int]] = set()
        entries: list[FileEntry] = []
        for _, members in reports:
            for e in members:
                if _key(e) not in seen:
                    seen.add(_key(e))
                    entries.append(e)
        try:
            await self._explain_files(entries)
            await asyncio.gather(*(self._overview(ctx, members) for ctx, members in reports))
        finally:
            closer = getattr(self.client, "aclose", None)
            if closer is not None and not self.dry_run:
                await closer()

    def _needs_model(self, e: FileEntry) -> bool:
        c = e.change
        if e.classification.rule in EXACT_RULES or c.binary or not c.patch:
            return False
        if c.status == Status.REMOVED:
            return False  # the facts say it all (which document, how long); its old text is not news
        return not (c.status == Status.RENAMED and c.changes == 0)

    def _file_item(self, e: FileEntry, nonce: str, notes: Sequence[str] | None = None) -> dict[str, Any]:
        c = e.change
        facts = _facts_json(e)
        return {
            "path": c.path,
            "status": str(c.status),
            "previous_path": c.previous_path,
            "additions": c.additions,
            "deletions": c.deletions,
            "title": _fence_safe(e.analysis.title or "", nonce) or None,
            "type": str(e.classification.type),
            "rule": e.classification.rule,
            "basis": e.analysis.basis,
            "facts": _fence_safe(facts, nonce),
            "cluster": list(e.cluster.paths) if e.cluster else None,
            "patch": _fence_safe(c.patch or "", nonce),
            "notes": [_fence_safe(n, nonce) for n in notes] if notes else None,
        }

    def _messages(self, user: str, nonce: str) -> list[dict[str, Any]]:
        system = prompt("system").render(nonce=nonce, locales=self._locales, style=STYLE)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    async def _explain_files(self, entries: Sequence[FileEntry]) -> None:
        # one representative per cluster; the others reuse its result
        units: list[tuple[FileEntry, tuple[FileEntry, ...]]] = []
        done_clusters: set[str] = set()
        for e in entries:
            if not self._needs_model(e):
                continue
            if e.cluster is not None:
                if e.cluster.id in done_clusters:
                    continue
                done_clusters.add(e.cluster.id)
                members = tuple(m for m in entries if m.cluster is not None and m.cluster.id == e.cluster.id)
                units.append((e, members))
            else:
                units.append((e, (e,)))
        overhead = (
            estimate_tokens(prompt("system").render(nonce="x" * 12, locales=self._locales, style=STYLE)) + 400
        )
        batches: list[list[tuple[FileEntry, tuple[FileEntry, ...]]]] = []
        big: list[tuple[FileEntry, tuple[FileEntry, ...]]] = []
        current: list[tuple[FileEntry, tuple[FileEntry, ...]]] = []
        used = overhead
        for rep, members in units:
            cost = estimate_tokens(rep.change.patch or "") + estimate_tokens(_facts_json(rep)) + 120
            if overhead + cost > self.budget:
                big.append((rep, members))
                continue
            # clusters get their own call, so the model can word the shared change for all members
            if len(members) > 1:
                batches.append([(rep, members)])
                continue
            # the model's answers are matched by path: one call never holds a path twice
            twice = any(r.path == rep.path for r, _ in current)
            if current and (used + cost > self.budget or len(current) >= MAX_FILES_PER_CALL or twice):
                batches.append(current)
                current, used = [], overhead
            current.append((rep, members))
            used += cost
        if current:
            batches.append(current)
        await asyncio.gather(
            *(self._file_batch(b) for b in batches), *(self._map_reduce(r, m) for r, m in big)
        )

    async def _file_batch(self, batch: list[tuple[FileEntry, tuple[FileEntry, ...]]]) -> None:
        nonce = _nonce(*(rep.path for rep, _ in batch), *(rep.change.patch or "" for rep, _ in batch))
        cluster = batch[0][1] if len(batch) == 1 and len(batch[0][1]) > 1 else None
        user = prompt("files").render(
            locales=self._locales,
            nonce=nonce,
            cluster=[m.path for m in cluster] if cluster else None,
            files=[self._file_item(rep, nonce) for rep, _ in batch],
        )
        result = await self._call(
            "files",
            "file",
            user,
            nonce,
            file_schema(self._locales),
            "file_notes",
            tuple(rep.path for rep, _ in batch),
            [m for rep, members in batch for m in (rep, *members)],
        )
        method = "cluster" if cluster else "whole"
        self._store(result, batch, method)

    async def _map_reduce(self, rep: FileEntry, members: tuple[FileEntry, ...]) -> None:
        lines = (rep.change.patch or "").split("\n")
        # split on hunk boundaries: the text of each hunk, then pack hunks into parts under budget
        starts = [i for i, ln in enumerate(lines) if ln.startswith("@@ ")] or [0]
        pieces = ["\n".join(lines[a:b]) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]
        limit = max(500, self.budget - 800)
        parts: list[str] = []
        cur = ""
        for p in pieces:
            if cur and estimate_tokens(cur + "\n" + p) > limit:
                parts.append(cur)
                cur = ""
            if estimate_tokens(p) > limit:
                # one hunk larger than the budget: cut it on line boundaries (each piece stays a diff)
                chunk: list[str] = []
                for ln in p.split("\n"):
                    chunk.append(ln)
                    if estimate_tokens("\n".join(chunk)) > limit:
                        parts.append("\n".join(chunk))
                        chunk = []
                cur = "\n".join(chunk)
                continue
            cur = f"{cur}\n{p}" if cur else p
        if cur:
            parts.append(cur)
        facts = _facts_json(rep)
        notes: list[str | None] = await asyncio.gather(
            *(self._part(rep, facts, i, len(parts), p) for i, p in enumerate(parts, 1))
        )
        if any(n is None for n in notes):
            self._fallback([rep, *members], "a part of the patch could not be explained")
            return
        nonce = _nonce(rep.path, *[n or "" for n in notes])
        user = prompt("files").render(
            locales=self._locales,
            nonce=nonce,
            cluster=[m.path for m in members] if len(members) > 1 else None,
            files=[self._file_item(rep, nonce, [n or "" for n in notes])],
        )
        result = await self._call(
            "reduce",
            "file",
            user,
            nonce,
            file_schema(self._locales),
            "file_notes",
            (rep.path,),
            [rep, *members],
        )
        self._store(result, [(rep, members)], "parts")

    async def _part(self, rep: FileEntry, facts: str, index: int, total: int, patch: str) -> str | None:
        nonce = _nonce(rep.path, str(index), patch)
        user = prompt("part").render(
            path=rep.path,
            title=rep.analysis.title,
            index=index,
            total=total,
            basis=rep.analysis.basis,
            facts=facts,
            nonce=nonce,
            patch=_fence_safe(patch, nonce),
        )
        result = await self._call("map", "file", user, nonce, PartNotes, "part_notes", (rep.path,))
        return result.notes if isinstance(result, PartNotes) else None

    async def _overview(self, ctx: ReportContext, members: Sequence[FileEntry]) -> None:
        first = self._locales[0]
        rows = []
        for e in members:
            r = self._files.get(_key(e))
            title = r.titles[first] if r else self.facts.describe_files([e], first)[0].title
            rows.append(
                {
                    "path": e.path,
                    "type": str(r.type if r else e.classification.type),
                    "title": " ".join(title.split()),
                }
            )
        det = self.facts.overview(members, self.facts.describe_files(members, "en_US"), "en_US", ctx)
        insights = "\n".join(f"- {p}" for p in det.insights)
        nonce = _nonce(ctx.category, *(r["path"] for r in rows), *(r["title"] for r in rows))
        insights = _fence_safe(insights, nonce)
        for row in rows:
            row["title"] = _fence_safe(row["title"], nonce)
        user = prompt("overview").render(
            category=ctx.category,
            repository=ctx.repository,
            total=len(members),
            range_total=ctx.total_files_in_range,
            locales=self._locales,
            insights=insights,
            nonce=nonce,
            files=rows,
        )
        result = await self._call(
            "overview",
            "report",
            user,
            nonce,
            overview_schema(self._locales),
            "report_overview",
            tuple(r["path"] for r in rows),
        )
        if result is not None:
            self._overviews[ctx.category] = {loc: getattr(result, loc).model_dump() for loc in self._locales}
        elif not self.dry_run:
            self._overview_fallback[ctx.category] = self._last_failure or "no model result"

    async def _call(
        self,
        kind: str,
        role: Literal["file", "report"],
        user: str,
        nonce: str,
        schema: type[BaseModel],
        schema_name: str,
        paths: tuple[str, ...],
        answers_for: Sequence[FileEntry] = (),
    ) -> Any:
        """One model call for ``paths``. When it fails, the entries it was to answer for
        (``answers_for``: representatives and their cluster members) fall back to the facts engine."""
        messages = self._messages(user, nonce)
        est = sum(estimate_tokens(m["content"]) for m in messages)
        planned = PlannedCall(kind, role, paths, est)
        self.usage.planned.append(planned)
        if self.dry_run:
            return None
        try:
            result, info = await self.client.complete_json(
                role=role,
                messages=messages,
                schema=schema,
                schema_name=schema_name,
                prompt_version=f"{self.prompt_versions};locales={','.join(self._locales)}",
            )
        except (LLMAuthError, LLMCallCapExceeded):
            raise
        except LLMError as exc:
            log.warning("model call for %s failed, using the facts engine: %s", ", ".join(paths[:3]), exc)
            self._last_failure = f"model call failed ({type(exc).__name__})"
            for e in answers_for:  # a failed overview answers for none: the files' own answers stand
                self._fallback_reason[_key(e)] = self._last_failure
            self.usage.fallbacks += 1
            return None
        planned.cached = bool(info.cached)
        planned.input_tokens = info.input_tokens or planned.input_tokens
        planned.output_tokens = info.output_tokens or 0
        if info.cached:
            self.usage.cache_hits += 1
        else:
            self.usage.calls += 1
            self.usage.input_tokens += info.input_tokens or 0
            self.usage.output_tokens += info.output_tokens or 0
        return result

    def report_metadata(self, category: str, paths: Sequence[str]) -> dict[str, Any]:
        """The ``llm`` front-matter key of one report: models, prompt versions, and the calls that
        served its files (shared calls count in every report they served)."""
        wanted = set(paths)
        calls = [c for c in self.usage.planned if wanted.intersection(c.paths) and c.cached is not None]
        models = getattr(getattr(self.client, "settings", None), "models", {})
        # stable figures only (the same whether an answer came from the model now or from the cache),
        # so a rerun writes the same bytes; this run's calls and cache hits are in the summary line
        meta: dict[str, Any] = {
            "models": dict(models),
            "prompt_versions": self.prompt_versions,
            "answers": len(calls),
            "input_tokens": sum(c.input_tokens for c in calls),
            "output_tokens": sum(c.output_tokens for c in calls),
            "fallback_files": sorted({p for p, _ in self._fallback_reason if p in wanted}),
        }
        if category in self._overview_fallback:  # the summary and highlights are the facts engine's
            meta["overview"] = f"fallback: {self._overview_fallback[category]}"
        return {"llm": meta}

    def _store(
        self, result: Any, batch: Sequence[tuple[FileEntry, tuple[FileEntry, ...]]], method: str
    ) -> None:
        if result is None:
            return
        by_path = {n.path: n for n in result.files}
        for rep, members in batch:
            note = by_path.get(rep.path)
            if note is None:
                self._fallback([rep, *members], "the model omitted the file")
                continue
            chosen = ChangeType(note.modification_type)
            if chosen != rep.classification.type and not note.type_reason.strip():
                chosen = rep.classification.type  # another type needs a reason from the facts
            r = _FileResult(
                type=chosen,
                type_reason=note.type_reason,
                titles={loc: getattr(note.title, loc) for loc in self._locales},
                explanations={loc: getattr(note.explanation, loc) for loc in self._locales},
                method=method,
            )
            for m in members:
                self._files[_key(m)] = r

    def _fallback(self, entries: Sequence[FileEntry], reason: str) -> None:
        for e in entries:
            self._fallback_reason[_key(e)] = reason
        self.usage.fallbacks += 1


def _run_to_completion(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` on an event loop of its own: in this thread, or, when this thread already runs
    one (a notebook, an async application, a browser-driving test harness), in a worker thread, since
    ``asyncio.run`` refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with ThreadPoolExecutor(1, thread_name_prefix="diff-insight-llm") as pool:
        pool.submit(asyncio.run, coro).result()


def _key(e: FileEntry) -> tuple[str, int]:
    """An entry's identity in the run: its path and its occurrence (see ``FileEntry.occurrence``)."""
    return (e.path, e.occurrence)


__all__ = ["LLMUsage", "LLMWriter", "PlannedCall", "file_schema", "overview_schema"]
