"""The exposure API per role: lists, detail with targets and observations, launch, region."""

from __future__ import annotations

from carbet.audit.models import AuditEntry
from carbet.exposure.models import Scan
from tests.api.conftest import token_client
from tests.exposure.app.factories import finished_scan


def test_reading_scans_per_role(region):
    scan = finished_scan(region.a)
    for role in ("centre_analyst", "director", "referent", "it_provider", "ght_referent"):
        client = token_client(region.users[role])
        listed = client.get(f"/exposure/structures/{region.a.pk}/scans")
        assert listed.status_code == 200, role
        assert [row["id"] for row in listed.json()["results"]] == [scan.pk]
        detail = client.get(f"/exposure/scans/{scan.pk}").json()
        assert detail["grade"] and detail["scores"]["exposure"]["score"] < 100
        [target] = [t for t in detail["targets"] if t["target"] == "127.77.1.1"]
        checks = {o["check"] for o in target["observations"]}
        assert {"port.rdp", "web.hsts.missing"} <= checks
        assert {s["port"] for s in target["services"]} == {8080, 3389}
        assert target["evidence"]["http"]
    for role in ("director_b",):
        client = token_client(region.users[role])
        assert client.get(f"/exposure/structures/{region.a.pk}/scans").status_code == 404
        assert client.get(f"/exposure/scans/{scan.pk}").status_code == 404
    assert token_client(region.users["ars_viewer"]).get("/exposure/region").status_code == 403


def test_launching_through_the_api(region):
    path = f"/exposure/structures/{region.a.pk}/scans"
    for role in ("director", "referent", "it_provider"):
        assert token_client(region.users[role]).post(path, {}).status_code == 403
    assert token_client(region.users["director_b"]).post(path, {}).status_code == 404
    response = token_client(region.users["centre_analyst"]).post(path, {})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued" and body["targets_total"] == 1 and body["job"]
    assert AuditEntry.objects.filter(action="exposure.scan.requested").count() == 1
    unknown = token_client(region.users["centre_analyst"]).post(path, {"profile": 999999})
    assert unknown.status_code == 422


def test_launching_without_mandate_is_a_conflict_with_the_reason(region):
    from carbet.core.models import Mandate

    Mandate.objects.filter(structure=region.b).delete()
    response = token_client(region.users["centre_admin"]).post(
        f"/exposure/structures/{region.b.pk}/scans", {}
    )
    assert response.status_code == 409
    assert "mandat" in response.json()["error"]["message"]
    assert not Scan.objects.filter(structure=region.b).exists()


def test_region_summary_shows_only_visible_structures(region):
    finished_scan(region.a)
    rows = token_client(region.users["centre_analyst"]).get("/exposure/region").json()
    assert {row["structure"]["id"] for row in rows} == {region.a.pk, region.a2.pk, region.b.pk}
    scanned = next(row for row in rows if row["structure"]["id"] == region.a.pk)
    assert scanned["critical"] == 1 and scanned["grade"]
    rows = token_client(region.users["director_b"]).get("/exposure/region").json()
    assert [row["structure"]["id"] for row in rows] == [region.b.pk]
