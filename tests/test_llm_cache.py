"""The SQLite cache and call log of the LLM engine."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from diff_insight.llm.cache import (
    MIGRATIONS,
    CachedResponse,
    LLMCache,
    Migration,
    _statements,
    apply_migrations,
    redact,
)
from diff_insight.llm.errors import LLMConfigError

KEY_ARGS: dict[str, Any] = {
    "provider": "openai:default",
    "model": "gpt-4o-mini",
    "prompt_version": "file-v1",
    "messages": [{"role": "system", "content": "Résume."}, {"role": "user", "content": "diff 日本"}],
    "params": {"temperature": 0.2, "response_format": {"type": "json_object"}},
}

PUT_META: dict[str, Any] = {"provider": "openai:default", "model": "gpt-4o-mini", "prompt_version": "file-v1"}


def log(cache: LLMCache, key: str = "k", *, status: str = "ok", error: str | None = None) -> None:
    cache.log_call(
        **PUT_META,
        key=key,
        status=status,
        attempts=1,
        input_tokens=10,
        output_tokens=5,
        duration_ms=12,
        error=error,
    )


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    """Start a Python child running ``code`` (``sys.argv[1:]`` are ``args``)."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- round trip, persistence -------------------------------------------------------------------


def test_round_trip_in_memory() -> None:
    with LLMCache(None) as cache:
        assert cache.get("missing") is None
        cache.put("a", **PUT_META, content="réponse 答え", input_tokens=12, output_tokens=3)
        cache.put("b", **PUT_META, content="", input_tokens=None, output_tokens=None)
        assert cache.get("a") == CachedResponse("réponse 答え", 12, 3)
        assert cache.get("b") == CachedResponse("", None, None)
        cache.put("a", **PUT_META, content="second", input_tokens=1, output_tokens=2)
        assert cache.get("a") == CachedResponse("second", 1, 2)
        log(cache)
        log(cache, status="error", error="HTTP 500")
        assert cache.stats() == {"responses": 2, "calls": 2, "errors": 1}


def test_memory_string_and_independent_instances() -> None:
    with LLMCache(":memory:") as one, LLMCache(None) as two:
        one.put("a", **PUT_META, content="x", input_tokens=1, output_tokens=1)
        assert two.get("a") is None


def test_persists_across_reopen_and_creates_parent(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "llm.db"
    with LLMCache(path) as cache:
        cache.put("a", **PUT_META, content="kept", input_tokens=4, output_tokens=2)
        log(cache, "a")
    with LLMCache(str(path)) as cache:
        assert cache.get("a") == CachedResponse("kept", 4, 2)
        assert cache.stats() == {"responses": 1, "calls": 1, "errors": 0}
    conn = sqlite3.connect(path)
    row = conn.execute(
        "SELECT provider, model, prompt_version, key, status, attempts, input_tokens, output_tokens, "
        "duration_ms, error, ts FROM calls"
    ).fetchone()
    assert row[:10] == ("openai:default", "gpt-4o-mini", "file-v1", "a", "ok", 1, 10, 5, 12, None)
    assert row[10].endswith("Z")
    created = conn.execute("SELECT provider, model, prompt_version, created_at FROM responses").fetchone()
    assert created[:3] == ("openai:default", "gpt-4o-mini", "file-v1")
    conn.close()


def test_wal_mode_and_close_is_idempotent(tmp_path: Path) -> None:
    cache = LLMCache(tmp_path / "llm.db")
    assert cache._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert cache._conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    cache.close()
    cache.close()


# --- keys -------------------------------------------------------------------------------------


def test_key_is_sha256_of_canonical_json() -> None:
    canonical = (
        '{"messages":[{"content":"Résume.","role":"system"},{"content":"diff 日本","role":"user"}],'
        '"model":"gpt-4o-mini","params":{"response_format":{"type":"json_object"},"temperature":0.2},'
        '"prompt_version":"file-v1","provider":"openai:default"}'
    )
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert LLMCache.key(**KEY_ARGS) == expected
    # Pinned, so a change of the canonical form (which would orphan every cache) is noticed.
    assert expected == "d87b80d362dee567e0af7baea0574ba5ede5d899186e3271882348b98c30238f"


def test_key_ignores_dict_order() -> None:
    reordered: dict[str, Any] = {
        "params": {"response_format": {"type": "json_object"}, "temperature": 0.2},
        "messages": [{"content": "Résume.", "role": "system"}, {"content": "diff 日本", "role": "user"}],
        "prompt_version": "file-v1",
        "model": "gpt-4o-mini",
        "provider": "openai:default",
    }
    assert LLMCache.key(**reordered) == LLMCache.key(**KEY_ARGS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", "azure:https://x.openai.azure.com"),
        ("model", "gpt-4o"),
        ("prompt_version", "file-v2"),
        ("messages", [{"role": "system", "content": "Résume."}, {"role": "user", "content": "diff 日本 "}]),
        ("messages", list(reversed(KEY_ARGS["messages"]))),
        ("params", {"temperature": 0.3, "response_format": {"type": "json_object"}}),
        ("params", {"temperature": 0.2}),
    ],
)
def test_key_changes_with_every_input(field: str, value: Any) -> None:
    assert LLMCache.key(**{**KEY_ARGS, field: value}) != LLMCache.key(**KEY_ARGS)


def test_key_rejects_nan() -> None:
    with pytest.raises(ValueError):
        LLMCache.key(**{**KEY_ARGS, "params": {"temperature": float("nan")}})


# --- migrations -------------------------------------------------------------------------------


def test_migrations_are_named_uniquely_and_recorded_in_order(tmp_path: Path) -> None:
    names = [m.name for m in MIGRATIONS]
    assert len(set(names)) == len(names)
    path = tmp_path / "llm.db"
    LLMCache(path).close()
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")] == names
    conn.close()


def test_old_database_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    old = sqlite3.connect(path, isolation_level=None)
    assert apply_migrations(old, MIGRATIONS[:1]) == [MIGRATIONS[0].name]
    old.execute(
        "INSERT INTO responses (key, provider, model, prompt_version, content, input_tokens, "
        "output_tokens, created_at) VALUES ('old', 'p', 'm', 'v1', 'from before', 7, 8, '2024-01-01T00:00:00Z')"
    )
    first_applied_at = old.execute("SELECT applied_at FROM _migrations").fetchone()[0]
    old.close()

    with LLMCache(path) as cache:
        assert cache.get("old") == CachedResponse("from before", 7, 8)
        log(cache, "old")  # the tables of the later migrations exist
        assert cache.stats() == {"responses": 1, "calls": 1, "errors": 0}

    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == [m.name for m in MIGRATIONS]
    assert rows[0][1] == first_applied_at  # not re-applied
    assert apply_migrations(conn) == []  # reopening applies nothing
    conn.close()


def test_migration_sql_is_split_into_statements() -> None:
    assert _statements("INSERT INTO t VALUES ('a;b');\n  SELECT 1;\n") == [
        "INSERT INTO t VALUES ('a;b');",
        "SELECT 1;",
    ]
    with pytest.raises(ValueError):
        _statements("INSERT INTO t VALUES ('unterminated;")


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "llm.db", isolation_level=None)
    broken = (*MIGRATIONS, Migration("999_broken", "CREATE TABLE extra (x); INSERT INTO nowhere VALUES (1);"))
    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(conn, broken)
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0
    assert apply_migrations(conn) == [m.name for m in MIGRATIONS]
    conn.close()


# --- secrets ----------------------------------------------------------------------------------

SECRET = "sk-proj-TOPSECRET-0123456789abcdef"


def test_redact() -> None:
    assert redact(f"401: bad key {SECRET}!", [SECRET]) == "401: bad key ***!"
    assert redact("nothing here", ["", "absent"]) == "nothing here"
    assert redact("abcdef and abc", ["abc", "abcdef"]) == "*** and ***"
    # Defensive patterns catch credentials nobody listed.
    assert redact("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x", []) == "Authorization: Bearer ***"
    assert redact("api-key: 0123456789abcdef0123", []) == "api-key: ***"
    assert redact("used sk-abcdefghijklmnopqrstuv", []) == "used ***"


def test_error_column_is_redacted(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    azure_key = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    with LLMCache(path, secrets=[SECRET, SecretStr(azure_key)]) as cache:
        log(cache, status="auth", error=f"Incorrect API key provided: {SECRET}; azure key {azure_key}")
        log(cache, status="ok", error=None)
        stored = cache._conn.execute("SELECT error FROM calls ORDER BY id").fetchall()
    assert stored == [("Incorrect API key provided: ***; azure key ***",), (None,)]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert SECRET.encode() not in raw
    assert azure_key.encode() not in raw


# --- bad paths --------------------------------------------------------------------------------


def one_line_error(path: Path) -> str:
    with pytest.raises(LLMConfigError) as info:
        LLMCache(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_directory_is_not_a_database(tmp_path: Path) -> None:
    one_line_error(tmp_path)


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    one_line_error(tmp_path / "file" / "llm.db")


def test_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    path.write_bytes(b"this is not a database, just text that is long enough to have a header" * 20)
    assert "not a database" in one_line_error(path)


# --- crash safety and concurrency -------------------------------------------------------------

WRITER = """
    import sys
    from diff_insight.llm.cache import LLMCache

    cache = LLMCache(sys.argv[1])
    prefix, count = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    for i in range(count):
        key = f"{prefix}{i}"
        cache.put(key, provider="p", model="m", prompt_version="v", content=f"answer {i}",
                  input_tokens=i, output_tokens=1)
        cache.log_call(provider="p", model="m", prompt_version="v", key=key, status="ok", attempts=1,
                       input_tokens=i, output_tokens=1, duration_ms=1, error=None)
        print(i, flush=True)
    cache.close()
"""


def test_killed_writer_leaves_every_committed_entry(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    child = run_child(WRITER, str(path), "k", "1000000")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    acknowledged = -1
    while acknowledged < 40:
        acknowledged = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)  # mid-loop: more writes were under way
    child.communicate()
    assert child.returncode == -signal.SIGKILL

    with LLMCache(path) as cache:
        assert cache._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for i in range(acknowledged + 1):
            assert cache.get(f"k{i}") == CachedResponse(f"answer {i}", i, 1)
        stats = cache.stats()
        assert stats["responses"] >= acknowledged + 1
        assert stats["calls"] >= acknowledged + 1


def test_writer_process_while_another_reads_and_writes(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    with LLMCache(path) as cache:
        child = run_child(WRITER, str(path), "c", "200")
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        for i in range(200):
            cache.put(f"p{i}", **PUT_META, content=str(i), input_tokens=None, output_tokens=None)
            log(cache, f"p{i}")
            assert cache.get(f"p{i}") == CachedResponse(str(i), None, None)
            cache.stats()
        _, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
        assert cache.stats() == {"responses": 400, "calls": 400, "errors": 0}
        assert cache.get("c199") == CachedResponse("answer 199", 199, 1)


def test_several_processes_open_a_new_database_at_once(tmp_path: Path) -> None:
    path = tmp_path / "new" / "llm.db"
    children = [run_child(WRITER, str(path), f"w{n}-", "50") for n in range(4)]
    for child in children:
        _, err = child.communicate(timeout=30)
        assert child.returncode == 0, err
    with LLMCache(path) as cache:
        assert cache.stats() == {"responses": 200, "calls": 200, "errors": 0}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    conn.close()


def test_two_connections_in_one_process(tmp_path: Path) -> None:
    path = tmp_path / "llm.db"
    with LLMCache(path) as writer, LLMCache(path) as reader:
        writer.put("a", **PUT_META, content="x", input_tokens=1, output_tokens=1)
        assert reader.get("a") == CachedResponse("x", 1, 1)
        log(reader, "a")
        assert writer.stats()["calls"] == 1


def test_shared_by_asyncio_tasks_and_threads(tmp_path: Path) -> None:
    cache = LLMCache(tmp_path / "llm.db")

    async def task(n: int) -> None:
        for i in range(20):
            key = f"t{n}-{i}"
            if cache.get(key) is None:
                await asyncio.sleep(0)
                cache.put(key, **PUT_META, content=key, input_tokens=i, output_tokens=n)
            await asyncio.to_thread(log, cache, key)

    async def main() -> None:
        await asyncio.gather(*(task(n) for n in range(10)))

    asyncio.run(main())
    assert cache.stats() == {"responses": 200, "calls": 200, "errors": 0}
    assert cache.get("t3-7") == CachedResponse("t3-7", 7, 3)
    cache.close()
