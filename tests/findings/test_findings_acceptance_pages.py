"""Risk-acceptance pages: request from the list, sign with a confirmation, cross-tenant 404s."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.findings.choices import Status
from carbet.findings.models import Finding, RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.services import acceptance
from tests.findings.findings_helpers import make_finding, make_findings

REQUEST = "/vulnerabilites/acceptations/demander/"


def _request(region, findings) -> RiskAcceptance:
    return acceptance.request_acceptance(
        region.users["referent"],
        region.a,
        findings,
        justification="Appareil médical non mis à jour par le fabricant.",
        compensating_measures="Réseau isolé.",
        expires_on=timezone.localdate() + dt.timedelta(days=90),
    )


def test_request_from_the_list_then_sign_from_the_page(region):
    one, two = make_findings(region.a, "one", "two")
    referent = region.client("referent")
    preselect = referent.post(REQUEST, {"finding": [one.pk, two.pk]})
    html = preselect.content.decode()
    assert preselect.status_code == 200 and "Finding one" in html and "checked" in html
    too_long = referent.post(
        REQUEST,
        {
            "structure": region.a.pk,
            "findings": [one.pk, two.pk],
            "justification": "Pas de correctif.",
            "compensating_measures": "Isolement.",
            "expires_on": (timezone.localdate() + dt.timedelta(days=400)).isoformat(),
        },
    )
    assert too_long.status_code == 200 and "un an au plus" in too_long.content.decode()
    assert not RiskAcceptance.objects.exists()
    created = referent.post(
        REQUEST,
        {
            "structure": region.a.pk,
            "findings": [one.pk, two.pk],
            "justification": "Pas de correctif.",
            "compensating_measures": "Isolement.",
            "expires_on": (timezone.localdate() + dt.timedelta(days=200)).isoformat(),
        },
    )
    item = RiskAcceptance.objects.get()
    assert created["Location"] == f"/vulnerabilites/acceptations/{item.pk}/"
    detail = f"/vulnerabilites/acceptations/{item.pk}/"
    assert "Signer l&#x27;acceptation" not in referent.get(detail).content.decode()
    refused = referent.post(f"{detail}decision/", {"decision": "approve", "confirm": "on"})
    assert refused.status_code == 403
    director = region.client("director")
    assert "Signer" in director.get(detail).content.decode()
    unconfirmed = director.post(f"{detail}decision/", {"decision": "approve"})
    assert unconfirmed.status_code == 422 and "Cochez" in unconfirmed.content.decode()
    signed = director.post(f"{detail}decision/", {"decision": "approve", "confirm": "on"})
    assert signed.status_code == 302
    item.refresh_from_db()
    assert item.status == RiskAcceptanceStatus.APPROVED
    assert set(Finding.objects.values_list("status", flat=True)) == {Status.RISK_ACCEPTED}
    page = director.get(detail).content.decode()
    assert "127.0.0.1" in page and "Signature" in page
    listing = region.client("it_provider").get("/vulnerabilites/acceptations/").content.decode()
    assert f"/vulnerabilites/acceptations/{item.pk}/" in listing


def test_rejection_from_the_page_needs_a_comment(region):
    item = _request(region, [make_finding(region.a)])
    director = region.client("director")
    url = f"/vulnerabilites/acceptations/{item.pk}/decision/"
    assert director.post(url, {"decision": "reject", "note": ""}).status_code == 422
    director.post(url, {"decision": "reject", "note": "Corrigez d'abord."})
    item.refresh_from_db()
    assert item.status == RiskAcceptanceStatus.REJECTED


def test_findings_of_two_structures_cannot_share_a_request(region):
    a_one = make_finding(region.a, "a1")
    a2_one = make_finding(region.a2, "a2")
    response = region.client("org_director").post(REQUEST, {"finding": [a_one.pk, a2_one.pk]})
    assert "une seule structure" in response.content.decode()


def test_acceptances_of_another_structure_are_404(region):
    item = _request(region, [make_finding(region.a, "secret")])
    for role in ("director_b", "ars_viewer", "nobody"):
        client = region.client(role)
        assert client.get(f"/vulnerabilites/acceptations/{item.pk}/").status_code == 404
        response = client.post(
            f"/vulnerabilites/acceptations/{item.pk}/decision/",
            {"decision": "approve", "confirm": "on"},
        )
        assert response.status_code == 404
    listing = region.client("director_b").get("/vulnerabilites/acceptations/").content.decode()
    assert f"/vulnerabilites/acceptations/{item.pk}/" not in listing
    # B's director cannot file a request for A's findings either
    foreign = region.client("director_b").post(
        REQUEST,
        {
            "structure": region.a.pk,
            "findings": [item.findings.get().pk],
            "justification": "x",
            "compensating_measures": "y",
            "expires_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        },
    )
    assert foreign.status_code == 200 and RiskAcceptance.objects.count() == 1
    assert region.client("it_provider").get(REQUEST).status_code == 403
