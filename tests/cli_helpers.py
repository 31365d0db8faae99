"""Helpers for tests that drive the command line: run it in process from a directory, and take a
snapshot of a directory tree to show that a run left it unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from click.testing import CliRunner

from diff_insight.cli import cli


def invoke(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``diff-insight ARGS`` in this process with ``cwd`` as the working directory; return the
    exit code, stdout and stderr."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)
    return res.exit_code, res.stdout, res.stderr


def snapshot(root: Path, skip: set[Path]) -> dict[bytes, tuple[int, str]]:
    """Every file and directory under ``root`` (bytes paths: names need not be UTF-8) with its mode
    and a hash of its contents (a symlink: its target), skipping the directories in ``skip``."""
    found: dict[bytes, tuple[int, str]] = {}
    skip_b = {os.fsencode(p) for p in skip}
    for top, dirs, files in os.walk(os.fsencode(root)):
        dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip_b]
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if os.path.islink(path):
                digest = os.readlink(path).hex()
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            else:
                digest = "dir"
            found[os.path.relpath(path, os.fsencode(root))] = (st.st_mode, digest)
    return found
