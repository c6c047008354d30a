"""A command run after an upgrade, before the database was migrated: a plain sentence that
says what to do, never a stack trace (a real ``carbet`` process on a real SQLite file)."""

from __future__ import annotations

import subprocess
import sys

from tests.ops.realservers import ROOT, carbet_env


def _carbet(data_dir, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "carbet.cli", *args],
        env=carbet_env(data_dir, CARBET_LOG_LEVEL="WARNING"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_command_on_a_database_not_yet_migrated_says_what_to_do(tmp_path):
    done = _carbet(tmp_path, "intermediates", "list")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "carbet migrate" in done.stderr and "migration(s) en attente" in done.stderr
    migrated = _carbet(tmp_path, "migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr
    listed = _carbet(tmp_path, "intermediates", "list")
    assert listed.returncode == 0, listed.stderr
