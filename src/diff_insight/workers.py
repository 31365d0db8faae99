"""How many forked worker processes a stage uses (report analysis and writing, site pages)."""

from __future__ import annotations

import multiprocessing
import os

MAX_WORKERS = 4


def worker_count(n_items: int, minimum: int) -> int:
    """1 below ``minimum`` items or where ``fork`` is unavailable, else up to
    :data:`MAX_WORKERS` (the CPU count). ``DIFF_INSIGHT_WORKERS=N`` overrides (``1`` disables)."""
    env = os.environ.get("DIFF_INSIGHT_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            return 1
    if n_items < minimum or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))
