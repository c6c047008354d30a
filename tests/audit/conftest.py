"""Each audit test gets its own tail anchor file (the data directory is shared by the run)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def audit_head_file(settings, tmp_path):
    settings.CARBET_AUDIT_HEAD_FILE = str(tmp_path / "audit" / "head")
    return tmp_path / "audit" / "head"
