"""Exercise objects of structure A for the cross-tenant walks (see tests/walk_seeds.py).

ex-core seeds the objects; the pages helper may add ``A11Y_PAGES``."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.engines.exercises import jsonformat
from carbet.exercises import services
from carbet.exercises.models import (
    Exercise,
    ExpectationResult,
    Observation,
    PressItem,
    RegionalExercise,
    Reply,
    RetexItem,
    ScenarioVersion,
)

SECRET = "CH Alpha-Secret"


def _version() -> ScenarioVersion:
    from tests.exercises.conftest import scenario

    version, _created = ScenarioVersion.objects.get_or_create(
        code="walk-scenario",
        version="1.0",
        defaults={"title": "Walk", "level": "debutant", "data": jsonformat.to_data(scenario())},
    )
    return version


def _exercise(structure) -> Exercise:
    existing = Exercise.objects.filter(structure=structure, title__contains=SECRET).first()
    if existing is not None:
        return existing
    exercise = services.create_exercise(
        SYSTEM,
        structure,
        _version(),
        planned_start=timezone.now() + dt.timedelta(days=2),
        title=f"{SECRET} exercice",
        variables={"logiciel": f"{SECRET} DPI"},
    )
    services.add_participant(
        SYSTEM, exercise, name=f"{SECRET} joueur", email="secret.player@alpha.test", role="player"
    )
    first = exercise.injects.get(ref="I1")
    Reply.objects.create(exercise=exercise, inject=first, source="form", body=f"{SECRET} réponse")
    PressItem.objects.create(
        exercise=exercise, inject=exercise.injects.get(ref="I2"), channel="press",
        headline=f"{SECRET} article",
    )  # fmt: skip
    ExpectationResult.objects.create(
        expectation=exercise.expectations.get(ref="E1"), outcome="met", comment=SECRET
    )
    Observation.objects.create(exercise=exercise, criterion=f"{SECRET} critère", rating=3)
    RetexItem.objects.create(exercise=exercise, kind="improvement", title=f"{SECRET} axe")
    return exercise


def _regional(region) -> RegionalExercise:
    regional = RegionalExercise.objects.filter(title="Walk regional").first()
    if regional is None:
        version = _version()
        regional = RegionalExercise.objects.create(
            title="Walk regional",
            level="debutant",
            scenario_version=version,
            scenario=version.data,
            planned_start=timezone.now(),
        )
        Exercise.objects.filter(pk=_exercise(region.a).pk).update(regional=regional)
    return regional


def seed(structure_a) -> None:
    _exercise(structure_a)


API_OBJECT_PARAMETERS = {
    ("exercises", "id"): lambda region: _exercise(region.a),
    ("injects", "id"): lambda region: _exercise(region.a).injects.get(ref="I1"),
    ("expectations", "id"): lambda region: _exercise(region.a).expectations.get(ref="E1"),
    ("regional", "id"): _regional,
}

# Key pages for the accessibility pass in Chromium (tests/browser/test_a11y_pages.py, demo
# region accounts); every page, public spaces included, is also in
# tests/exercises/test_browser_a11y.py.
A11Y_PAGES = [
    ("analyst", "/exercices/"),
    ("analyst", "/exercices/bibliotheque/"),
    ("analyst", "/exercices/bibliotheque/import/"),
    ("analyst", "/exercices/couverture/"),
    ("analyst", "/exercices/regional/"),
    ("director", "/exercices/structures/{structure}/"),
    ("ars", "/exercices/ars/"),
]
