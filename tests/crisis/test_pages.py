"""The crisis pages per role: the report from a phone, the centre's qualification, every tab of
a case, the forms through the services, and the refusals (another structure, the ARS, a person
of the structure outside the cell)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from carbet.crisis.choices import ReportStatus
from carbet.crisis.models import (
    Activity,
    CrisisAsset,
    Decision,
    IncidentReport,
    Indicator,
    Lesson,
    LogEntry,
    Obligation,
    Sitrep,
    Stakeholder,
    Task,
)

pytestmark = pytest.mark.django_db

TABS = (
    "crisis:case",
    "crisis:director",
    "crisis:log",
    "crisis:decisions",
    "crisis:tasks",
    "crisis:sitreps",
    "crisis:clock",
    "crisis:stakeholders",
    "crisis:board",
    "crisis:evidence",
    "crisis:exit",
    "crisis:log_print",
)


def _local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_a_director_reports_from_the_phone_page_and_sees_what_happens_next(region, keys):
    client = region.client("director")
    page = client.get(reverse("crisis:report"))
    assert page.status_code == 200
    assert "Que se passe-t-il" in page.content.decode()
    response = client.post(
        reverse("crisis:report"),
        {
            "structure": region.a.pk,
            "what": "Les écrans affichent une demande de rançon",
            "since": _local(timezone.now() - dt.timedelta(hours=1)),
            "affected": "Urgences",
            "contact_name": "Dr Alpha",
            "contact_phone": "06 00 00 00 00",
        },
    )
    report = IncidentReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crisis:report_done", args=[report.pk])
    done = client.get(response["Location"]).content.decode()
    assert "Ce qui va se passer" in done and "06 00 00 00 00" in done
    assert report.status == ReportStatus.NEW


def test_a_report_with_errors_keeps_what_was_typed(region, keys):
    client = region.client("director")
    response = client.post(
        reverse("crisis:report"),
        {
            "structure": region.a.pk,
            "what": "Plus de messagerie",
            "contact_name": "",
            "contact_phone": "12",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Plus de messagerie" in body
    assert 'role="alert"' in body and "Ce numéro semble incomplet" in body
    assert not IncidentReport.objects.exists()


def test_nobody_reports_for_another_structure(region, keys):
    client = region.client("director_b")
    response = client.post(
        reverse("crisis:report"),
        {"structure": region.a.pk, "what": "x", "contact_name": "x", "contact_phone": "0600000000"},
    )
    assert response.status_code == 404
    assert not IncidentReport.objects.exists()


def test_the_centre_qualifies_a_report_and_the_case_opens(region, keys):
    from carbet.crisis import services

    report = services.report_incident(
        region.users["director"],
        region.a,
        what="Rançon",
        contact_name="Dr A",
        contact_phone="0600000000",
    )
    client = region.client("centre_analyst")
    assert report.what in client.get(reverse("crisis:index")).content.decode()
    assert client.get(reverse("crisis:qualify", args=[report.pk])).status_code == 200
    response = client.post(
        reverse("crisis:qualify", args=[report.pk]),
        {
            "decision": "open",
            "qualification": "crisis",
            "severity": "4",
            "personal_data": "yes",
            "category": "ransomware",
            "note": "Rançongiciel",
        },
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.QUALIFIED
    assert response["Location"] == reverse("crisis:case", args=[report.case.pk])
    # The director reporter sits in the cell and reaches the case.
    assert region.client("director").get(response["Location"]).status_code == 200


def test_the_director_cannot_qualify(region, keys):
    from carbet.crisis import services

    report = services.report_incident(
        region.users["director"],
        region.a,
        what="Rançon",
        contact_name="Dr A",
        contact_phone="0600000000",
    )
    assert (
        region.client("director").get(reverse("crisis:qualify", args=[report.pk])).status_code
        == 403
    )


@pytest.mark.parametrize("role", ["director", "centre_analyst"])
def test_every_tab_of_a_case_opens(region, case, role):
    client = region.client(role)
    for name in TABS:
        response = client.get(reverse(name, args=[case.pk]))
        assert response.status_code == 200, name
        assert case.reference in response.content.decode()


@pytest.mark.parametrize("role", ["director_b", "ars_viewer", "it_provider", "nobody"])
def test_outsiders_see_nothing_of_a_case(region, case, role):
    client = region.client(role)
    for name in (*TABS, "crisis:log_csv", "crisis:stix", "crisis:report_pdf"):
        response = client.get(reverse(name, args=[case.pk]))
        assert response.status_code in (302, 403, 404), (name, response.status_code)
        assert case.title not in response.content.decode()
    response = client.post(
        reverse("crisis:log", args=[case.pk]), {"text": "intrus", "kind": "fact"}
    )
    assert response.status_code in (302, 403, 404)
    assert not LogEntry.objects.filter(text="intrus").exists()


def test_a_structure_person_outside_the_cell_sees_nothing(region, case):
    """The organisation's director covers structure A but does not sit in this case's cell."""
    from carbet.crisis.models import CellMember

    user = region.users["org_director"]
    CellMember.objects.filter(case=case, user=user).update(active=False)
    response = region.client("org_director").get(reverse("crisis:case", args=[case.pk]))
    assert response.status_code == 404


def test_the_ars_sees_aggregates_only(region, case):
    client = region.client("ars_viewer")
    page = client.get(reverse("crisis:ars"))
    assert page.status_code == 200
    body = page.content.decode()
    assert case.reference not in body and region.a.name not in body
    assert client.get(reverse("crisis:index")).status_code == 302


def test_the_log_appends_corrects_and_filters(region, case):
    client = region.client("director")
    url = reverse("crisis:log", args=[case.pk])
    client.post(
        url,
        {"text": "Serveur de fichiers chiffré", "kind": "fact", "source": "DSI", "verified": "on"},
    )
    entry = LogEntry.objects.get(text="Serveur de fichiers chiffré")
    assert entry.verified and entry.source == "DSI"
    response = client.post(
        reverse("crisis:correct", args=[case.pk, entry.pk]),
        {"text": "Serveur de fichiers et NAS chiffrés", "source": "DSI"},
    )
    assert response.status_code == 302
    correction = LogEntry.objects.get(text="Serveur de fichiers et NAS chiffrés")
    assert correction.supersedes_id == entry.pk
    body = client.get(url).content.decode()
    assert "cr-superseded" in body and f"#e{correction.sequence}" in body
    assert "Chaîne vérifiée" in body
    filtered = client.get(url, {"kind": "decision"}).content.decode()
    assert "Serveur de fichiers chiffré" not in filtered
    csv_body = b"".join(client.get(reverse("crisis:log_csv", args=[case.pk])).streaming_content)
    assert "Serveur de fichiers et NAS chiffrés".encode() in csv_body


def test_a_csv_export_does_not_carry_formulas(region, case):
    client = region.client("director")
    client.post(
        reverse("crisis:log", args=[case.pk]), {"text": '=HYPERLINK("http://x")', "kind": "fact"}
    )
    body = b"".join(
        client.get(reverse("crisis:log_csv", args=[case.pk])).streaming_content
    ).decode()
    assert "'=HYPERLINK" in body and ";=HYPERLINK" not in body


def test_a_future_event_time_is_refused_and_nothing_is_lost(region, case):
    client = region.client("director")
    count = LogEntry.objects.filter(case=case).count()
    response = client.post(
        reverse("crisis:log", args=[case.pk]),
        {
            "text": "Texte long à ne pas perdre",
            "kind": "fact",
            "event_at": _local(timezone.now() + dt.timedelta(days=2)),
        },
    )
    assert response.status_code == 200
    assert "Texte long à ne pas perdre" in response.content.decode()
    assert LogEntry.objects.filter(case=case).count() == count


def test_decisions_tasks_sitreps_through_the_pages(region, case, mail):
    client = region.client("director")
    client.post(
        reverse("crisis:decisions", args=[case.pk]),
        {
            "title": "Couper internet",
            "options": "Couper\nFiltrer",
            "chosen": "Couper",
            "rationale": "Propagation",
            "decided_by": "Directrice",
        },
    )
    assert Decision.objects.get(case=case, title="Couper internet").options == ["Couper", "Filtrer"]
    client.post(
        reverse("crisis:tasks", args=[case.pk]),
        {
            "workstream": "care",
            "title": "Imprimer les plans de soins",
            "priority": "1",
            "owner": "Cadre",
        },
    )
    task = Task.objects.get(case=case, title="Imprimer les plans de soins")
    client.post(
        reverse("crisis:task_update", args=[case.pk, task.pk]), {"status": "done", "owner": "Cadre"}
    )
    task.refresh_from_db()
    assert task.status == "done"
    response = client.post(reverse("crisis:sitreps", args=[case.pk]))
    sitrep = Sitrep.objects.get(case=case)
    assert response["Location"] == reverse("crisis:sitrep", args=[case.pk, sitrep.pk])
    client.post(
        reverse("crisis:sitrep", args=[case.pk, sitrep.pk]), {"body": "Point relu", "send": "1"}
    )
    sitrep.refresh_from_db()
    assert sitrep.status == "sent" and sitrep.body == "Point relu"
    assert mail.messages


def test_the_regulatory_clock_marks_a_declaration_sent(region, case):
    client = region.client("director")
    ars = Obligation.objects.get(case=case, kind="ars")
    page = client.get(reverse("crisis:declaration", args=[case.pk, ars.pk]))
    assert page.status_code == 200 and region.a.name in page.content.decode()
    client.post(
        reverse("crisis:obligation_sent", args=[case.pk, ars.pk]), {"reference": "SIG-2026-42"}
    )
    ars.refresh_from_db()
    assert ars.sent_at and ars.reference == "SIG-2026-42"
    director = client.get(reverse("crisis:director", args=[case.pk])).content.decode()
    assert "Ce qui a été déclaré, et quand" in director and "SIG-2026-42" in director


def test_board_stakeholders_evidence_and_indicators(region, case):
    client = region.client("director")
    activity = Activity.objects.filter(case=case).first()
    client.post(
        reverse("crisis:activity", args=[case.pk, activity.pk]),
        {"mode": "stopped", "procedure": "Admissions papier", "impact": "Délais"},
    )
    activity.refresh_from_db()
    assert activity.mode == "stopped"
    director = client.get(reverse("crisis:director", args=[case.pk])).content.decode()
    assert activity.name in director and "Arrêté" in director
    client.post(
        reverse("crisis:asset_add", args=[case.pk]),
        {"label": "Serveur DPI", "state": "compromised"},
    )
    asset = CrisisAsset.objects.get(case=case, label="Serveur DPI")
    client.post(reverse("crisis:asset_state", args=[case.pk, asset.pk]), {"state": "isolated"})
    asset.refresh_from_db()
    assert asset.state == "isolated"
    client.post(
        reverse("crisis:stakeholders", args=[case.pk]),
        {"kind": "pris", "name": "Réponse SA", "qualification_ref": "PRIS-123"},
    )
    pris = Stakeholder.objects.get(case=case, name="Réponse SA")
    client.post(
        reverse("crisis:call", args=[case.pk, pris.pk]), {"text": "Intervention demain 8 h"}
    )
    assert LogEntry.objects.filter(case=case, stakeholder=pris).exists()
    client.post(
        reverse("crisis:evidence", args=[case.pk]),
        {"what": "indicator", "type": "ipv4", "value": "203.0.113.7", "tlp": "amber"},
    )
    assert Indicator.objects.filter(case=case, value="203.0.113.7").exists()
    stix = client.get(reverse("crisis:stix", args=[case.pk]))
    assert b"203.0.113.7" in stix.content


def test_lessons_become_findings_from_the_exit_page(region, case):
    from carbet.findings.models import Finding

    client = region.client("director")
    client.post(
        reverse("crisis:exit", args=[case.pk]),
        {
            "kind": "improve",
            "workstream": "technical",
            "text": "Sauvegardes non isolées",
            "recommendation": "Sauvegarde hors ligne",
            "severity": "3",
        },
    )
    assert Lesson.objects.filter(case=case).count() == 1
    assert (
        region.client("director")
        .post(reverse("crisis:lessons_publish", args=[case.pk]))
        .status_code
        == 403
    )
    region.client("centre_analyst").post(reverse("crisis:lessons_publish", args=[case.pk]))
    assert Finding.objects.filter(structure=region.a, source="crisis").exists()


def test_the_structure_page_links_the_kit(region, keys):
    client = region.client("director")
    body = client.get(reverse("crisis:structure", args=[region.a.pk])).content.decode()
    assert reverse("crisis:kit_pdf", args=[region.a.pk]) in body
    assert (
        region.client("director_b").get(reverse("crisis:kit_pdf", args=[region.a.pk])).status_code
        == 404
    )


def test_the_log_pages_back_to_older_entries(region, case):
    from carbet.crisis import services_log

    user = region.users["director"]
    for n in range(120):
        services_log.append_entry(user, case, text=f"Entrée de pagination {n}", kind="fact")
    client = region.client("director")
    url = reverse("crisis:log", args=[case.pk])
    first = client.get(url).content.decode()
    assert "Entrée de pagination 119" in first and "Entrée de pagination 5<" not in first
    older = LogEntry.objects.get(text="Entrée de pagination 19").sequence + 1
    assert "avant=" in first  # the link to the older entries
    second = client.get(url, {"avant": older}).content.decode()
    assert "Entrée de pagination 18" in second and "Entrée de pagination 119" not in second
