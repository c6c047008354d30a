"""Carbet's data stays readable by the service account only: files 0600, directories 0700.

The database holds every structure's findings; the key files open the stored credentials and
sign sessions; uploads are signed mandates and evidence; backups contain all of it. Another
account on the same machine must not read any of them.

Two layers:
- a process umask of 077, set by every entry point (``carbet`` command, WSGI module, gunicorn
  configuration), so whatever Carbet or a library creates (SQLite's -wal/-shm files, backups,
  exports, the feeds store) is private from birth;
- a fix-up at start (``carbet serve``) and after every ``migrate``, for files created before
  (an older version, a copy made by hand, a restore by another tool): group and other bits are
  removed, and each change is logged.

No Django import at module level: ``carbet.cli`` and the WSGI module call :func:`private_umask`
before Django is set up.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
# SQLite's companions of a database file (same content, same secrecy).
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")
# Collected static files are public by nature (CSS, JS, images of the interface).
PUBLIC_SUBDIRS = frozenset({"static"})

log = logging.getLogger("carbet.ops.filemodes")


def private_umask() -> int:
    """Make files created by this process private (keeps a stricter umask); returns the old."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)
    return old


def _tighten(path: Path, wanted: int) -> int | None:
    """Remove group/other bits from ``path``; returns the old mode if it changed."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return None  # a link's target is checked where it lives, if it is ours
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077:
        return None
    try:
        path.chmod(mode & wanted)
    except PermissionError:
        log.warning(
            "cannot restrict file mode (not the owner)",
            extra={"path": str(path), "mode": oct(mode)},
        )
        return None
    return mode


def _walk(root: Path) -> Iterable[tuple[Path, bool]]:
    """Every directory (True) and file (False) under ``root``, public static files excepted."""
    yield root, True
    for current, dirs, files in os.walk(root):
        if Path(current) == root:
            dirs[:] = [d for d in dirs if d not in PUBLIC_SUBDIRS]
        for name in dirs:
            yield Path(current) / name, True
        for name in files:
            yield Path(current) / name, False


def secure_tree(root: Path, extra_files: Iterable[Path] = ()) -> list[tuple[Path, int]]:
    """Make ``root`` (the data directory) and ``extra_files`` private; log and return each fix
    as ``(path, old mode)``."""
    fixed: list[tuple[Path, int]] = []
    entries: list[tuple[Path, bool]] = list(_walk(root)) if root.is_dir() else []
    entries += [(path, False) for path in extra_files]
    for path, is_dir in entries:
        old = _tighten(path, DIR_MODE if is_dir else FILE_MODE)
        if old is not None:
            fixed.append((path, old))
            log.warning(
                "file mode restricted: readable by other accounts before",
                extra={"path": str(path), "old_mode": oct(old), "new_mode": oct(old & 0o700)},
            )
    return fixed


def sqlite_files(name: str | os.PathLike[str]) -> list[Path]:
    base = str(name)
    return [Path(base + suffix) for suffix in SQLITE_SUFFIXES]


def secure_data_files() -> list[tuple[Path, int]]:
    """The data directory, plus the SQLite database and the feeds store wherever they live."""
    from django.conf import settings
    from django.db import connections

    from carbet.engines.exposure.vulns.feeds import feeds_path

    extra: list[Path] = []
    for alias in connections:
        database = connections.settings[alias]
        if database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) not in (
            "",
            ":memory:",
        ):
            extra += sqlite_files(database["NAME"])
    extra += sqlite_files(feeds_path())
    root = Path(settings.DATA_DIR)
    # Files inside the data directory are already walked.
    outside = [p for p in extra if p.exists() and not p.resolve().is_relative_to(root.resolve())]
    return secure_tree(root, outside)
