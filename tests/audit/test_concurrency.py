"""Concurrent appends keep one valid chain: threads on PostgreSQL (advisory lock), processes
on a SQLite file (IMMEDIATE transactions). Both run the real commands in subprocesses."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.ops.realservers import (
    ROOT,
    carbet_env,
    django_script,
    migrated_template,
    postgres_database,
    run_carbet,
)

THREADS, PER_THREAD = 8, 25

APPEND_WITH_THREADS = f"""
import json, threading
from django.db import connection
from carbet.audit.services import record
from carbet.core.tenancy import SYSTEM
errors = []
start = threading.Barrier({THREADS})
def work(worker):
    try:
        start.wait()
        for index in range({PER_THREAD}):
            record(SYSTEM, "test.concurrent", changes={{"worker": worker, "index": index}})
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=work, args=(n,)) for n in range({THREADS})]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(errors))
"""

COUNT = """
import json
from carbet.audit.models import AuditEntry
seqs = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
print(json.dumps(seqs))
"""


@pytest.mark.realserver
def test_threads_appending_on_postgresql_keep_the_chain_valid(tmp_path):
    with postgres_database("carbet_audit") as database_url:
        env = carbet_env(tmp_path / "data", DATABASE_URL=database_url)
        assert run_carbet(env, "migrate", "--verbosity", "0").returncode == 0
        assert django_script(env, APPEND_WITH_THREADS, timeout=300) == []
        total = THREADS * PER_THREAD
        assert django_script(env, COUNT) == list(range(1, total + 1))
        verify = run_carbet(env, "audit", "verify")
        assert verify.returncode == 0, verify.stdout
        assert f"{total} entrée(s)" in verify.stdout


def test_processes_appending_on_sqlite_keep_the_chain_valid(tmp_path):
    data = migrated_template(tmp_path / "template")
    shutil.copytree(data, tmp_path / "data")
    env = carbet_env(tmp_path / "data")
    program = (
        "import django\ndjango.setup()\n"
        "from carbet.audit.services import record\nfrom carbet.core.tenancy import SYSTEM\n"
        "for i in range(20):\n    record(SYSTEM, 'test.process', changes={'i': i})\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", program], env=env, cwd=ROOT) for _ in range(4)
    ]
    assert [process.wait(timeout=300) for process in processes] == [0, 0, 0, 0]
    assert django_script(env, COUNT) == list(range(1, 81))
    verify = run_carbet(env, "audit", "verify")
    assert verify.returncode == 0, verify.stdout
