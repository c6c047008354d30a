"""Bulletins through the API: a structure's deliveries and answers, the centre's writing,
publishing and follow-up; B never sees a bulletin targeted only at A, nor A's answer."""

from __future__ import annotations

import pytest

from carbet.community import services_bulletins as services
from carbet.community.models import Bulletin, BulletinDelivery
from tests.api.conftest import api, assert_error  # noqa: F401 - the API client fixture
from tests.community.test_bulletins_fixtures import SECRET_A, draft, published

pytestmark = pytest.mark.django_db


def test_structure_lists_its_deliveries_only(region, api):  # noqa: F811
    bulletin = published(region)
    mine = api("director").get("/community/bulletin-deliveries")
    assert mine.status_code == 200
    body = mine.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["structure"]["id"] == region.a.pk and row["bulletin"]["title"] == SECRET_A
    assert row["status"] == "unread" and "<strong>FortiOS</strong>" in row["bulletin"]["body_html"]
    other = api("director_b").get("/community/bulletin-deliveries")
    assert other.json()["count"] == 0 and SECRET_A not in other.content.decode()
    filtered = api("director").get(f"/community/bulletin-deliveries?structure={region.b.pk}")
    assert filtered.json()["count"] == 0
    assert api("director").get(f"/community/bulletins/{bulletin.pk}").status_code == 200
    assert_error(api("director_b").get(f"/community/bulletins/{bulletin.pk}"), 404)
    assert_error(api("ars_viewer").get("/community/bulletin-deliveries"), 403)


def test_acknowledge_and_cross_tenant(region, api):  # noqa: F811
    bulletin = published(region)
    delivery = bulletin.deliveries.get()
    url = f"/community/bulletin-deliveries/{delivery.pk}/acknowledge"
    assert_error(api("director_b").post(url, {"status": "applied"}), 404)
    error = assert_error(api("director").post(url, {"status": "not_concerned"}), 422)
    assert "reason" in error["details"]
    assert_error(api("director").post(url, {"status": "applied", "extra": 1}), 422)
    response = api("referent").post(url, {"status": "not_concerned", "reason": "Pas de VPN"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "not_concerned"
    delivery.refresh_from_db()
    assert delivery.status == "not_concerned"
    # B's list and the detail never show A's answer
    assert (
        "Pas de VPN" not in api("director_b").get("/community/bulletin-deliveries").content.decode()
    )


def test_centre_creates_publishes_and_follows_up(region, api):  # noqa: F811
    client = api("centre_analyst")
    bad = client.post(
        "/community/bulletins",
        {"title": "t", "body": "b", "cves": ["CVE-24-1"], "references": ["ftp://x"]},
    )
    details = assert_error(bad, 422)["details"]
    assert {"cves", "references"} <= set(details)
    created = client.post(
        "/community/bulletins",
        {
            "title": "Mise à jour urgente",
            "body": "Faites-la.",
            "severity": "critical",
            "departements": ["972"],
            "categories": ["ehpad"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["audience"] == 1
    pk = body["id"]
    # a draft is the centre's only
    assert_error(api("director").get(f"/community/bulletins/{pk}"), 404)
    published_ = client.post(f"/community/bulletins/{pk}/publish")
    assert published_.status_code == 200 and published_.json()["status"] == "published"
    assert set(BulletinDelivery.objects.values_list("structure_id", flat=True)) == {region.a2.pk}
    assert_error(client.post(f"/community/bulletins/{pk}/publish"), 422)
    follow = client.get(f"/community/bulletins/{pk}/follow-up")
    assert follow.status_code == 200
    figures = follow.json()
    assert figures["overall"]["structures"] == 1 and figures["overall"]["unread"] == 1
    assert [s["id"] for s in figures["pending"]] == [region.a2.pk]
    listed = client.get("/community/bulletins").json()
    assert listed["count"] == 1


@pytest.mark.parametrize("role", ["director", "referent", "director_b", "ars_viewer"])
def test_centre_routes_refuse_structure_people(region, api, role):  # noqa: F811
    bulletin = published(region)
    waiting = draft(region, structures=[region.a.pk])
    client = api(role)
    for response in (
        client.get("/community/bulletins"),
        client.post("/community/bulletins", {"title": "t", "body": "b"}),
        client.post(f"/community/bulletins/{waiting.pk}/publish"),
        client.get(f"/community/bulletins/{bulletin.pk}/follow-up"),
    ):
        assert response.status_code in (403, 404), response.content
        assert_error(response, response.status_code)
    waiting.refresh_from_db()
    assert waiting.status == "draft" and Bulletin.objects.count() == 2
    services.acknowledge(region.users["director"], bulletin.deliveries.get(), "applied")
    if role in ("director_b", "ars_viewer"):
        text = client.get("/community/bulletin-deliveries").content.decode()
        assert SECRET_A not in text and "applied" not in text


def test_every_bulletin_route_refuses_b_and_serves_the_centre(region):
    """The cross-tenant walk of tests/api, on this part's routes only: B's token gets 403/404
    on A's bulletin and delivery without any of A's text; the centre's calls reach them."""
    from carbet.api.urls import api_route_inventory
    from tests.api.conftest import token_client
    from tests.api.walk import call, fill, openapi, path_parameters
    from tests.community.walk_seed_bulletins import API_OBJECT_PARAMETERS, seed

    seed(region.a)
    objects = {key: str(make(region).pk) for key, make in API_OBJECT_PARAMETERS.items()}
    schema = openapi()
    routes = [
        (method, template)
        for method, template in api_route_inventory()
        if template.startswith("/api/v1/community/bulletin")
    ]
    assert len(routes) == 7
    b_client = token_client(region.users["director_b"])
    centre = token_client(region.users["centre_admin"])
    for method, template in routes:
        params = path_parameters(template)
        path = fill(template, {p: objects[p] for p in params})
        response = call(b_client, method, template, path, schema)
        if params:
            assert response.status_code in (403, 404), (method, path, response.status_code)
        text = response.content.decode()
        assert "CH Alpha-Secret" not in text and region.a.name not in text, (method, path)
        served = call(centre, method, template, path, schema)
        assert served.status_code != 404 and served.status_code < 500, (method, path)
