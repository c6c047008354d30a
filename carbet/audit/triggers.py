"""Database triggers that refuse UPDATE and DELETE on the audit table.

The model already refuses ``save()`` on an existing entry, ``delete()`` and queryset
``update()``/``delete()``; the triggers extend that to raw SQL and to other programs using the
database. They do not stop a database owner who drops them first: that is what the hash chain
and the tail anchor detect.

PostgreSQL: row triggers on UPDATE and DELETE (TRUNCATE is left to ``flush`` and restores; the
tail anchor reports a truncated trail). SQLite: two row triggers; ``DELETE FROM`` would fire
them, so Carbet's ``flush`` command lifts them for its duration (see
``carbet/audit/management/commands/flush.py``).
"""

from __future__ import annotations

TABLE = "audit_auditentry"
MESSAGE = "the audit trail is append-only"

SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
]
POSTGRESQL_CREATE = [
    "CREATE OR REPLACE FUNCTION carbet_audit_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; "
    "END $$",
    f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE}",
    f"CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION carbet_audit_append_only()",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS audit_entry_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS carbet_audit_append_only()",
]

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def install(cursor, vendor: str) -> None:
    for statement in CREATE.get(vendor, []):
        cursor.execute(statement)


def remove(cursor, vendor: str) -> None:
    for statement in DROP.get(vendor, []):
        cursor.execute(statement)
