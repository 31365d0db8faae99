"""A SQLite cache of model answers and a log of every model call.

In the spirit of simonw/llm's ``logs.db``: the schema comes from an ordered, append-only list of
migrations recorded in ``_migrations``; ``responses`` holds one answer per cache key and ``calls`` one
row per call made (or failed). The database runs in WAL mode and every write is its own short,
immediately committed transaction, so a run killed mid-way keeps every answer it finished and several
processes may share one file. The cache stores only what its methods are given — never request headers
or API keys — and every error text is passed through :func:`redact` before it is stored.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple

from diff_insight.llm.errors import LLMConfigError

if TYPE_CHECKING:
    from pydantic import SecretStr

__all__ = ["MIGRATIONS", "CachedResponse", "LLMCache", "Migration", "apply_migrations", "redact"]

BUSY_TIMEOUT_MS = 10_000
"""How long a connection waits for another one's write lock before giving up."""

REDACTED = "***"


class Migration(NamedTuple):
    """One schema step: a unique name and the SQL (one or more statements) it runs."""

    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "001_responses",
        """
        CREATE TABLE responses (
            key TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            content TEXT NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            created_at TEXT NOT NULL
        );
        """,
    ),
    Migration(
        "002_calls",
        """
        CREATE TABLE calls (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            input_tokens INTEGER,
            output_tokens INTEGER,
            duration_ms INTEGER NOT NULL,
            error TEXT
        );
        CREATE INDEX calls_key ON calls (key);
        CREATE INDEX calls_ts ON calls (ts);
        """,
    ),
)
"""The schema, oldest first. Append new steps at the end; never edit, reorder or remove one."""

_MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"

# Credentials that may leak into an error text even when the caller forgot to list them.
_SECRET_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(\bapi[-_]?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{16,}"),
)


@dataclass(frozen=True)
class CachedResponse:
    """A model answer as stored in the cache."""

    content: str
    input_tokens: int | None
    output_tokens: int | None


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with each non-empty secret, and anything shaped like a bearer token or an
    ``sk-…`` key, replaced by ``***``."""
    # Longest first, so a secret containing another one is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" / "busy" (worth retrying)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (semicolons inside literals are respected)."""
    statements: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:60]!r}")
    return statements


def apply_migrations(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Apply, in order, the migrations not yet recorded in ``_migrations``; return their names.

    Everything happens in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new database
    at once cannot both apply a step, and a failed step leaves the schema as it was. ``conn`` must be
    in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(_MIGRATIONS_TABLE)
        done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        applied: list[str] = []
        for migration in migrations:
            if migration.name in done:
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (migration.name, _now()))
            applied.append(migration.name)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied


class LLMCache:
    """Cached model answers and the call log, in one SQLite file (or in memory).

    ``path`` ``None`` or ``":memory:"`` gives a private in-memory database. Every method is
    synchronous and short; a lock makes one instance safe to share between asyncio tasks and
    threads. ``secrets`` are redacted from every stored error text.
    """

    def __init__(self, path: str | Path | None, *, secrets: Iterable[str | SecretStr] = ()) -> None:
        plain = (s if isinstance(s, str) else s.get_secret_value() for s in secrets)
        self._secrets = tuple(s for s in plain if s)
        self._lock = threading.Lock()
        self.path: Path | None = None
        if path is not None and str(path) != ":memory:":
            self.path = Path(path).expanduser()
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                ":memory:" if self.path is None else self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
        except (OSError, sqlite3.Error) as exc:
            raise self._open_error(exc) from None
        try:
            self._setup()
        except (OSError, sqlite3.Error) as exc:
            self._conn.close()
            raise self._open_error(exc) from None

    def _setup(self) -> None:
        """Switch to WAL and apply the migrations, retrying while another process does the same.

        Turning a new file into WAL (or recovering a WAL another process is creating) can fail with
        ``SQLITE_BUSY`` at once, without SQLite's busy handler being consulted; those attempts are
        retried with a short back-off until ``BUSY_TIMEOUT_MS`` has passed.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                self._conn.execute("PRAGMA journal_mode = WAL")
                # In WAL mode, NORMAL loses nothing when the process dies; only a power cut can undo
                # the last commits.
                self._conn.execute("PRAGMA synchronous = NORMAL")
                apply_migrations(self._conn)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _open_error(self, exc: BaseException) -> LLMConfigError:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        reason = " ".join(reason.split())
        return LLMConfigError(f"cannot open the LLM cache {self.path or ':memory:'}: {reason}")

    @staticmethod
    def key(
        *,
        provider: str,
        model: str,
        prompt_version: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
    ) -> str:
        """The cache key of a request: the SHA-256 (hex) of its canonical JSON.

        Dict key order does not matter; everything else does (``1`` and ``1.0`` differ). Values must
        be JSON-serializable and finite.
        """
        canonical = json.dumps(
            {
                "provider": provider,
                "model": model,
                "prompt_version": prompt_version,
                "messages": messages,
                "params": params,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            allow_nan=False,
        )
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, key: str) -> CachedResponse | None:
        """The stored answer for ``key``, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT content, input_tokens, output_tokens FROM responses WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else CachedResponse(row[0], row[1], row[2])

    def put(
        self,
        key: str,
        *,
        provider: str,
        model: str,
        prompt_version: str,
        content: str,
        input_tokens: int | None,
        output_tokens: int | None,
    ) -> None:
        """Store (or replace) the answer for ``key``, committed at once."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses (key, provider, model, prompt_version, content, "
                "input_tokens, output_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, provider, model, prompt_version, content, input_tokens, output_tokens, _now()),
            )

    def log_call(
        self,
        *,
        provider: str,
        model: str,
        prompt_version: str,
        key: str,
        status: str,
        attempts: int,
        input_tokens: int | None,
        output_tokens: int | None,
        duration_ms: int,
        error: str | None,
    ) -> None:
        """Append one row to the call log, committed at once; ``error`` is redacted first."""
        stored_error = None if error is None else redact(error, self._secrets)
        with self._lock:
            self._conn.execute(
                "INSERT INTO calls (ts, provider, model, prompt_version, key, status, attempts, "
                "input_tokens, output_tokens, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    provider,
                    model,
                    prompt_version,
                    key,
                    status,
                    attempts,
                    input_tokens,
                    output_tokens,
                    duration_ms,
                    stored_error,
                ),
            )

    def stats(self) -> dict[str, int]:
        """``responses`` (answers stored), ``calls`` (calls logged) and ``errors`` (calls logged with
        an error)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT (SELECT COUNT(*) FROM responses), (SELECT COUNT(*) FROM calls), "
                "(SELECT COUNT(*) FROM calls WHERE error IS NOT NULL)"
            ).fetchone()
        return {"responses": row[0], "calls": row[1], "errors": row[2]}

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> LLMCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
