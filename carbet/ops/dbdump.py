"""Consistent database copies and their restoration, per vendor.

SQLite: the online backup API copies a consistent snapshot while the service keeps running;
restoring replaces the file atomically. PostgreSQL: ``pg_dump --format=custom`` and, to
restore, the dump's SQL replayed by ``psql`` in ONE transaction after dropping the current
tables, so a failed restore leaves the database exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from carbet.ops.archive import BackupError

# Drops every table of the schema Carbet uses (tables newer than the backup included), so the
# restored schema is exactly the backup's; CASCADE takes their sequences and triggers along.
PG_DROP_ALL_TABLES = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', r.tablename);
  END LOOP;
END $$;
"""


# --- SQLite ----------------------------------------------------------------------------------
def database_in_use() -> str:
    return _(
        "La base SQLite est en cours d'utilisation par un autre processus : arrêtez "
        "« carbet serve » et « carbet worker » avant de restaurer."
    )


def sqlite_snapshot(source: Path, destination: Path) -> None:
    """Copy the live database into ``destination`` with SQLite's online backup API."""
    # Read-write open: a read-only one cannot join a WAL database whose -shm is missing.
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
        # A self-contained file: no WAL to carry along.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def sqlite_integrity(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        con.close()


def sqlite_take_offline(live: Path) -> None:
    """Checkpoint the live database and leave WAL mode, so no -wal file outlives it.

    Leaving WAL needs the database to itself: if another process has it open, SQLite refuses,
    which is one more guard against restoring under a running service.
    """
    if not live.exists():
        return
    con = sqlite3.connect(live, timeout=5)
    try:
        mode = con.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        raise BackupError(database_in_use()) from exc
    finally:
        con.close()
    if str(mode).lower() != "delete":
        raise BackupError(database_in_use())


def sqlite_replace(live: Path, restored: Path) -> None:
    """Put ``restored`` in place of ``live`` atomically (rename within the same directory)."""
    live.parent.mkdir(parents=True, exist_ok=True)
    tmp = live.with_name(f".{live.name}.restore-tmp")
    shutil.copyfile(restored, tmp)
    os.chmod(tmp, 0o600)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    for suffix in ("-wal", "-shm"):
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, live)
    dir_fd = os.open(live.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# --- PostgreSQL ------------------------------------------------------------------------------
def pg_env(database: dict[str, Any]) -> dict[str, str]:
    """libpq environment variables for the Django connection settings (no password on argv)."""
    env = dict(os.environ)
    mapping = {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
    }
    options = database.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
    ):
        if options.get(option):
            mapping[variable] = options[option]
    for key, value in mapping.items():
        if value not in (None, ""):
            env[key] = str(value)
    return env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    if shutil.which(argv[0]) is None:
        raise BackupError(
            _(
                "%(program)s est introuvable : installez le client PostgreSQL (paquet "
                "postgresql-client, même version majeure que le serveur ou plus récente)."
            )
            % {"program": argv[0]}
        )
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(
            _("%(what)s a échoué : %(error)s")
            % {"what": what, "error": result.stderr.strip()[-2000:]}
        )


def pg_dump(database: dict[str, Any], destination: Path) -> None:
    _run(
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(destination)],
        pg_env(database),
        "pg_dump",
    )


def pg_check_dump(dump: Path) -> None:
    """``pg_restore --list`` reads the dump's table of contents: a cheap validity check."""
    _run(["pg_restore", "--list", str(dump)], dict(os.environ), _("La lecture du dump PostgreSQL"))


def pg_audit_data(dump: Path, table: str, destination: Path) -> None:
    """The rows of one table as COPY text, read from the dump alone (no database touched)."""
    _run(
        ["pg_restore", "--data-only", "--table", table, "--file", str(destination), str(dump)],
        dict(os.environ),
        _("La lecture du journal d'audit du dump PostgreSQL"),
    )


def pg_restore(database: dict[str, Any], dump: Path, workdir: Path) -> None:
    """Replace the database's content by the dump's, atomically (one psql transaction)."""
    env = pg_env(database)
    script = workdir / "restore.sql"
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--clean",
            "--if-exists",
            "--file",
            str(script),
            str(dump),
        ],
        env,
        "pg_restore",
    )
    prelude = workdir / "prelude.sql"
    prelude.write_text(PG_DROP_ALL_TABLES, encoding="utf-8")
    _run(
        [
            "psql",
            "--no-psqlrc",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--file",
            str(prelude),
            "--file",
            str(script),
        ],
        env,
        _("La restauration PostgreSQL"),
    )
