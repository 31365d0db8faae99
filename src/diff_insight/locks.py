"""Exclusive file locks (``flock``) shared by daily runs and repository mirrors."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from diff_insight.errors import InputError


@contextlib.contextmanager
def file_lock(
    path: Path,
    *,
    wait: bool,
    busy: str,
    waiting: str | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if needed) for the ``with`` block.

    ``wait=False``: raise :class:`InputError` with the one-line ``busy`` message when another process
    holds it. ``wait=True``: call ``on_wait(waiting)`` once and block until it is free. The file is
    never deleted (deleting a lock file lets two processes lock different files), and the lock ends
    with the process, so a killed run never leaves a stale lock. The holder's pid is written in it.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot open lock file {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise InputError(busy) from None
            if on_wait is not None and waiting is not None:
                on_wait(waiting)
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # also releases the lock
