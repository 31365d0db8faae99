"""Local bare mirrors of remote repositories, for ``diff-insight run`` and ``backfill``.

A source that is not a local directory (a git URL, or a GitHub ``owner/name``) is read through a
bare clone kept under the mirror root (default ``<out_root>/.diff-insight/mirrors``), one directory
per URL. :func:`ensure_mirror` creates it (``git clone --bare --filter=blob:none``, falling back to
a full bare clone when the server refuses filters) and fetches every branch before each run
(``git fetch --prune origin +refs/heads/*:refs/heads/*``). A ``flock`` on ``<name>.lock`` next to
the mirror guards both, so two runs never update the same mirror at once.

Names and messages never contain credentials: the directory name is made from the URL without
its user info plus a short hash of it, and every git message is shown with the URL stripped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from diff_insight.errors import SourceError
from diff_insight.locks import file_lock
from diff_insight.sources.git import git_env, strip_credentials

__all__ = [
    "DEFAULT_MIRROR_DIR",
    "ensure_mirror",
    "github_url",
    "is_github_slug",
    "is_remote",
    "mirror_name",
    "public_url",
    "resolve_source",
]

DEFAULT_MIRROR_DIR: Final = ".diff-insight/mirrors"
"""Where mirrors live, relative to the output root, unless ``source.mirror_dir`` says otherwise."""

_URL = re.compile(r"(?i)(?:https?|ssh|git|file)://.+")
_SCP = re.compile(r"[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/].*")  # git@github.com:o/n.git
_SLUG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def is_github_slug(s: str) -> bool:
    """Whether ``s`` is a GitHub ``owner/name`` (owner: a letter or digit, then up to 38 letters,
    digits or ``-``; name: 1-100 letters, digits, ``.``, ``_`` or ``-``, but not ``.`` or ``..``)."""
    return _SLUG.fullmatch(s) is not None and s.split("/", 1)[1] not in (".", "..")


def is_remote(spec: str) -> bool:
    """Whether ``spec`` is a git URL (``https://``, ``ssh://``, ``git://``, ``file://``, ``user@host:path``)."""
    return bool(_URL.fullmatch(spec) or _SCP.fullmatch(spec))


def github_url(slug: str) -> str:
    """``https://github.com/<slug>.git``; ``GITHUB_SERVER_URL`` (when set) replaces the server."""
    server = (os.environ.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{slug}.git"


def resolve_source(spec: str, base_dir: Path | None = None) -> tuple[str, str]:
    """``("local", path)`` or ``("remote", url)`` for a configured source.

    A URL is remote; else an existing directory (relative to ``base_dir``) is local; else an
    ``owner/name`` is the GitHub repository; anything else is a local path (which then fails
    as "does not exist").
    """
    if is_remote(spec):
        return "remote", spec
    path = Path(spec)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.is_dir():
        return "local", str(path)
    if is_github_slug(spec):
        return "remote", github_url(spec)
    return "local", str(path)


def public_url(url: str) -> str:
    """``url`` without any user info (for names and messages)."""
    stripped = strip_credentials(url)
    if "://" in stripped:
        with contextlib.suppress(ValueError):
            parts = urlsplit(stripped)
            if "@" in parts.netloc:
                stripped = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    elif _SCP.fullmatch(stripped):
        stripped = stripped.split("@", 1)[1]
    return stripped


def mirror_name(url: str) -> str:
    """The mirror's directory name: a sanitised URL (no scheme, no credentials) and a short hash."""
    shown = public_url(url)
    tail = shown.split("://", 1)[-1].rstrip("/").removesuffix(".git")
    label = _UNSAFE.sub("-", tail).strip("-._")[-40:].strip("-._") or "repo"
    digest = hashlib.sha256(strip_credentials(url).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{label}-{digest}.git"


def _scrub(text: str, url: str) -> str:
    """First non-empty line of git's ``text``, with the URL (and any user info) removed."""
    shown = public_url(url)
    lines = [ln.strip() for ln in text.replace(url, shown).splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    line = (fatal or lines or ["git failed"])[0]
    line = re.sub(r"(?i)(\w+://)[^/@\s]+@", r"\1", line)
    return line.removeprefix("fatal: ").removeprefix("error: ")


USER_ENV: Final = "DIFF_INSIGHT_GIT_USERNAME"
PASSWORD_ENV: Final = "DIFF_INSIGHT_GIT_PASSWORD"
_HELPER: Final = (
    '!f() { test "$1" = get || exit 0; '
    f'test -n "${USER_ENV}${PASSWORD_ENV}" || exit 0; '
    f'printf "username=%s\\npassword=%s\\n" "${USER_ENV}" "${PASSWORD_ENV}"; }}; f'
)
"""A credential helper that answers from the environment of the run. The mirror's git config names
it (no secret); the credentials stay in memory and in the environment of git processes."""


def _credentials(url: str) -> tuple[str, str] | None:
    """(username, password) from the user info of an http(s) URL, or ``None``."""
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        if parts.scheme.lower() in ("http", "https") and "@" in parts.netloc:
            info = parts.netloc.rsplit("@", 1)[0]
            user, _, password = info.partition(":")
            return unquote(user), unquote(password)
    return None


def _helper_key(url: str) -> str:
    """The git config key of the credential helper for ``url``'s scheme and host."""
    parts = urlsplit(public_url(url))
    return f"credential.{parts.scheme}://{parts.netloc}.helper"


def _credential_config(url: str) -> list[str]:
    """``git -c`` settings that make git ask :data:`_HELPER` for the credentials of ``url``'s host."""
    key = _helper_key(url)
    return ["-c", f"{key}=", "-c", f"{key}={_HELPER}"]


def use_credentials(url: str) -> None:
    """Make the credentials in ``url`` (if any) available to every git process of this run, also
    to the on-demand blob fetches of a partial clone, without writing them anywhere."""
    cred = _credentials(url)
    if cred is not None:
        os.environ[USER_ENV], os.environ[PASSWORD_ENV] = cred


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "--no-pager", *args],
            cwd=cwd,
            env=git_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
    except OSError as exc:
        raise SourceError(f"cannot run git: {exc.strerror or exc}") from None


def _mirror_lock(path: Path, mirror: Path, *, wait: bool) -> contextlib.AbstractContextManager[None]:
    return file_lock(path, wait=wait, busy=f"another run is updating the mirror {mirror}; try again later")


def _clone(url: str, target: Path) -> None:
    temp = target.with_name(target.name + ".partial")
    shutil.rmtree(temp, ignore_errors=True)  # left by a killed clone; we hold the lock
    # the mirror's config gets the public URL and the helper, never the credentials
    public = public_url(url)
    helper = _credential_config(url) if _credentials(url) else []
    proc = _git("clone", "--bare", "--quiet", "--filter=blob:none", *helper, "--", public, str(temp))
    if proc.returncode != 0 and "filter" in proc.stderr.lower():
        shutil.rmtree(temp, ignore_errors=True)
        proc = _git("clone", "--bare", "--quiet", *helper, "--", public, str(temp))
    if proc.returncode != 0:
        shutil.rmtree(temp, ignore_errors=True)
        raise SourceError(f"cannot clone {public_url(url)}: {_scrub(proc.stderr, url)}")
    try:
        temp.rename(target)
    except OSError as exc:
        shutil.rmtree(temp, ignore_errors=True)
        raise SourceError(f"cannot create the mirror {target}: {exc.strerror or exc}") from None


def _remove_stale_locks(mirror: Path) -> list[Path]:
    """Delete the lock files git leaves in the mirror when it is killed while updating it (SIGKILL,
    power loss): with ``refs/heads/main.lock`` or ``config.lock`` left behind, every later fetch
    fails with "File exists". Only called while holding the mirror's flock, so no other run's git
    is using the mirror."""
    removed: list[Path] = []
    candidates = [mirror / n for n in ("config.lock", "HEAD.lock", "packed-refs.lock", "shallow.lock")]
    refs = mirror / "refs"
    if refs.is_dir():
        candidates += [p for p in refs.rglob("*.lock") if not p.is_symlink()]
    for path in candidates:
        with contextlib.suppress(FileNotFoundError):
            if path.is_file():
                path.unlink()
                removed.append(path)
    return removed


def _fetch(url: str, mirror: Path) -> None:
    _remove_stale_locks(mirror)
    public = public_url(url)
    current = _git("config", "--get", "remote.origin.url", cwd=mirror)
    if current.returncode != 0 or current.stdout.strip() != public:
        # also drops credentials that older versions stored in the URL
        _git("config", "remote.origin.url", public, cwd=mirror)
    if _credentials(url):
        key = _helper_key(url)
        if _git("config", "--get-all", key, cwd=mirror).stdout.strip() != _HELPER:
            _git("config", "--replace-all", key, _HELPER, cwd=mirror)
    proc = _git("fetch", "--quiet", "--prune", "origin", "+refs/heads/*:refs/heads/*", cwd=mirror)
    if proc.returncode != 0:
        raise SourceError(f"cannot fetch {public_url(url)}: {_scrub(proc.stderr, url)}")


def ensure_mirror(
    url: str, mirror_root: Path, *, branch: str | None, fetch: bool = True, wait: bool = False
) -> Path:
    """The path of an up-to-date bare mirror of ``url`` under ``mirror_root``.

    Clones it when missing; else, with ``fetch``, fetches every branch (pruning deleted ones).
    ``branch`` (when given) must exist in the mirror.
    Raises :class:`SourceError` (one line naming the URL without credentials) when the URL cannot
    be cloned or fetched, or when ``branch`` is not a branch of it, and :class:`InputError` when
    another process updates the mirror and ``wait`` is false.
    """
    mirror_root = Path(mirror_root)
    use_credentials(url)
    name = mirror_name(url)
    mirror = mirror_root / name
    with _mirror_lock(mirror_root / (name.removesuffix(".git") + ".lock"), mirror, wait=wait):
        if not (mirror / "HEAD").is_file():
            if mirror.exists():
                raise SourceError(f"the mirror {mirror} exists but is not a git repository; delete it")
            _clone(url, mirror)
        elif fetch:
            _fetch(url, mirror)
        if branch is not None:
            check = _git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", cwd=mirror)
            if check.returncode != 0:
                raise SourceError(f"{public_url(url)} has no branch {branch!r}")
    return mirror
