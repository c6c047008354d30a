"""The audit trail's key: a secret kept apart from the database that seals every entry.

Where it lives, in order:

1. ``CARBET_AUDIT_KEYS`` in the environment (comma-separated secrets, newest first), for an
   operator who keeps it in a vault or a systemd credential;
2. otherwise the key file ``settings.CARBET_AUDIT_KEY_FILE`` (default ``DATA_DIR/keys/audit.key``,
   mode 0600, one secret per line, newest first), created on the first entry written.

Never in the database, and left out of backups unless ``carbet backup --include-audit-key``.
Someone who can write the database but not read the key cannot re-seal a rewritten entry.

Each key is named by an id derived from the secret (a truncated keyed hash, which reveals
nothing of it), stored in every sealed row: after a rotation (``carbet audit rekey``) the old
keys stay in the file to verify the entries they sealed, and new entries use the first key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


class KeyringError(Exception):
    """The key file exists but cannot be used (unreadable or malformed)."""


class KeysManagedElsewhere(Exception):
    """The keys come from the environment: Carbet cannot add one."""


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes


def key_file() -> Path:
    configured = getattr(settings, "CARBET_AUDIT_KEY_FILE", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "keys" / "audit.key"


def from_environment() -> bool:
    return bool(getattr(settings, "CARBET_AUDIT_KEYS", None))


def key_id(secret: str) -> str:
    return hashlib.sha256(b"carbet-audit-key-id\x00" + secret.encode()).hexdigest()[:12]


def _parse(text: str) -> list[AuditKey]:
    keys = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) < 32 or any(c.isspace() for c in line):
            raise KeyringError(f"malformed audit key in {key_file()}")
        keys.append(AuditKey(key_id(line), line.encode()))
    return keys


def file_exists() -> bool:
    return key_file().is_file()


def load() -> list[AuditKey]:
    """Every known key, newest first; empty when none was ever created."""
    if from_environment():
        return _parse("\n".join(settings.CARBET_AUDIT_KEYS))
    path = key_file()
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyringError(f"{path}: {exc}") from exc
    return _parse(text)


def parse_file(path: Path) -> list[AuditKey]:
    """Keys of another key file (an archive's), for checking its chain before a restore."""
    return _parse(path.read_text(encoding="ascii"))


def generate_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def _write(path: Path, lines: list[str], *, exclusive: bool) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Unique per call: threads of one process may create the key at the same moment.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(tmp, path)  # another process may have created it first: keep theirs
            except FileExistsError:
                pass
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def current(*, create: bool = False) -> AuditKey | None:
    """The key that seals new entries. With ``create``, the key file is made on first use."""
    keys = load()
    if keys:
        return keys[0]
    if not create or from_environment():
        return None
    _write(key_file(), [generate_secret()], exclusive=True)
    keys = load()
    return keys[0] if keys else None


def rotate() -> AuditKey:
    """Put a new key first in the key file; the old ones stay to verify what they sealed."""
    if from_environment():
        raise KeysManagedElsewhere()
    path = key_file()
    existing: list[str] = []
    if path.exists():
        existing = [key.secret.decode() for key in load()]
    secret = generate_secret()
    _write(path, [secret, *existing], exclusive=False)
    return AuditKey(key_id(secret), secret.encode())


def as_mapping(keys: list[AuditKey]) -> tuple[dict[str, bytes], list[str]]:
    return {key.id: key.secret for key in keys}, [key.id for key in keys]
