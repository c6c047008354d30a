"""The audit trail's tail anchor: the head of the chain, kept in a file outside the database.

A chain alone cannot notice that its *last* entries were deleted (what remains is still a
valid chain), nor that the whole table was emptied. So the head (sequence and seal of the last
entry) is kept in a file (``DATA_DIR/audit/head`` unless ``settings.CARBET_AUDIT_HEAD_FILE``
says otherwise), permissions 0600, replaced atomically, one line:

    v2 <sequence> <seal> <key id> <tag>

where ``tag`` is an HMAC of the rest with the audit key: someone who can write the data
directory but not read the key cannot point the anchor at a truncated or rewritten chain.
Files written before the keyed chain hold ``<sequence> <sha256>`` and are read as legacy heads
(accepted only while the trail has no keyed entry).

The same head, dated and tagged, is what ``carbet audit anchor`` sends to the external sinks
(an e-mail to the centre, a file on another machine) and what a backup's manifest carries:
``carbet-audit-anchor v2 at=… seq=… seal=… key=… tag=…``, one per line.

The file only ever moves forward: appends committed by concurrent processes may call
``advance`` out of order, and an older head must not overwrite a newer one. In a multi-machine
setup the data directory is shared (uploads must be too), so every process advances the same
anchor.
"""

from __future__ import annotations

import datetime as dt
import email
import fcntl
import hashlib
import hmac
import mailbox
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from carbet.audit import keyring

_LEGACY_LINE = re.compile(r"^(\d{1,18}) ([0-9a-f]{64})$")
_LINE = re.compile(r"^v2 (\d{1,18}) ([0-9a-f]{64}) ([0-9a-f]{12}) ([0-9a-f]{64})$")
EXPORT_MARK = "carbet-audit-anchor"
_EXPORT = re.compile(
    r"carbet-audit-anchor v2 at=(\S{1,40}) seq=(\d{1,18}) seal=([0-9a-f]{64}) "
    r"key=([0-9a-f]{12}) tag=([0-9a-f]{64})(?=\s|$)"
)


class AnchorError(Exception):
    """The anchor file exists but cannot be read as an anchor (damaged or tampered with)."""


@dataclass(frozen=True)
class Head:
    sequence: int
    entry_hash: str
    key_id: str | None = None  # None: a legacy, unsigned anchor
    tag: str | None = None

    @property
    def legacy(self) -> bool:
        return self.key_id is None


def _tag(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("ascii"), hashlib.sha256).hexdigest()


def _head_message(sequence: int, entry_hash: str, key_id: str) -> str:
    return f"carbet-audit-head\x00{sequence} {entry_hash} {key_id}"


def signed(sequence: int, entry_hash: str, key: keyring.AuditKey) -> Head:
    return Head(
        sequence, entry_hash, key.id, _tag(key.secret, _head_message(sequence, entry_hash, key.id))
    )


def tag_valid(head: Head, keys: Mapping[str, bytes]) -> bool:
    """Whether a signed head's tag was made with one of ``keys`` (legacy heads: False)."""
    if head.legacy or head.key_id not in keys:
        return False
    expected = _tag(keys[head.key_id], _head_message(head.sequence, head.entry_hash, head.key_id))
    return hmac.compare_digest(expected, head.tag or "")


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
    line = text.strip()
    match = _LINE.match(line)
    if match:
        return Head(int(match.group(1)), match.group(2), match.group(3), match.group(4))
    match = _LEGACY_LINE.match(line)
    if match:
        return Head(int(match.group(1)), match.group(2))
    raise AnchorError("malformed audit anchor")


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


def _line(head: Head) -> str:
    if head.legacy:
        return f"{head.sequence} {head.entry_hash}\n"
    return f"v2 {head.sequence} {head.entry_hash} {head.key_id} {head.tag}\n"


def _write(path: Path, head: Head) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(_line(head))
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
    key: keyring.AuditKey | None = None,
) -> bool:
    """Record ``sequence``/``entry_hash`` as the head unless a newer head is already recorded.

    The head is signed with ``key`` (default: the current audit key; without any key, a legacy
    line). ``still_valid(current_head)`` must confirm that the currently anchored entry is
    still in the chain: otherwise the anchor stays where it is, so a deleted or rewritten tail
    keeps being reported instead of being covered by the next appends. A current anchor whose
    tag does not verify is left alone too (``verify`` reports it). ``force`` replaces whatever
    is there (restore, or an operator's explicit re-anchoring). Returns whether the file was
    written.
    """
    key = key or keyring.current()
    new = signed(sequence, entry_hash, key) if key else Head(sequence, entry_hash)
    path = head_path()
    with _locked(path):
        if not force:
            try:
                current = read()
            except AnchorError:
                return False  # a damaged anchor is reported by verify, never silently fixed
            if current is not None:
                if current.sequence >= sequence:
                    return False
                if not current.legacy:
                    keys, _order = keyring.as_mapping(keyring.load())
                    if not tag_valid(current, keys):
                        return False
                if still_valid is not None and not still_valid(current):
                    return False
        _write(path, new)
    return True


def clear() -> None:
    """Remove the anchor (the trail is empty again, e.g. after restoring an empty database)."""
    path = head_path()
    with _locked(path):
        path.unlink(missing_ok=True)


# --- exported heads: the external sinks and the backup manifest ------------------------------
@dataclass(frozen=True)
class ExportedHead:
    at: str
    sequence: int
    entry_hash: str
    key_id: str
    tag: str
    line_number: int = 0


def _export_message(at: str, sequence: int, entry_hash: str, key_id: str) -> str:
    return f"carbet-audit-export\x00{at} {sequence} {entry_hash} {key_id}"


def export_line(sequence: int, entry_hash: str, key: keyring.AuditKey, at: dt.datetime) -> str:
    stamp = at.astimezone(dt.UTC).isoformat(timespec="seconds")
    tag = _tag(key.secret, _export_message(stamp, sequence, entry_hash, key.id))
    return f"{EXPORT_MARK} v2 at={stamp} seq={sequence} seal={entry_hash} key={key.id} tag={tag}"


def export_tag_valid(exported: ExportedHead, keys: Mapping[str, bytes]) -> bool:
    secret = keys.get(exported.key_id)
    if secret is None:
        return False
    expected = _tag(
        secret,
        _export_message(exported.at, exported.sequence, exported.entry_hash, exported.key_id),
    )
    return hmac.compare_digest(expected, exported.tag)


def parse_exports(text: str) -> tuple[list[ExportedHead], list[int]]:
    """The anchor lines found in ``text`` (a sink file, e-mails pasted one after the other),
    and the numbers of the lines that mention an anchor but cannot be read as one.

    Untrusted input: anything else on other lines (mail headers, notes) is ignored; a line that
    carries the mark but not a well-formed anchor is reported, never guessed at.
    """
    found: list[ExportedHead] = []
    damaged: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if EXPORT_MARK not in line:
            continue
        match = _EXPORT.search(line)
        if not match:
            damaged.append(number)
            continue
        at, sequence, seal, key_id, tag = match.groups()
        found.append(ExportedHead(at, int(sequence), seal, key_id, tag, number))
    return found, damaged


_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,60}: ")


def _message_text(message: email.message.Message) -> str:
    parts = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True) or b""
            parts.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
    return "\n".join(parts)


def anchor_file_text(data: bytes) -> str:
    """The text to look for anchors in: a sink file as it is, or the decoded bodies of the
    anchor e-mails as the centre saved them (one ``.eml`` message, or an ``mbox`` export),
    where long lines are folded by the mail encoding."""
    if data.startswith(b"From "):
        with tempfile.NamedTemporaryFile(suffix=".mbox") as handle:
            handle.write(data)
            handle.flush()
            box = mailbox.mbox(handle.name, create=False)
            try:
                return "\n".join(_message_text(message) for message in box)
            finally:
                box.close()
    if _HEADER.match(data):
        return _message_text(email.message_from_bytes(data))
    return data.decode("utf-8", errors="replace")
