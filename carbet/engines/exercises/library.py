"""The centre's scenario library: JSON files under carbet/exercises/library/, one per scenario.

Files are data shipped with Carbet (package data); each is read with ``jsonformat.parse``.
A test loads every file and requires zero problems, so ``load_library`` treating a problem as
an error (``LibraryError``) only ever fires on a broken installation.
"""

from __future__ import annotations

from pathlib import Path

from .jsonformat import parse
from .model import Problem, Scenario

LIBRARY_DIR = Path(__file__).resolve().parents[2] / "exercises" / "library"


class LibraryError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(problem.render() for problem in problems))


def library_files() -> list[Path]:
    return sorted(LIBRARY_DIR.glob("*.json"))


def load_file(path: Path) -> Scenario:
    scenario, problems = parse(path.read_bytes(), str(path))
    if scenario is None:
        raise LibraryError(problems)
    return scenario


def load_library() -> list[Scenario]:
    """Every library scenario, ordered by level then code."""
    order = {"debutant": 0, "intermediaire": 1, "confirme": 2}
    scenarios = [load_file(path) for path in library_files()]
    return sorted(scenarios, key=lambda s: (order.get(s.level, 9), s.code))


def load_scenario(code: str) -> Scenario | None:
    return next((s for s in load_library() if s.code == code), None)
