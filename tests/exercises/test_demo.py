"""The exercises' demo: one exercise held with its report, one scheduled, one regional —
loaded through the service's functions, idempotent, and its report renders."""

from __future__ import annotations

import datetime as dt

from carbet.exercises import demo, services_scenarios
from carbet.exercises.models import Exercise, RegionalExercise, ScenarioVersion


def test_demo_loads_once_with_a_finished_report(region):
    services_scenarios.install_library()
    assert ScenarioVersion.objects.filter(from_library=True).count() >= 6
    structures = {
        demo.HELD: region.a,
        demo.SCHEDULED: region.a2,
        demo.REGIONAL[0]: region.b,
        demo.REGIONAL[1]: region.a2,
    }
    today = dt.date(2026, 11, 20)
    assert demo.load(structures, [], today=today) == 3
    held = Exercise.objects.get(structure=region.a, regional__isnull=True)
    assert held.status == "finished" and held.started_at.date() == today - dt.timedelta(days=45)
    assert held.items.filter(kind="improvement").count() == 2
    assert held.evaluations.exists() and held.observations.exists() and held.retex.count() == 3
    assert held.retex_ingested_at is not None
    from carbet.findings.models import Finding

    assert Finding.objects.filter(structure=region.a, source="exercise").count() >= 2
    scheduled = Exercise.objects.get(structure=region.a2, regional__isnull=True)
    assert scheduled.status == "scheduled"
    assert RegionalExercise.objects.get().children.count() == 2
    # Twice: nothing more.
    assert demo.load(structures, [], today=today) == 0
    assert Exercise.objects.count() == 4

    from carbet.exercises.pdf import exercise_report_pdf

    assert exercise_report_pdf(held).startswith(b"%PDF-")
