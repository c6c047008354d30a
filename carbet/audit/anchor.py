"""The audit trail's tail anchor: the head of the chain, kept in a file outside the database.

The file (``DATA_DIR/audit/head`` unless ``settings.CARBET_AUDIT_HEAD_FILE`` says otherwise)
holds one line, ``<sequence> <sha256>``, permissions 0600, replaced atomically. It only ever
moves forward: appends committed by concurrent processes may call ``advance`` out of order, and
an older head must not overwrite a newer one. In a multi-machine setup the data directory is
shared (uploads must be too), so every process advances the same anchor.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

_LINE = re.compile(r"^(\d+) ([0-9a-f]{64})$")


class AnchorError(Exception):
    """The anchor file exists but cannot be read as an anchor (damaged or tampered with)."""


@dataclass(frozen=True)
class Head:
    sequence: int
    entry_hash: str


def head_path() -> Path:
    configured = getattr(settings, "CARBET_AUDIT_HEAD_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "audit" / "head"


def _ensure_dir(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.parent.chmod(0o700)
    except PermissionError:  # pragma: no cover - directory owned by another account
        pass


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock (a sibling ``.lock`` file) across threads and processes."""
    _ensure_dir(path)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _parse(text: str) -> Head:
    match = _LINE.match(text.strip())
    if not match:
        raise AnchorError("malformed audit anchor")
    return Head(int(match.group(1)), match.group(2))


def read() -> Head | None:
    """The anchored head, ``None`` if no anchor was ever written. Raises ``AnchorError`` when
    the file is unreadable as an anchor."""
    path = head_path()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise AnchorError(str(exc)) from exc
    return _parse(text)


def _write(path: Path, head: Head) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"{head.sequence} {head.entry_hash}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself must survive a power cut
    finally:
        os.close(dir_fd)


def advance(
    sequence: int,
    entry_hash: str,
    *,
    force: bool = False,
    still_valid: Callable[[Head], bool] | None = None,
) -> bool:
    """Record ``sequence``/``entry_hash`` as the head unless a newer head is already recorded.

    ``still_valid(current_head)`` must confirm that the currently anchored entry is still in
    the chain: otherwise the anchor stays where it is, so a deleted or rewritten tail keeps
    being reported instead of being covered by the next appends. ``force`` replaces whatever
    is there (restore, or an operator's explicit re-anchoring). Returns whether the file was
    written.
    """
    path = head_path()
    new = Head(sequence, entry_hash)
    with _locked(path):
        if not force:
            try:
                current = read()
            except AnchorError:
                return False  # a damaged anchor is reported by verify, never silently fixed
            if current is not None and current.sequence >= sequence:
                return False
            if current is not None and still_valid is not None and not still_valid(current):
                return False
        _write(path, new)
    return True


def clear() -> None:
    """Remove the anchor (the trail is empty again, e.g. after restoring an empty database)."""
    path = head_path()
    with _locked(path):
        path.unlink(missing_ok=True)
