"""A lock that says "Carbet is running on this data directory".

``carbet serve`` and ``carbet worker`` hold it shared for their lifetime; ``carbet restore``
takes it exclusively, so it refuses to replace the database under a running service (which
would keep serving, and writing, the old one).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

LOCK_NAME = ".carbet-running.lock"


class AlreadyRunning(Exception):
    """Another Carbet process holds the lock in a conflicting mode."""


def lock_path() -> Path:
    return Path(settings.DATA_DIR) / LOCK_NAME


def _open() -> int:
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


def hold_shared() -> int:
    """Mark this process as running; the lock lasts until the returned descriptor is closed
    (at the latest when the process ends). Raises ``AlreadyRunning`` during a restore."""
    fd = _open()
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise AlreadyRunning("a restore is in progress on this data directory") from exc
    return fd


@contextmanager
def exclusive() -> Iterator[None]:
    """Hold the lock alone (no serve, no worker); raises ``AlreadyRunning`` otherwise."""
    fd = _open()
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AlreadyRunning("carbet serve or carbet worker is running") from exc
        yield
    finally:
        os.close(fd)
