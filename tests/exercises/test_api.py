"""The exercises through the JSON API: each caller sees its own structures' exercises only,
another structure's exercise is a 404, the console's actions need ``exercises.run`` and the
regional board the centre; the ARS reads aggregates only."""

from __future__ import annotations

import pytest

from carbet.exercises.models import Exercise
from tests.api.conftest import token_client
from tests.exercises.conftest import prepared

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(region, version, profile):
    return prepared(region.a, version, profile), prepared(region.b, version, profile)


def test_lists_and_details_stay_within_the_callers_structures(region, two):
    a, b = two
    mine = token_client(region.users["director_b"]).get("/exercises").json()
    assert [row["id"] for row in mine["results"]] == [b.pk]
    centre = token_client(region.users["centre_analyst"]).get("/exercises").json()
    assert {row["id"] for row in centre["results"]} == {a.pk, b.pk}
    director_b = token_client(region.users["director_b"])
    assert director_b.get(f"/exercises/{a.pk}").status_code == 404
    assert director_b.get(f"/exercises/{a.pk}/timeline").status_code == 404
    assert director_b.post(f"/exercises/{a.pk}/start").status_code == 404
    first_a = a.injects.get(ref="I1")
    assert director_b.post(f"/exercises/injects/{first_a.pk}/trigger").status_code == 404
    expectation = a.expectations.get(ref="E1")
    refused = director_b.post(
        f"/exercises/expectations/{expectation.pk}/result", {"outcome": "met"}
    )
    assert refused.status_code == 404
    assert not a.expectations.filter(result__isnull=False).exists()
    assert token_client(region.users["it_provider"]).get(f"/exercises/{a.pk}").status_code == 404
    detail = token_client(region.users["director"]).get(f"/exercises/{a.pk}").json()
    assert [i["ref"] for i in detail["injects"]] == ["I1", "I2", "I3", "I4"]


def test_the_console_through_the_api(region, two, smtp):
    a, _b = two
    client = token_client(region.users["director"])
    started = client.post(f"/exercises/{a.pk}/start")
    assert started.status_code == 200 and started.json()["status"] == "running"
    assert client.post(f"/exercises/{a.pk}/start").status_code == 409
    assert client.post(f"/exercises/{a.pk}/pause").json()["status"] == "paused"
    assert client.post(f"/exercises/{a.pk}/resume").json()["status"] == "running"
    adhoc = client.post(
        f"/exercises/{a.pk}/injects",
        {"title": "Appel d'un journaliste", "channel": "phone", "in_minutes": 5},
    )
    assert adhoc.status_code == 201 and adhoc.json()["adhoc"] is True
    skip = client.post(f"/exercises/injects/{adhoc.json()['id']}/skip", {"reason": "Inutile"})
    assert skip.json()["state"] == "skipped"
    expectation = a.expectations.get(ref="E1")
    result = client.post(
        f"/exercises/expectations/{expectation.pk}/result", {"outcome": "partial", "comment": "x"}
    )
    assert result.status_code == 200 and result.json()["outcome"] == "partial"
    bad = client.post(f"/exercises/expectations/{expectation.pk}/result", {"outcome": "great"})
    assert bad.status_code == 409
    kinds = [row["kind"] for row in client.get(f"/exercises/{a.pk}/timeline").json()]
    assert "console" in kinds and "expectation" in kinds and "due" in kinds
    assert client.post(f"/exercises/{a.pk}/finish").json()["status"] == "finished"
    assert Exercise.objects.get(pk=a.pk).status == "finished"


def test_regional_board_and_ars_summary_rights(region, version, profile):
    from carbet.exercises import services_regional

    regional = services_regional.create_regional(
        region.users["centre_admin"], version, [region.a], planned_start=a_day()
    )
    board = f"/exercises/regional/{regional.pk}/board"
    assert token_client(region.users["centre_analyst"]).get(board).status_code == 200
    assert token_client(region.users["director"]).get(board).status_code == 404
    assert token_client(region.users["ars_viewer"]).get(board).status_code == 404
    summary = token_client(region.users["ars_viewer"]).get("/exercises/regional-summary")
    assert summary.status_code == 200 and "exercised" in summary.json()
    assert (
        token_client(region.users["director"]).get("/exercises/regional-summary").status_code == 403
    )
    coverage = token_client(region.users["director_b"]).get("/exercises/coverage").json()
    assert [row["structure"]["id"] for row in coverage] == [region.b.pk]


def a_day():
    import datetime as dt

    from django.utils import timezone

    return timezone.now() + dt.timedelta(days=1)
