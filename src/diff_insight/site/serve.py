"""``diff-insight site serve``: a local preview on 127.0.0.1 that rebuilds (incrementally) when a
report file changes. Standard library only: ThreadingHTTPServer and a polling thread."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from diff_insight.config import SiteConfig
from diff_insight.errors import DiffInsightError, SiteError, first_line
from diff_insight.site.builder import BuildSummary, build_site
from diff_insight.site.model import ParseCache, SiteInputError, scan_reports

Say = Callable[[str], None]


def snapshot(reports_dir: Path, out_dir: Path | None = None) -> tuple[tuple[str, int, int], ...]:
    """``(path, mtime_ns, size)`` of every report file the build reads (:func:`scan_reports`, with
    ``out_dir`` left out): what triggers a rebuild. Empty when the folder is missing."""
    try:
        paths = scan_reports(reports_dir, skip=out_dir)
    except SiteInputError:
        return ()
    out: list[tuple[str, int, int]] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(sorted(out))


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".atom": "application/atom+xml",
        ".json": "application/json",
        ".js": "text/javascript",
        ".css": "text/css",
        ".html": "text/html; charset=utf-8",
    }

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


class SiteServer:
    """The preview server and its watcher. :meth:`start` returns once it listens."""

    def __init__(
        self,
        reports_dir: Path,
        out_dir: Path,
        settings: SiteConfig | None = None,
        *,
        port: int = 8000,
        strict: bool = False,
        interval: float = 1.0,
        say: Say | None = None,
    ) -> None:
        self.reports_dir = Path(reports_dir)
        self.out_dir = Path(out_dir)
        self.settings = settings or SiteConfig()
        self.strict = strict
        self.interval = interval
        self.say = say or (lambda _m: None)
        self._cache: ParseCache = {}
        self._stop = threading.Event()
        self._state = snapshot(self.reports_dir, self.out_dir)
        self.summary = self.build()
        handler = functools.partial(_Handler, directory=str(self.out_dir))
        try:
            self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            raise SiteError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        self.httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def build(self) -> BuildSummary:
        return build_site(
            self.reports_dir,
            self.out_dir,
            self.settings,
            strict=self.strict,
            warn=lambda m: self.say(f"warning: {m}"),
            parse_cache=self._cache,
        )

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            state = snapshot(self.reports_dir, self.out_dir)
            if state == self._state:
                continue
            self._state = state
            try:
                summary = self.build()
            except DiffInsightError as exc:
                self.say(f"rebuild failed: {first_line(exc)}")
                continue
            self.summary = summary
            self.say(
                f"rebuilt: {summary.reports} reports, {len(summary.written)} file(s) written, "
                f"{len(summary.deleted)} deleted"
            )

    def start(self) -> None:
        for target in (self.httpd.serve_forever, self._watch):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for t in self._threads:
            t.join(timeout=5)

    def serve_forever(self) -> None:
        """Start, and block until interrupted (Ctrl-C)."""
        self.start()
        try:
            while not self._stop.wait(3600):
                pass
        finally:
            self.stop()
