"""The status rule book: every allowed and forbidden transition, who may make it, the record."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from carbet.audit.models import AuditEntry
from carbet.findings.choices import EventKind, Status
from carbet.findings.models import Finding
from carbet.findings.services import lifecycle
from carbet.findings.services.lifecycle import TRANSITIONS, bulk_change_status, change_status
from tests.findings.findings_helpers import make_finding, make_findings

ALL_PAIRS = [(a, b) for a, b in itertools.product(Status.values, Status.values) if a != b]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_transition_is_allowed_or_refused_by_the_table(region, current, target):
    admin = region.users["centre_admin"]
    finding = make_finding(region.a, status=current)
    duplicate_of = make_finding(region.a, "original") if target == Status.DUPLICATE else None
    if target in TRANSITIONS[current]:
        change_status(admin, finding, target, "motif", duplicate_of=duplicate_of)
        finding.refresh_from_db()
        assert finding.status == target
        assert finding.status_reason == "motif"
        event = finding.events.get(kind=EventKind.STATUS)
        assert (event.from_status, event.to_status, event.note) == (current, target, "motif")
        assert event.actor == admin
        assert AuditEntry.objects.filter(
            action="finding.status", object_id=str(finding.pk)
        ).exists()
    else:
        with pytest.raises(ValidationError) as caught:
            change_status(admin, finding, target, "motif", duplicate_of=duplicate_of)
        assert caught.value.message_dict["status"][0]  # a French sentence, not a code
        finding.refresh_from_db()
        assert finding.status == current
        assert not finding.events.filter(kind=EventKind.STATUS).exists()


def test_risk_accepted_is_never_entered_nor_left_by_a_status_change(region):
    admin = region.users["centre_admin"]
    open_one = make_finding(region.a, "open")
    with pytest.raises(ValidationError, match="acceptation"):
        change_status(admin, open_one, Status.RISK_ACCEPTED, "on accepte")
    accepted = make_finding(region.a, "accepted", status=Status.RISK_ACCEPTED)
    for target in (Status.CONFIRMED, Status.NEW, Status.VERIFIED_CLOSED):
        with pytest.raises(ValidationError, match="accepté"):
            change_status(admin, accepted, target, "on revient")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required_for_every_decision(region, reason):
    finding = make_finding(region.a)
    with pytest.raises(ValidationError) as caught:
        change_status(region.users["referent"], finding, Status.CONFIRMED, reason)
    assert "motif" in caught.value.message_dict["reason"][0]
    finding.refresh_from_db()
    assert finding.status == Status.NEW


def test_triage_rights_by_role(region):
    finding = make_finding(region.a)
    for role in ("director", "it_provider", "ars_viewer", "nobody", "director_b"):
        with pytest.raises(PermissionDenied):
            change_status(region.users[role], finding, Status.CONFIRMED, "vu")
    change_status(region.users["referent"], finding, Status.CONFIRMED, "vu")
    assert Finding.objects.get(pk=finding.pk).status == Status.CONFIRMED
    # A GHT-wide referent triages the GHT's structures, not another organisation's.
    change_status(region.users["ght_referent"], finding, Status.IN_REMEDIATION, "on corrige")
    other = make_finding(region.b, "b")
    with pytest.raises(PermissionDenied):
        change_status(region.users["ght_referent"], other, Status.CONFIRMED, "vu")


def test_only_verifiers_close_a_claimed_fix(region):
    finding = make_finding(region.a, status=Status.MITIGATION_CLAIMED)
    with pytest.raises(PermissionDenied, match="centre"):
        change_status(region.users["referent"], finding, Status.VERIFIED_CLOSED, "c'est fait")
    change_status(region.users["centre_analyst"], finding, Status.VERIFIED_CLOSED, "vérifié")
    finding.refresh_from_db()
    assert finding.status == Status.VERIFIED_CLOSED and finding.closed_at is not None


@pytest.mark.parametrize(
    "decided",
    [Status.FALSE_POSITIVE, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.VERIFIED_CLOSED],
)
def test_only_centre_staff_revert_a_decision(region, decided):
    finding = make_finding(region.a, status=decided)
    with pytest.raises(PermissionDenied, match="centre"):
        change_status(region.users["referent"], finding, Status.CONFIRMED, "en fait non")
    change_status(region.users["centre_analyst"], finding, Status.CONFIRMED, "en fait non")
    finding.refresh_from_db()
    assert finding.status == Status.CONFIRMED and finding.closed_at is None


def test_reopening_a_closed_finding_by_hand_restarts_its_deadline(region):
    finding = make_finding(region.a, status=Status.VERIFIED_CLOSED)
    Finding.objects.filter(pk=finding.pk).update(sla_due="2000-01-01")
    change_status(region.users["centre_admin"], finding, Status.CONFIRMED, "revu ouvert")
    finding.refresh_from_db()
    assert finding.sla_due.year > 2000


def test_duplicate_must_name_an_original_of_the_same_structure(region):
    admin = region.users["centre_admin"]
    finding, original = make_findings(region.a, "copy", "orig")
    foreign = make_finding(region.b, "foreign")
    with pytest.raises(ValidationError, match="doublon"):
        change_status(admin, finding, Status.DUPLICATE, "double")
    with pytest.raises(ValidationError, match="même structure"):
        change_status(admin, finding, Status.DUPLICATE, "double", duplicate_of=foreign)
    with pytest.raises(ValidationError, match="propre"):
        change_status(admin, finding, Status.DUPLICATE, "double", duplicate_of=finding)
    change_status(admin, finding, Status.DUPLICATE, "double", duplicate_of=original)
    finding.refresh_from_db()
    assert finding.duplicate_of == original
    third = make_finding(region.a, "third")
    with pytest.raises(ValidationError, match="originale"):
        change_status(admin, third, Status.DUPLICATE, "double", duplicate_of=finding)


def test_allowed_targets_follow_rights(region):
    finding = make_finding(region.a, status=Status.MITIGATION_CLAIMED)
    assert lifecycle.allowed_targets(region.users["referent"], finding) == [Status.IN_REMEDIATION]
    assert set(lifecycle.allowed_targets(region.users["centre_admin"], finding)) == {
        Status.IN_REMEDIATION,
        Status.VERIFIED_CLOSED,
    }
    assert lifecycle.allowed_targets(region.users["it_provider"], finding) == []


def test_bulk_change_moves_what_it_may_and_says_why_not_for_the_rest(region):
    new_one, confirmed, closed = make_findings(region.a, "n", "c", "z")
    Finding.objects.filter(pk=confirmed.pk).update(status=Status.CONFIRMED)
    Finding.objects.filter(pk=closed.pk).update(status=Status.VERIFIED_CLOSED)
    selected = Finding.objects.filter(pk__in=[new_one.pk, confirmed.pk, closed.pk]).order_by("pk")
    outcome = bulk_change_status(
        region.users["referent"], selected, Status.IN_REMEDIATION, "plan lancé"
    )
    assert sorted(outcome.changed) == sorted([new_one.pk, confirmed.pk])
    assert [f.pk for f, _m in outcome.refused] == [closed.pk]
    assert "Corrigée" in outcome.refused[0][1]
    with pytest.raises(ValidationError):
        bulk_change_status(region.users["referent"], selected, Status.CONFIRMED, " ")
