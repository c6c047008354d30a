"""The action-plan API: reads through visible_to, writes through the services, one error format."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carbet.findings.choices import Status
from carbet.findings.models import ActionItem, ActionStatus, Campaign, Finding
from carbet.findings.plans import campaigns, evidence, services
from tests.api.conftest import assert_error, token_client
from tests.findings.test_plans_support import item, seed


@pytest.fixture
def api(region):
    clients = {}

    def for_role(role):
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


@pytest.fixture
def plan(region, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fa1, fa2 = seed(region.a, item("VPN", "critical"), item("Certificat", "medium"))
    [fb] = seed(region.b, item("Beta", "high"))
    action_a = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="VPN Alpha"), [fa1]
    )
    action_b = services.create_action(
        region.users["director_b"], ActionItem(structure=region.b, title="Beta"), [fb]
    )
    proof = evidence.submit_evidence(
        region.users["director"],
        action_a,
        note="ok",
        document=SimpleUploadedFile("p.txt", b"done"),
    )
    return {"a": action_a, "b": action_b, "proof": proof, "fa1": fa1, "fa2": fa2, "fb": fb}


def test_list_and_detail_are_scoped_to_visible_structures(api, plan):
    body = api("director").get("/actions").json()
    assert [a["title"] for a in body["results"]] == ["VPN Alpha"]
    detail = api("director").get(f"/actions/{plan['a'].pk}").json()
    assert detail["structure"]["id"] == plan["a"].structure_id
    assert detail["findings"] == [plan["fa1"].pk]
    assert detail["owner"] == "À désigner"
    assert detail["campaign"] is None
    staff = api("centre_analyst").get("/actions", priority=2).json()
    assert staff["count"] == 2
    assert api("director").get("/actions", status="done").json()["count"] == 0


def test_cross_tenant_refusals_on_every_route(api, plan):
    b = api("director_b")
    a_id, proof_id = plan["a"].pk, plan["proof"].pk
    assert_error(b.get(f"/actions/{a_id}"), 404, "not_found")
    assert_error(b.patch(f"/actions/{a_id}", {"progress": 50}), 404)
    assert_error(b.get(f"/actions/{a_id}/evidence"), 404)
    assert_error(b.multipart(f"/actions/{a_id}/evidence", {"note": "x"}), 404)
    assert_error(b.post(f"/evidence/{proof_id}/approve"), 404)
    assert_error(
        b.post("/actions", {"structure": plan["a"].structure_id, "title": "Intrus"}),
        422,
    )
    assert_error(b.post("/actions/from-findings", {"findings": [plan["fa2"].pk]}), 422)
    assert_error(
        b.post(
            "/actions",
            {"structure": plan["b"].structure_id, "title": "Lier A", "findings": [plan["fa2"].pk]},
        ),
        422,
    )
    assert_error(api("ars_viewer").get("/actions"), 403, "forbidden")
    assert_error(api("nobody").get("/actions"), 403)
    plan["a"].refresh_from_db()
    assert plan["a"].progress == 0
    assert not ActionItem.objects.filter(title__in=["Intrus", "Lier A"]).exists()


def test_create_patch_and_cancel(api, region, plan):
    director = api("director")
    response = director.post(
        "/actions",
        {
            "structure": region.a.pk,
            "title": "Sauvegardes hors ligne",
            "why": "Un rançongiciel chiffre aussi les sauvegardes branchées.",
            "owner_kind": "it_provider",
            "owner_label": "InfoServices",
            "priority": 1,
            "cost_estimate": "2400.00",
            "funding_source": "CaRE domaine 1",
            "findings": [plan["fa2"].pk],
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["owner"] == "Prestataire informatique : InfoServices"
    assert Finding.objects.get(pk=plan["fa2"].pk).status == Status.IN_REMEDIATION
    action_id = created["id"]
    error = assert_error(
        director.post("/actions", {"structure": region.a.pk, "title": "X", "priority": 9}), 422
    )
    assert "priority" in error["details"]
    error = assert_error(
        director.post(
            "/actions", {"structure": region.a.pk, "title": "X", "owner_kind": "it_provider"}
        ),
        422,
    )
    assert "owner_label" in error["details"]
    patched = director.patch(f"/actions/{action_id}", {"title": "Sauvegardes déconnectées"})
    assert patched.json()["title"] == "Sauvegardes déconnectées"
    error = assert_error(director.patch(f"/actions/{action_id}", {"status": "cancelled"}), 422)
    assert "reason" in error["details"]
    assert_error(director.patch(f"/actions/{action_id}", {"status": "verified"}), 422)
    cancelled = director.patch(
        f"/actions/{action_id}", {"status": "cancelled", "status_reason": "Déjà en place"}
    ).json()
    assert cancelled["status"] == "cancelled" and cancelled["status_reason"] == "Déjà en place"
    assert Finding.objects.get(pk=plan["fa2"].pk).status == Status.CONFIRMED


def test_it_provider_progress_but_no_create_edit_or_verify(api, region, plan):
    it = api("it_provider")
    a_id = plan["a"].pk
    body = it.patch(f"/actions/{a_id}", {"progress": 70}).json()
    assert body["status"] == "in_progress" and body["progress"] == 70
    assert_error(it.patch(f"/actions/{a_id}", {"title": "Renommée"}), 403)
    assert_error(it.post("/actions", {"structure": region.a.pk, "title": "Non"}), 403)
    assert_error(it.post("/actions/from-findings", {"findings": [plan["fa2"].pk]}), 403)
    response = it.multipart(
        f"/actions/{a_id}/evidence",
        {"note": "Correctif appliqué", "claim_done": "true"},
    )
    assert response.status_code == 201, response.content
    assert Finding.objects.get(pk=plan["fa1"].pk).status == Status.MITIGATION_CLAIMED
    assert_error(it.post(f"/evidence/{response.json()['id']}/approve"), 403)
    assert_error(api("director").post(f"/evidence/{plan['proof'].pk}/approve"), 403)


def test_evidence_upload_and_approval(api, plan):
    a_id = plan["a"].pk
    director = api("director")
    bad = director.multipart(
        f"/actions/{a_id}/evidence",
        {"note": "x", "document": SimpleUploadedFile("virus.exe", b"MZ")},
    )
    assert "document" in assert_error(bad, 422)["details"]
    empty = director.multipart(f"/actions/{a_id}/evidence", {"note": ""})
    assert "note" in assert_error(empty, 422)["details"]
    good = director.multipart(
        f"/actions/{a_id}/evidence",
        {"note": "Capture", "document": SimpleUploadedFile("c.pdf", b"%PDF-1.7 x")},
    )
    assert good.status_code == 201 and good.json()["has_document"]
    assert len(good.json()["document_sha256"]) == 64
    listed = director.get(f"/actions/{a_id}/evidence").json()
    assert len(listed) == 2
    approved = api("centre_analyst").post(f"/evidence/{good.json()['id']}/approve")
    assert approved.status_code == 200 and approved.json()["approved_by"]
    plan["a"].refresh_from_db()
    assert plan["a"].status == ActionStatus.VERIFIED
    assert Finding.objects.get(pk=plan["fa1"].pk).status == Status.VERIFIED_CLOSED
    assert_error(api("centre_analyst").post(f"/evidence/{good.json()['id']}/approve"), 422)


def test_from_findings(api, region, plan):
    f1, f2 = seed(region.a, item("RDP", "high", internet_exposed=True), item("SMB", "low"))
    response = api("referent").post(
        "/actions/from-findings", {"findings": [f1.pk, f2.pk], "grouped": False}
    )
    assert response.status_code == 201, response.content
    assert sorted((a["title"], a["priority"]) for a in response.json()) == [
        ("RDP", 1),
        ("SMB", 4),
    ]
    [other] = seed(region.a2, item("Autre"))
    mixed = api("centre_admin").post("/actions/from-findings", {"findings": [f1.pk, other.pk]})
    assert "findings" in assert_error(mixed, 422)["details"]


def test_campaign_routes_are_for_centre_staff(api, region, plan):
    seed(region.a, item("Exchange", cve="CVE-2021-26855"))
    campaign = campaigns.save_campaign(
        region.users["centre_admin"],
        Campaign(title="Exchange", notice="Mettez à jour Exchange.", match_cve="CVE-2021-26855"),
    )
    campaigns.launch(region.users["centre_admin"], campaign)
    listing = api("centre_analyst").get("/campaigns").json()
    assert [c["title"] for c in listing["results"]] == ["Exchange"]
    detail = api("centre_analyst").get(f"/campaigns/{campaign.pk}").json()
    assert detail["actions_total"] == 1
    assert detail["structures"][0]["structure"]["id"] == region.a.pk
    for role in ("director", "referent", "it_provider", "director_b", "ars_viewer"):
        assert_error(api(role).get("/campaigns"), 403)
        assert_error(api(role).get(f"/campaigns/{campaign.pk}"), 403)
    # A's people see the notice through their action only
    action = ActionItem.objects.get(campaign=campaign)
    seen = api("director").get(f"/actions/{action.pk}").json()
    assert seen["campaign"]["notice"] == "Mettez à jour Exchange."
    assert_error(api("director_b").get(f"/actions/{action.pk}"), 404)


def test_action_list_has_a_query_budget(api, region, django_assert_max_num_queries):
    findings = seed(region.a, *[item(f"F{i}") for i in range(60)])
    services.create_from_findings(region.users["director"], [f.pk for f in findings], grouped=False)
    for role, budget in (("centre_admin", 6), ("org_director", 7), ("it_provider", 7)):
        client = api(role)
        client.get("/me")  # the token's first use is recorded: measure the steady state
        with django_assert_max_num_queries(budget):
            body = client.get("/actions", page_size=50).json()
        assert len(body["results"]) == 50
        assert all(len(a["findings"]) == 1 for a in body["results"])
