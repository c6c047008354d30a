"""The roadmap API with personal tokens: reads scoped to the caller, writes through the
services (403 without the right, 422 on bad input), aggregates for the ARS only."""

from __future__ import annotations

from carbet.core.tenancy import SYSTEM
from carbet.roadmap import auto_evidence, indicators, services, services_backups
from tests.api.conftest import token_client


def test_assessment_answers_diagnostic_and_proposal(rm):
    referent = token_client(rm.users["referent"])
    assessment = services.assessment_for(rm.a, rm.frameworks["care-d2"])
    response = referent.post(
        f"/roadmap/framework-assessments/{assessment.pk}/answers",
        {"requirement": "d2.p1", "result": "met", "justification": "PSSI signée"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["answers"][0]["result"] == "met"
    bad = referent.post(
        f"/roadmap/framework-assessments/{assessment.pk}/answers",
        {"requirement": "d2.p1", "result": "maybe"},
    )
    assert bad.status_code == 422
    listing = referent.get("/roadmap/framework-assessments").json()
    assert [row["id"] for row in listing["results"]] == [assessment.pk]
    assert (
        token_client(rm.users["director_b"]).get("/roadmap/framework-assessments").json()["count"]
        == 0
    )
    diagnostic = services.assessment_for(rm.a, rm.frameworks["diagnostic"])
    services.save_theme(SYSTEM, diagnostic, {"acc.mfa": "0", "pos.maj": "1"})
    result = referent.get(f"/roadmap/structures/{rm.a.pk}/diagnostic").json()
    assert result["priorities"][:2] == ["acc.mfa", "pos.maj"]
    proposal = referent.post(f"/roadmap/structures/{rm.a.pk}/proposal")
    assert proposal.status_code == 200 and proposal.json()[0]["requirement"].startswith("care-")
    director = token_client(rm.users["director"])
    assert director.post(f"/roadmap/structures/{rm.a.pk}/proposal").status_code == 403
    item = proposal.json()[0]
    patched = referent.patch(
        f"/roadmap/plan-items/{item['id']}", {"budget": "2500", "year": item["year"]}
    )
    assert patched.status_code == 200 and patched.json()["budget"] == "2500.00"
    assert referent.patch(f"/roadmap/plan-items/{item['id']}", {"colour": "red"}).status_code == 422


def test_backups_restore_tests_and_indicators(rm):
    system = services_backups.save_system(
        rm.users["referent"], rm.a, {"name": "DPI", "method": "image", "criticality": "critical"}
    )
    it = token_client(rm.users["it_provider"])
    response = it.post(
        f"/roadmap/backups/{system.pk}/restore-tests",
        {
            "tested_on": rm.today.isoformat(),
            "scope": "Base",
            "result": "success",
            "to_production": True,
            "business_referent": "Cadre",
        },
    )
    assert response.status_code == 200, response.content
    assert len(response.json()["restore_tests"]) == 1
    director = token_client(rm.users["director"])
    assert (
        director.post(
            f"/roadmap/backups/{system.pk}/restore-tests",
            {"tested_on": rm.today.isoformat(), "scope": "Base", "result": "success"},
        ).status_code
        == 403
    )
    auto_evidence.record(rm.a, "directory_audit", value={"anssi_level": 4})
    indicators.compute_all()
    values = director.get("/roadmap/indicators", code="directory_level").json()["results"]
    assert [(v["structure"]["id"], v["value"]) for v in values if v["value"] is not None] == [
        (rm.a.pk, 4.0)
    ]
    assert director.get("/roadmap/indicators/region").status_code == 403
    regional = token_client(rm.users["ars_viewer"]).get("/roadmap/indicators/region")
    assert regional.status_code == 200
    level = next(r for r in regional.json() if r["code"] == "directory_level")
    # One audited structure out of three: the count is secret (fewer than five structures,
    # issue 11); the stored aggregate keeps it, the ARS does not get it.
    assert level["data"]["counts"] == {"4": None} and level["data"]["withheld"] == "too_small"
    # The ARS gets aggregates only: the structures' lists are refused outright.
    assert token_client(rm.users["ars_viewer"]).get("/roadmap/backups").status_code == 403
    assert token_client(rm.users["referent"]).get("/roadmap/frameworks").status_code == 200
