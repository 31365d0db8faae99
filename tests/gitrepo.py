"""A real git repository in a temporary directory, driven with the git CLI, for tests."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

_START = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


class GitRepo:
    """A throw-away repository whose commits do not depend on the user's git configuration.

    Author/committer names, e-mails and dates come from the environment; dates advance by one
    minute per commit unless given.
    """

    def __init__(self, root: Path, *, name: str = "repo") -> None:
        self.path = root / name
        self.path.mkdir(parents=True, exist_ok=True)
        self._commits = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL="/dev/null",
            GIT_AUTHOR_NAME="Test Author",
            GIT_AUTHOR_EMAIL="author@example.com",
            GIT_COMMITTER_NAME="Test Committer",
            GIT_COMMITTER_EMAIL="committer@example.com",
            LC_ALL="C",
        )
        self.git("init", "-q", "-b", "main")
        for key, value in (
            ("commit.gpgsign", "false"),
            ("core.autocrlf", "false"),
            ("core.safecrlf", "false"),
            ("core.symlinks", "true"),
        ):
            self.git("config", key, value)

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
        """Run git with ``args`` in the repository; return stdout as bytes (raises on failure)."""
        proc = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace')}")
        return proc.stdout

    def git(self, *args: str) -> str:
        """Run git with ``args``; return stdout decoded as UTF-8."""
        return self.run(*args).decode("utf-8", errors="replace")

    def file(self, path: str) -> Path:
        return self.path / path

    def write(self, path: str, content: str | bytes) -> Path:
        """Write ``content`` (text as UTF-8, no newline translation) to ``path``, creating folders."""
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return target

    def symlink(self, path: str, target: str) -> None:
        """Make ``path`` a symbolic link to ``target`` (replacing what is there)."""
        link = self.path / path
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        os.symlink(target, link)

    def chmod(self, path: str, executable: bool = True) -> None:
        (self.path / path).chmod(0o755 if executable else 0o644)

    def remove(self, path: str) -> None:
        self.git("rm", "-q", "--", path)

    def rename(self, old: str, new: str) -> None:
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)

    def commit(self, message: str = "change", date: datetime | str | None = None) -> str:
        """Stage everything and commit; return the new commit's full SHA."""
        if date is None:
            date = _START + timedelta(minutes=self._commits)
        stamp = date.isoformat() if isinstance(date, datetime) else date
        self._commits += 1
        self.git("add", "-A")
        self.run(
            "commit",
            "-q",
            "--allow-empty",
            "--no-verify",
            "-m",
            message,
            env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
        )
        return self.head()

    def import_commit(
        self, files: dict[str, str | bytes], message: str = "import", date: datetime | None = None
    ) -> str:
        """Commit ``files`` (path -> content) on top of HEAD with ``git fast-import``; return the SHA.

        Much faster than :meth:`commit` for thousands of files, but the work tree and index are not
        updated: use it for ranges that are only read, not for further :meth:`commit` calls.
        """
        if date is None:
            date = _START + timedelta(minutes=self._commits)
        self._commits += 1
        stamp = f"{int(date.timestamp())} +0000"
        msg = message.encode()
        parts = [
            b"commit refs/heads/main\n",
            f"author Test Author <author@example.com> {stamp}\n".encode(),
            f"committer Test Committer <committer@example.com> {stamp}\n".encode(),
            b"data %d\n%s\n" % (len(msg), msg),
        ]
        current = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            check=False,
        )
        parent = current.stdout.strip() if current.returncode == 0 else b""
        if parent:
            parts.append(b"from " + parent + b"\n")
        for path, content in files.items():
            if any(c in path for c in '"\n\\') or path.startswith(" "):
                raise ValueError(f"import_commit does not quote paths: {path!r}")
            data = content.encode() if isinstance(content, str) else content
            parts.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
        self.run("fast-import", "--quiet", input=b"".join(parts))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def set_origin(self, url: str) -> None:
        """Point the ``origin`` remote at ``url``."""
        remotes = self.git("remote").split()
        self.git("remote", "set-url" if "origin" in remotes else "add", "origin", url)


def numstat(
    repo: GitRepo, base: str, head: str, *, renames: bool = True
) -> dict[str, tuple[int, int] | None]:
    """``git diff --numstat -M`` (``--no-renames`` with ``renames=False``) by (new) path, ``None``
    for binary files."""
    tokens = repo.run("diff", "-z", "--numstat", "-M" if renames else "--no-renames", base, head).split(b"\0")
    out: dict[str, tuple[int, int] | None] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not tok:
            continue
        added, deleted, path = tok.split(b"\t", 2)
        if not path:  # a rename: the old and the new path follow
            path = tokens[i + 1]
            i += 2
        counts = None if added == b"-" else (int(added), int(deleted))
        out[path.decode("utf-8", "replace")] = counts
    return out
