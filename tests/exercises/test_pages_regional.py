"""The regional exercise through the pages: created for several structures from a scenario,
started from one console, whose live table gives each structure's expectations in writing;
only the centre reaches it."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.exercises import services_console
from carbet.exercises.models import Expectation, RegionalExercise
from tests.conftest import login


def test_regional_exercise_from_creation_to_the_live_table(region, version, profile):
    client = login(Client(), region.users["centre_analyst"])
    start = (timezone.localtime() + timezone.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/exercices/bibliotheque/{version.pk}/regional/",
        {
            "title": "Exercice régional test",
            "planned_start": start,
            "compression": "1",
            "profile": profile.pk,
            "structures": [region.a.pk, region.b.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    regional = RegionalExercise.objects.get(title="Exercice régional test")
    children = {c.structure_id: c for c in regional.children.all()}
    assert set(children) == {region.a.pk, region.b.pk}
    page = client.get(f"/exercices/regional/{regional.pk}/").content.decode()
    assert "CH Alpha — site principal" in page and "EHPAD Beta" in page
    assert 'aria-live="polite"' in page and "sans code couleur" in page
    assert client.post(f"/exercices/regional/{regional.pk}/demarrer/").status_code == 302
    regional.refresh_from_db()
    assert regional.status == "running"
    assert all(c.status == "running" for c in regional.children.all())
    expectation = Expectation.objects.filter(exercise=children[region.a.pk]).first()
    services_console.validate_expectation(SYSTEM, expectation, "met")
    live = client.get(f"/exercices/regional/{regional.pk}/direct/").content.decode()
    assert "Région : 1 attendus atteints sur 2" in live
    response = client.post(
        f"/exercices/regional/{regional.pk}/ajout/",
        {
            "title": "Communiqué de l'ARS",
            "channel": "message",
            "body": "Point à 11 h",
            "in_minutes": 0,
        },
    )
    assert response.status_code == 302
    assert all(
        c.injects.filter(title="Communiqué de l'ARS").exists() for c in regional.children.all()
    )
    # Structures and the ARS never reach the regional console.
    for role in ("director", "director_b", "ars_viewer"):
        other = login(Client(), region.users[role])
        for path in (
            f"/exercices/regional/{regional.pk}/",
            f"/exercices/regional/{regional.pk}/direct/",
        ):
            assert other.get(path).status_code in (403, 404), (role, path)
        assert other.post(f"/exercices/regional/{regional.pk}/pause/").status_code in (403, 404)
    regional.refresh_from_db()
    assert regional.status == "running"


def test_the_live_board_is_computed_once_a_second_under_polling(region, version, profile):
    """Twenty animators polling the console: within one second the board's grouped queries
    run once; the next polls only read the session and the exercise."""
    client = login(Client(), region.users["centre_analyst"])
    start = (timezone.localtime() + timezone.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    client.post(
        f"/exercices/bibliotheque/{version.pk}/regional/",
        {"title": "Sondage", "planned_start": start, "compression": "1",
         "profile": profile.pk, "structures": [region.a.pk, region.b.pk]},
    )  # fmt: skip
    regional = RegionalExercise.objects.get(title="Sondage")
    path = f"/exercices/regional/{regional.pk}/direct/"

    for _attempt in range(3):  # a poll may straddle the turn of a second: try again
        with CaptureQueriesContext(connection) as first:
            client.get(path)
        with CaptureQueriesContext(connection) as second:
            client.get(path)
        if len(second) < len(first):
            break
    assert len(second) < len(first), (len(first), len(second))
