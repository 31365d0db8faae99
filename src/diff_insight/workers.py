"""The forked worker processes of a stage (report analysis and writing, site pages)."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

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
    if n_items < minimum or not hasattr(os, "fork"):
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


@contextlib.contextmanager
def forked_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` forked processes, with the heap frozen while it lives
    (:func:`gc.freeze`): a worker's collector then never walks the objects it inherited, which
    would copy every page that holds one, and the parent's collections skip them meanwhile."""
    # imported here: a run small enough for one process (most daily runs) does not pay for them
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    gc.freeze()
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            yield pool
    finally:
        gc.unfreeze()
