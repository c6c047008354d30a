"""Upgrading an installation whose trail was written with plain SHA-256 (migration 0004), on a
real SQLite file and on PostgreSQL: the old entries keep verifying, one ``audit.rekey`` entry
seals them under the key, and the append-only triggers still hold."""

from __future__ import annotations

import pytest

from tests.ops.realservers import carbet_env, django_script, postgres_database, run_carbet

LEGACY_ENTRIES = """
import json
from django.db import connection
from carbet.audit import chain
previous = chain.GENESIS
for sequence in (1, 2, 3):
    row = {"sequence": sequence, "at": "2026-05-01 10:00:0%d.123456+00:00" % sequence,
           "actor_id": None, "actor_label": "ancien", "action": "legacy.entry",
           "object_type": "", "object_id": "", "object_label": "é", "structure_id": None,
           "changes": {"n": sequence}, "source_ip": None, "prev_hash": previous}
    row["entry_hash"] = chain.legacy_hash(row)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditentry (sequence, at, actor_label, action, object_type, "
            "object_id, object_label, changes, prev_hash, entry_hash) "
            "VALUES (%s, %s, %s, %s, '', '', %s, %s, %s, %s)",
            [sequence, row["at"], "ancien", "legacy.entry", "é", json.dumps(row["changes"]),
             previous, row["entry_hash"]])
    previous = row["entry_hash"]
print(json.dumps(previous))
"""

AFTER = """
import json
from django.db import connection, DatabaseError
from carbet.audit.models import AuditEntry
seal = AuditEntry.objects.get(sequence=4)
try:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE sequence = 1")
    refused = False
except DatabaseError as exc:
    refused = "append-only" in str(exc)
print(json.dumps([seal.action, seal.scheme, seal.prev_hash, refused]))
"""


def _upgrade(env) -> None:
    assert run_carbet(env, "migrate", "--verbosity", "0").returncode == 0
    assert run_carbet(env, "migrate", "audit", "0003", "--verbosity", "0").returncode == 0
    legacy_head = django_script(env, LEGACY_ENTRIES)
    assert run_carbet(env, "migrate", "--verbosity", "0").returncode == 0
    action, scheme, prev_hash, refused = django_script(env, AFTER)
    assert (action, scheme, prev_hash) == ("audit.rekey", 2, legacy_head)
    assert refused, "the append-only triggers must survive the migration"
    verify = run_carbet(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout
    assert "4 entrée(s)" in verify.stdout and "3 entrée(s) écrite(s) avant la clé" in verify.stdout


def test_upgrade_on_sqlite(tmp_path):
    _upgrade(carbet_env(tmp_path / "data"))


@pytest.mark.realserver
def test_upgrade_on_postgresql(tmp_path):
    with postgres_database("carbet_upgrade") as database_url:
        _upgrade(carbet_env(tmp_path / "data", DATABASE_URL=database_url))
