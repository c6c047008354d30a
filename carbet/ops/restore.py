"""``carbet restore``: check an archive completely, then put its content back.

Nothing of the installation is touched until the whole archive has been extracted into a
private staging directory and checked against its manifest (names, types, sizes, SHA-256,
database vendor, migration state, database integrity) and its audit chain has been verified
with the audit key (``carbet.ops.archive_audit``): a broken or unverifiable chain refuses the
restore unless the operator accepts it explicitly, which is recorded. Only then, with no
``serve`` or ``worker`` running, and after a safety backup of the current state, the database
and the uploads are replaced, the schema is brought up to the installed version, the audit
trail's anchor is set on the restored chain and ``backup.restore`` is written to it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import keyring
from carbet.audit import services as audit
from carbet.core.tenancy import SYSTEM
from carbet.ops import archive_audit, dbdump, running
from carbet.ops.archive import (
    AUDIT_KEY_FILE,
    CHUNK,
    DATABASE_MEMBERS,
    FORMAT,
    FORMAT_VERSION,
    KEYS,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    UPLOADS,
    BackupError,
    check_member_name,
    sha256_of,
)
from carbet.ops.backup import BackupResult, cli_actor_label, create_backup

# Room kept free on the disk while extracting (the database must still be able to grow).
DISK_MARGIN_BYTES = 64 * 1024 * 1024


@dataclass
class VerifiedArchive:
    """An archive whose every member was extracted to ``staging`` and checked."""

    path: Path
    sha256: str
    staging: Path
    manifest: dict[str, Any]
    # Problems of the archive's audit chain the operator explicitly accepted (else: refused).
    audit_problems: list[str] = field(default_factory=list)

    @property
    def files(self) -> Path:
        return self.staging / "files"

    @property
    def database_file(self) -> Path:
        return self.files / self.manifest["database"]["member"]

    def cleanup(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


@dataclass
class RestoreResult:
    archive: VerifiedArchive
    safety_backup: BackupResult | None
    keys_restored: list[str]
    migrations_applied: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _refuse(problems: list[str]) -> BackupError:
    listing = "\n".join(f"  - {problem}" for problem in problems[:50])
    more = ""
    if len(problems) > 50:
        more = "\n  … " + _("et %(n)d autre(s)") % {"n": len(problems) - 50}
    return BackupError(
        _("Archive refusée, rien n'a été modifié. Problèmes trouvés :") + "\n" + listing + more
    )


def _extract(path: Path, files_dir: Path) -> tuple[dict[str, tuple[str, int]], list[str]]:
    """Extract every acceptable member, hashing it on the way; list what is wrong."""
    seen: dict[str, tuple[str, int]] = {}
    problems: list[str] = []
    budget = shutil.disk_usage(files_dir).free - DISK_MARGIN_BYTES
    root = files_dir.resolve()
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                name = member.name
                why = check_member_name(name)
                if why:
                    problems.append(f"{name!r} : {why}")
                    continue
                if not member.isreg():
                    problems.append(
                        f"{name} : " + _("n'est pas un fichier ordinaire (lien, dossier…)")
                    )
                    continue
                if name in seen:
                    problems.append(f"{name} : " + _("présent deux fois"))
                    continue
                if name == MANIFEST and member.size > MAX_MANIFEST_BYTES:
                    problems.append(f"{name} : " + _("taille anormale"))
                    continue
                budget -= member.size
                if budget < 0:
                    raise BackupError(
                        _(
                            "Pas assez d'espace disque pour vérifier l'archive : libérez de la "
                            "place dans %(dir)s. Rien n'a été modifié."
                        )
                        % {"dir": files_dir.parent.parent}
                    )
                target = files_dir / name
                if not target.resolve().is_relative_to(root):
                    problems.append(f"{name!r} : " + _("chemin qui sort de l'archive"))
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                seen[name] = _copy_member(tar, member, target)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(
            _(
                "Archive illisible ou tronquée (%(error)s). Rien n'a été modifié : vérifiez la "
                "copie du fichier (taille, transfert complet)."
            )
            % {"error": exc}
        ) from exc
    return seen, problems


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[str, int]:
    source = tar.extractfile(member)
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _check_manifest(
    manifest: Any, seen: dict[str, tuple[str, int]], vendor: str, problems: list[str]
) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        problems.append(_("manifest.json : ce n'est pas une sauvegarde Carbet"))
        return
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        problems.append(
            _(
                "format de sauvegarde %(version)r inconnu de cette version de Carbet "
                "(sauvegarde faite par une version plus récente ?)"
            )
            % {"version": version}
        )
        return
    declared = manifest.get("files")
    if not isinstance(declared, dict):
        problems.append(_("manifest.json : liste des fichiers absente"))
        return
    for name in sorted(set(seen) - {MANIFEST} - set(declared)):
        problems.append(f"{name} : " + _("fichier non déclaré dans le manifeste (ajouté ?)"))
    for name, expected in sorted(declared.items()):
        if not isinstance(expected, dict) or check_member_name(name) or name == MANIFEST:
            problems.append(f"{name!r} : " + _("entrée invalide dans le manifeste"))
            continue
        if name not in seen:
            problems.append(f"{name} : " + _("fichier manquant dans l'archive"))
            continue
        digest, size = seen[name]
        if size != expected.get("size"):
            problems.append(
                f"{name} : "
                + _("taille différente (%(size)s au lieu de %(expected)s)")
                % {"size": size, "expected": expected.get("size")}
            )
        elif digest != expected.get("sha256"):
            problems.append(f"{name} : " + _("contenu altéré (empreinte SHA-256 différente)"))
    database = manifest.get("database") or {}
    if database.get("vendor") != vendor:
        problems.append(
            _(
                "sauvegarde d'une base « %(archived)s », alors que cette installation utilise "
                "« %(vendor)s »"
            )
            % {"archived": database.get("vendor"), "vendor": vendor}
        )
    elif database.get("member") != DATABASE_MEMBERS[vendor] or database.get("member") not in seen:
        problems.append(_("copie de la base de données absente de l'archive"))
    migrations = manifest.get("migrations")
    if not isinstance(migrations, dict):
        problems.append(_("manifest.json : état des migrations absent"))
        return
    known = _known_migrations()
    unknown = sorted(
        f"{app}.{name}"
        for app, names in migrations.items()
        for name in (names if isinstance(names, list) else [])
        if (app, name) not in known
    )
    if unknown:
        problems.append(
            _(
                "sauvegarde faite par une version plus récente de Carbet (migrations inconnues : "
                "%(names)s) : installez au moins cette version avant de restaurer"
            )
            % {"names": ", ".join(unknown[:5])}
        )


def _refuse_audit(problems: list[str]) -> BackupError:
    listing = "\n".join(f"  - {problem}" for problem in problems[:50])
    return BackupError(
        _(
            "Archive refusée, rien n'a été modifié : son journal d'audit ne se vérifie pas. "
            "Restaurer cette base effacerait la preuve de ce qui s'est passé. Problèmes :"
        )
        + "\n"
        + listing
        + "\n"
        + _(
            "Si la clé du journal manque (archive venue d'une autre machine), copiez son "
            "fichier audit.key dans DATA_DIR/keys ou CARBET_AUDIT_KEYS, puis relancez. Pour "
            "restaurer quand même, en connaissance de cause : --accept-audit-problems (ce "
            "choix est inscrit au journal)."
        )
    )


def verify_archive(path: Path, *, accept_audit_problems: bool = False) -> VerifiedArchive:
    """Extract and check everything; raise ``BackupError`` (nothing changed) on any problem.

    The archive's audit chain is checked too; its problems refuse the archive unless
    ``accept_audit_problems``, in which case they are kept for the ``backup.restore`` entry.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("Fichier introuvable : %(path)s") % {"path": path})
    vendor = connections["default"].vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(
            _("Base de données « %(vendor)s » non prise en charge.") % {"vendor": vendor}
        )
    archive_sha256, _size = sha256_of(path)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.DATA_DIR))
    verified = VerifiedArchive(path, archive_sha256, staging, {})
    try:
        (staging / "files").mkdir(mode=0o700)
        seen, problems = _extract(path, staging / "files")
        manifest: Any = None
        if MANIFEST not in seen:
            problems.append(_("manifest.json absent : ce n'est pas une sauvegarde Carbet complète"))
        else:
            try:
                manifest = json.loads((staging / "files" / MANIFEST).read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                problems.append(_("manifest.json illisible"))
        if manifest is not None:
            _check_manifest(manifest, seen, vendor, problems)
        if problems:
            raise _refuse(problems)
        verified.manifest = manifest
        if vendor == "sqlite":
            state = dbdump.sqlite_integrity(verified.database_file)
            if state != "ok":
                raise _refuse(
                    [_("base SQLite de l'archive endommagée : %(state)s") % {"state": state}]
                )
        else:
            dbdump.pg_check_dump(verified.database_file)
        audit_problems = archive_audit.check(
            vendor, verified.database_file, verified.files, manifest
        )
        if audit_problems and not accept_audit_problems:
            raise _refuse_audit(audit_problems)
        verified.audit_problems = audit_problems
        return verified
    except BaseException:
        verified.cleanup()
        raise


def _swap_uploads(verified: VerifiedArchive) -> None:
    live = Path(settings.MEDIA_ROOT)
    incoming = verified.files / UPLOADS
    incoming.mkdir(mode=0o700, exist_ok=True)
    previous = verified.staging / "previous-uploads"
    if live.exists():
        shutil.move(str(live), previous)  # a rename when on the same file system
    live.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(incoming), live)
    live.chmod(0o700)


def _restore_keys(verified: VerifiedArchive) -> list[str]:
    source = verified.files / KEYS
    if not source.is_dir():
        return []
    target_dir = Path(settings.DATA_DIR) / KEYS
    target_dir.mkdir(mode=0o700, exist_ok=True)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    restored = []
    for key_file in sorted(source.iterdir()):
        target = target_dir / key_file.name
        if key_file.name == AUDIT_KEY_FILE:
            if keyring.from_environment():
                continue  # the operator manages it in CARBET_AUDIT_KEYS
            target = keyring.key_file()
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if target.exists():
            if target.read_bytes() == key_file.read_bytes():
                continue
            shutil.copy2(target, target.with_name(f"{key_file.name}.before-restore-{stamp}"))
        tmp = target.with_name(f".{key_file.name}.tmp")
        shutil.copyfile(key_file, tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
        restored.append(key_file.name)
    return restored


def restore(verified: VerifiedArchive, *, safety_backup: bool = True) -> RestoreResult:
    """Replace the database and uploads (and keys, if archived) by the archive's content."""
    vendor = connections["default"].vendor
    try:
        with running.exclusive():
            safety = None
            if safety_backup:
                try:
                    safety = create_backup(reason=_("avant restauration"))
                except Exception as exc:
                    raise BackupError(
                        _(
                            "La sauvegarde de sécurité de l'état actuel a échoué (%(error)s). "
                            "Rien n'a été modifié. Si la base actuelle est inutilisable, "
                            "relancez avec --no-safety-backup."
                        )
                        % {"error": exc}
                    ) from exc
            connections.close_all()
            database = settings.DATABASES["default"]
            if vendor == "sqlite":
                live = Path(database["NAME"])
                dbdump.sqlite_take_offline(live)
                dbdump.sqlite_replace(live, verified.database_file)
            else:
                dbdump.pg_restore(database, verified.database_file, verified.staging)
            _swap_uploads(verified)
            keys = _restore_keys(verified)
            connections.close_all()
            from carbet.ops.preparation import pending_migrations

            pending = pending_migrations()
            if pending:
                call_command("migrate", interactive=False, verbosity=0)
            problems = list(verified.audit_problems)  # accepted explicitly, else refused
            audit.reanchor()
            audit.record(
                SYSTEM,
                "backup.restore",
                label=verified.path.name,
                changes={
                    "archive": str(verified.path),
                    "sha256": verified.sha256,
                    "backup_created_at": verified.manifest.get("created_at"),
                    "backup_carbet_version": verified.manifest.get("carbet_version"),
                    "safety_backup": str(safety.path) if safety else None,
                    "keys_restored": keys,
                    "migrations_applied": len(pending),
                    "problems": problems,
                    "audit_problems_accepted": bool(verified.audit_problems),
                },
                actor_label=cli_actor_label(),
            )
            final = audit.verify()
            problems += [
                _("entrée n° %(seq)s : %(problem)s") % {"seq": p.sequence, "problem": p.problem}
                for p in final.problems
            ]
    except running.AlreadyRunning as exc:
        raise BackupError(
            _(
                "Carbet tourne encore sur ce répertoire de données (carbet serve ou carbet "
                "worker) : arrêtez-le, puis relancez la restauration. Rien n'a été modifié."
            )
        ) from exc
    finally:
        verified.cleanup()
    return RestoreResult(verified, safety, keys, len(pending), problems)
