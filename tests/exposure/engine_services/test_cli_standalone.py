"""`carbet scan TARGET` as the analyst's lab tool: the real command, in an empty directory.

It must not load Carbet's settings or apps (no data directory, no key file, no database): the
working directory stays empty, and the process never imported ``carbet.settings``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carbet.engines.exposure import checks

ROOT = Path(__file__).resolve().parents[3]
PROBE = (
    "import sys, django.apps\n"
    "from carbet.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    sys.stderr.write('\\nSETTINGS=%s APPS=%d\\n' % ('carbet.settings' in sys.modules,\n"
    "                     len(django.apps.apps.app_configs)))\n"
)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CARBET_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.mark.realserver
def test_scan_writes_nothing_where_it_runs(lab, tmp_path):
    cwd = tmp_path / "empty"
    cwd.mkdir()
    host = lab["hl7"].host
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "scan", host, "--ports", "2575", "--json", "--lang", "en"],
        capture_output=True, text=True, env=_environment(), cwd=cwd, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (target,) = json.loads(done.stdout)["targets"]
    titles = {f["check"]: f["title"] for f in target["findings"]}
    assert "medical.hl7.exposed" in titles
    assert titles["medical.hl7.exposed"] == checks.get("medical.hl7.exposed").title_en
    assert list(cwd.iterdir()) == []
    assert "SETTINGS=False APPS=0" in done.stderr


def test_list_checks_and_bad_input_need_no_platform(tmp_path):
    listed = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", "--list-checks"],
        capture_output=True, text=True, env=_environment(), cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert (
        listed.returncode == 0 and listed.stdout == (ROOT / "docs/exposure-checks.md").read_text()
    )
    refused = subprocess.run(
        [sys.executable, "-m", "carbet.cli", "scan", "127.0.0.1", "--ports", "x"],
        capture_output=True, text=True, env=_environment(), cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "Port invalide" in refused.stderr
    assert list(tmp_path.iterdir()) == []
