"""Shared solutions through the API: eligibility, answers, needs, the centre's demand, and
every route refused across structures."""

from __future__ import annotations

import json

import pytest

from carbet.community import services_solutions
from tests.api.conftest import assert_error, token_client
from tests.community.test_solutions import offer_values

BASE = "/community/solutions"


@pytest.fixture
def api(region):
    clients = {}

    def for_role(role):
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


def _put(client, path, body):
    return client.request("put", path, data=json.dumps(body), content_type="application/json")


def test_offers_answers_needs_and_demand(region, api):
    created = api("centre_admin").post(
        f"{BASE}/offers",
        {
            "title": "EDR groupé",
            "kind": "group_purchase",
            "category": "edr",
            "description": "Licences",
            "status": "open",
            "structures": [region.a.pk],
        },
    )
    assert created.status_code == 201, created.content
    offer = created.json()
    assert offer["target"]["structures"] == [region.a.pk]
    assert_error(
        api("director").post(f"{BASE}/offers", {**offer_values(), "kind": "care_funded"}), 403
    )
    mine = api("director").get(f"{BASE}/offers/{offer['id']}").json()
    assert mine["target"] is None and mine["accepting"] is True
    assert_error(api("director_b").get(f"{BASE}/offers/{offer['id']}"), 404)
    answer = _put(
        api("director"),
        f"{BASE}/offers/{offer['id']}/interest",
        {"structure": region.a.pk, "kind": "need", "quantity": 250},
    )
    assert answer.status_code == 200, answer.content
    assert_error(
        _put(
            api("director_b"),
            f"{BASE}/offers/{offer['id']}/interest",
            {"structure": region.b.pk, "kind": "need"},
        ),
        404,
    )
    assert api("director_b").get(f"{BASE}/interests").json()["count"] == 0
    assert api("director").get(f"{BASE}/interests").json()["count"] == 1
    demand = api("centre_analyst").get(f"{BASE}/offers/{offer['id']}/demand").json()
    assert demand["totals"]["counts"]["need"] == 1 and demand["totals"]["quantities"]["need"] == 250
    assert_error(api("director").get(f"{BASE}/offers/{offer['id']}/demand"), 403)
    need = api("director").post(
        f"{BASE}/needs", {"structure": region.a.pk, "category": "soc", "description": "SOC"}
    )
    assert need.status_code == 201, need.content
    assert api("director_b").get(f"{BASE}/needs").json()["count"] == 0
    assert_error(api("director_b").delete(f"{BASE}/needs/{need.json()['id']}"), 404)
    groups = api("centre_analyst").get(f"{BASE}/region/needs").json()
    assert groups[0]["domain"] == "soc" and groups[0]["structures"] == 1
    assert_error(api("director").get(f"{BASE}/region/needs"), 403)
    assert api("director").delete(f"{BASE}/needs/{need.json()['id']}").status_code == 204
    interest_id = answer.json()["id"]
    assert_error(api("director_b").delete(f"{BASE}/interests/{interest_id}"), 404)
    assert api("director").delete(f"{BASE}/interests/{interest_id}").status_code == 204


def test_the_ars_gets_nothing(region, api):
    offer = services_solutions.save_offer(region.users["centre_admin"], offer_values())
    for path in ("/offers", "/interests", "/needs", "/region/needs"):
        assert_error(api("ars_viewer").get(BASE + path), 403)
    assert_error(api("ars_viewer").get(f"{BASE}/offers/{offer.pk}"), 404)
