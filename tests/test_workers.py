"""The forked worker pool (:func:`diff_insight.workers.forked_pool`)."""

from __future__ import annotations

import gc
import os

import pytest

from diff_insight.workers import forked_pool

_INHERITED = [{"n": i} for i in range(1000)]


def _child_view(_: int) -> tuple[int, int, int]:
    """In a worker: its pid, how many objects are frozen (its collector skips them), and that
    it sees the inherited objects."""
    return os.getpid(), gc.get_freeze_count(), len(_INHERITED)


def test_the_heap_is_frozen_while_the_pool_lives_and_thawed_after() -> None:
    before = gc.get_freeze_count()
    with forked_pool(2) as pool:
        assert gc.get_freeze_count() >= len(_INHERITED)
        results = list(pool.map(_child_view, range(4)))
    assert gc.get_freeze_count() == before
    assert {pid for pid, _, _ in results} != {os.getpid()}
    # the workers inherited the frozen heap: their collections skip it
    assert all(frozen >= len(_INHERITED) and n == len(_INHERITED) for _, frozen, n in results)


def test_the_heap_is_thawed_when_the_stage_fails() -> None:
    before = gc.get_freeze_count()
    with pytest.raises(ZeroDivisionError), forked_pool(2) as pool:
        list(pool.map(_fail, range(2)))
    assert gc.get_freeze_count() == before


def _fail(i: int) -> float:
    return 1 / (i - i)
