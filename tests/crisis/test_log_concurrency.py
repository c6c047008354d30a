"""Ten writers appending to one case at once lose nothing and keep the chain intact, on SQLite
and on PostgreSQL (real processes; PostgreSQL also refuses UPDATE/DELETE through its trigger)."""

from __future__ import annotations

import pytest

from tests.crisis.concurrency import prepare, run_writers
from tests.ops.realservers import carbet_env, django_script, postgres_database

pytestmark = pytest.mark.realserver

WRITERS, EACH = 10, 15


def _assert_nothing_lost(result: dict) -> None:
    assert result["errors"] == []
    assert result["writer_entries"] == WRITERS * EACH
    assert result["contiguous"] and result["chain_ok"]
    assert result["count"] == result["checked"] == WRITERS * EACH + 1  # + the opening entry


def test_ten_writers_on_sqlite(tmp_path):
    env = carbet_env(tmp_path / "data")
    case_id = prepare(env)
    _assert_nothing_lost(run_writers(env, case_id, WRITERS, EACH, tmp_path / "go"))


APPEND_ONLY = """
import json
from django.db import connection, transaction
from django.db.utils import DatabaseError
refused = []
for statement in ("UPDATE crisis_logentry SET text = 'x'", "DELETE FROM crisis_logentry"):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError as exc:
        refused.append("append-only" in str(exc))
print(json.dumps({"refused": refused, "vendor": connection.vendor}))
"""


def test_ten_writers_and_the_trigger_on_postgresql(tmp_path):
    with postgres_database("carbet_crisis") as url:
        env = carbet_env(tmp_path / "data", DATABASE_URL=url)
        case_id = prepare(env)
        _assert_nothing_lost(run_writers(env, case_id, WRITERS, EACH, tmp_path / "go"))
        assert django_script(env, APPEND_ONLY) == {"refused": [True, True], "vendor": "postgresql"}
