"""Page-number pagination: shape, limits, stable order and refused page values."""

from __future__ import annotations

from django.test import override_settings

from carbet.core.models import Asset
from tests.api.conftest import assert_error


def _many_assets(structure, n: int) -> None:
    Asset.objects.bulk_create(
        Asset(structure=structure, kind="application", value=f"application {i:03d}")
        for i in range(n)
    )


def test_a_list_has_the_page_envelope(region, api):
    body = api("centre_admin").get("/assets").json()
    assert set(body) == {"count", "page", "page_size", "next", "previous", "results"}
    assert body["count"] == 3 and body["page"] == 1 and body["page_size"] == 50
    assert body["next"] is None and body["previous"] is None


def test_pages_walk_every_row_once_in_a_stable_order(region, api):
    _many_assets(region.a, 23)
    client = api("centre_admin")
    seen: list[int] = []
    body = client.get("/assets", page_size=5).json()
    pages = 1
    while True:
        seen.extend(row["id"] for row in body["results"])
        if not body["next"]:
            break
        assert body["next"].startswith("http://testserver/api/v1/assets?")
        assert "page_size=5" in body["next"]
        body = client.get(body["next"].removeprefix("http://testserver")).json()
        pages += 1
    assert pages == 6
    assert len(seen) == len(set(seen)) == 26
    assert seen == [row["id"] for row in client.get("/assets", page_size=100).json()["results"]]


def test_previous_link_and_filters_are_kept(region, api):
    _many_assets(region.a, 12)
    body = api("centre_admin").get("/assets", page=2, page_size=5, kind="application").json()
    assert body["count"] == 12
    assert "kind=application" in body["previous"] and "page=1" in body["previous"]
    assert "page=3" in body["next"]


def test_a_page_past_the_end_is_empty(region, api):
    body = api("centre_admin").get("/assets", page=40).json()
    assert body["results"] == [] and body["count"] == 3 and body["next"] is None
    assert "page=1" in body["previous"]


def test_invalid_page_values_are_a_422(region, api):
    client = api("centre_admin")
    for params in (
        {"page": 0},
        {"page": -1},
        {"page": "abc"},
        {"page": "1.5"},
        {"page": 10**12},
        {"page_size": 0},
        {"page_size": "many"},
        {"page_size": 501},
    ):
        error = assert_error(client.get("/assets", **params), 422, "validation_error")
        assert set(error["details"]) <= {"page", "page_size"}, error


@override_settings(CARBET_API_MAX_PAGE_SIZE=10)
def test_the_maximum_page_size_comes_from_settings(region, api):
    client = api("centre_admin")
    assert client.get("/assets", page_size=10).status_code == 200
    error = assert_error(client.get("/assets", page_size=11), 422)
    assert error["details"]["page_size"] == ["La taille de page doit être au plus 10."]
