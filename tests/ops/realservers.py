"""Helpers for tests that run the real ``carbet`` commands and real servers in subprocesses.

Subprocesses get a clean environment: the test run's own settings (immediate tasks, plain
static files, a shared temporary data directory) must not leak into the production settings
they load. PostgreSQL and Redis are the ones of this machine (127.0.0.1:5432, trust auth for
user postgres; 127.0.0.1:6379); when unreachable, the tests skip with the reason — except in CI
(``CI`` set), where they fail: a scale-out path that silently stops being tested is a bug.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Redis database reserved for these tests (flushed before and after each use).
REDIS_TEST_DB = int(os.environ.get("CARBET_TEST_REDIS_DB", "13"))


def carbet_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Production settings, a private data directory, nothing inherited from the test run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CARBET_", "DJANGO_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "PYTHONPATH"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "carbet.settings",
            "CARBET_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "CARBET_LOG_LEVEL": "INFO",
        }
    )
    env.update(extra)
    return env


def run_carbet(
    env: dict[str, str], *args: str, timeout: float = 180, stdin: str | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carbet.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
    )


def django_script(env: dict[str, str], code: str, timeout: float = 120) -> object:
    """Run ``code`` with Django set up in a fresh process; it must print one JSON document on
    its last stdout line, which is returned decoded."""
    program = "import django\ndjango.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", program],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_carbet(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    """A long-running command in its own process group (so its children can be killed too)."""
    handle = open(log, "ab")  # closed with the process, by stop_process
    process = subprocess.Popen(
        [sys.executable, "-m", "carbet.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process._carbet_log = handle  # type: ignore[attr-defined]
    return process


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    """Signal the process's whole group and wait; SIGKILL the group if it does not stop."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)
    log = getattr(process, "_carbet_log", None)
    if log is not None:
        log.close()
    return process.returncode


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval=0.3):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def _unavailable(service: str, reason: str) -> None:
    message = f"{service} unreachable ({reason})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: real-server tests must run in CI, start {service} first")
    pytest.skip(message)


def _port_open(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return str(exc)


def require_postgres() -> None:
    problem = _port_open(PG_HOST, PG_PORT)
    if problem:
        _unavailable(f"PostgreSQL at {PG_HOST}:{PG_PORT}", problem)


def require_redis() -> None:
    problem = _port_open(REDIS_HOST, REDIS_PORT)
    if problem:
        _unavailable(f"Redis at {REDIS_HOST}:{REDIS_PORT}", problem)


def _psql(sql: str, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=database, autocommit=True
    ) as connection:
        connection.execute(sql)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A throw-away database; yields its DATABASE_URL and drops it afterwards."""
    require_postgres()
    name = f"{prefix}_{secrets.token_hex(4)}"
    _psql(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_database() -> Iterator[str]:
    """The reserved Redis database, empty; yields its REDIS_URL."""
    require_redis()
    import redis

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_TEST_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrated_template(base: Path, **extra: str) -> Path:
    """A data directory migrated once, to be copied by tests (migrating takes a while)."""
    data = base / "data"
    result = run_carbet(carbet_env(data, **extra), "migrate", "--verbosity", "0")
    assert result.returncode == 0, result.stderr
    return data


def read_job(env: dict[str, str], job_id: str) -> dict | None:
    """A job row read straight from the database the subprocesses use."""
    columns = "status, attempts, progress, result, worker, backend_id"
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as connection:
            row = connection.execute(
                f"SELECT {columns} FROM jobs_job WHERE id = %s", [job_id]
            ).fetchone()
    else:
        import sqlite3
        import uuid

        connection = sqlite3.connect(Path(env["CARBET_DATA_DIR"]) / "carbet.sqlite3", timeout=30)
        try:
            row = connection.execute(
                f"SELECT {columns} FROM jobs_job WHERE id = ?", [uuid.UUID(job_id).hex]
            ).fetchone()
        finally:
            connection.close()
    if row is None:
        return None
    status, attempts, progress, result, worker, backend_id = row
    if isinstance(result, str):
        result = json.loads(result)
    return {
        "status": status,
        "attempts": attempts,
        "progress": progress,
        "result": result,
        "worker": worker,
        "backend_id": backend_id,
    }
