"""``carbet backup``: one archive with the database, the uploads and a verifiable manifest.

The database copy is consistent (SQLite online backup API, or ``pg_dump``), taken before the
uploads are read: a file uploaded meanwhile may be in the archive without its row, never the
reverse (a row pointing to a missing file). The encryption keys are left out by default: an
archive that travels (off-site copy, USB disk) must not carry what decrypts the stored
credentials. ``--include-keys`` adds them, for a self-sufficient disaster-recovery copy that
must then be protected like the keys themselves. The audit trail's key is left out even then,
unless ``--include-audit-key``: whoever holds it can re-seal a rewritten trail, so it should
travel separately from any copy of the database.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import socket
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet import __version__
from carbet.audit import anchor, keyring
from carbet.audit import services as audit
from carbet.core.tenancy import SYSTEM
from carbet.ops import dbdump
from carbet.ops.archive import (
    AUDIT_KEY_FILE,
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    KEY_FILES,
    KEYS,
    MANIFEST,
    UPLOADS,
    BackupError,
    HashingReader,
    sha256_of,
)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    sha256: str
    file_count: int
    includes_keys: bool
    skipped: list[str]
    includes_audit_key: bool = False


def cli_actor_label() -> str:
    """Who ran a command-line operation, for the audit trail."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return _("ligne de commande (%(who)s)") % {"who": f"{user}@{socket.gethostname()}"}


def default_output() -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"carbet-{stamp}.tar.gz"


def migration_state(database: str = "default") -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for app_label, name in MigrationRecorder(connections[database]).applied_migrations():
        state.setdefault(app_label, []).append(name)
    return {app: sorted(names) for app, names in sorted(state.items())}


def _database_vendor() -> str:
    vendor = connections["default"].vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(
            _("Base de données « %(vendor)s » non prise en charge par la sauvegarde.")
            % {"vendor": vendor}
        )
    return vendor


def _dump_database(vendor: str, staging: Path) -> Path:
    database = settings.DATABASES["default"]
    if vendor == "sqlite":
        target = staging / "carbet.sqlite3"
        dbdump.sqlite_snapshot(Path(database["NAME"]), target)
    else:
        target = staging / "carbet.pgdump"
        dbdump.pg_dump(database, target)
    return target


def _files_under(root: Path, skipped: list[str]) -> list[tuple[str, Path]]:
    """Regular files below ``root`` as (relative posix path, absolute path); links skipped."""
    found = []
    if not root.is_dir():
        return found
    for directory, subdirs, names in os.walk(root, followlinks=False):
        subdirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(relative)
                continue
            found.append((relative, path))
    return found


def _add_file(tar: tarfile.TarFile, name: str, path: Path, files: dict[str, Any]) -> None:
    """Add one file, hashing exactly the bytes that go into the archive."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o600
        info.mtime = int(time.time())
        reader = HashingReader(handle)
        tar.addfile(info, reader)
    files[name] = {"sha256": reader.hexdigest, "size": reader.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _audit_head() -> dict[str, Any] | None:
    """The anchored head, signed for the manifest so that ``restore`` can trust it."""
    try:
        head = anchor.read()  # before the dump: the dump holds at least this entry
        key = keyring.current()
    except (anchor.AnchorError, keyring.KeyringError):
        return None
    if head is None:
        return None
    described: dict[str, Any] = {"sequence": head.sequence, "entry_hash": head.entry_hash}
    if key is not None and not head.legacy:
        described["anchor"] = anchor.export_line(
            head.sequence, head.entry_hash, key, timezone.now()
        )
    return described


def create_backup(
    output: Path | None = None,
    *,
    include_keys: bool = False,
    include_audit_key: bool = False,
    reason: str = "",
) -> BackupResult:
    """Write the archive (atomically: a temporary file renamed at the end) and audit it."""
    vendor = _database_vendor()
    output = Path(output) if output else default_output()
    output.parent.mkdir(parents=True, exist_ok=True)
    head = _audit_head()
    skipped: list[str] = []
    files: dict[str, Any] = {}
    started = timezone.now()
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=output.parent) as staging_dir:
        staging = Path(staging_dir)
        database_copy = _dump_database(vendor, staging)
        partial = staging / "archive.tar.gz"
        with tarfile.open(partial, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            _add_file(tar, DATABASE_MEMBERS[vendor], database_copy, files)
            database_copy.unlink()
            for relative, path in _files_under(Path(settings.MEDIA_ROOT), skipped):
                _add_file(tar, f"{UPLOADS}/{relative}", path, files)
            if include_keys:
                keys_dir = Path(settings.DATA_DIR) / KEYS
                for name in sorted(KEY_FILES - {AUDIT_KEY_FILE}):
                    if (keys_dir / name).is_file():
                        _add_file(tar, f"{KEYS}/{name}", keys_dir / name, files)
            audit_key = keyring.key_file()
            include_audit_key = include_audit_key and audit_key.is_file()
            if include_audit_key:
                _add_file(tar, f"{KEYS}/{AUDIT_KEY_FILE}", audit_key, files)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "carbet_version": __version__,
                "created_at": started.isoformat(),
                "database": {"vendor": vendor, "member": DATABASE_MEMBERS[vendor]},
                "migrations": migration_state(),
                "audit_head": head,
                "includes_keys": include_keys,
                "includes_audit_key": include_audit_key,
                "files": files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
        digest, size = sha256_of(partial)
        os.chmod(partial, 0o600)
        os.replace(partial, output)
    audit.record(
        SYSTEM,
        "backup.create",
        label=output.name,
        changes={
            "file": str(output),
            "sha256": digest,
            "size": size,
            "files": len(files),
            "includes_keys": include_keys,
            "includes_audit_key": include_audit_key,
            "reason": str(reason),
        },
        actor_label=cli_actor_label(),
    )
    return BackupResult(output, size, digest, len(files), include_keys, skipped, include_audit_key)
