"""The crisis templates shipped with Carbet (``carbet/crisis/templates_data/*.json``).

Read and checked by ``carbet.engines.crisis.templates``; a broken shipped file is a bug, so it
raises at once (a test loads every file).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from carbet.engines.crisis import templates as engine

DATA_DIR = Path(__file__).resolve().parent / "templates_data"


@cache
def all_templates() -> dict[str, engine.Template]:
    result: dict[str, engine.Template] = {}
    for path in sorted(DATA_DIR.glob("*.json")):
        try:
            template = engine.loads(path.read_text(encoding="utf-8"))
        except engine.TemplateError as exc:
            raise engine.TemplateError(
                [engine.Problem(p.line, f"{path.name}: {p.message}") for p in exc.problems]
            ) from None
        result[template.code] = template
    return result


def get(code: str) -> engine.Template:
    try:
        return all_templates()[code]
    except KeyError:
        raise ValueError(f"unknown crisis template {code!r}") from None


def choices() -> list[tuple[str, str]]:
    """(code, title) of every template, for forms and the API."""
    return [(code, t.title) for code, t in all_templates().items()]
