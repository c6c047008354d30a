"""What ``carbet serve`` does before starting: data directory, migrations, static files.

Each step only acts when needed, so a restart is quick and an empty data directory becomes a
working installation on first start.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from carbet import __version__
from carbet.conf import ensure_private_dir
from carbet.ops.filemodes import secure_data_files

STATIC_STAMP = ".carbet-static-stamp"


def ensure_directories() -> list[Path]:
    """The data directory and the uploads directory, private to the service account."""
    made = []
    for path in (Path(settings.DATA_DIR), Path(settings.MEDIA_ROOT)):
        if not path.exists():
            made.append(path)
        ensure_private_dir(path)
    return made


def pending_migrations(database: str = DEFAULT_DB_ALIAS) -> list[str]:
    connection = connections[database]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def static_fingerprint() -> str:
    """A digest of every static source file (name, size, modification time) and the storage."""
    digest = hashlib.sha256()
    digest.update(__version__.encode())
    digest.update(settings.STORAGES["staticfiles"]["BACKEND"].encode())
    entries = []
    for finder in finders.get_finders():
        for relative, storage in finder.list([]):
            stat = Path(storage.path(relative)).stat()
            entries.append(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def static_is_current() -> bool:
    stamp = Path(settings.STATIC_ROOT) / STATIC_STAMP
    return stamp.exists() and stamp.read_text(encoding="ascii").strip() == static_fingerprint()


def collect_static() -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    root = Path(settings.STATIC_ROOT)
    (root / STATIC_STAMP).write_text(static_fingerprint() + "\n", encoding="ascii")


def prepare(write: Callable[[str], None] = print) -> list[str]:
    """Bring the installation up to date; returns what was done, in plain words."""
    done = []
    for path in ensure_directories():
        done.append(_("Répertoire créé : %(path)s") % {"path": path})
    # Files left readable by other accounts (an older version, a manual copy): make them private.
    fixed = secure_data_files()
    if fixed:
        done.append(
            _("Droits restreints au compte du service sur %(n)d fichier(s) ou répertoire(s).")
            % {"n": len(fixed)}
        )
    pending = pending_migrations()
    if pending:
        write(_("Mise à jour de la base de données (%(n)d étape(s))…") % {"n": len(pending)})
        call_command("migrate", interactive=False, verbosity=0)
        done.append(
            _("Base de données à jour (%(n)d migration(s) appliquée(s)).") % {"n": len(pending)}
        )
    if not static_is_current():
        write(_("Préparation des fichiers statiques…"))
        collect_static()
        done.append(_("Fichiers statiques prêts."))
    return done


def no_account_yet() -> bool:
    from django.contrib.auth import get_user_model

    try:
        return not get_user_model().objects.exists()
    finally:
        connections.close_all()
