"""``carbet restore`` checks the archive's audit chain with the key BEFORE replacing anything,
and ``carbet backup`` keeps the audit key out of archives unless asked.

The tampered archives are what an attacker holding a copy of a backup would produce: the
database inside edited (plain hashes recomputed, or the tail cut), and the manifest's sizes and
checksums fixed to match, so that only the audit chain can tell.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

from carbet.audit import chain
from carbet.ops.archive_audit import parse_copy
from tests.ops.realservers import django_script, run_carbet
from tests.ops.test_backup import (  # noqa: F401 - the module fixture is shared
    CHANGE_DATA,
    _copy_of,
    _fingerprint,
    _members,
    _ok,
    read_state,
    template,
)


def _tampered(archive: Path, target: Path, tamper_sql) -> Path:
    """Rewrite the archive's SQLite database with ``tamper_sql(connection)`` and fix the
    manifest so that every size and checksum matches again."""
    members = _members(archive)
    manifest = json.loads(next(d for i, d in members if i.name == "manifest.json"))
    work = target.with_suffix(".work.sqlite3")
    work.write_bytes(next(d for i, d in members if i.name == "database/carbet.sqlite3"))
    connection = sqlite3.connect(work)
    try:
        connection.execute("DROP TRIGGER IF EXISTS audit_entry_no_update")
        connection.execute("DROP TRIGGER IF EXISTS audit_entry_no_delete")
        tamper_sql(connection)
        connection.commit()
    finally:
        connection.close()
    database = work.read_bytes()
    manifest["files"]["database/carbet.sqlite3"] = {
        "sha256": hashlib.sha256(database).hexdigest(),
        "size": len(database),
    }
    with tarfile.open(target, "w:gz") as tar:
        for info, data in members:
            if info.name == "database/carbet.sqlite3":
                data = database
            elif info.name == "manifest.json":
                data = json.dumps(manifest).encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def _recompute_plain_hashes(connection) -> None:
    """Edit an entry, then recompute plain SHA-256 seals along the chain (the old attack)."""
    columns = [row[1] for row in connection.execute("PRAGMA table_info(audit_auditentry)")]
    rows = [
        dict(zip(columns, values, strict=True))
        for values in connection.execute("SELECT * FROM audit_auditentry ORDER BY sequence")
    ]
    previous = chain.GENESIS
    for row in rows:
        row["changes"] = json.loads(row["changes"])
        if row["sequence"] == 1:
            row["object_label"] = "structure jamais créée"
        row["prev_hash"] = previous
        new_hash = hashlib.sha256(chain.canonical(row)).hexdigest()
        connection.execute(
            "UPDATE audit_auditentry SET object_label = ?, prev_hash = ?, entry_hash = ? "
            "WHERE sequence = ?",
            [row["object_label"], previous, new_hash, row["sequence"]],
        )
        previous = new_hash


def _cut_tail(connection) -> None:
    connection.execute("DELETE FROM audit_auditentry WHERE sequence > 1")


def test_backup_leaves_the_audit_key_out_unless_asked(tmp_path, template):  # noqa: F811
    env = _copy_of(template, tmp_path / "data")
    with_keys = tmp_path / "cles.tar.gz"
    out = _ok(run_carbet(env, "backup", "--include-keys", "--output", str(with_keys)))
    assert "clé du journal d'audit" in out
    with tarfile.open(with_keys) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "keys/encryption.key" in names and "keys/audit.key" not in names
    assert manifest["includes_audit_key"] is False
    assert manifest["audit_head"]["anchor"].startswith("carbet-audit-anchor v2 ")
    with_audit_key = tmp_path / "cle-journal.tar.gz"
    out = _ok(run_carbet(env, "backup", "--include-audit-key", "--output", str(with_audit_key)))
    assert "contient la clé du journal" in out
    with tarfile.open(with_audit_key) as tar:
        assert "keys/audit.key" in tar.getnames()


def test_restore_refuses_archives_whose_audit_chain_was_tampered(tmp_path, template):  # noqa: F811
    env = _copy_of(template, tmp_path / "data")
    archive = tmp_path / "bonne.tar.gz"
    _ok(run_carbet(env, "backup", "--output", str(archive)))
    django_script(env, CHANGE_DATA)  # so that a wrongly accepted restore would show
    before = _fingerprint(tmp_path, env)
    for name, tamper, expected in (
        ("recalcul", _recompute_plain_hashes, "sceau de la clé invalide"),
        ("troncature", _cut_tail, "supprimées (d'après manifest.json"),
    ):
        bad = _tampered(archive, tmp_path / f"{name}.tar.gz", tamper)
        result = run_carbet(env, "restore", str(bad), "--yes")
        assert result.returncode == 1, result.stdout
        assert "Archive refusée, rien n'a été modifié : son journal d'audit" in result.stderr
        assert expected in result.stderr, result.stderr
        assert _fingerprint(tmp_path, env) == before
        assert not list((tmp_path / "data").glob(".restore-*"))


def test_restore_elsewhere_needs_the_audit_key(tmp_path, template):  # noqa: F811
    """An archive from another installation cannot be verified without its key: refused,
    unless the operator accepts it explicitly, which the trail then records."""
    source = _copy_of(template, tmp_path / "source")
    archive = tmp_path / "autre-machine.tar.gz"
    _ok(run_carbet(source, "backup", "--output", str(archive)))
    target = _copy_of(template, tmp_path / "data")
    (tmp_path / "data" / "keys" / "audit.key").write_text("k" * 43 + "\n")  # another key
    before = read_state(target)
    result = run_carbet(target, "restore", str(archive), "--yes")
    assert result.returncode == 1 and "introuvable" in result.stderr
    assert read_state(target) == before
    # With the archive's key copied over, it verifies and restores.
    shutil.copy(tmp_path / "source" / "keys" / "audit.key", tmp_path / "data" / "keys")
    out = _ok(run_carbet(target, "restore", str(archive), "--yes"))
    assert "intact" in out
    # Without the key but accepted: restored, and the choice is in the trail.
    (tmp_path / "data" / "keys" / "audit.key").write_text("m" * 43 + "\n")
    result = run_carbet(target, "restore", str(archive), "--yes", "--accept-audit-problems")
    assert "NE SE VÉRIFIE PAS" in result.stdout
    accepted = django_script(
        target,
        "import json\nfrom carbet.audit.models import AuditEntry\n"
        "e = AuditEntry.objects.filter(action='backup.restore').order_by('-sequence').first()\n"
        "print(json.dumps(e.changes['audit_problems_accepted']))\n",
    )
    assert accepted is True


def test_copy_text_of_pg_dump_is_read_back_exactly():
    line = (
        "COPY public.audit_auditentry (id, sequence, at, actor_label, action, object_type, "
        "object_id, object_label, changes, source_ip, prev_hash, entry_hash, actor_id, "
        "structure_id, scheme, key_id) FROM stdin;"
    )
    row = (
        "1\t1\t2026-05-01 10:00:00.5+02\tDir\\tect\\\\rice\tm.c\t\t\tligne\\nsuite\t"
        '{"a": "b"}\t\\N\t' + "0" * 64 + "\t" + "1" * 64 + "\t\\N\t7\t2\tabcdefabcdef"
    )
    (parsed,) = list(parse_copy(f"SET x;\n{line}\n{row}\n\\.\n"))
    assert parsed["actor_label"] == "Dir\tect\\rice"
    assert parsed["object_label"] == "ligne\nsuite" and parsed["source_ip"] is None
    assert parsed["changes"] == {"a": "b"} and parsed["structure_id"] == 7
    assert chain.canonical(parsed)  # the timestamp with its offset is understood
