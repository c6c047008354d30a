"""Real workers in subprocesses: the database backend, RQ on Redis, and a worker's death.

A job whose worker is killed mid-way must be run again from the start by the reaper of the next
worker, and succeed on its second attempt (job handlers are idempotent).
"""

from __future__ import annotations

import os
import shutil
import signal
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.ops.realservers import (
    carbet_env,
    migrated_template,
    postgres_database,
    read_job,
    redis_database,
    run_carbet,
    start_carbet,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.realserver

# A dead worker is noticed after 3 s without heartbeat; the reaper looks every 1.5 s.
QUICK_RESCUE = {"CARBET_JOB_STALE_SECONDS": "3", "CARBET_JOB_HEARTBEAT_SECONDS": "1"}


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("workers"))


@pytest.fixture(params=["database", "rq"])
def backend_env(request, tmp_path, sqlite_template):
    """An installation per task backend: SQLite + database queue, or PostgreSQL + Redis/RQ."""
    with ExitStack() as stack:
        if request.param == "database":
            shutil.copytree(sqlite_template, tmp_path / "data")
            env = carbet_env(tmp_path / "data", **QUICK_RESCUE)
        else:
            database_url = stack.enter_context(postgres_database("carbet_rq"))
            redis_url = stack.enter_context(redis_database())
            env = carbet_env(
                tmp_path / "data", DATABASE_URL=database_url, REDIS_URL=redis_url, **QUICK_RESCUE
            )
            result = run_carbet(env, "migrate", "--verbosity", "0")
            assert result.returncode == 0, result.stderr
        env["_BACKEND"] = request.param
        yield env


def _submit_selftest(env, seconds: float) -> str:
    result = run_carbet(env, "tasks", "selftest", "--seconds", str(seconds), "--wait", "0")
    assert result.returncode == 0, result.stderr
    first = result.stdout.strip().splitlines()[0]
    assert first.startswith("job ")
    return first.split()[1]


def _log_text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def test_a_worker_runs_submitted_jobs(backend_env, tmp_path):
    log = tmp_path / "worker.log"
    worker = start_carbet(backend_env, "worker", log=log)
    try:
        result = run_carbet(backend_env, "tasks", "selftest", "--wait", "120")
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{_log_text(log)}"
        assert "OK : tâche terminée" in result.stdout
        assert '"worker_ok": true' in result.stdout
        job_id = result.stdout.splitlines()[0].split()[1]
        job = read_job(backend_env, job_id)
        assert job["status"] == "succeeded" and job["attempts"] == 1
        if backend_env["_BACKEND"] == "rq":
            # The job really went through Redis: RQ kept its record of the run.
            import redis

            client = redis.Redis.from_url(backend_env["REDIS_URL"])
            assert client.exists(f"rq:job:{job['backend_id']}")
            assert "rq.worker" in _log_text(log)
        else:
            assert "django_tasks_db" in _log_text(log)
    finally:
        assert stop_process(worker) in (0, -signal.SIGTERM)


def test_the_job_of_a_killed_worker_is_rerun_by_the_next_one(backend_env, tmp_path):
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = start_carbet(backend_env, "worker", log=first_log)
    second = None
    try:
        job_id = _submit_selftest(backend_env, seconds=20)
        running = wait_until(
            lambda: (
                (job := read_job(backend_env, job_id))
                and job["status"] == "running"
                and job["progress"] > 0
                and job
            ),
            120,
            f"the first worker to start the job\n{_log_text(first_log)}",
        )
        assert running["attempts"] == 1
        # As if the machine died: the worker and the process running the job. With RQ the job
        # runs in a forked "work horse" in a session of its own; the job row names it.
        running_pid = int(running["worker"].rsplit(":", 1)[1])
        os.killpg(first.pid, signal.SIGKILL)
        try:
            os.kill(running_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        first.wait(timeout=30)
        stop_process(first)

        second = start_carbet(backend_env, "worker", log=second_log)
        done = wait_until(
            lambda: (
                (job := read_job(backend_env, job_id))
                and job["status"] in ("succeeded", "failed")
                and job
            ),
            180,
            f"the job to be rerun and finish\n{_log_text(second_log)}",
        )
        assert done["status"] == "succeeded", done
        assert done["attempts"] == 2
        assert done["result"] == {"worker_ok": True, "attempt": 2}
        assert done["worker"] != running["worker"]
        assert "job requeued after worker loss" in _log_text(second_log)
        if backend_env["_BACKEND"] == "database":
            # The dead run's row in the database queue no longer claims to be running.
            import sqlite3
            import uuid

            path = Path(backend_env["CARBET_DATA_DIR"]) / "carbet.sqlite3"
            with sqlite3.connect(path) as connection:
                (status,) = connection.execute(
                    "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?",
                    [uuid.UUID(running["backend_id"]).hex],
                ).fetchone()
            assert status == "FAILED"
    finally:
        stop_process(first)
        if second is not None:
            stop_process(second)
