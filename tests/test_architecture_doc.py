"""docs/architecture.md stays true: every file and folder it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
PATH = re.compile(r"`((?:carbet|tests|docs|scripts)/[A-Za-z0-9_./-]+)`")


def test_every_path_named_in_the_architecture_doc_exists():
    text = DOC.read_text(encoding="utf-8")
    named = set(PATH.findall(text))
    assert len(named) > 10
    missing = sorted(path for path in named if not (ROOT / path.rstrip("/")).exists())
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_the_doc_lists_every_spec_field():
    from dataclasses import fields

    from carbet.core.contract import ServiceSpec

    text = DOC.read_text(encoding="utf-8")
    undocumented = [
        f.name for f in fields(ServiceSpec)
        if f.name not in {"name", "label", "on_ready", "order"} and f"`{f.name}`" not in text
    ]  # fmt: skip
    assert not undocumented, f"spec fields missing from docs/architecture.md: {undocumented}"
