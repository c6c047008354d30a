"""Role boundaries through the API: the ARS sees aggregates only, jobs follow their owner."""

from __future__ import annotations

from carbet.api.urls import api_route_inventory
from carbet.core.tenancy import SYSTEM
from carbet.jobs import services as jobs
from tests.api.conftest import assert_error
from tests.api.test_cross_tenant_api import a_objects
from tests.api.walk import call, fill, openapi, path_parameters


def test_ars_gets_the_regional_aggregates(region, api):
    response = api("ars_viewer").get("/aggregates")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"min_group_size", "by_category", "by_departement"}
    rows = body["by_category"] + body["by_departement"]
    # Three structures are too few for any anonymous figure (five at least, issue 11): nothing
    # is published; tests/test_aggregate_inversion.py covers larger regions.
    assert body["min_group_size"] == 5 and rows == []
    for row in rows:
        assert set(row) == {"label", "structures", "with_valid_mandate", "assets", "mandate_share"}
    text = response.content.decode()
    for secret in ("alpha.test", region.a.name, region.a.finess_et, "beta.test"):
        assert secret not in text


def test_structure_people_do_not_get_the_aggregates(region, api):
    assert_error(api("director").get("/aggregates"), 403)
    assert api("centre_analyst").get("/aggregates").status_code == 200


def test_ars_sees_only_aggregates_and_me(region, api):
    """Every other route of the inventory is refused to the ARS (403 or 404)."""
    client = api("ars_viewer")
    objects = a_objects(region)
    schema = openapi()
    allowed = {
        ("GET", "/api/v1/aggregates"),
        ("GET", "/api/v1/me"),
        # The regional distribution of directory levels: counts only, no structure named.
        ("GET", "/api/v1/directory/levels"),
        # The roadmap's regional indicators: aggregates with small groups hidden.
        ("GET", "/api/v1/roadmap/indicators/region"),
        # The services' regional summaries for the ARS: aggregates, small groups hidden.
        ("GET", "/api/v1/bydesign/region/track"),
        ("GET", "/api/v1/exercises/regional-summary"),
        ("GET", "/api/v1/crisis/aggregates"),
    }
    checked = 0
    for method, template in api_route_inventory():
        if (method, template) in allowed:
            continue
        params = path_parameters(template)
        path = fill(template, {p: objects[p] for p in params})
        response = call(client, method, template, path, schema)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        assert_error(response, response.status_code)
        checked += 1
    assert checked >= 25


def test_jobs_are_visible_to_their_structure_and_author_only(region, api):
    job = jobs.submit("platform.selftest", structure=region.a, actor=SYSTEM, title="Auto-test")
    body = api("director").get(f"/jobs/{job.pk}").json()
    assert body["id"] == str(job.pk) and body["structure_id"] == region.a.pk
    assert set(body) >= {"status", "progress", "message", "result"}
    assert "error" not in body
    assert_error(api("director_b").get(f"/jobs/{job.pk}"), 404)
    own = jobs.submit("platform.selftest", actor=region.users["director_b"], title="Mine")
    assert api("director_b").get(f"/jobs/{own.pk}").status_code == 200
    assert_error(api("director").get(f"/jobs/{own.pk}"), 404)
