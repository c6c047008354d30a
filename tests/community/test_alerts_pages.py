"""The matched-alerts pages and API: a structure's alerts, the answer to an alert (audited),
the centre's regional exposure, vulnerability and passes pages, the button that starts a pass,
and the cross-tenant refusals (B's people never reach A's alerts; only the centre sees the
region)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.community import selectors_alerts
from carbet.community.models import MatchRun, StructureAlert
from carbet.core.tenancy import SYSTEM
from carbet.jobs.models import Job
from tests.api import conftest as api_helpers
from tests.api.conftest import assert_error
from tests.community.walk_seed_alerts import SECRET, seed_alert

api = api_helpers.api  # the API client fixture

STRUCTURE_PEOPLE = ("director", "referent", "it_provider")
OUTSIDERS = ("director_b", "nobody", "ars_viewer")


@pytest.fixture
def alerts(region):
    a = seed_alert(region.a)
    b = seed_alert(region.b)
    StructureAlert.objects.filter(pk=b.pk).update(products=["Fortinet FortiOS 7.0.12 — Beta"])
    MatchRun.objects.create(kind="full", lines=3, matches=2, new_alerts=2, emails=4)
    return {"a": a, "b": StructureAlert.objects.visible_to(SYSTEM).get(pk=b.pk)}


def url(name: str, *args) -> str:
    return reverse(f"community:{name}", args=args)


def test_structure_page_lists_its_alerts_only(region, alerts):
    for role in STRUCTURE_PEOPLE:
        response = region.client(role).get(url("alerts_structure", region.a.pk))
        assert response.status_code == 200, role
        text = response.content.decode()
        assert "CVE-2024-21762" in text and SECRET in text and "Beta" not in text
        assert "Exploitée activement" in text and "À traiter" in text
    for role in OUTSIDERS:
        response = region.client(role).get(url("alerts_structure", region.a.pk))
        assert response.status_code == 404, role


def test_alert_detail_and_cross_tenant(region, alerts):
    a = alerts["a"]
    response = region.client("director").get(url("alert_detail", a.pk))
    assert response.status_code == 200
    text = response.content.decode()
    assert "7.0.14, 7.2.7, 7.4.3" in text and "Apply mitigations" in text
    assert "Enregistrer ma réponse" in text
    for role in OUTSIDERS:
        assert region.client(role).get(url("alert_detail", a.pk)).status_code == 404, role
        response = region.client(role).post(url("alert_detail", a.pk), {"status": "fixed"})
        assert response.status_code == 404, role
    # The centre reads it (and links to the regional view).
    response = region.client("centre_analyst").get(url("alert_detail", a.pk))
    assert response.status_code == 200 and url("alerts_vuln", a.vulnerability_id) in (
        response.content.decode()
    )


def test_acknowledgement_flows_are_audited(region, alerts):
    a = alerts["a"]
    client = region.client("referent")
    response = client.post(url("alert_detail", a.pk), {"status": "acknowledged"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == "acknowledged" and a.acknowledged_by == region.users["referent"]
    assert a.acknowledged_at is not None

    # "Not concerned" needs a reason.
    response = client.post(url("alert_detail", a.pk), {"status": "not_concerned"})
    assert response.status_code == 422
    assert "pourquoi votre structure" in response.content.decode()
    a.refresh_from_db()
    assert a.status == "acknowledged"
    response = client.post(
        url("alert_detail", a.pk), {"status": "not_concerned", "reason": "Boîtier retiré en mai"}
    )
    assert response.status_code == 302
    response = client.post(url("alert_detail", a.pk), {"status": "fixed", "reason": "7.0.14"})
    a.refresh_from_db()
    assert a.status == "fixed" and a.reason == "7.0.14"
    entries = AuditEntry.objects.filter(action="community.alert.acknowledge").order_by("sequence")
    assert [e.changes["status"] for e in entries] == [
        ["new", "acknowledged"],
        ["acknowledged", "not_concerned"],
        ["not_concerned", "fixed"],
    ]
    assert all(e.structure_id == region.a.pk for e in entries)
    # An unknown answer is refused, "new" is not an answer.
    response = client.post(url("alert_detail", a.pk), {"status": "new"})
    assert response.status_code == 422


def test_region_pages_are_for_the_centre(region, alerts):
    for role in ("centre_admin", "centre_analyst"):
        client = region.client(role)
        text = client.get(url("alerts_region")).content.decode()
        assert "CVE-2024-21762" in text and region.a.name in text and region.b.name in text
        assert "2 sans réponse" in text
        vuln = client.get(url("alerts_vuln", alerts["a"].vulnerability_id))
        assert vuln.status_code == 200 and region.b.name in vuln.content.decode()
        runs = client.get(url("alerts_runs"))
        assert runs.status_code == 200 and "Rapprocher maintenant" in runs.content.decode()
    for role in (*STRUCTURE_PEOPLE, *OUTSIDERS):
        client = region.client(role)
        assert client.get(url("alerts_region")).status_code == 403, role
        assert client.get(url("alerts_vuln", alerts["a"].vulnerability_id)).status_code == 403
        assert client.get(url("alerts_runs")).status_code == 403, role
        assert client.post(url("alerts_run_start")).status_code == 403, role
    assert not Job.objects.exists()


def test_the_centre_starts_a_pass_as_a_background_job(region, alerts):
    response = region.client("centre_admin").post(url("alerts_run_start"), {"full": "1"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "jobs:detail", args=[job.pk]
    )
    assert job.kind == "community.match" and job.params == {"full": True}
    assert AuditEntry.objects.filter(action="community.match.start").count() == 1


def test_the_inventory_fragment(region, alerts):
    rows = selectors_alerts.structure_alerts(region.users["director"], region.a)
    assert [a.pk for a in rows] == [alerts["a"].pk]
    html = render_to_string("community/inventory/_alerts.html", {"alerts": rows})
    assert "CVE-2024-21762" in html and url("alert_detail", alerts["a"].pk) in html
    assert "<caption>" in html
    empty = render_to_string("community/inventory/_alerts.html", {"alerts": []})
    assert "Aucune alerte" in empty
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        selectors_alerts.structure_alerts(region.users["director_b"], region.a)


# ---------------------------------------------------------------------------- API


def test_api_lists_and_acknowledges_own_alerts(region, alerts, api):
    body = api("director").get("/community/alerts").json()
    assert [row["id"] for row in body["results"]] == [alerts["a"].pk]
    row = body["results"][0]
    assert row["vulnerability"]["kev"] and row["current"] and row["status"] == "new"
    detail = api("referent").get(f"/community/alerts/{alerts['a'].pk}")
    assert detail.status_code == 200 and SECRET in detail.content.decode()

    response = api("referent").post(
        f"/community/alerts/{alerts['a'].pk}/acknowledge", {"status": "not_concerned"}
    )
    assert_error(response, 422)
    response = api("referent").post(
        f"/community/alerts/{alerts['a'].pk}/acknowledge",
        {"status": "not_concerned", "reason": "Boîtier retiré"},
    )
    assert response.status_code == 200 and response.json()["status"] == "not_concerned"
    assert AuditEntry.objects.filter(action="community.alert.acknowledge").count() == 1


def test_api_cross_tenant_refusals(region, alerts, api):
    a = alerts["a"]
    for role in ("director_b", "nobody", "ars_viewer"):
        body = api(role).get("/community/alerts")
        if body.status_code == 200:
            assert body.json()["results"] == [] or all(
                r["structure"]["id"] != region.a.pk for r in body.json()["results"]
            )
        assert_error(api(role).get(f"/community/alerts/{a.pk}"), 404)
        assert_error(
            api(role).post(f"/community/alerts/{a.pk}/acknowledge", {"status": "fixed"}), 404
        )
    b_rows = api("director_b").get("/community/alerts").json()["results"]
    assert [r["id"] for r in b_rows] == [alerts["b"].pk]
    assert_error(api("ars_viewer").get("/community/alerts"), 403)
    a.refresh_from_db()
    assert a.status == "new"


def test_api_regional_exposure_is_for_the_centre(region, alerts, api):
    body = api("centre_analyst").get("/community/alerts/vulnerabilities").json()
    assert len(body) == 1 and body[0]["structures"] == 2 and body[0]["waiting"] == 2
    assert {r["structure"]["id"] for r in body[0]["alerts"]} == {region.a.pk, region.b.pk}
    one = api("centre_admin").get(f"/community/alerts/vulnerabilities/{a_vuln(alerts)}")
    assert one.status_code == 200 and one.json()["structures"] == 2
    for role in ("director", "referent", "director_b", "ars_viewer"):
        assert_error(api(role).get("/community/alerts/vulnerabilities"), 403)
        assert_error(api(role).get(f"/community/alerts/vulnerabilities/{a_vuln(alerts)}"), 403)


def a_vuln(alerts) -> int:
    return alerts["a"].vulnerability_id


def test_the_inventory_page_shows_the_structures_alerts(region, alerts):
    response = region.client("director").get(url("inventory", region.a.pk))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Alertes ciblées" in text and url("alert_detail", alerts["a"].pk) in text
    assert url("alert_detail", alerts["b"].pk) not in text
