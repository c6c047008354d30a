"""Showing an entry's recorded changes in plain words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_VALUE_CHARS = 120


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str | None
    after: str


def _text(value: Any) -> str:
    if value is None:
        return "∅"
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def describe_changes(changes: Any) -> list[ChangeLine]:
    """``{"name": ["old", "new"], "reason": "..."}`` → lines "name: old → new", "reason: ..."."""
    if not isinstance(changes, dict):
        return [ChangeLine("", None, _text(changes))] if changes else []
    lines = []
    for field, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            lines.append(ChangeLine(str(field), _text(value[0]), _text(value[1])))
        else:
            lines.append(ChangeLine(str(field), None, _text(value)))
    return lines
