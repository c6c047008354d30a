"""The crisis API: the flow from report to declarations, and what another structure and the
ARS get (nothing of a case: 404 on ids, empty lists, aggregates only)."""

from __future__ import annotations

import pytest

from carbet.crisis.models import LogEntry, Task
from tests.api.conftest import assert_error, token_client
from tests.crisis.conftest import T0  # noqa: F401


@pytest.fixture
def api(region, keys):
    clients: dict = {}

    def for_role(role):
        if role not in clients:
            clients[role] = token_client(region.users[role])
        return clients[role]

    return for_role


def test_report_qualify_and_run_the_case(api, region):
    response = api("director").post(
        f"/crisis/structures/{region.a.pk}/reports",
        {"what": "Rançon affichée", "contact_name": "Dr A", "contact_phone": "0600"},
    )
    assert response.status_code == 201, response.content
    report = response.json()
    assert report["status"] == "new" and report["case_id"] is None
    assert_error(
        api("director").post(
            f"/crisis/reports/{report['id']}/qualify",
            {
                "qualification": "crisis",
                "severity": 4,
                "personal_data": True,
                "category": "ransomware",
            },
        ),
        403,
    )
    qualified = api("centre_analyst").post(
        f"/crisis/reports/{report['id']}/qualify",
        {"qualification": "crisis", "severity": 4, "personal_data": True, "category": "ransomware"},
    )
    assert qualified.status_code == 200, qualified.content
    case_id = qualified.json()["case_id"]
    detail = api("director").get(f"/crisis/cases/{case_id}").json()
    assert detail["phase"] == "qualification" and detail["open_tasks"] > 10
    assert {d["kind"] for d in detail["declarations"]} == {"ars", "cnil", "police", "insurer"}
    entry = api("referent").post(
        f"/crisis/cases/{case_id}/log", {"text": "Serveurs isolés", "kind": "action"}
    )
    assert entry.status_code == 201 and "ref@alpha.test" in entry.json()["author"]
    body = entry.json()
    assert body["sequence"] == 3 and len(body["entry_hash"]) == 64
    fixed = api("referent").post(
        f"/crisis/log-entries/{body['id']}/correction",
        {"text": "Serveurs isolés à 9 h", "verified": True},
    )
    assert fixed.status_code == 201 and fixed.json()["supersedes"] == body["id"]
    log = api("director").get(f"/crisis/cases/{case_id}/log", kind="action").json()
    assert "results" in log, log
    assert [e["superseded"] for e in log["results"]] == [True, False]
    assert api("director").get(f"/crisis/cases/{case_id}/log/verify").json()["ok"]
    assert_error(
        api("referent").post(f"/crisis/cases/{case_id}/log", {"text": "x", "kind": "rumeur"}), 422
    )
    task = api("referent").post(
        f"/crisis/cases/{case_id}/tasks",
        {"workstream": "care", "title": "Délestage", "priority": 1},
    )
    assert task.status_code == 201
    done = api("referent").patch(f"/crisis/tasks/{task.json()['id']}", {"status": "done"})
    assert done.json()["status"] == "done"
    decision = api("director").post(
        f"/crisis/cases/{case_id}/decisions",
        {
            "title": "Arrêt du SI",
            "options": ["oui", "non"],
            "chosen": "oui",
            "decided_by": "Directrice",
        },
    )
    assert decision.status_code == 201
    ars = next(d for d in detail["declarations"] if d["kind"] == "ars")
    sent = api("director").post(f"/crisis/obligations/{ars['id']}/sent", {"reference": "SIG-1"})
    assert sent.json()["status"] == "sent" and sent.json()["reference"] == "SIG-1"
    board = api("director").get(f"/crisis/cases/{case_id}/board").json()
    urgences = next(a for a in board["activities"] if a["name"] == "Urgences")
    changed = api("referent").patch(
        f"/crisis/activities/{urgences['id']}", {"mode": "degraded", "procedure": "papier"}
    )
    assert changed.json()["mode"] == "degraded"
    ioc = api("referent").post(
        f"/crisis/cases/{case_id}/indicators",
        {"type": "ipv4", "value": "203.0.113.9", "tlp": "green"},
    )
    assert ioc.status_code == 201
    assert_error(
        api("referent").post(
            f"/crisis/cases/{case_id}/indicators", {"type": "ipv4", "value": "nope"}
        ),
        422,
    )
    bundle = api("director").get(f"/crisis/cases/{case_id}/indicators/stix").json()
    assert (
        bundle["type"] == "bundle"
        and bundle["objects"][0]["pattern"] == "[ipv4-addr:value = '203.0.113.9']"
    )
    assert_error(
        api("director").post(
            f"/crisis/cases/{case_id}/phase", {"phase": "containment", "reason": "x"}
        ),
        403,
    )
    moved = api("centre_analyst").post(
        f"/crisis/cases/{case_id}/phase", {"phase": "containment", "reason": "isolement"}
    )
    assert moved.json()["phase"] == "containment"
    assert_error(
        api("centre_analyst").post(
            f"/crisis/cases/{case_id}/phase", {"phase": "containment", "reason": "x"}
        ),
        422,
    )


def test_another_structure_and_the_ars_see_nothing_of_a_case(api, region, case):
    entry = LogEntry.objects.filter(case=case).first()
    task = Task.objects.filter(case=case).first()
    obligation = case.obligations.first()
    activity = case.activities.first()
    before = LogEntry.objects.filter(case=case).count()
    for role in ("director_b", "ars_viewer", "it_provider", "nobody"):
        client = api(role)
        for path in (
            f"/crisis/cases/{case.pk}",
            f"/crisis/cases/{case.pk}/log",
            f"/crisis/cases/{case.pk}/log/verify",
            f"/crisis/cases/{case.pk}/tasks",
            f"/crisis/cases/{case.pk}/decisions",
            f"/crisis/cases/{case.pk}/declarations",
            f"/crisis/cases/{case.pk}/board",
            f"/crisis/cases/{case.pk}/indicators",
            f"/crisis/cases/{case.pk}/indicators/stix",
        ):
            assert_error(client.get(path), 404)
        for method, path, body in (
            ("post", f"/crisis/cases/{case.pk}/log", {"text": "x", "kind": "fact"}),
            ("post", f"/crisis/log-entries/{entry.pk}/correction", {"text": "x"}),
            ("patch", f"/crisis/tasks/{task.pk}", {"status": "done"}),
            ("post", f"/crisis/obligations/{obligation.pk}/sent", {"reference": "x"}),
            ("patch", f"/crisis/activities/{activity.pk}", {"mode": "stopped"}),
            ("post", f"/crisis/cases/{case.pk}/phase", {"phase": "closed", "reason": "x"}),
            (
                "post",
                f"/crisis/reports/{case.report_id}/qualify",
                {
                    "qualification": "crisis",
                    "severity": 1,
                    "personal_data": False,
                    "category": "ransomware",
                },
            ),
        ):
            response = getattr(client, method)(path, body)
            assert response.status_code in (403, 404), (role, path, response.status_code)
        listed = client.get("/crisis/cases")
        assert listed.status_code == 403 or listed.json()["results"] == []
        reports = client.get("/crisis/reports")
        assert reports.status_code == 403 or reports.json()["results"] == []
    assert_error(
        api("director_b").post(
            f"/crisis/structures/{region.a.pk}/reports",
            {"what": "x", "contact_name": "x", "contact_phone": "1"},
        ),
        404,
    )
    assert LogEntry.objects.filter(case=case).count() == before
    task.refresh_from_db()
    assert task.status == "todo"
    # The ARS: aggregates only; a structure's people get no aggregates.
    assert api("ars_viewer").get("/crisis/aggregates").status_code == 200
    assert_error(api("director").get("/crisis/aggregates"), 403)
    # The cell sees it.
    assert api("director").get(f"/crisis/cases/{case.pk}").status_code == 200
    assert [c["id"] for c in api("director").get("/crisis/cases").json()["results"]] == [case.pk]


def test_templates_listed(api):
    codes = {t["code"] for t in api("director").get("/crisis/templates").json()}
    assert {"ransomware", "dispositif-medical"} <= codes
