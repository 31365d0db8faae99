"""Shared set-up of the atheris fuzz targets. Run them with ``scripts/fuzz.py`` (not part of pytest or
CI): each target checks the same invariants as the property suites in ``tests/test_prop_*.py``, and
any exception that property suite would not accept is a crash. Each target declares the exceptions
it allows (``main(fn, allowed=(...))``); by default none is allowed."""

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


def main(test_one_input: Callable[[bytes], None], allowed: tuple[type[Exception], ...] = ()) -> None:
    """Run ``test_one_input`` under libFuzzer. An exception of a type in ``allowed`` is an accepted
    outcome; any other (including a failed invariant's AssertionError) is a crash."""

    def guarded(data: bytes) -> None:
        try:
            test_one_input(data)
        except allowed:
            return

    os.environ.setdefault("DIFF_INSIGHT_WORKERS", "1")
    atheris.Setup(sys.argv, guarded if allowed else test_one_input)
    atheris.Fuzz()
