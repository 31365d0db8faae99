"""Headless Chromium for the website tests: one browser per test session, a static HTTP server on
127.0.0.1, and guarded pages that fail the test on console errors, page errors, dialogs or any request
that would leave the machine.

Use it as a pytest plugin from a test module (``pytest_plugins = ["tests.browser"]``); the fixtures:

- ``browser``: the session's Chromium (Debian's ``/usr/bin/chromium``; ``playwright install`` is never
  needed or run).
- ``open_page``: a factory ``open_page(server, path, **context_options) -> GuardedPage``; every page it
  opened is checked when the test ends.

The helpers (:class:`SiteServer`, :class:`PageGuard`, :func:`launch_chromium`) work outside pytest too
(``scripts/screenshots.py`` uses them).

PYTEST_DONT_REWRITE: test modules import these helpers before pytest loads the module as a plugin.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    WebError,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOOPBACK = "127.0.0.1"
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
"""Schemes that never reach the network (a ``data:`` image is still checked by the tests that care)."""


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with everything that talks to Google switched off."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium) first")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def end_headers(self) -> None:
        # a test may rebuild a page in place: never let the browser reuse a stale copy
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


class SiteServer:
    """A real HTTP server on 127.0.0.1 (free port) serving ``root`` from a background thread."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        handler = functools.partial(_QuietHandler, directory=str(self.root))
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.base = f"http://{LOOPBACK}:{self.port}/"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name=f"site-{self.port}", daemon=True
        )

    def url(self, path: str = "") -> str:
        """The URL of ``path`` (relative to the site root)."""
        return self.base + path.lstrip("/")

    def path_of(self, url: str) -> str:
        """The site-relative path of one of this server's URLs (no query or fragment)."""
        parts = urlsplit(url)
        assert parts.hostname == LOOPBACK and parts.port == self.port, url
        return parts.path.lstrip("/")

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def is_loopback(url: str) -> bool:
    """True for URLs that stay on this machine's 127.0.0.1 (or never touch the network)."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == LOOPBACK


@dataclass
class PageGuard:
    """Everything a context did that a static, escaped site must never do."""

    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    http_errors: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)
    main: Page | None = None
    """The context's first page; any later one is a popup."""

    def attach(self, context: BrowserContext) -> None:
        """Watch every page of ``context`` (popups included) and abort any non-loopback request."""
        context.route("**/*", self._route)
        context.on("request", self._request)
        context.on("response", self._response)
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.on("dialog", self._dialog)
        context.on("page", self._page)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if is_loopback(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.http_errors.append(f"{response.status} {response.url}")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _web_error(self, error: WebError) -> None:
        self.page_errors.append(str(error.error))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _page(self, page: Page) -> None:
        if self.main is None:
            self.main = page
        elif page != self.main:
            self.popups.append(page.url or "about:blank")

    def reset(self) -> None:
        """Forget what happened so far (a pooled context starts a new test); close popups."""
        for name in (
            "requests",
            "blocked",
            "console_errors",
            "page_errors",
            "dialogs",
            "http_errors",
            "popups",
        ):
            getattr(self, name).clear()
        if self.main is not None:
            for page in self.main.context.pages:
                if page != self.main:
                    page.close()

    def problems(self, *, allow_popups: bool = False) -> list[str]:
        """One line per problem; empty when the pages behaved."""
        out = [f"request left 127.0.0.1: {u}" for u in self.blocked]
        out += [
            f"request outside 127.0.0.1 (not routed): {u}"
            for u in self.requests
            if not is_loopback(u) and u not in self.blocked
        ]
        out += [f"console error: {m}" for m in self.console_errors]
        out += [f"page error: {m}" for m in self.page_errors]
        out += [f"dialog opened (content script ran): {m}" for m in self.dialogs]
        out += [f"HTTP error: {m}" for m in self.http_errors]
        if not allow_popups:
            out += [f"popup or extra page opened: {u}" for u in self.popups]
        return out

    def check(self) -> None:
        """Fail the test when anything in :meth:`problems` happened."""
        problems = self.problems()
        if problems:
            self.reset()  # reported here: not again when the test ends
            pytest.fail("the page misbehaved:\n  " + "\n  ".join(dict.fromkeys(problems)), pytrace=False)


@dataclass
class GuardedPage:
    """A page in its own browser context, with the context's guard."""

    page: Page
    guard: PageGuard
    context: BrowserContext
    server: SiteServer

    def goto(self, path: str) -> None:
        """Open a site-relative ``path`` and wait until it has loaded."""
        response = self.page.goto(self.server.url(path), wait_until="load")
        assert response is not None and response.ok, (
            f"{path}: {response.status if response else 'no response'}"
        )

    @property
    def path(self) -> str:
        """The site-relative path of the current page."""
        return self.server.path_of(self.page.url)

    def close(self) -> None:
        self.context.close()


def new_guarded_page(browser: Browser, server: SiteServer, **context_options: Any) -> GuardedPage:
    """A fresh context (no shared cookies, storage or cache) with its guard, and one page in it."""
    context = browser.new_context(service_workers="block", **context_options)
    context.set_default_timeout(10_000)
    guard = PageGuard()
    guard.attach(context)
    page = context.new_page()
    guard.main = page
    return GuardedPage(page=page, guard=guard, context=context, server=server)


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    """One Chromium process for the whole test session."""
    chromium = launch_chromium(playwright_session)
    yield chromium
    chromium.close()


PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
"""Context options of the phone the site must fit (no horizontal scrolling)."""

_OVERFLOW = """(width) => {
  const doc = document.documentElement;
  const sizes = {scroll: doc.scrollWidth, inner: window.innerWidth, client: doc.clientWidth};
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  const culprits = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && !clipped(e))
    .filter(e => !e.parentElement || e.parentElement.getBoundingClientRect().right <= width + 1)
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
              + ' (right edge at ' + Math.round(e.getBoundingClientRect().right) + 'px)');
  return {sizes, culprits};
}"""


def horizontal_overflow(page: Page, width: int = 390) -> str | None:
    """Why ``page`` scrolls sideways on a screen ``width`` CSS pixels wide, or None when it does not.

    On a mobile context Chromium widens the layout viewport to the content instead of scrolling, so
    ``window.innerWidth`` grows with it: both it and ``scrollWidth`` are compared with ``width``.
    """
    found = page.evaluate(_OVERFLOW, width)
    sizes = found["sizes"]
    if max(sizes["scroll"], sizes["inner"], sizes["client"]) <= width:
        return None
    return (
        f"{page.url}: content is {max(sizes['scroll'], sizes['inner'])}px wide on a {width}px screen "
        f"(scrollWidth {sizes['scroll']}, innerWidth {sizes['inner']}); widest: {found['culprits']}"
    )


OpenPage = Callable[..., GuardedPage]


@pytest.fixture(scope="session")
def _page_pool(browser: Browser) -> Iterator[dict[str, GuardedPage]]:
    """One context and page per set of context options, reused by every test (a context costs more
    than a navigation); each test gets the page with its guard reset."""
    pool: dict[str, GuardedPage] = {}
    yield pool
    for guarded in pool.values():
        guarded.close()


@pytest.fixture
def open_page(_page_pool: dict[str, GuardedPage], browser: Browser) -> Iterator[OpenPage]:
    """``open_page(server, path=None, **context_options)``: the guarded page for those context options
    (viewport, ``is_mobile``, ``color_scheme``…), at ``path``; what it did is checked at the test's
    end (explicit ``guard.check()`` calls fail earlier, with the test's own traceback)."""
    used: list[GuardedPage] = []

    def _open(server: SiteServer, path: str | None = None, **context_options: Any) -> GuardedPage:
        key = repr(sorted(context_options.items()))
        if key not in _page_pool:
            _page_pool[key] = new_guarded_page(browser, server, **context_options)
        guarded = _page_pool[key]
        guarded.server = server
        if guarded not in used:
            guarded.guard.reset()
            used.append(guarded)
        if path is not None:
            guarded.goto(path)
        return guarded

    yield _open
    problems: list[str] = []
    for guarded in used:
        problems += guarded.guard.problems()
        guarded.guard.reset()
        guarded.page.goto("about:blank")
    if problems:
        pytest.fail("the page misbehaved:\n  " + "\n  ".join(dict.fromkeys(problems)), pytrace=False)


def build_site_cli(reports_dir: Path, out_dir: Path, *extra: str) -> str:
    """``diff-insight site build REPORTS_DIR OUT_DIR`` through the real CLI (in-process); returns its
    stderr (warnings). Fails the test when the command fails."""
    from click.testing import CliRunner

    from diff_insight.cli import cli

    result = CliRunner().invoke(cli, ["site", "build", str(reports_dir), str(out_dir), *extra])
    if result.exit_code != 0:
        raise AssertionError(
            f"diff-insight site build exited with {result.exit_code}: {result.stderr or result.output}"
            + (f"\n{result.exception!r}" if result.exception else "")
        )
    return result.stderr


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The sample site of :mod:`tests.site_helpers` (real reports, three locales), built once per
    session. Returns its ``SampleSite``."""
    from tests.site_helpers import build_sample_site

    return build_sample_site(tmp_path_factory.mktemp("sample-site"))
