"""The backup archive format, shared by ``carbet backup`` and ``carbet restore``.

A backup is a gzip-compressed tar archive holding only regular files:

    database/carbet.sqlite3   SQLite: a consistent copy made with SQLite's online backup API
    database/carbet.pgdump    PostgreSQL: ``pg_dump --format=custom``
    uploads/...               every uploaded file (signed mandates, evidence...)
    keys/...                  only with ``--include-keys``: the secret key, the encryption key(s);
                              only with ``--include-audit-key``: the audit trail's key file
    manifest.json             written last: format, versions, migration state, the audit
                              trail's head (signed with the audit key), and the SHA-256 and size
                              of every other member

``restore`` trusts nothing in an archive until every member has been checked against the
manifest: names (no absolute path, no ``..``), types (regular files only), presence, sizes and
checksums.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import BinaryIO

from django.utils.translation import gettext as _

FORMAT = "carbet-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/carbet.sqlite3", "postgresql": "database/carbet.pgdump"}
UPLOADS = "uploads"
KEYS = "keys"
KEY_FILES = frozenset({"secret_key", "encryption.key", "audit.key"})
AUDIT_KEY_FILE = "audit.key"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore refused, with a message for the operator (in French)."""


def check_member_name(name: str) -> str | None:
    """Why ``name`` may not appear in an archive, or ``None`` when it is acceptable."""
    if not name or "\\" in name or "\x00" in name:
        return _("nom de fichier invalide")
    if name.startswith("/"):
        return _("chemin absolu")
    path = PurePosixPath(name)
    if any(part in ("..", ".") for part in name.split("/")):
        return _("chemin qui sort de l'archive (« .. »)")
    if str(path) != name:
        return _("chemin non normalisé")
    if name == MANIFEST:
        return None
    parts = path.parts
    if len(parts) < 2:
        return _("fichier inattendu à la racine")
    if parts[0] == "database":
        if name not in DATABASE_MEMBERS.values():
            return _("fichier de base de données inconnu")
        return None
    if parts[0] == KEYS:
        if len(parts) != 2 or parts[1] not in KEY_FILES:
            return _("fichier de clés inconnu")
        return None
    if parts[0] == UPLOADS:
        return None
    return _("dossier inconnu dans l'archive")


class HashingReader:
    """Wraps a binary file: counts and hashes what is read through it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data

    @property
    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def sha256_of(path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
