"""Remote sources read through local bare mirrors (``diff_insight.mirror``), with ``file://`` URLs."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from tests.cli_helpers import invoke
from tests.gitrepo import GitRepo

from diff_insight.errors import InputError, SourceError
from diff_insight.mirror import (
    ensure_mirror,
    github_url,
    is_remote,
    mirror_name,
    public_url,
    resolve_source,
)


def origin(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path, name="origin")
    repo.write("articles/a.md", "# A\n\nFirst.\n")
    repo.write("articles/b.md", "# B\n\nSecond.\n")
    repo.commit("initial", date="2025-04-22T09:00:00+00:00")
    repo.write("articles/a.md", "# A\n\nFirst, edited.\n")
    repo.commit("edit a", date="2025-04-23T09:00:00+00:00")
    return repo


def test_first_call_clones_then_fetches_new_commits(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    url = repo.path.as_uri()
    mirror = ensure_mirror(url, tmp_path / "mirrors", branch="main")
    assert mirror.parent == tmp_path / "mirrors" and (mirror / "HEAD").is_file()
    assert not (mirror / "index").exists()  # bare
    refs = GitRepo.__new__(GitRepo)  # only for its git runner
    refs.path, refs.env = mirror, repo.env
    assert refs.git("rev-parse", "refs/heads/main").strip() == repo.head()
    repo.write("articles/c.md", "# C\n")
    new = repo.commit("add c", date="2025-04-24T09:00:00+00:00")
    assert ensure_mirror(url, tmp_path / "mirrors", branch="main") == mirror
    assert refs.git("rev-parse", "refs/heads/main").strip() == new
    # fetch=False keeps the mirror as it is
    repo.write("articles/d.md", "# D\n")
    repo.commit("add d", date="2025-04-25T09:00:00+00:00")
    ensure_mirror(url, tmp_path / "mirrors", branch="main", fetch=False)
    assert refs.git("rev-parse", "refs/heads/main").strip() == new


def test_run_through_a_mirror_reports_exactly_the_new_range(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    first_head = repo.head()
    cfg = tmp_path / "diff-insight.toml"
    cfg.write_text(f'locales = ["en_US"]\n[source]\npath = "{repo.path.as_uri()}"\n', encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 0, err
    assert [w["files"] for w in json.loads(stdout)] == [1]  # the head commit's own change
    assert f"..{first_head[:7]} on main" in err
    mirrors = list((out / ".diff-insight" / "mirrors").glob("*.git"))
    assert len(mirrors) == 1

    repo.write("articles/b.md", "# B\n\nSecond, edited.\n")
    repo.write("articles/c.md", "# C\n\nNew.\n")
    head = repo.commit("edit b, add c", date="2025-04-24T09:00:00+00:00")
    code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 0, err
    (written,) = json.loads(stdout)
    assert written["files"] == 2
    assert f"reported {first_head[:7]}..{head[:7]} on main" in err
    state = json.loads(next((out / ".diff-insight" / "state").glob("*.json")).read_text())
    assert state["commit"] == head and state["repository"] == repo.path.as_uri()
    code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
    assert code == 0 and json.loads(stdout) == [] and "nothing to do" in err


def test_lock_contention_is_a_one_line_error(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    url = repo.path.as_uri()
    root = tmp_path / "mirrors"
    mirror = ensure_mirror(url, root, branch="main")
    lock = root / (mirror_name(url).removesuffix(".git") + ".lock")
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(InputError) as info:
            ensure_mirror(url, root, branch="main")
    finally:
        os.close(fd)
    assert str(info.value) == f"another run is updating the mirror {mirror}; try again later"
    assert ensure_mirror(url, root, branch="main") == mirror  # free again


def test_bad_url_is_a_one_line_source_error_without_credentials(tmp_path: Path) -> None:
    url = (tmp_path / "nothing-here.git").as_uri()
    with pytest.raises(SourceError) as info:
        ensure_mirror(url, tmp_path / "mirrors", branch="main")
    message = str(info.value)
    assert message.startswith(f"cannot clone {url}: ") and "\n" not in message
    assert not list((tmp_path / "mirrors").glob("*.git*"))  # no half-made mirror

    secret = "https://user:s3cret@127.0.0.1:9/o/n.git"  # nothing listens on port 9
    with pytest.raises(SourceError) as info:
        ensure_mirror(secret, tmp_path / "mirrors", branch="main")
    message = str(info.value)
    assert "s3cret" not in message and "user" not in message and "\n" not in message
    assert message.startswith("cannot clone https://127.0.0.1:9/o/n.git: ")


def test_unknown_branch(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    with pytest.raises(SourceError, match="has no branch 'dev'"):
        ensure_mirror(repo.path.as_uri(), tmp_path / "mirrors", branch="dev")


def test_credentials_are_stripped_from_names() -> None:
    name = mirror_name("https://x-access-token:ghp_SECRET@github.com/MicrosoftDocs/azure-ai-docs.git")
    assert "SECRET" not in name and "x-access-token" not in name
    assert name.startswith("github.com-MicrosoftDocs-azure-ai-docs-") and name.endswith(".git")
    # the token does not change the mirror (same directory after a token rotation)
    assert name == mirror_name("https://github.com/MicrosoftDocs/azure-ai-docs.git")
    ssh = mirror_name("ssh://git:pw@example.com/o/n.git")
    assert ":pw" not in ssh and ssh.startswith("example.com-o-n-")
    assert mirror_name("git@github.com:o/n.git").startswith("github.com-o-n-")
    assert public_url("https://u:p@host/x") == "https://host/x"
    assert public_url("git@github.com:o/n.git") == "github.com:o/n.git"


def test_source_kinds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("https://h/o/n.git", "ssh://git@h/o/n", "git@github.com:o/n.git", "file:///srv/x"):
        assert is_remote(url) and resolve_source(url) == ("remote", url)
    monkeypatch.delenv("GITHUB_SERVER_URL", raising=False)
    assert resolve_source("MicrosoftDocs/azure-ai-docs", tmp_path) == (
        "remote",
        "https://github.com/MicrosoftDocs/azure-ai-docs.git",
    )
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://ghe.example.com/")
    assert github_url("o/n") == "https://ghe.example.com/o/n.git"
    (tmp_path / "docs" / "repo").mkdir(parents=True)
    assert resolve_source("docs/repo", tmp_path) == ("local", str(tmp_path / "docs" / "repo"))
    assert resolve_source("./missing", tmp_path) == ("local", str(tmp_path / "missing"))


def test_fetch_failure_is_a_one_line_source_error(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    url = repo.path.as_uri()
    ensure_mirror(url, tmp_path / "mirrors", branch="main")
    repo.path.rename(tmp_path / "moved")
    with pytest.raises(SourceError) as info:
        ensure_mirror(url, tmp_path / "mirrors", branch="main")
    assert str(info.value).startswith(f"cannot fetch {url}: ") and "\n" not in str(info.value)


def test_backfill_and_repo_option_accept_a_url(tmp_path: Path) -> None:
    repo = origin(tmp_path)
    out = tmp_path / "out"
    args = ["--repo", repo.path.as_uri(), "--out-dir", str(out), "--json"]
    code, stdout, err = invoke(
        ["backfill", *args, "--since", "2025-04-22", "--until", "2025-04-23"], tmp_path
    )
    assert code == 0, err
    assert sorted(w["files"] for w in json.loads(stdout)) == [1, 2]  # the 22nd's root commit, the 23rd's edit
    assert len(list((out / ".diff-insight" / "mirrors").glob("*.git"))) == 1


def test_private_repository_over_http_keeps_the_token_out_of_every_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials in the source URL are used for the clone, every fetch and the on-demand blob
    fetches of the partial clone, but no file written by the run holds them."""
    from tests.git_http_server import GitHTTPServer

    from diff_insight.mirror import PASSWORD_ENV, USER_ENV

    monkeypatch.delenv(USER_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    secret = "ghs_SECRET_4242"
    repo = origin(tmp_path / "served")
    repo.git("config", "uploadpack.allowFilter", "true")
    repo.git("config", "uploadpack.allowAnySHA1InWant", "true")
    with GitHTTPServer(repo.path.parent, username="x-access-token", password=secret) as srv:
        url = srv.url("origin", credentials=f"x-access-token:{secret}")
        cfg = tmp_path / "diff-insight.toml"
        cfg.write_text(f'locales = ["en_US"]\n[source]\npath = "{url}"\n', encoding="utf-8")
        out = tmp_path / "out"
        code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
        assert code == 0, err
        assert [w["files"] for w in json.loads(stdout)] == [1]
        repo.write("articles/b.md", "# B\n\nSecond, edited.\n")
        repo.commit("edit b", date="2025-04-24T09:00:00+00:00")
        code, stdout, err = invoke(["run", "--config", str(cfg), "--out-dir", str(out), "--json"], tmp_path)
        assert code == 0, err
        assert [w["files"] for w in json.loads(stdout)] == [1]
        assert any(ok for _, _, ok in srv.requests) and any(not ok for _, _, ok in srv.requests)
        # without credentials the server refuses: one line, no prompt, nothing leaked
        monkeypatch.delenv(USER_ENV, raising=False)
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
        with pytest.raises(SourceError) as info:
            ensure_mirror(srv.url("origin"), tmp_path / "other-mirrors", branch="main")
        assert "\n" not in str(info.value) and secret not in str(info.value)
    assert secret not in stdout + err
    mirror = next((out / ".diff-insight" / "mirrors").glob("*.git"))
    refs = GitRepo.__new__(GitRepo)
    refs.path, refs.env = mirror, repo.env
    assert refs.git("config", "--get", "remote.origin.url").strip() == srv.url("origin")
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != cfg and "served" not in path.parts:  # cfg: the input itself
            assert secret.encode() not in path.read_bytes(), path
