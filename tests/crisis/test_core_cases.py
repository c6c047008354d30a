"""Reporting, qualifying, opening a case from its template, phases, the cell and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from carbet.audit.models import AuditEntry
from carbet.crisis import selectors, services
from carbet.crisis.models import CrisisCase, IncidentReport, LogEntry, Obligation, Stakeholder
from tests.crisis.conftest import T0

H = dt.timedelta(hours=1)


def test_a_case_opens_from_the_template_with_everything_prefilled(case, region):
    assert case.reference.startswith("CR-") and case.category == "ransomware"
    assert case.phase == "qualification" and case.opened_at == T0
    assert case.report.status == "qualified"
    assert case.tasks.count() >= 20
    assert {t.workstream for t in case.tasks.all()} >= {
        "technical",
        "care",
        "legal",
        "communication",
        "hr",
        "suppliers",
    }
    assert case.tasks.filter(due_at=T0 + 30 * dt.timedelta(minutes=1) + H).exists()
    assert case.checklist.filter(checklist="exit").count() >= 4
    assert case.activities.filter(name="Urgences", mode="normal").exists()
    kinds = set(case.stakeholders.values_list("kind", flat=True))
    assert {"pris", "cert_sante", "ars", "cnil", "insurer", "it_provider", "police"} <= kinds
    it = case.stakeholders.get(kind="it_provider")
    assert it.email == "support@infosud.test" and it.organisation == "InfoSud"  # from the contacts
    members = {m.email: m for m in case.members.all()}
    assert members["dir@alpha.test"].user == region.users["director"]
    assert members["ref@alpha.test"].user == region.users["referent"]
    assert "dpo@alpha.test" in members and members["dpo@alpha.test"].user is None
    assert "dir@beta.test" not in members
    obligations = {o.kind: o for o in case.obligations.all()}
    assert obligations["cnil"].applicable and obligations["cnil"].due_at == T0 - H + 72 * H
    assert obligations["ars"].due_at == T0 + dt.timedelta(minutes=30)
    assert obligations["insurer"].due_at is None
    fields = dict(obligations["ars"].content["fields"])
    assert fields["Structure"] == region.a.name and "rançon" in fields["Description"]
    log = list(LogEntry.objects.filter(case=case).order_by("sequence"))
    assert [e.sequence for e in log] == [1, 2]
    assert "Qualification" in log[1].text or "qualification" in log[1].text
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"crisis.report", "crisis.qualify", "crisis.open", "crisis.phase"} <= actions


def test_only_directors_and_referents_report_for_their_structure(region, keys):
    for role in ("it_provider", "director_b", "ars_viewer", "nobody"):
        with pytest.raises(PermissionDenied):
            services.report_incident(
                region.users[role], region.a, what="x", contact_name="x", contact_phone="1"
            )
    report = services.report_incident(
        region.users["referent"], region.a, what="x", contact_name="x", contact_phone="1"
    )
    with pytest.raises(PermissionDenied):  # only the centre qualifies
        services.qualify_report(
            region.users["director"],
            report,
            qualification="crisis",
            severity=3,
            personal_data=False,
            category="ransomware",
        )
    assert (
        services.qualify_report(
            region.users["centre_analyst"],
            report,
            qualification="incident",
            severity=1,
            personal_data=False,
            category="messagerie",
            open_case=False,
        )
        is None
    )
    report.refresh_from_db()
    assert report.status == "dismissed"
    with pytest.raises(ValueError):
        services.qualify_report(
            region.users["centre_analyst"],
            report,
            qualification="incident",
            severity=1,
            personal_data=False,
            category="messagerie",
        )


def test_the_case_is_seen_by_its_cell_and_the_centre_only(case, region):
    def seen(role):
        return CrisisCase.objects.visible_to(region.users[role]).filter(pk=case.pk).exists()

    assert seen("director") and seen("referent") and seen("centre_analyst") and seen("centre_admin")
    for role in ("director_b", "ars_viewer", "it_provider", "nobody"):
        assert not seen(role), role
    # The organisation's director holds the role but sits in the cell too (covering membership).
    assert seen("org_director")
    # Leaving the cell removes the access, for the case and every row of it.
    member = case.members.get(user=region.users["referent"])
    services.deactivate_cell_member(region.users["director"], member)
    assert not seen("referent")
    assert not Stakeholder.objects.visible_to(region.users["referent"]).exists()
    assert not Obligation.objects.visible_to(region.users["referent"]).exists()
    assert not LogEntry.objects.visible_to(region.users["referent"]).exists()
    assert Stakeholder.objects.visible_to(region.users["director"]).filter(case=case).exists()
    with pytest.raises(Http404):
        selectors.case_for(region.users["director_b"], case.pk)
    # Reports: the structure's people and the centre.
    assert IncidentReport.objects.visible_to(region.users["director"], "crisis.report").exists()
    assert not IncidentReport.objects.visible_to(
        region.users["director_b"], "crisis.report"
    ).exists()
    assert not IncidentReport.objects.visible_to(
        region.users["ars_viewer"], "crisis.report"
    ).exists()


def test_a_stranger_cannot_be_added_to_the_cell(case, region):
    with pytest.raises(ValueError):
        services.add_cell_member(
            region.users["director"], case, name="B", role="other", user=region.users["director_b"]
        )
    services.add_cell_member(
        region.users["director"], case, name="Com", role="communication", email="com@alpha.test"
    )
    assert case.members.filter(email="com@alpha.test").exists()


def test_phases_dated_with_reason_and_durations(case, region):
    analyst = region.users["centre_analyst"]
    services.change_phase(analyst, case, "containment", reason="Isolement", now=T0 + 2 * H)
    services.change_phase(analyst, case, "remediation", reason="Éviction", now=T0 + 50 * H)
    with pytest.raises(ValueError):
        services.change_phase(analyst, case, "remediation", reason="x", now=T0 + 51 * H)
    with pytest.raises(ValueError):
        services.change_phase(analyst, case, "rebuild", reason=" ", now=T0 + 51 * H)
    with pytest.raises(PermissionDenied):  # the cell runs the crisis, the centre moves phases
        services.change_phase(region.users["director"], case, "rebuild", reason="x")
    spent = services.phase_durations(case, now=T0 + 60 * H)
    assert spent["alert"] == dt.timedelta(minutes=30)
    assert spent["qualification"] == 2 * H - dt.timedelta(minutes=30)
    assert spent["containment"] == 48 * H and spent["remediation"] == 10 * H
    change = case.phase_changes.get(to_phase="remediation")
    assert (
        change.reason == "Éviction" and change.by == analyst and change.from_phase == "containment"
    )
    services.change_phase(analyst, case, "closed", reason="Fin", now=T0 + 70 * H)
    case.refresh_from_db()
    assert case.closed_at == T0 + 70 * H
    with pytest.raises(ValueError):
        services.change_phase(analyst, case, "lessons", reason="x")


def test_references_follow_each_other(region, keys):
    first = services.open_case_for(
        region.users["centre_admin"], region.b, category="messagerie", now=T0
    )
    second = services.open_case_for(
        region.users["centre_admin"], region.b, category="deni-service", now=T0
    )
    assert first.reference == "CR-2026-0001" and second.reference == "CR-2026-0002"
    with pytest.raises(ValueError):
        services.open_case_for(region.users["centre_admin"], region.b, category="nope")
