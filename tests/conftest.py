"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.gitrepo import GitRepo


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    """A fresh, empty git repository in a temporary directory."""
    return GitRepo(tmp_path)


pytest_plugins = ["tests.conftest_llm"]
