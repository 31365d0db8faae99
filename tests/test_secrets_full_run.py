"""With ``OPENAI_API_KEY``, ``AZURE_OPENAI_API_KEY`` and ``GITHUB_TOKEN`` set to recognisable values,
full runs with ``--debug`` logging (OpenAI and Azure providers through ``run --engine llm``, the GitHub
compare API through ``report --github``), with faults and error paths (a careless server that quotes
the key it was sent in its error messages, a rejected key, a rejected token, a git URL with a token
that cannot be cloned) leave none of the secrets in any line they print (stdout, stderr, debug logs,
tracebacks) or in any file they write (reports, the SQLite cache, state, locks, mirrors, the pages
of ``diff-insight site build``): every byte under the test's directory is searched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.github_server import FakeGitHub, error, secondary_limit
from tests.gitrepo import GitRepo
from tests.llm_server import FakeLLMServer
from tests.test_llm_writer import docs_model
from tests.test_source_github import BASE_SHA, HEAD_SHA, SLUG, _small_payload

OPENAI_KEY = "sk-SECRET-openai-7781"
AZURE_KEY = "azure-SECRET-5521"
GITHUB_TOKEN = "ghp_SECRET_9932"
SECRETS = (OPENAI_KEY, AZURE_KEY, GITHUB_TOKEN)
START = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
CONFIG = """\
locales = ["ja_JP", "zh_CN", "en_US"]

[categories]
guides = ["docs/guides"]
api = ["docs/api"]

[llm]
timeout = 0.5
"""


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_", "GITHUB_"))}
    env.update(
        OPENAI_API_KEY=OPENAI_KEY,
        AZURE_OPENAI_API_KEY=AZURE_KEY,
        GITHUB_TOKEN=GITHUB_TOKEN,
        DIFF_INSIGHT_WORKERS="1",
    )
    env.update(extra)
    return env


class Transcript:
    """Runs the CLI as real processes and keeps everything they print."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.outputs: list[tuple[list[str], str, str]] = []

    def run(self, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "diff_insight", "--debug", *args],
            cwd=self.cwd,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            timeout=180,
        )
        self.outputs.append((args, proc.stdout, proc.stderr))
        return proc


def commit_day(repo: GitRepo, day: int) -> None:
    for part in ("guides", "api"):
        for i in range(3):
            body = "".join(
                f"\n## Step {d}\n\nDay {d} adds option {i}-{d} to the {part}.\n" for d in range(day + 1)
            )
            repo.write(f"docs/{part}/page-{i}.md", f"# {part} {i}\n{body}")
    repo.commit(f"day {day}", START + timedelta(days=day))


def every_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()]


def test_no_secret_in_any_output_or_file(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path, name="docs")
    commit_day(repo, 0)
    commit_day(repo, 1)
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "out"
    t = Transcript(tmp_path)
    run = ["run", "--repo", str(repo.path), "--config", str(cfg), "--out-dir", str(out), "--engine", "llm"]
    # a few faults of several kinds (the full fault mix is tests/test_faults_full_run.py); the careless
    # server quotes the key it was sent in every error answer
    faults = dict(
        faults=["429", "malformed", "500", "refusal", "drop"], retry_after=0.01, echo_key_in_errors=True
    )

    # 1. OpenAI
    with FakeLLMServer(api_key=OPENAI_KEY, responder=docs_model, **faults) as srv:  # type: ignore[arg-type]
        proc = t.run([*run, "--since", "HEAD~1"], base_env(OPENAI_BASE_URL=srv.base_url))
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert any(r.fault for r in srv.requests) and any(r.status == 200 for r in srv.requests)
        srv.assert_secret_absent(OPENAI_KEY)

    # 2. Azure, the same faults, the next day
    commit_day(repo, 2)
    with FakeLLMServer(api_key=AZURE_KEY, responder=docs_model, **faults) as srv:  # type: ignore[arg-type]
        proc = t.run(run, base_env(AZURE_OPENAI_ENDPOINT=srv.origin))
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert {r.shape for r in srv.requests} == {"azure"}
        assert any(r.fault for r in srv.requests)
        srv.assert_secret_absent(AZURE_KEY)

    # 3. error path: the server rejects the key and quotes it back; the run fails with a traceback
    commit_day(repo, 3)
    with FakeLLMServer(api_key="sk-the-right-one-0000", echo_key_in_errors=True) as srv:
        proc = t.run([*run, "--no-cache"], base_env(OPENAI_BASE_URL=srv.base_url))
        assert proc.returncode != 0
        assert "Traceback" in proc.stderr and "rejected the API key" in proc.stderr
        assert srv.requests and all(r.status == 401 for r in srv.requests)

    # 4. the GitHub compare API with the token: rate limits and server errors, then a rejected token
    with FakeGitHub(token=GITHUB_TOKEN) as gh:
        gh.add_compare(SLUG, "main", "topic", _small_payload())
        gh.contents[("big.md", BASE_SHA)] = b"one\ntwo\n"
        gh.contents[("big.md", HEAD_SHA)] = b"one\n2\nthree\n"
        gh.script(secondary_limit(1, match="/compare/"), error(503, "busy"))
        env = base_env(GITHUB_API_URL=gh.base_url)
        report = ["report", "--github", SLUG, "main", "topic", "--out-dir", str(out / "gh")]
        proc = t.run([*report, "--config", str(cfg)], env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert any(r.headers.get("authorization") == f"Bearer {GITHUB_TOKEN}" for r in gh.requests)
        proc = t.run(report, {**env, "GITHUB_TOKEN": GITHUB_TOKEN + "-revoked"})
        assert proc.returncode != 0 and "rejected the token" in proc.stderr

    # 5. a git URL carrying the token that cannot be cloned
    url = f"https://x-access-token:{GITHUB_TOKEN}@127.0.0.1:9/octo/docs.git"
    proc = t.run(["run", "--repo", url, "--out-dir", str(out)], base_env())
    assert proc.returncode != 0 and "cannot clone https://127.0.0.1:9/octo/docs.git" in proc.stderr

    # 6. the website of the reports
    proc = t.run(["site", "build", str(out / "reports"), str(tmp_path / "site")], base_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list((tmp_path / "site").rglob("*.html"))

    # what was written: reports, cache (and its journal), state, locks, mirrors, site
    written = every_file(tmp_path)
    assert any(p.suffix == ".sqlite" for p in written)
    assert any(p.parent.name == "state" for p in written)
    assert len([p for p in written if p.suffix == ".md" and "reports" in p.parts]) >= 12
    for path in written:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} in {path}"
            assert secret.encode("utf-16-le") not in data, f"{secret} (UTF-16) in {path}"
    debug_lines = 0
    for args, stdout, stderr in t.outputs:
        debug_lines += stderr.count("DEBUG ")
        for secret in SECRETS:
            assert secret not in stdout and secret not in stderr, (args, secret)
    assert debug_lines > 20  # --debug logging was on
