"""Shared set-up of the atheris fuzz targets. Run them with ``scripts/fuzz.py`` (not part of pytest or
CI): each target checks the same invariants as the property suites in ``tests/test_prop_*.py``, and
any exception other than our typed errors (``diff_insight.errors.*``) is a crash."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

import atheris  # noqa: E402

WORKDIR = Path(tempfile.mkdtemp(prefix="diff-insight-fuzz-"))
"""Scratch directory for targets that read files (removed by the OS's tmp cleaning)."""


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run ``test_one_input`` under libFuzzer; our typed errors are allowed outcomes, anything
    else (including a failed invariant's AssertionError) is a crash."""
    from diff_insight.errors import DiffInsightError

    def guarded(data: bytes) -> None:
        try:
            test_one_input(data)
        except DiffInsightError:
            return

    os.environ.setdefault("DIFF_INSIGHT_WORKERS", "1")
    atheris.Setup(sys.argv, guarded)
    atheris.Fuzz()
