"""Action items: bulk creation and priority derivation, links, progress rights, evidence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from carbet.audit.models import AuditEntry
from carbet.findings.choices import EventKind, Status
from carbet.findings.models import ActionItem, ActionStatus, Finding
from carbet.findings.models.plans import OwnerKind
from carbet.findings.plans import evidence, services
from carbet.findings.plans.priority import (
    FindingTraits,
    action_priority,
    earliest_due,
    finding_priority,
)
from tests.findings.test_plans_support import item, seed

# --- Priority derivation (pure) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "kev", "exposed", "expected"),
    [
        (4, False, False, 1),
        (3, True, False, 1),
        (0, True, False, 1),
        (3, False, False, 2),
        (2, False, False, 3),
        (1, False, False, 4),
        (0, False, False, 4),
        (3, False, True, 1),
        (2, False, True, 2),
        (1, False, True, 3),
        (0, False, True, 3),
        (4, False, True, 1),
    ],
)
def test_finding_priority(severity, kev, exposed, expected):
    traits = FindingTraits(severity=severity, kev=kev, internet_exposed=exposed)
    assert finding_priority(traits) == expected


traits_strategy = st.builds(
    FindingTraits,
    severity=st.integers(0, 4),
    kev=st.booleans(),
    internet_exposed=st.booleans(),
    sla_due=st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1))),
)


@given(st.lists(traits_strategy, min_size=1, max_size=20))
def test_group_takes_the_most_urgent_priority_and_earliest_due(traits):
    assert action_priority(traits) == min(finding_priority(t) for t in traits)
    assert 1 <= action_priority(traits) <= 4
    dues = [t.sla_due for t in traits if t.sla_due]
    assert earliest_due(traits) == (min(dues) if dues else None)


# --- Bulk creation from selected findings ----------------------------------------------------


def test_one_action_covering_all_selected_findings(region):
    findings = seed(
        region.a,
        item("TLS obsolète", "medium"),
        item("VPN vulnérable", "high", kev=True),
        item("Bannière", "low"),
    )
    director = region.users["director"]
    [action] = services.create_from_findings(
        director, [f.pk for f in findings], grouped=True, ip="127.0.0.1"
    )
    assert action.structure == region.a
    assert action.priority == 1  # KEV → P1
    assert action.due_date == min(f.sla_due for f in findings)
    assert "3 vulnérabilités" in action.title
    assert "VPN vulnérable" in action.why and "Corriger TLS obsolète" in action.how
    assert set(action.findings.values_list("pk", flat=True)) == {f.pk for f in findings}
    for finding in Finding.objects.filter(pk__in=[f.pk for f in findings]):
        assert finding.status == Status.IN_REMEDIATION
        event = finding.events.get(kind=EventKind.STATUS)
        assert (event.from_status, event.to_status) == (Status.NEW, Status.IN_REMEDIATION)
    assert AuditEntry.objects.filter(action="action.create", object_id=str(action.pk)).exists()
    assert AuditEntry.objects.filter(action="finding.status").count() == 3
    assert AuditEntry.objects.filter(action="action.create_from_findings").exists()


def test_one_action_per_finding_with_derived_priorities(region):
    findings = seed(
        region.a,
        item("Critique", "critical"),
        item("Haute", "high"),
        item("Moyenne exposée", "medium", internet_exposed=True),
        item("Moyenne", "medium"),
        item("Info", "info"),
    )
    created = services.create_from_findings(
        region.users["referent"], [f.pk for f in findings], grouped=False
    )
    by_title = {a.title: a for a in created}
    assert len(created) == 5
    assert by_title["Critique"].priority == 1
    assert by_title["Haute"].priority == 2
    assert by_title["Moyenne exposée"].priority == 2
    assert by_title["Moyenne"].priority == 3
    assert by_title["Info"].priority == 4
    assert by_title["Haute"].why == "Description de Haute"
    assert by_title["Haute"].how == "Corriger Haute"
    assert by_title["Haute"].due_date == Finding.objects.get(title="Haute").sla_due
    assert by_title["Info"].due_date is None  # information only: no SLA


def test_bulk_creation_refuses_findings_of_two_structures(region):
    [fa] = seed(region.a, item("A1"))
    [fa2] = seed(region.a2, item("A2"))
    admin = region.users["centre_admin"]
    with pytest.raises(ValidationError, match="une seule structure"):
        services.create_from_findings(admin, [fa.pk, fa2.pk], grouped=True)
    assert not ActionItem.objects.exists()
    assert Finding.objects.get(pk=fa.pk).status == Status.NEW


def test_bulk_creation_refuses_findings_the_actor_cannot_see(region):
    [fb] = seed(region.b, item("B1"))
    with pytest.raises(ValidationError, match="pas accessible"):
        services.create_from_findings(region.users["director"], [fb.pk], grouped=True)
    assert not ActionItem.objects.exists()


def test_it_provider_cannot_create_actions(region):
    [finding] = seed(region.a, item("X"))
    with pytest.raises(PermissionDenied):
        services.create_from_findings(region.users["it_provider"], [finding.pk], grouped=True)
    with pytest.raises(PermissionDenied):
        services.create_action(
            region.users["it_provider"], ActionItem(structure=region.a, title="Nope")
        )


# --- Links and owners ------------------------------------------------------------------------


def test_links_refused_across_structures(region):
    [fa] = seed(region.a, item("A"))
    [fb] = seed(region.b, item("B"))
    admin = region.users["centre_admin"]
    with pytest.raises(ValidationError, match="sa structure"):
        services.create_action(admin, ActionItem(structure=region.a, title="Mix"), [fa, fb])
    action = services.create_action(admin, ActionItem(structure=region.a, title="Ok"), [fa])
    with pytest.raises(ValidationError, match="sa structure"):
        services.update_action(admin, action, [fa, fb])
    assert list(action.findings.all()) == [fa]
    assert Finding.objects.get(pk=fb.pk).status == Status.NEW


def test_owner_person_must_hold_a_membership_on_the_structure(region):
    director = region.users["director"]
    action = ActionItem(
        structure=region.a,
        title="T",
        owner_kind=OwnerKind.PERSON,
        owner_user=region.users["it_provider"],
    )
    services.create_action(director, action)
    # a GHT-wide referent covers the structure too
    action.owner_user = region.users["ght_referent"]
    services.update_action(director, action)
    action.owner_user = region.users["director_b"]
    with pytest.raises(ValidationError) as excinfo:
        services.update_action(director, action)
    assert "owner_user" in excinfo.value.message_dict
    provider = ActionItem(structure=region.a, title="P", owner_kind=OwnerKind.IT_PROVIDER)
    with pytest.raises(ValidationError) as excinfo:
        services.create_action(director, provider)
    assert "owner_label" in excinfo.value.message_dict


def test_unlinking_and_cancelling_release_findings(region):
    f1, f2 = seed(region.a, item("F1"), item("F2"))
    director = region.users["director"]
    action = services.create_action(director, ActionItem(structure=region.a, title="T"), [f1, f2])
    services.update_action(director, action, [f1])
    assert Finding.objects.get(pk=f2.pk).status == Status.CONFIRMED
    other = services.create_action(director, ActionItem(structure=region.a, title="O"), [f1])
    with pytest.raises(ValidationError):
        services.cancel_action(director, action, "  ")
    services.cancel_action(director, action, "Remplacée par une autre action")
    action.refresh_from_db()
    assert action.status == ActionStatus.CANCELLED
    assert action.status_reason == "Remplacée par une autre action"
    # f1 is still carried by the other action: it stays in remediation
    assert Finding.objects.get(pk=f1.pk).status == Status.IN_REMEDIATION
    services.cancel_action(director, other, "Plus d'actualité")
    assert Finding.objects.get(pk=f1.pk).status == Status.CONFIRMED
    entry = AuditEntry.objects.filter(action="action.cancel").order_by("sequence").last()
    assert entry.changes["reason"] == "Plus d'actualité"


# --- Progress ----------------------------------------------------------------------------------


def test_it_provider_updates_progress_but_cannot_edit_or_verify(region):
    [finding] = seed(region.a, item("Patch"))
    action = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="Patch"), [finding]
    )
    provider = region.users["it_provider"]
    services.update_progress(provider, action, progress=40)
    action.refresh_from_db()
    assert (action.status, action.progress) == (ActionStatus.IN_PROGRESS, 40)
    action.title = "Renamed"
    with pytest.raises(PermissionDenied):
        services.update_action(provider, action)
    with pytest.raises(PermissionDenied):
        services.cancel_action(provider, action, "non")
    with pytest.raises(ValidationError):
        services.update_progress(provider, action, status=ActionStatus.VERIFIED)
    with pytest.raises(ValidationError):
        services.update_progress(provider, action, progress=101)
    proof = evidence.submit_evidence(provider, action, note="Mis à jour", claim_done=True)
    action.refresh_from_db()
    assert (action.status, action.progress) == (ActionStatus.DONE, 100)
    assert Finding.objects.get(pk=finding.pk).status == Status.MITIGATION_CLAIMED
    with pytest.raises(PermissionDenied):
        evidence.approve_evidence(provider, proof)
    with pytest.raises(PermissionDenied):
        evidence.approve_evidence(region.users["director"], proof)
    assert AuditEntry.objects.filter(action="action.progress").count() == 2


def test_going_back_from_done_puts_findings_back_in_remediation(region):
    [finding] = seed(region.a, item("Patch"))
    referent = region.users["referent"]
    action = services.create_action(referent, ActionItem(structure=region.a, title="P"), [finding])
    services.update_progress(referent, action, status=ActionStatus.DONE)
    assert Finding.objects.get(pk=finding.pk).status == Status.MITIGATION_CLAIMED
    services.update_progress(referent, action, status=ActionStatus.IN_PROGRESS, progress=80)
    action.refresh_from_db()
    assert action.completed_at is None and action.progress == 80
    assert Finding.objects.get(pk=finding.pk).status == Status.IN_REMEDIATION


def test_structure_b_cannot_touch_structure_a_actions(region):
    action = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="A's")
    )
    b = region.users["director_b"]
    with pytest.raises(PermissionDenied):
        services.update_progress(b, action, progress=10)
    with pytest.raises(PermissionDenied):
        services.cancel_action(b, action, "no")
    with pytest.raises(PermissionDenied):
        evidence.submit_evidence(b, action, note="x")


# --- Evidence and verification ----------------------------------------------------------------


def test_evidence_approval_verifies_action_and_closes_findings(region, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    open_finding, accepted = seed(region.a, item("Open"), item("Accepted"))
    Finding.objects.filter(pk=accepted.pk).update(status=Status.RISK_ACCEPTED)
    accepted.refresh_from_db()
    director = region.users["director"]
    action = services.create_action(
        director, ActionItem(structure=region.a, title="Fix"), [open_finding, accepted]
    )
    upload = SimpleUploadedFile("capture.png", b"\x89PNG\r\n\x1a\n" + b"0" * 50)
    proof = evidence.submit_evidence(director, action, note="Fait", document=upload)
    assert len(proof.document_sha256) == 64
    assert proof.document.path.startswith(str(tmp_path))
    evidence.approve_evidence(region.users["centre_analyst"], proof)
    action.refresh_from_db()
    assert action.status == ActionStatus.VERIFIED and action.progress == 100
    closed = Finding.objects.get(pk=open_finding.pk)
    assert closed.status == Status.VERIFIED_CLOSED
    assert closed.status_reason == "preuve validée"
    assert closed.closed_at is not None
    assert closed.events.filter(kind=EventKind.STATUS, to_status=Status.VERIFIED_CLOSED).exists()
    # a decision (accepted risk) is never overridden by an action plan
    assert Finding.objects.get(pk=accepted.pk).status == Status.RISK_ACCEPTED
    assert AuditEntry.objects.filter(action="evidence.approve").exists()
    assert AuditEntry.objects.filter(action="action.verify").exists()
    with pytest.raises(ValidationError):
        evidence.approve_evidence(region.users["centre_analyst"], proof)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ...", "PDF, PNG, JPEG"),
        ("fake.pdf", b"not a pdf", "ne correspond pas"),
        ("fake.png", b"%PDF-1.4", "ne correspond pas"),
        ("binary.txt", b"abc\x00def", "simple texte"),
        ("empty.txt", b"", "vide"),
    ],
)
def test_bad_evidence_documents_are_refused(region, name, content, message):
    action = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="Fix")
    )
    with pytest.raises(ValidationError, match=message):
        evidence.submit_evidence(
            region.users["director"], action, note="x", document=SimpleUploadedFile(name, content)
        )
    assert not action.evidence.exists()


@override_settings(CARBET_MAX_UPLOAD_BYTES=100)
def test_oversized_evidence_is_refused(region):
    action = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="Fix")
    )
    with pytest.raises(ValidationError, match="taille maximale"):
        evidence.submit_evidence(
            region.users["director"],
            action,
            document=SimpleUploadedFile("notes.txt", b"a" * 101),
        )


def test_evidence_needs_a_note_or_a_document(region):
    action = services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="Fix")
    )
    with pytest.raises(ValidationError, match="Décrivez"):
        evidence.submit_evidence(region.users["director"], action, note="   ")
    proof = evidence.submit_evidence(
        region.users["director"], action, document=SimpleUploadedFile("n.txt", "Fait ✓".encode())
    )
    assert proof.document_sha256


def test_rescan_that_no_longer_sees_a_finding_closes_it(region):
    from carbet.findings.ingest import ingest

    findings = seed(region.a, item("Gone"), item("Stays"), source="exposure", scope="s")
    services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="Fix"), findings
    )
    ingest(region.a, "exposure", [item("Stays")], complete=True, scope="s")
    assert Finding.objects.get(title="Gone").status == Status.VERIFIED_CLOSED
    assert Finding.objects.get(title="Stays").status == Status.IN_REMEDIATION


def test_plan_moves_follow_the_lifecycle_rule_book():
    from carbet.findings.plans.finding_status import route

    assert route(Status.NEW, Status.IN_REMEDIATION) == [Status.IN_REMEDIATION]
    assert route(Status.NEW, Status.MITIGATION_CLAIMED) == [
        Status.IN_REMEDIATION,
        Status.MITIGATION_CLAIMED,
    ]
    assert route(Status.IN_REMEDIATION, Status.VERIFIED_CLOSED) == [
        Status.MITIGATION_CLAIMED,
        Status.VERIFIED_CLOSED,
    ]
    assert route(Status.MITIGATION_CLAIMED, Status.CONFIRMED) == [
        Status.IN_REMEDIATION,
        Status.CONFIRMED,
    ]
    assert route(Status.RISK_ACCEPTED, Status.VERIFIED_CLOSED) == []


def test_director_linking_findings_needs_no_triage_right(region):
    """Putting a finding in remediation is a consequence of the plan, not a triage decision."""
    [finding] = seed(region.a, item("Director's"))
    services.create_action(
        region.users["director"], ActionItem(structure=region.a, title="D"), [finding]
    )
    finding.refresh_from_db()
    assert finding.status == Status.IN_REMEDIATION
    assert finding.status_changed_by == region.users["director"]
