"""Regional exercises: one scenario for several structures, per-structure variables, one clock
that sends the regional injects to every structure in the same pass, the regional board and
the ARS's aggregates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from carbet.exercises import dispatch, selectors, services, services_console
from carbet.exercises import services_regional as regional_services
from carbet.exercises.models import Exercise, RegionalExercise
from tests.exercises.conftest import exercise_mandate

pytestmark = pytest.mark.django_db


def _regional(region, version, profile):
    for structure in (region.a, region.a2, region.b):
        exercise_mandate(structure)
    return regional_services.create_regional(
        region.users["centre_analyst"],
        version,
        [region.a, region.a2, region.b],
        planned_start=timezone.now() + dt.timedelta(days=7),
        compression=3600.0,
        variables={region.b.pk: {"logiciel": "Netsoins"}},
        profile=profile,
    )


def _people(regional):
    for child in regional.children.all():
        for code in ("crise", "com"):
            services.add_participant(
                services.SYSTEM, child, name=f"Joueur {code}", role="player",
                email=f"{code}{child.pk}@x.test", cell=child.cells.get(code=code),
            )  # fmt: skip


def test_one_scenario_for_several_structures_with_their_own_variables(region, version, profile):
    regional = _regional(region, version, profile)
    children = {c.structure_id: c for c in regional.children.all()}
    assert set(children) == {region.a.pk, region.a2.pk, region.b.pk}
    assert children[region.b.pk].injects.get(ref="I1").subject == "Écrans noirs sur Netsoins"
    assert children[region.a.pk].injects.get(ref="I1").subject == "Écrans noirs sur DxCare"
    assert children[region.a2.pk].title == "Rançongiciel au EHPAD Alpha"
    assert children[region.a.pk].injects.get(ref="I2").scope == "regional"


def test_only_the_centre_runs_a_regional_exercise(region, version, profile):
    with pytest.raises(PermissionDenied):
        regional_services.create_regional(
            region.users["director"], version, [region.a], planned_start=timezone.now()
        )
    regional = _regional(region, version, profile)
    with pytest.raises(PermissionDenied):
        regional_services.start_regional(region.users["ght_referent"], regional)
    assert not RegionalExercise.objects.visible_to(region.users["director"], "exercises.regional")
    assert RegionalExercise.objects.visible_to(region.users["centre_admin"], "exercises.regional")


def test_a_synchronised_start_sends_to_every_structure(region, version, profile, smtp):
    regional = _regional(region, version, profile)
    _people(regional)
    analyst = region.users["centre_analyst"]
    regional_services.start_regional(analyst, regional)
    starts = set(Exercise.objects.filter(regional=regional).values_list("started_at", flat=True))
    assert len(starts) == 1  # the same instant for everyone
    result = dispatch.run_clock({"regional": regional.pk})
    assert result["failed"] == 0
    first = [r for r in smtp.messages if "Écrans noirs" in str(r.message["Subject"])]
    assert len(first) == 3
    press = {c.structure_id: c.press.count() for c in regional.children.all()}
    assert press == {region.a.pk: 1, region.a2.pk: 1, region.b.pk: 1}
    child = regional.children.get(structure=region.a)
    services_console.validate_expectation(analyst, child.expectations.get(ref="E1"), "met")
    board = selectors.regional_console(regional)
    rows = {row.exercise_id: row for row in board.rows}
    assert rows[child.pk].outcomes == {"met": 1, "partial": 0, "not_met": 0, "pending": 0}
    assert board.totals["met"] == 1 and board.totals["pending"] == 2
    rows = {row["exercise"].pk: row for row in selectors.board_rows(regional)}
    assert rows[child.pk]["met"] == 1 and rows[child.pk]["share"] == 100
    assert rows[child.pk]["sent"] == 4 and rows[child.pk]["structure"] == region.a
    press = selectors.regional_inject_rows(regional)
    assert [(r["ref"], r["sent"], r["pending"]) for r in press] == [("I2", 3, 0)]
    regional_services.pause_regional(analyst, regional)
    assert set(regional.children.values_list("status", flat=True)) == {"paused"}
    regional_services.resume_regional(analyst, regional)
    regional_services.finish_regional(analyst, regional)
    assert set(regional.children.values_list("status", flat=True)) == {"finished"}


def test_the_ars_summary_hides_small_groups(region, version, profile):
    regional = _regional(region, version, profile)
    regional_services.start_regional(region.users["centre_analyst"], regional)
    regional_services.finish_regional(region.users["centre_analyst"], regional)
    summary = selectors.regional_summary()
    # Three structures in all: too few to publish anything about them.
    assert not summary["exercised"].published
    assert summary["share_met"] is None
    assert summary["regional_exercises"] == 1
