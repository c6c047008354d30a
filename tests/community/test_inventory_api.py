"""The inventory through the API: a structure's lines, the declared applications' life, the
regional aggregate for the centre, and the refusals (another structure: 404; not the centre:
403) in the API's one error format."""

from __future__ import annotations

import pytest

from carbet.audit.models import AuditEntry
from carbet.community import services_inventory as services
from carbet.community.models import SoftwareLine
from tests.api.conftest import assert_error, token_client
from tests.community.test_inventory_pages import declare, region_fixture_lines
from tests.community.test_inventory_sync import FORTI, scan

BASE = "/community/inventory"
BODY = {"name": "VPN", "vendor": "Fortinet", "product": "FortiOS", "version": "7.0.12"}


@pytest.fixture
def api(region):
    clients: dict = {}

    def for_role(role: str):
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


def test_list_a_structures_lines(region, api):
    declare(region.a, name="Dossier de soins", product="Titan Soins", vendor="Titan")
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    response = api("director").get(f"{BASE}/structures/{region.a.pk}/lines")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    origins = {row["origin"]: row for row in body["results"]}
    assert origins["exposure"]["cpe"].startswith("cpe:2.3:o:fortinet:fortios:7.0.12")
    assert origins["exposure"]["location"] == "vpn.alpha.test:443"
    assert origins["declared"]["structure"]["id"] == region.a.pk
    only = api("director").get(f"{BASE}/structures/{region.a.pk}/lines", origin="declared")
    assert only.json()["count"] == 1


def test_declared_line_life_through_the_api(region, api):
    client = api("referent")
    response = client.post(f"{BASE}/structures/{region.a.pk}/lines", BODY)
    assert response.status_code == 201, response.content
    line = response.json()
    assert line["origin"] == "declared" and line["hosting"] == "unknown"
    assert line["cpe"] == "cpe:2.3:o:fortinet:fortios:7.0.12:*:*:*:*:*:*:*"
    url = f"{BASE}/software-lines/{line['id']}"
    assert client.get(url).json()["product"] == "FortiOS"
    patched = client.patch(url, {"version": "7.2.8", "hosting": "provider"})
    assert patched.status_code == 200
    assert patched.json()["version"] == "7.2.8" and ":7.2.8:" in patched.json()["cpe"]
    assert client.delete(url).status_code == 204
    assert not SoftwareLine.objects.filter(pk=line["id"]).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "community.inventory.create",
        "community.inventory.update",
        "community.inventory.delete",
    } <= actions


def test_bad_bodies_are_422(region, api):
    client = api("director")
    url = f"{BASE}/structures/{region.a.pk}/lines"
    assert_error(client.post(url, {**BODY, "product": ""}), 422)
    assert_error(client.post(url, {**BODY, "product": "   "}), 422)  # blank after cleaning
    assert_error(client.post(url, {**BODY, "version": "1" * 101}), 422)
    assert_error(client.post(url, {**BODY, "hosting": "moon"}), 422)
    assert_error(client.post(url, {**BODY, "cpe": "cpe:2.3:a:x:y:1"}), 422)  # not settable
    assert not SoftwareLine.objects.exists()


def test_a_detected_line_cannot_be_changed(region, api):
    scan(region.a, {"vpn.alpha.test": [FORTI]})
    services.sync()
    line = SoftwareLine.objects.get(structure=region.a)
    client = api("director")
    assert_error(client.patch(f"{BASE}/software-lines/{line.pk}", {"version": "1"}), 422)
    assert_error(client.delete(f"{BASE}/software-lines/{line.pk}"), 422)
    line.refresh_from_db()
    assert line.version == "7.0.12"


def test_another_structure_gets_404_on_every_route(region, api):
    line = declare(region.a)
    client = api("director_b")
    lines = f"{BASE}/structures/{region.a.pk}/lines"
    one = f"{BASE}/software-lines/{line.pk}"
    assert_error(client.get(lines), 404)
    assert_error(client.post(lines, BODY), 404)
    assert_error(client.get(one), 404)
    assert_error(client.patch(one, {"version": "1"}), 404)
    assert_error(client.delete(one), 404)
    line.refresh_from_db()
    assert line.version == "7.0.12"
    assert SoftwareLine.objects.count() == 1
    assert client.get(f"{BASE}/structures/{region.b.pk}/lines").status_code == 200


def test_the_regional_aggregate_is_for_the_centre_only(region, api):
    region_fixture_lines(region)
    response = api("centre_analyst").get(f"{BASE}/region", q="forti")
    assert response.status_code == 200
    body = response.json()
    assert body["total_groups"] == 1 and body["total_structures"] == 3
    group = body["groups"][0]
    assert (group["vendor_key"], group["product_key"], group["structures"]) == (
        "fortinet",
        "fortios",
        3,
    )
    assert ["7.0.12", 3] in group["versions"]
    product = api("centre_analyst").get(
        f"{BASE}/region/product", vendor="fortinet", product="fortios", departement="971"
    )
    assert product.status_code == 200
    assert [row["structure"]["id"] for row in product.json()["results"]] == [region.b.pk]
    for role in ("director", "director_b", "it_provider", "ars_viewer", "nobody"):
        assert_error(api(role).get(f"{BASE}/region"), 403)
        assert_error(
            api(role).get(f"{BASE}/region/product", vendor="fortinet", product="fortios"), 403
        )


def test_the_regional_limit_is_bounded(region, api):
    assert_error(api("centre_admin").get(f"{BASE}/region", limit=100000), 422)


def test_the_drill_down_checks_the_right_before_the_query(region, api):
    """The ARS (aggregates only) and structures get 403 even without parameters."""
    for role in ("ars_viewer", "director"):
        assert_error(api(role).get(f"{BASE}/region/product"), 403)
    assert api("centre_analyst").get(f"{BASE}/region/product").json()["count"] == 0
