"""Backup and restore through the real ``carbet backup`` / ``carbet restore`` commands.

Every test runs the commands as subprocesses on a real file database in a private data
directory, exactly as an operator would.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest

from tests.ops.realservers import (
    carbet_env,
    django_script,
    postgres_database,
    run_carbet,
    start_carbet,
    stop_process,
    wait_until,
)

MANDATE_BYTES = b"%PDF-1.4 mandat signe par la directrice\n" + bytes(range(256))

CREATE_DATA = """
import datetime as dt, json
from django.core.files.base import ContentFile
from carbet.audit.services import record
from carbet.core.models import Mandate, Organisation, Structure
from carbet.core.tenancy import SYSTEM
today = dt.date.today()
org = Organisation.objects.create(finess_ej="750712184", name="CH Alpha", legal_status="public")
s = Structure.objects.create(finess_et="970200010", name="CH Alpha site", organisation=org,
                             category="ch", departement="972")
m = Mandate(structure=s, reference="M-1", services=["exposure_scan"], signed_by_name="Dir",
            signed_on=today, valid_from=today, valid_until=today + dt.timedelta(days=365),
            document_sha256="0" * 64, document_name="mandat.pdf")
m.document.save("mandat.pdf", ContentFile(MANDATE_BYTES), save=False)
m.save()
record(SYSTEM, "structure.create", s)
record(SYSTEM, "mandate.create", m)
print(json.dumps({"structure": s.pk, "document": m.document.name}))
""".replace("MANDATE_BYTES", repr(MANDATE_BYTES))

CHANGE_DATA = """
import json
from carbet.audit.services import record
from carbet.core.models import Mandate, Organisation, Structure
from carbet.core.tenancy import SYSTEM
s = Structure.objects.get(finess_et="970200010")
s.name = "Nom modifié après la sauvegarde"
s.save()
for m in Mandate.objects.all():
    m.document.delete(save=False)
    m.delete()
Structure.objects.create(finess_et="970200028", name="Créée après", organisation=s.organisation,
                         category="ehpad", departement="972")
record(SYSTEM, "structure.update", s)
print(json.dumps({"ok": True}))
"""

READ_STATE = """
import json
from django.conf import settings
from carbet.audit.models import AuditEntry
from carbet.core.models import Mandate, Structure
mandates = []
root = settings.MEDIA_ROOT
for m in Mandate.objects.order_by("pk"):
    path = root / m.document.name
    content = path.read_bytes().hex() if path.exists() else None
    mandates.append([m.reference, m.document.name, content])
chain = AuditEntry.objects.order_by("sequence").values_list("action", "entry_hash")
print(json.dumps({
    "structures": sorted(Structure.objects.values_list("name", flat=True)),
    "mandates": mandates,
    "audit": [list(row) for row in chain],
    "uploads": sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
}))
"""


def read_state(env: dict[str, str]) -> dict:
    """What a restore must bring back: rows, uploaded files, the audit chain.

    On SQLite the file is read directly (no Django process to start: the tests stay quick);
    on PostgreSQL through Django in a subprocess.
    """
    if "DATABASE_URL" in env:
        return django_script(env, READ_STATE)
    data = Path(env["CARBET_DATA_DIR"])
    uploads = data / "uploads"
    connection = sqlite3.connect(data / "carbet.sqlite3")
    try:
        structures = sorted(r[0] for r in connection.execute("SELECT name FROM core_structure"))
        mandates = []
        for reference, document in connection.execute(
            "SELECT reference, document FROM core_mandate ORDER BY id"
        ):
            path = uploads / document
            mandates.append(
                [reference, document, path.read_bytes().hex() if path.exists() else None]
            )
        audit = [
            list(row)
            for row in connection.execute(
                "SELECT action, entry_hash FROM audit_auditentry ORDER BY sequence"
            )
        ]
    finally:
        connection.close()
    return {
        "structures": structures,
        "mandates": mandates,
        "audit": audit,
        "uploads": sorted(str(p.relative_to(uploads)) for p in uploads.rglob("*") if p.is_file()),
    }


def _ok(result) -> str:
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def _installation(data_dir: Path, **extra: str) -> dict[str, str]:
    env = carbet_env(data_dir, **extra)
    _ok(run_carbet(env, "migrate", "--verbosity", "0"))
    django_script(env, CREATE_DATA)
    return env


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One migrated installation with data, copied by each test (migrating takes a while)."""
    base = tmp_path_factory.mktemp("template")
    _installation(base / "data")
    return base / "data"


def _copy_of(template: Path, target: Path) -> dict[str, str]:
    shutil.copytree(template, target)
    return carbet_env(target)


def test_sqlite_round_trip(tmp_path, template):
    env = _copy_of(template, tmp_path / "data")
    before = read_state(env)
    assert before["mandates"][0][2] == MANDATE_BYTES.hex()

    archive = tmp_path / "sauvegarde.tar.gz"
    out = _ok(run_carbet(env, "backup", "--output", str(archive)))
    assert "ne sont pas dans" in out  # the keys are left out, and the operator is told
    assert (archive.stat().st_mode & 0o777) == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "database/carbet.sqlite3" in names and not any(n.startswith("keys/") for n in names)
    assert any(name.startswith("uploads/mandates/") for name in names)
    assert manifest["database"]["vendor"] == "sqlite" and manifest["includes_keys"] is False
    assert "0003_append_only_triggers" in manifest["migrations"]["audit"]
    assert manifest["audit_head"]["sequence"] == 2
    for name in names:
        if name != "manifest.json":
            assert set(manifest["files"][name]) == {"sha256", "size"}

    django_script(env, CHANGE_DATA)
    changed = read_state(env)
    assert changed["mandates"] == [] and "Créée après" in changed["structures"]

    out = _ok(run_carbet(env, "restore", str(archive), "--yes"))
    assert "Journal d'audit vérifié : intact" in out
    after = read_state(env)
    assert after["structures"] == before["structures"]
    assert after["mandates"] == before["mandates"]  # row and file content are back
    assert after["uploads"] == before["uploads"]
    # The restored chain is the backup's, plus the restore itself.
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert after["audit"][-1][0] == "backup.restore"
    _ok(run_carbet(env, "audit", "verify"))
    # A safety copy of the replaced state was written first.
    safety = list((tmp_path / "data" / "backups").glob("carbet-*.tar.gz"))
    assert len(safety) == 1
    assert not list((tmp_path / "data").glob(".restore-*"))


def test_backup_with_keys_includes_them_and_warns(tmp_path, template):
    env = _copy_of(template, tmp_path / "data")
    archive = tmp_path / "avec-cles.tar.gz"
    out = _ok(run_carbet(env, "backup", "--include-keys", "--output", str(archive)))
    assert "contient les clés" in out
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"keys/secret_key", "keys/encryption.key"} <= names


def test_backup_and_restore_are_audited(tmp_path, template):
    env = _copy_of(template, tmp_path / "data")
    archive = tmp_path / "b.tar.gz"
    _ok(run_carbet(env, "backup", "--output", str(archive)))
    actions = [action for action, _ in read_state(env)["audit"]]
    assert actions[-1] == "backup.create"
    _ok(run_carbet(env, "restore", str(archive), "--yes"))
    actions = [action for action, _ in read_state(env)["audit"]]
    assert actions[-1] == "backup.restore"


def test_restore_without_a_terminal_needs_yes(tmp_path, template):
    env = _copy_of(template, tmp_path / "data")
    archive = tmp_path / "b.tar.gz"
    _ok(run_carbet(env, "backup", "--output", str(archive)))
    django_script(env, CHANGE_DATA)
    before = read_state(env)
    result = run_carbet(env, "restore", str(archive), stdin="")
    assert result.returncode == 1 and "--yes" in result.stderr
    assert read_state(env) == before


def test_restore_refuses_while_a_worker_runs(tmp_path, template):
    env = _copy_of(template, tmp_path / "data")
    archive = tmp_path / "b.tar.gz"
    _ok(run_carbet(env, "backup", "--output", str(archive)))
    worker = start_carbet(env, "worker", log=tmp_path / "worker.log")
    try:
        wait_until(
            lambda: "Starting worker" in (tmp_path / "worker.log").read_text(errors="replace"),
            60,
            "the worker to start",
        )
        before = read_state(env)
        result = run_carbet(env, "restore", str(archive), "--yes")
        assert result.returncode == 1
        assert "tourne encore" in result.stderr
        assert read_state(env) == before
    finally:
        stop_process(worker)


# --- damaged archives --------------------------------------------------------------------------
def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    with tarfile.open(archive) as tar:
        return [
            (member, tar.extractfile(member).read() if member.isreg() else None)
            for member in tar.getmembers()
        ]


def _rewrite(archive: Path, target: Path, change) -> Path:
    members = change(_members(archive))
    with tarfile.open(target, "w:gz") as tar:
        for info, data in members:
            if data is None:
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return target


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _flip_byte(prefix: str):
    def change(members):
        result = []
        for info, data in members:
            if info.name.startswith(prefix) and data:
                middle = len(data) // 2
                data = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]
            result.append((info, data))
        return result

    return change


def _drop(prefix: str):
    return lambda members: [(i, d) for i, d in members if not i.name.startswith(prefix)]


def _add(name: str, data: bytes = b"intrus\n"):
    return lambda members: [*members, _file(name, data)]


def _add_symlink(members):
    link = tarfile.TarInfo("uploads/lien")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    return [*members, (link, None)]


def _edit_manifest(members):
    result = []
    for info, data in members:
        if info.name == "manifest.json":
            manifest = json.loads(data)
            name = next(n for n in manifest["files"] if n.startswith("uploads/"))
            manifest["files"][name]["size"] += 1
            data = json.dumps(manifest).encode()
        result.append((info, data))
    return result


DAMAGES = {
    "one byte changed in an upload": (_flip_byte("uploads/"), "contenu altéré"),
    "one byte changed in the database": (_flip_byte("database/"), "contenu altéré"),
    "a member removed": (_drop("uploads/"), "fichier manquant"),
    "the manifest removed": (_drop("manifest.json"), "manifest.json absent"),
    "a member added": (_add("uploads/ajout.txt"), "non déclaré"),
    "a ../ path": (_add("../evil.txt"), "sort de l'archive"),
    "a nested ../ path": (_add("uploads/../../evil.txt"), "sort de l'archive"),
    "an absolute path": (_add("/tmp/carbet-evil.txt"), "chemin absolu"),
    "a symlink": (_add_symlink, "n'est pas un fichier ordinaire"),
    "a size mismatch": (_edit_manifest, "taille différente"),
    "an unknown top-level file": (_add("script.sh"), "racine"),
}


@pytest.fixture(scope="module")
def damaged_setup(tmp_path_factory, template):
    base = tmp_path_factory.mktemp("damaged")
    env = _copy_of(template, base / "data")
    archive = base / "bonne.tar.gz"
    _ok(run_carbet(env, "backup", "--output", str(archive)))
    django_script(env, CHANGE_DATA)  # so that a wrongly accepted restore would show
    return base, env, archive, _fingerprint(base, env)


def _fingerprint(base: Path, env) -> dict:
    data = base / "data"
    return {
        "state": read_state(env),
        "backups": sorted(p.name for p in (data / "backups").glob("*")),
        "uploads": sorted(
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (data / "uploads").rglob("*")
            if p.is_file()
        ),
    }


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_archive_is_refused_and_nothing_changes(damaged_setup, damage):
    base, env, archive, before = damaged_setup
    change, expected = DAMAGES[damage]
    bad = _rewrite(archive, base / f"abimee-{abs(hash(damage))}.tar.gz", change)
    result = run_carbet(env, "restore", str(bad), "--yes")
    assert result.returncode == 1, result.stdout
    assert "Archive refusée, rien n'a été modifié" in result.stderr
    assert expected in result.stderr
    assert _fingerprint(base, env) == before
    assert not list((base / "data").glob(".restore-*"))
    assert not (base / "evil.txt").exists() and not Path("/tmp/carbet-evil.txt").exists()


@pytest.mark.parametrize("kind", ["truncated", "not an archive"])
def test_unreadable_archive_is_refused(damaged_setup, kind):
    base, env, archive, before = damaged_setup
    data = archive.read_bytes()
    bad = base / f"illisible-{kind.replace(' ', '-')}.tar.gz"
    bad.write_bytes(data[: len(data) // 2] if kind == "truncated" else b"pas une archive" * 100)
    result = run_carbet(env, "restore", str(bad), "--yes")
    assert result.returncode == 1
    assert "illisible ou tronquée" in result.stderr
    assert _fingerprint(base, env) == before


def test_the_good_archive_still_restores_after_all_that(damaged_setup):
    _base, env, archive, _before = damaged_setup
    _ok(run_carbet(env, "restore", str(archive), "--yes"))
    state = read_state(env)
    assert "Nom modifié après la sauvegarde" not in state["structures"]
    assert state["mandates"][0][2] == MANDATE_BYTES.hex()


# --- PostgreSQL ----------------------------------------------------------------------------
@pytest.mark.realserver
def test_postgresql_round_trip(tmp_path):
    with postgres_database("carbet_bk") as database_url:
        env = _installation(tmp_path / "data", DATABASE_URL=database_url)
        before = read_state(env)
        archive = tmp_path / "pg.tar.gz"
        _ok(run_carbet(env, "backup", "--output", str(archive)))
        with tarfile.open(archive) as tar:
            assert "database/carbet.pgdump" in tar.getnames()
        django_script(env, CHANGE_DATA)
        out = _ok(run_carbet(env, "restore", str(archive), "--yes"))
        assert "intact" in out
        after = read_state(env)
        assert after["structures"] == before["structures"]
        assert after["mandates"] == before["mandates"]
        assert after["audit"][-1][0] == "backup.restore"
        _ok(run_carbet(env, "audit", "verify"))
        # The append-only trigger came back with the restored schema.
        refused = django_script(
            env,
            "import json\nfrom django.db import connection, DatabaseError\n"
            "try:\n    connection.cursor().execute('DELETE FROM audit_auditentry')\n"
            "    print(json.dumps(False))\n"
            "except DatabaseError as exc:\n    print(json.dumps('append-only' in str(exc)))\n",
        )
        assert refused is True


@pytest.mark.realserver
def test_postgresql_archive_refused_on_sqlite(tmp_path):
    with postgres_database("carbet_bk") as database_url:
        pg_env = _installation(tmp_path / "pg", DATABASE_URL=database_url)
        archive = tmp_path / "pg.tar.gz"
        _ok(run_carbet(pg_env, "backup", "--output", str(archive)))
    sqlite_env = carbet_env(tmp_path / "sqlite")
    _ok(run_carbet(sqlite_env, "migrate", "--verbosity", "0"))
    result = run_carbet(sqlite_env, "restore", str(archive), "--yes")
    assert result.returncode == 1
    assert "postgresql" in result.stderr and "sqlite" in result.stderr
