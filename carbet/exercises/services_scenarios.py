"""The scenario library and the centre's imported scenarios (``ScenarioVersion`` rows).

The library's JSON files (``carbet/exercises/library/``) are installed after every migrate:
a new (code, version) pair becomes a row, an existing one is left as it is — exercises hold
their own copies, so a library update never reaches an exercise already created.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.access import require_centre
from carbet.core.tenancy import Actor
from carbet.engines.exercises import jsonformat
from carbet.engines.exercises.model import Problem, Scenario
from carbet.exercises.models import Exercise, ScenarioVersion
from carbet.exercises.service import ExercisePerm

log = logging.getLogger("carbet.exercises")
LIBRARY_DIR = Path(__file__).resolve().parent / "library"


def _row(scenario: Scenario, *, from_library: bool, imported_by=None) -> ScenarioVersion:
    return ScenarioVersion(
        code=scenario.code,
        version=scenario.version,
        title=scenario.title[:200],
        level=scenario.level,
        summary=scenario.summary,
        data=jsonformat.to_data(scenario),
        from_library=from_library,
        imported_by=imported_by,
    )


def install_library() -> int:
    """Install the library files' scenarios not yet present; returns how many were added.
    A file with problems is skipped and logged (the library's own tests keep it clean)."""
    if not LIBRARY_DIR.is_dir():
        return 0
    existing = set(ScenarioVersion.objects.values_list("code", "version"))
    added = []
    for path in sorted(LIBRARY_DIR.glob("*.json")):
        scenario, problems = jsonformat.parse(path.read_bytes(), str(path.name))
        if scenario is None:
            log.error("library scenario skipped: %s", problems[0].render())
            continue
        if (scenario.code, scenario.version) in existing:
            continue
        existing.add((scenario.code, scenario.version))
        added.append(_row(scenario, from_library=True))
    ScenarioVersion.objects.bulk_create(added, ignore_conflicts=True)
    return len(added)


def import_scenario(
    actor: Actor, data: bytes | str, filename: str = "scenario.json", ip: str | None = None
) -> tuple[ScenarioVersion | None, list[Problem]]:
    """A scenario file of the centre (JSON): the new version, or the problems found (each
    ``file:line: message``), with nothing written."""
    require_centre(actor, ExercisePerm.MANAGE)
    scenario, problems = jsonformat.parse(data, filename)
    if scenario is None:
        return None, problems
    row = _row(
        scenario, from_library=False, imported_by=actor if getattr(actor, "pk", None) else None
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        return None, [
            Problem(
                filename,
                0,
                _(
                    "La version %(version)s du scénario « %(code)s » existe déjà : changez "
                    "le numéro de version."
                )
                % {"version": scenario.version, "code": scenario.code},
            )
        ]
    audit.record(actor, "exercise.scenario_import", row, changes={"file": filename[:200]}, ip=ip)
    return row, []


def export_scenario(version: ScenarioVersion) -> str:
    scenario, problems = jsonformat.from_data(version.data)
    if scenario is None:
        raise ValueError(problems[0].render())
    return jsonformat.export(scenario)


def export_exercise_scenario(exercise: Exercise) -> str:
    """The exercise's own copy (as prepared), in the library's JSON format."""
    scenario, problems = jsonformat.from_data(exercise.scenario)
    if scenario is None:
        raise ValueError(problems[0].render())
    return jsonformat.export(scenario)
