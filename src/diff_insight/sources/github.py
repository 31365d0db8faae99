"""Read the changes between two commits straight from the GitHub REST API.

One ``GET /repos/{owner}/{repo}/compare/{base}...{head}`` (paged through its ``files`` by the
``Link: rel="next"`` headers) gives the change set. GitHub leaves out the ``patch`` of large files;
for those the old and new texts are fetched from the contents endpoint and the patch is computed
locally with ``git diff --no-index`` so that the report stays complete. The content reader fetches
full texts lazily from the same endpoint (cached per path and commit).

The token (``GITHUB_TOKEN`` by default) is sent only in the ``Authorization`` header of requests to
the API's own origin; it is never logged nor put in an exception message.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Final
from urllib.parse import quote, urlsplit

import httpx
from pydantic import Field, ValidationError

from diff_insight.errors import SourceError
from diff_insight.model import (
    ChangeSet,
    EntryKind,
    FileChange,
    Repository,
    Side,
    Status,
    TextContent,
)
from diff_insight.sources.compare_json import (
    CompareCommit,
    CompareFile,
    CompareResponse,
    file_change,
    validation_message,
)
from diff_insight.sources.diffparse import decode_utf8, parse_diff
from diff_insight.sources.git import DEFAULT_MAX_BYTES, compare_permalink, git_env

__all__ = [
    "DEFAULT_API_URL",
    "GitHubContentReader",
    "local_patch",
    "open_github",
]

log = logging.getLogger(__name__)

DEFAULT_API_URL: Final = "https://api.github.com"
_USER_AGENT: Final = "diff-insight"
_JSON: Final = "application/vnd.github+json"
_RAW: Final = "application/vnd.github.raw"
_API_VERSION: Final = "2022-11-28"
_PER_PAGE: Final = 100
_MAX_PAGES: Final = 200
"""Safety bound on compare pages (GitHub lists at most 3,000 files)."""
_MAX_FILES_NOTE: Final = 3000
_SERVER_ATTEMPTS: Final = 4
"""Tries for a request that meets 5xx answers or network errors (so three retries)."""
_RATE_LIMIT_ATTEMPTS: Final = 5
"""Waits for rate limits (primary or secondary) allowed for one request."""
_SECONDARY_DEFAULT_WAIT: Final = 60.0
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")
_GIT_CONFIG: Final = (
    "core.quotepath=false",
    "core.attributesFile=/dev/null",
    "core.autocrlf=false",
    "core.safecrlf=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.suppressBlankEmpty=false",
    "color.ui=never",
)
_GIT_DIFF_FLAGS: Final = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--diff-algorithm=myers",
    "--indent-heuristic",
    "-U3",
    "--inter-hunk-context=0",
)


class _Page(CompareResponse):
    """One page of the compare response: later pages may carry no files."""

    files: list[CompareFile] = Field(default_factory=list)
    total_commits: int | None = None


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _utc_clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")


class _Api:
    """GET requests to the GitHub API with authentication, rate-limit waits and bounded retries."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        client: httpx.Client | None,
        sleep: Callable[[float], object],
        max_wait: float,
        clock: Callable[[], float],
    ) -> None:
        self.api_url = api_url.rstrip("/")
        parts = urlsplit(self.api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"not an http(s) URL for the GitHub API: {api_url!r}")
        self._origin = (parts.scheme, parts.netloc.lower())
        self._token = token or None
        self._client = client
        self._owns_client = client is None
        self._lock = threading.Lock()
        self.sleep = sleep
        self.max_wait = max_wait
        self.clock = clock

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def clone(self) -> _Api:
        """The same settings with no client yet (one is created on first use)."""
        return _Api(self.api_url, self._token, None, self.sleep, self.max_wait, self.clock)

    def __repr__(self) -> str:  # never show the token
        return f"_Api({self.api_url!r}, token={'set' if self._token else 'none'})"

    def client(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=True)
                self._owns_client = True
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            if client is not None and self._owns_client:
                client.close()

    def _headers(self, url: str, accept: str) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": _USER_AGENT, "X-GitHub-Api-Version": _API_VERSION}
        parts = urlsplit(url)
        if self._token and (parts.scheme, parts.netloc.lower()) == self._origin:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def scrub(self, text: str) -> str:
        """``text`` with the token (should it ever appear) masked."""
        return text.replace(self._token, "***") if self._token else text

    def message(self, response: httpx.Response) -> str:
        """GitHub's error message of a response, on one line."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            text = data["message"]
        else:
            text = response.reason_phrase or ""
        return self.scrub(
            _one_line(f"HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}")
        )

    def _limit_error(self, until: float, secondary: bool) -> SourceError:
        kind = "secondary rate limit" if secondary else "rate limit"
        hint = "" if self.has_token or secondary else " (set GITHUB_TOKEN for a higher limit)"
        return SourceError(f"GitHub {kind} reached; retry after {_utc_clock(until)} UTC{hint}")

    def _rate_limit_wait(self, response: httpx.Response) -> tuple[float, float, bool] | None:
        """``(seconds, until, secondary)`` when ``response`` is a rate-limit answer, else ``None``.

        ``seconds`` is how long to sleep (one second past a primary limit's reset, for clock skew);
        ``until`` is when GitHub says the limit ends (epoch seconds).
        """
        if response.status_code not in (403, 429):
            return None
        headers = response.headers
        retry_after = headers.get("retry-after")
        now = self.clock()
        if retry_after is not None:
            try:
                seconds = max(float(retry_after), 0.0)
            except ValueError:
                pass
            else:
                return seconds, now + seconds, True
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset", ""))
            except ValueError:
                return _SECONDARY_DEFAULT_WAIT, now + _SECONDARY_DEFAULT_WAIT, False
            return max(reset - now, 0.0) + 1.0, reset, False
        if response.status_code == 429 or "rate limit" in self.message(response).lower():
            return _SECONDARY_DEFAULT_WAIT, now + _SECONDARY_DEFAULT_WAIT, True
        return None

    def get(self, url: str, *, accept: str, what: str, passthrough: Collection[int] = ()) -> httpx.Response:
        """GET ``url``; return a 2xx response (or one whose status is in ``passthrough``).

        Waits out rate limits within ``max_wait``, retries 5xx answers and network errors a few
        times with backoff, and turns every other failure into a one-line :class:`SourceError`.
        """
        server_failures = 0
        limit_waits = 0
        while True:
            try:
                response = self.client().get(url, headers=self._headers(url, accept))
            except httpx.TransportError as exc:
                server_failures += 1
                if server_failures >= _SERVER_ATTEMPTS:
                    host = urlsplit(url).netloc
                    raise SourceError(
                        f"cannot reach GitHub at {host} for {what}: {type(exc).__name__} "
                        f"after {server_failures} attempts"
                    ) from None
                self._backoff(server_failures, f"{type(exc).__name__} for {what}")
                continue
            status = response.status_code
            if 200 <= status < 300 or status in passthrough:
                return response
            wait = self._rate_limit_wait(response)
            if wait is not None:
                seconds, until, secondary = wait
                limit_waits += 1
                if seconds > self.max_wait or limit_waits > _RATE_LIMIT_ATTEMPTS:
                    raise self._limit_error(until, secondary)
                log.warning(
                    "GitHub %s rate limit: waiting %.0f s before %s",
                    "secondary" if secondary else "primary",
                    seconds,
                    what,
                )
                self.sleep(seconds)
                continue
            if status >= 500:
                server_failures += 1
                if server_failures >= _SERVER_ATTEMPTS:
                    raise SourceError(
                        f"GitHub failed on {what}: {self.message(response)} after {server_failures} attempts"
                    )
                self._backoff(server_failures, f"HTTP {status} for {what}")
                continue
            if status == 401:
                if self.has_token:
                    raise SourceError("GitHub rejected the token (GITHUB_TOKEN)")
                raise SourceError(f"GitHub requires authentication for {what}; set GITHUB_TOKEN")
            if status == 403:
                raise SourceError(f"GitHub refused access to {what} ({self.message(response)})")
            raise SourceError(f"GitHub answered {self.message(response)} for {what}")

    def _backoff(self, failures: int, why: str) -> None:
        seconds = float(2 ** (failures - 1))
        log.warning("GitHub request failed (%s); retrying in %.0f s", why, seconds)
        self.sleep(seconds)


def _contents_url(api: _Api, slug: str, path: str, sha: str) -> str:
    return f"{api.api_url}/repos/{slug}/contents/{quote(path, safe='/')}?ref={quote(sha, safe='')}"


def _fetch_blob(api: _Api, slug: str, path: str, sha: str) -> bytes | None:
    """The raw bytes of ``path`` at commit ``sha``, or ``None`` when GitHub has no such file."""
    response = api.get(
        _contents_url(api, slug, path, sha),
        accept=_RAW,
        what=f"the contents of {path!r} at {sha[:7]}",
        passthrough=(404,),
    )
    if response.status_code == 404:
        return None
    return response.content


class GitHubContentReader:
    """Full file texts from GitHub's contents endpoint, fetched lazily and cached per (path, SHA).

    ``recomputed_patches`` names the files (new paths) whose patch GitHub left out and that were
    diffed locally instead.
    """

    def __init__(
        self,
        api: _Api,
        slug: str,
        base: str,
        head: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        recomputed_patches: frozenset[str] = frozenset(),
        cache: dict[tuple[str, str], bytes | None] | None = None,
    ) -> None:
        self._api = api
        self.slug = slug
        self.base = base
        self.head = head
        self.max_bytes = max_bytes
        self.recomputed_patches = recomputed_patches
        self._cache: dict[tuple[str, str], bytes | None] = dict(cache or {})
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"GitHubContentReader({self.slug!r}, {self.base[:7]}...{self.head[:7]})"

    def __enter__(self) -> GitHubContentReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prefetch(self, reads: Sequence[tuple[FileChange, Side]]) -> None:
        """Nothing to do: each text is one request, made when it is read."""
        return None

    def read(self, change: FileChange, side: Side) -> TextContent | None:
        """The text of ``change`` on ``side``; ``None`` for binary, submodule, absent or too large."""
        if change.binary or change.kind is EntryKind.SUBMODULE:
            return None
        if side == "old":
            if change.status is Status.ADDED:
                return None
            path, sha = change.previous_path or change.path, self.base
        else:
            if change.status is Status.REMOVED:
                return None
            path, sha = change.path, self.head
        data = self.fetch(path, sha)
        if data is None or len(data) > self.max_bytes:
            return None
        text, replaced = decode_utf8(data)
        return TextContent(text=text, size=len(data), replaced=replaced)

    def fetch(self, path: str, sha: str) -> bytes | None:
        """The raw bytes of ``path`` at ``sha`` (cached), or ``None`` when GitHub has no such file."""
        if self._closed:
            raise SourceError("the GitHub content reader is closed")
        key = (path, sha)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        data = _fetch_blob(self._api, self.slug, path, sha)
        with self._lock:
            self._cache[key] = data
        return data

    def fresh(self) -> GitHubContentReader:
        """An equivalent reader with its own (not yet opened) HTTP client and an empty cache."""
        return GitHubContentReader(
            self._api.clone(),
            self.slug,
            self.base,
            self.head,
            max_bytes=self.max_bytes,
            recomputed_patches=self.recomputed_patches,
        )

    def close(self) -> None:
        """Close the HTTP client when the reader created it. Safe to call more than once."""
        self._closed = True
        self._api.close()


def local_patch(old: bytes | None, new: bytes | None) -> tuple[str | None, int, int, bool]:
    """``(patch, additions, deletions, replaced)`` of two texts, computed with ``git diff --no-index``.

    ``None`` stands for an absent side (added or removed file). The patch runs from the first
    ``@@`` line on, without the final newline, as in GitHub's ``patch`` field; ``None`` when git
    sees no textual difference or takes the contents for binary.
    """
    with tempfile.TemporaryDirectory(prefix="diff-insight-") as tmp:
        names: list[str] = []
        for name, data in (("old", old), ("new", new)):
            if data is None:
                names.append("/dev/null")
            else:
                Path(tmp, name).write_bytes(data)
                names.append(name)
        argv = ["git", "--no-pager"]
        for item in _GIT_CONFIG:
            argv += ["-c", item]
        argv += ["diff", "--no-index", *_GIT_DIFF_FLAGS, "--", *names]
        try:
            proc = subprocess.run(
                argv, cwd=tmp, env=git_env(), stdin=subprocess.DEVNULL, capture_output=True, check=False
            )
        except OSError as exc:
            raise SourceError(f"cannot run git to diff a file locally: {exc.strerror or exc}") from None
    if proc.returncode not in (0, 1):
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise SourceError(f"git diff --no-index failed: {err[0] if err else 'no error message'}")
    sections = parse_diff(proc.stdout)
    if not sections:
        return None, 0, 0, False
    section = sections[0]
    return section.patch, section.additions, section.deletions, section.encoding_replaced


def _head_time(commit: CompareCommit | None) -> datetime | None:
    if commit is None or commit.commit is None or commit.commit.committer is None:
        return None
    when = commit.commit.committer.date
    if when is None:
        return None
    offset = when.utcoffset()
    return when.replace(tzinfo=timezone(offset) if offset else UTC)


class _Compare3:
    """The compare response collected over its pages."""

    def __init__(self) -> None:
        self.first: _Page | None = None
        self.files: list[CompareFile] = []
        self.commits: list[CompareCommit] = []
        self.last_link: str | None = None


def _parse_page(api: _Api, response: httpx.Response, what: str) -> _Page:
    try:
        return _Page.model_validate_json(response.content)
    except ValidationError as exc:
        raise SourceError(api.scrub(validation_message(f"GitHub's answer to {what}", exc))) from None


def _read_compare(api: _Api, slug: str, base: str, head: str) -> _Compare3:
    ref = f"{quote(base, safe='/')}...{quote(head, safe='/')}"
    url: str | None = f"{api.api_url}/repos/{slug}/compare/{ref}?per_page={_PER_PAGE}&page=1"
    what = f"the comparison {base}...{head} of {slug}"
    out = _Compare3()
    seen: set[str] = set()
    pages = 0
    while url is not None:
        pages += 1
        if pages > _MAX_PAGES:
            raise SourceError(f"GitHub sent more than {_MAX_PAGES} pages for {what}")
        response = api.get(url, accept=_JSON, what=what, passthrough=(404, 422))
        if response.status_code == 404:
            hint = "" if api.has_token else "; a private repository needs GITHUB_TOKEN"
            raise SourceError(
                f"repository {slug} or commit {base!r} or {head!r} not found on GitHub "
                f"({api.message(response)}{hint})"
            )
        if response.status_code == 422:
            raise SourceError(
                f"GitHub cannot compare {base}...{head} in {slug}: unknown commit or no common "
                f"history ({api.message(response)})"
            )
        page = _parse_page(api, response, what)
        if out.first is None:
            out.first = page
        out.commits.extend(page.commits)
        new_files = [f for f in page.files if f.filename not in seen]
        if len(new_files) != len(page.files):
            # GitHub repeats the first page's files on later pages of a commit-paged comparison
            log.debug("page %d of %s repeats files; not reading more files", pages, what)
        for f in new_files:
            seen.add(f.filename)
        out.files.extend(new_files)
        out.last_link = response.links.get("last", {}).get("url")
        url = response.links.get("next", {}).get("url") if new_files else None
        if url is not None and not _same_api(api, url):
            raise SourceError(f"GitHub's next-page link for {what} leaves {api.api_url}")
    total = out.first.total_commits if out.first is not None else None
    if total is not None and len(out.commits) < total and out.last_link and _same_api(api, out.last_link):
        # the commits are paged too: the head commit is the last one of the last page
        last = _parse_page(api, api.get(out.last_link, accept=_JSON, what=what), what)
        if last.commits:
            out.commits = [*out.commits, *last.commits]
    if len(out.files) >= _MAX_FILES_NOTE:
        log.warning(
            "GitHub lists at most %d files of a comparison: %s may be incomplete", _MAX_FILES_NOTE, what
        )
    return out


def _same_api(api: _Api, url: str) -> bool:
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc.lower()) == api._origin


def _complete(
    api: _Api, slug: str, base: str, head: str, f: CompareFile, cache: dict[tuple[str, str], bytes | None]
) -> FileChange:
    """A :class:`FileChange` whose missing patch is computed from the two texts."""
    change = file_change(f)
    old_path = change.previous_path or change.path
    old: bytes | None = None
    new: bytes | None = None
    if change.status is not Status.ADDED:
        old = _fetch_blob(api, slug, old_path, base)
        cache[(old_path, base)] = old
        if old is None:
            raise SourceError(
                f"cannot recompute the patch of {change.path!r}: {old_path!r} missing at {base[:7]}"
            )
    if change.status is not Status.REMOVED:
        new = _fetch_blob(api, slug, change.path, head)
        cache[(change.path, head)] = new
        if new is None:
            raise SourceError(f"cannot recompute the patch of {change.path!r}: missing at {head[:7]}")
    patch, additions, deletions, replaced = local_patch(old, new)
    if patch is None or (additions, deletions) != (change.additions, change.deletions):
        raise SourceError(
            f"the patch of {change.path!r} computed locally counts +{additions} -{deletions} "
            f"but GitHub says +{change.additions} -{change.deletions}"
        )
    return replace(change, patch=patch, binary=False, encoding_replaced=replaced)


class ComparisonTooLarge(SourceError):
    """GitHub lists at most 3,000 files of a comparison; this one has at least that many, so files
    may be missing. ``base``/``head`` are the resolved SHAs, for a git fallback."""

    def __init__(self, message: str, *, slug: str, base: str, head: str) -> None:
        super().__init__(message)
        self.slug, self.base, self.head = slug, base, head


def open_github(
    slug: str,
    base: str,
    head: str,
    *,
    token: str | None = None,
    api_url: str = DEFAULT_API_URL,
    client: httpx.Client | None = None,
    sleep: Callable[[float], object] = time.sleep,
    max_wait: float = 900,
    clock: Callable[[], float] = time.time,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = _MAX_FILES_NOTE,
) -> tuple[ChangeSet, GitHubContentReader]:
    """Read the changes from ``base`` to ``head`` of the GitHub repository ``slug`` (``owner/name``).

    A comparison of ``max_files`` files or more (GitHub's cap) raises :class:`ComparisonTooLarge`
    rather than return a list that may miss files; the caller falls back to a git mirror.

    ``token`` defaults to the ``GITHUB_TOKEN`` environment variable. ``client`` (not closed here)
    and ``sleep`` / ``clock`` are injectable for tests; rate-limit waits longer than ``max_wait``
    seconds raise instead. The change set's ``base`` is the merge base, as GitHub diffs from it.
    Raises :class:`SourceError` (one line) on any failure. Close the reader when done.
    """
    if not _SLUG.fullmatch(slug) or slug.split("/", 1)[1] in (".", ".."):
        raise SourceError(f"not a GitHub repository name (owner/name): {slug!r}")
    for role, rev in (("BASE", base), ("HEAD", head)):
        if not rev or rev.startswith("-") or any(c in rev for c in "\0\n\r ") or "..." in rev:
            raise SourceError(f"{role} is not a valid commit or ref: {rev!r}")
    if token is None:
        token = os.environ.get("GITHUB_TOKEN") or None
    api = _Api(api_url, token, client, sleep, max_wait, clock)
    try:
        compare = _read_compare(api, slug, base, head)
        first = compare.first
        assert first is not None
        merge_base = first.merge_base_commit or first.base_commit
        if merge_base is None:
            raise SourceError(f"GitHub's comparison {base}...{head} of {slug} names no base commit")
        last_commit = compare.commits[-1] if compare.commits else merge_base  # head behind base
        base_sha, head_sha = merge_base.sha, last_commit.sha
        if len(compare.files) >= max_files:
            raise ComparisonTooLarge(
                f"GitHub lists at most {max_files} files of a comparison and {slug} {base}...{head} has at least "
                "that many; use a git mirror of the repository",
                slug=slug,
                base=base_sha,
                head=head_sha,
            )
        cache: dict[tuple[str, str], bytes | None] = {}
        files: list[FileChange] = []
        recomputed: list[str] = []
        for f in compare.files:
            if f.patch is None and (f.additions or f.deletions):
                files.append(_complete(api, slug, base_sha, head_sha, f, cache))
                recomputed.append(f.filename)
            else:
                files.append(file_change(f))
        if recomputed:
            log.info("computed %d patches GitHub left out: %s", len(recomputed), ", ".join(recomputed))
    except BaseException:
        api.close()
        raise
    change_set = ChangeSet(
        files=tuple(files),
        repository=Repository(slug=slug, url=f"https://github.com/{slug}"),
        source="github",
        base=base_sha,
        head=head_sha,
        head_time=_head_time(last_commit),
        permalink=compare_permalink(slug, base_sha, head_sha),
    )
    reader = GitHubContentReader(
        api,
        slug,
        base_sha,
        head_sha,
        max_bytes=max_bytes,
        recomputed_patches=frozenset(recomputed),
        cache=cache,
    )
    return change_set, reader
