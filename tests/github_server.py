"""A real HTTP server on 127.0.0.1 that answers like the GitHub REST API, for tests of the GitHub source.

It serves what the test builds in code:

- ``GET /repos/{owner}/{repo}/compare/{base}...{head}?per_page=&page=``: a compare response added
  with :meth:`FakeGitHub.add_compare`, its ``files`` split into pages of ``files_per_page`` (and,
  optionally, its ``commits`` into pages of ``commits_per_page``, as GitHub really does), with
  ``Link`` headers (``next``/``last``/``first``/``prev``); the ``patch`` of chosen files left out;
- ``GET /repos/{owner}/{repo}/contents/{path}?ref={sha}``: raw bytes (``Accept:
  application/vnd.github.raw``) or the JSON/base64 form, from an in-memory ``{(path, sha): bytes}``;
- ``GET /{owner}/{repo}/raw/{sha}/{path}``: the same bytes (what ``raw_url`` points to).

Faults are scripted: :meth:`FakeGitHub.script` queues :class:`Reply` objects, each answering the
next request whose path contains its ``match`` (any request when ``None``) instead of the normal
answer. Helpers build GitHub's primary and secondary rate-limit answers and plain errors.
Every request is recorded (``srv.requests``) with its headers and the status answered.

Usage::

    with FakeGitHub(token="ghp_test") as srv:
        srv.add_compare("octo/docs", "main", "feature", payload, omit_patch={"big.md"})
        srv.contents[("big.md", sha)] = b"..."
        change_set, reader = open_github("octo/docs", "main", "feature", api_url=srv.base_url)
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit


@dataclass
class Reply:
    """A scripted answer: status, JSON (dict/list) or raw body, and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    match: str | None = None
    """Answer only a request whose path contains this; ``None`` for the next request of any kind."""


def primary_limit(reset_at: float, *, status: int = 403, match: str | None = None) -> Reply:
    """GitHub's answer when the hourly quota is spent: remaining 0, reset at ``reset_at`` (epoch s)."""
    return Reply(
        status,
        {"message": "API rate limit exceeded for 127.0.0.1.", "documentation_url": "https://docs.github.com"},
        {
            "X-RateLimit-Limit": "60",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Used": "60",
            "X-RateLimit-Reset": str(int(reset_at)),
        },
        match,
    )


def secondary_limit(retry_after: float, *, status: int = 403, match: str | None = None) -> Reply:
    """GitHub's secondary (abuse) rate-limit answer with ``Retry-After``."""
    return Reply(
        status,
        {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
        },
        {"Retry-After": str(int(retry_after)), "X-RateLimit-Remaining": "4000"},
        match,
    )


def error(status: int, message: str, *, match: str | None = None) -> Reply:
    """A plain GitHub error answer."""
    return Reply(status, {"message": message, "documentation_url": "https://docs.github.com/rest"}, {}, match)


@dataclass
class RecordedRequest:
    """One request as the server saw it, and the status it answered."""

    method: str
    path: str
    """Decoded path, without the query."""
    raw_target: str
    """The request target exactly as sent (path and query, still encoded)."""
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-cased names."""
    status: int = 0


@dataclass
class _Comparison:
    payload: dict[str, Any]
    omit_patch: frozenset[str]


class FakeGitHub:
    """The server. Use as a context manager; ``base_url`` is the API URL to give the client."""

    def __init__(
        self,
        *,
        token: str | None = None,
        require_token: bool = False,
        files_per_page: int = 100,
        commits_per_page: int | None = None,
    ) -> None:
        self.token = token
        """When set, a request with another ``Authorization`` gets 401 Bad credentials."""
        self.require_token = require_token
        """Answer 404 (as GitHub does for private repositories) to requests without a token."""
        self.files_per_page = files_per_page
        self.commits_per_page = commits_per_page
        self.compares: dict[tuple[str, str, str], _Comparison] = {}
        self.contents: dict[tuple[str, str], bytes] = {}
        self.requests: list[RecordedRequest] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- set-up -------------------------------------------------------------------------------

    def add_compare(
        self, slug: str, base: str, head: str, payload: dict[str, Any], *, omit_patch: Collection[str] = ()
    ) -> None:
        """Serve ``payload`` (a whole compare response) for ``base...head``; drop listed files' patches."""
        self.compares[(slug, base, head)] = _Comparison(payload, frozenset(omit_patch))

    def script(self, *replies: Reply) -> None:
        """Queue scripted answers (used before the normal ones, in order)."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> list[Reply]:
        with self._lock:
            return list(self._script)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests_to(self, fragment: str) -> list[RecordedRequest]:
        return [r for r in self.requests if fragment in r.path]

    # ---- life cycle ---------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        handler = type("_BoundHandler", (_Handler,), {"app": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- answering ----------------------------------------------------------------------------

    def _scripted(self, path: str) -> Reply | None:
        with self._lock:
            for i, reply in enumerate(self._script):
                if reply.match is None or reply.match in path:
                    return self._script.pop(i)
        return None

    def answer(self, req: RecordedRequest) -> Reply:
        scripted = self._scripted(req.path)
        if scripted is not None:
            return scripted
        auth = req.headers.get("authorization")
        if self.token is not None and auth is not None and auth != f"Bearer {self.token}":
            return error(401, "Bad credentials")
        if self.require_token and auth is None:
            return error(404, "Not Found")
        parts = req.path.split("/")
        if len(parts) >= 6 and parts[1] == "repos" and parts[4] == "compare":
            return self._compare(req, f"{parts[2]}/{parts[3]}", "/".join(parts[5:]))
        if len(parts) >= 6 and parts[1] == "repos" and parts[4] == "contents":
            blob = self.contents.get(("/".join(parts[5:]), req.query.get("ref", "")))
            if blob is None:
                return error(404, "Not Found")
            if "raw" in req.headers.get("accept", ""):
                return Reply(200, blob, {"Content-Type": "application/vnd.github.raw"})
            return Reply(
                200,
                {
                    "type": "file",
                    "encoding": "base64",
                    "size": len(blob),
                    "path": "/".join(parts[5:]),
                    "content": base64.encodebytes(blob).decode("ascii"),
                },
            )
        if len(parts) >= 6 and parts[3] == "raw":
            blob = self.contents.get(("/".join(parts[5:]), parts[4]))
            if blob is None:
                return Reply(404, b"404: Not Found", {"Content-Type": "text/plain"})
            return Reply(200, blob, {"Content-Type": "text/plain; charset=utf-8"})
        return error(404, "Not Found")

    def _compare(self, req: RecordedRequest, slug: str, basehead: str) -> Reply:
        base, sep, head = basehead.partition("...")
        comparison = self.compares.get((slug, base, head)) if sep else None
        if comparison is None:
            return error(404, "Not Found")
        try:
            page = max(int(req.query.get("page", "1")), 1)
        except ValueError:
            page = 1
        payload = dict(comparison.payload)
        files: list[dict[str, Any]] = list(payload.get("files", []))
        commits: list[dict[str, Any]] = list(payload.get("commits", []))
        fpp = self.files_per_page
        pages = max(math.ceil(len(files) / fpp), 1)
        page_commits = commits if page == 1 else []
        if self.commits_per_page is not None:
            cpp = self.commits_per_page
            pages = max(pages, math.ceil(len(commits) / cpp))
            page_commits = commits[(page - 1) * cpp : page * cpp]
        page_files = []
        for f in files[(page - 1) * fpp : page * fpp]:
            if f["filename"] in comparison.omit_patch:
                f = {k: v for k, v in f.items() if k != "patch"}
            page_files.append(f)
        payload.update(files=page_files, commits=page_commits, total_commits=len(commits))
        target = f"{self.base_url}/repos/{slug}/compare/{quote(base, safe='/')}...{quote(head, safe='/')}"
        per_page = req.query.get("per_page", "100")

        def link(n: int, rel: str) -> str:
            return f'<{target}?per_page={per_page}&page={n}>; rel="{rel}"'

        links = []
        if page < pages:
            links += [link(page + 1, "next"), link(pages, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return Reply(200, payload, headers)


class _Handler(BaseHTTPRequestHandler):
    app: FakeGitHub
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        return None

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        req = RecordedRequest(
            method="GET",
            path=unquote(split.path),
            raw_target=self.path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
        )
        reply = self.app.answer(req)
        req.status = reply.status
        with self.app._lock:
            self.app.requests.append(req)
        if isinstance(reply.body, bytes):
            body = reply.body
            content_type = "application/octet-stream"
        else:
            body = json.dumps(reply.body if reply.body is not None else {}).encode()
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
