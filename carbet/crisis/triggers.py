"""Database triggers that refuse UPDATE and DELETE on the main courante (``crisis_logentry``).

The model refuses ``save()`` on an existing entry, ``delete()`` and queryset ``update()``/
``delete()``, and no service edits an entry; the triggers extend that to raw SQL and to any other
program using the database. Someone who owns the database can drop them: the per-case hash chain
(``carbet crisis verify``) is what detects a rewritten or removed entry then.

SQLite: Carbet's ``flush`` (``carbet/audit/management/commands/flush.py``) lifts the audit
table's triggers for the duration of a flush (a deliberate wipe, and between tests that use real
transactions) and knows nothing of this service. So the SQLite triggers here refuse only while
the audit trail's own delete trigger is in place: a flush, which lifts it, can empty this table
too; everywhere else the refusal holds. Anyone able to drop the audit trigger could drop these as
well, so this adds no weaker path. PostgreSQL's flush uses TRUNCATE, which row triggers do not
see.
"""

from __future__ import annotations

TABLE = "crisis_logentry"
MESSAGE = "the main courante is append-only"
_ARMED = (
    "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_entry_no_delete')"
)

SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS crisis_log_no_update BEFORE UPDATE ON {TABLE} "
    f"WHEN {_ARMED} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS crisis_log_no_delete BEFORE DELETE ON {TABLE} "
    f"WHEN {_ARMED} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS crisis_log_no_update",
    "DROP TRIGGER IF EXISTS crisis_log_no_delete",
]
POSTGRESQL_CREATE = [
    "CREATE OR REPLACE FUNCTION carbet_crisis_log_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; "
    "END $$",
    f"DROP TRIGGER IF EXISTS crisis_log_append_only ON {TABLE}",
    f"CREATE TRIGGER crisis_log_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION carbet_crisis_log_append_only()",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS crisis_log_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS carbet_crisis_log_append_only()",
]

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}
