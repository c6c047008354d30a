"""The vendored axe-core is the pinned version the README names (MPL-2.0, from npm)."""

from __future__ import annotations

import hashlib
import re

from tests.browser import a11y


def test_vendored_axe_is_the_pinned_file():
    data = a11y.AXE_JS.read_bytes()
    readme = (a11y.VENDOR / "README.md").read_text()
    digest = re.search(r"sha256 of `axe.min.js`: `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(data).hexdigest() == digest
    assert data.startswith(f"/*! axe v{a11y.AXE_VERSION}".encode())
    assert b"Mozilla Public" in data[:600] and "MPL-2.0" in readme
