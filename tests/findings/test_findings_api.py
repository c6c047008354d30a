"""The findings and acceptances API: scoping, filters, status changes, the acceptance workflow."""

from __future__ import annotations

import datetime as dt

import pytest

from carbet.findings.choices import Status
from carbet.findings.models import Finding, RiskAcceptance
from tests.api.conftest import assert_error, token_client
from tests.findings.findings_helpers import make_finding, make_findings


def test_list_is_scoped_filtered_and_paginated(region):
    make_findings(region.a, "crit", severity="critical", cve="CVE-2024-3400")
    make_findings(region.a, "low", severity="low")
    make_finding(region.a, "fp", status=Status.FALSE_POSITIVE)
    make_findings(region.b, "beta")
    client = token_client(region.users["director"])
    body = client.get("/findings").json()
    assert body["count"] == 2 and {r["title"] for r in body["results"]} == {
        "Finding crit",
        "Finding low",
    }
    assert body["results"][0]["severity"] == 4  # worst first
    assert body["results"][0]["structure"]["id"] == region.a.pk
    assert client.get("/findings", status="decided").json()["count"] == 1
    assert client.get("/findings", status="all", page_size=1).json()["next"]
    assert client.get("/findings", search="cve-2024-3400").json()["count"] == 1
    assert client.get("/findings", severity=1).json()["count"] == 1
    assert client.get("/findings", structure=region.b.pk).json()["count"] == 0
    assert_error(client.get("/findings", status="banana"), 422)
    assert_error(client.get("/findings", sort="banana"), 422)


@pytest.mark.parametrize("role", ["ars_viewer", "nobody"])
def test_the_ars_reaches_no_finding_detail_through_the_api(region, role):
    finding = make_finding(region.a)
    acceptance = RiskAcceptance.objects.create(
        structure=region.a,
        justification="j",
        compensating_measures="m",
        expires_on=dt.date.today() + dt.timedelta(days=9),
    )
    client = token_client(region.users[role])
    assert_error(client.get("/findings"), 403)
    assert_error(client.get("/acceptances"), 403)
    assert_error(client.get(f"/findings/{finding.pk}"), 404)
    assert_error(client.get(f"/acceptances/{acceptance.pk}"), 404)
    assert_error(
        client.post(f"/findings/{finding.pk}/status", {"status": "confirmed", "reason": "x"}), 404
    )


def test_detail_and_status_change(region):
    finding = make_finding(region.a, "vpn", severity="critical", evidence={"port": 443})
    referent = token_client(region.users["referent"])
    detail = referent.get(f"/findings/{finding.pk}").json()
    assert detail["evidence"] == {"port": 443} and detail["severity_label"] == "Critique"
    assert "confirmed" in detail["allowed_statuses"]
    assert "verified_closed" not in detail["allowed_statuses"]
    url = f"/findings/{finding.pk}/status"
    assert_error(referent.post(url, {"status": "confirmed", "reason": ""}), 422)
    assert_error(referent.post(url, {"status": "confirmed"}), 422)
    changed = referent.post(url, {"status": "confirmed", "reason": "Vérifié sur place"})
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["status"] == "confirmed" and body["status_reason"] == "Vérifié sur place"
    assert body["events"][-1]["to_status"] == "confirmed"
    invalid = referent.post(url, {"status": "mitigation_claimed", "reason": "x"})
    assert_error(invalid, 422)
    assert "status" in invalid.json()["error"]["details"]
    assert_error(referent.post(url, {"status": "risk_accepted", "reason": "x"}), 422)
    Finding.objects.filter(pk=finding.pk).update(status=Status.MITIGATION_CLAIMED)
    assert_error(referent.post(url, {"status": "verified_closed", "reason": "x"}), 403)
    analyst = token_client(region.users["centre_analyst"])
    assert analyst.post(url, {"status": "verified_closed", "reason": "vu"}).status_code == 200


def test_another_structures_findings_are_404(region):
    finding = make_finding(region.a, "secret")
    client = token_client(region.users["director_b"])
    assert_error(client.get(f"/findings/{finding.pk}"), 404)
    assert_error(
        client.post(f"/findings/{finding.pk}/status", {"status": "confirmed", "reason": "x"}), 404
    )
    assert client.get("/findings", status="all").json()["count"] == 0
    # a duplicate pointing at a finding the caller cannot see is refused like a missing one
    own = make_finding(region.b, "own")
    response = client.post(
        f"/findings/{own.pk}/status",
        {"status": "duplicate", "reason": "x", "duplicate_of": finding.pk},
    )
    # the same answer as for a number that does not exist: nothing leaks
    assert assert_error(response, 422)["details"] == {
        "duplicate_of": ["Aucune vulnérabilité visible n'a ce numéro."]
    }


def test_acceptance_workflow_through_the_api(region):
    one, two = make_findings(region.a, "one", "two")
    referent = token_client(region.users["referent"])
    payload = {
        "structure": region.a.pk,
        "findings": [one.pk, two.pk],
        "justification": "Pas de correctif chez l'éditeur.",
        "compensating_measures": "Isolement réseau.",
        "expires_on": (dt.date.today() + dt.timedelta(days=400)).isoformat(),
    }
    too_long = referent.post("/acceptances", payload)
    assert_error(too_long, 422)
    assert "expires_on" in too_long.json()["error"]["details"]
    payload["expires_on"] = (dt.date.today() + dt.timedelta(days=100)).isoformat()
    created = referent.post("/acceptances", payload)
    assert created.status_code == 201, created.content
    item = created.json()
    assert item["status"] == "requested" and item["findings"] == sorted([one.pk, two.pk])
    url = f"/acceptances/{item['id']}"
    assert_error(referent.post(f"{url}/approve", {}), 403)
    director = token_client(region.users["director"])
    assert_error(director.post(f"{url}/reject", {"note": ""}), 422)
    approved = director.post(f"{url}/approve", {"note": "Vu avec le DSI."})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["decided_by"]
    assert set(Finding.objects.values_list("status", flat=True)) == {Status.RISK_ACCEPTED}
    assert_error(director.post(f"{url}/approve", {}), 422)
    listing = token_client(region.users["it_provider"]).get("/acceptances").json()
    assert [a["id"] for a in listing["results"]] == [item["id"]]


def test_acceptances_of_another_structure_are_out_of_reach(region):
    finding = make_finding(region.a, "secret")
    acceptance = RiskAcceptance.objects.create(
        structure=region.a,
        justification="j",
        compensating_measures="m",
        expires_on=dt.date.today() + dt.timedelta(days=9),
    )
    acceptance.findings.add(finding)
    client = token_client(region.users["director_b"])
    for path in (f"/acceptances/{acceptance.pk}",):
        assert_error(client.get(path), 404)
    for action in ("approve", "reject"):
        assert_error(client.post(f"/acceptances/{acceptance.pk}/{action}", {"note": "x"}), 404)
    assert client.get("/acceptances").json()["count"] == 0
    request = {
        "structure": region.a.pk,
        "findings": [finding.pk],
        "justification": "j",
        "compensating_measures": "m",
        "expires_on": (dt.date.today() + dt.timedelta(days=9)).isoformat(),
    }
    assert_error(client.post("/acceptances", request), 404)
    own = make_finding(region.b, "own")
    mixed = client.post(
        "/acceptances", {**request, "structure": region.b.pk, "findings": [own.pk, finding.pk]}
    )
    assert_error(mixed, 422)
    assert RiskAcceptance.objects.count() == 1
