"""Each audit test gets its own tail anchor and its own audit key (the data directory is shared
by the run, and a key or anchor left by another test would change what ``verify`` concludes)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def audit_head_file(settings, tmp_path):
    settings.CARBET_AUDIT_HEAD_FILE = str(tmp_path / "audit" / "head")
    return tmp_path / "audit" / "head"


@pytest.fixture(autouse=True)
def audit_key_file(settings, tmp_path):
    settings.CARBET_AUDIT_KEYS = []
    settings.CARBET_AUDIT_KEY_FILE = str(tmp_path / "keys" / "audit.key")
    return tmp_path / "keys" / "audit.key"
