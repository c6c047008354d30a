"""The medico-social track: steps from the diagnostic and the roadmap, essentials measured by
Carbet (directory audit, backups, mail scan, phishing, the care record's decision) or marked by
the structure, the centre pushing a step, the region's counts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carbet.bydesign import nightly, services_decision, services_track
from carbet.bydesign.models import TrackPush, TrackStatus
from carbet.core import contract
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.directory.models import DirectoryAudit
from carbet.roadmap.models import Assessment, Framework, Roadmap

pytestmark = pytest.mark.django_db


def test_a_new_structure_starts_with_the_diagnostic(bd):
    state = services_track.status_of(bd.a2)
    assert (state.step, state.next_step, state.progress) == ("diagnostic", "diagnostic", 0)


def test_measured_essentials_and_the_care_record_decision(bd):
    DirectoryAudit.objects.create(
        structure=bd.a2,
        origin="upload",
        status="done",
        domain="e.local",
        analysed_at=timezone.now(),
        result={"findings": []},
    )
    contract.record_evidence(
        bd.a2,
        "exposure_scan",
        value={"critical": 0, "high": 0, "dmarc_reject": True},
        reference="scan:1",
    )
    state = services_track.status_of(bd.a2)
    assert state.essentials["passwords_mfa"] == "done"
    assert state.essentials["mail_protection"] == "done"
    assert state.essentials["care_record_decision"] == "in_progress"  # described, not decided
    # The structure's own mark does not override what Carbet measured.
    services_track.mark(bd.users["referent_a2"], bd.a2, "mail_protection", "not_done")
    assert services_track.status_of(bd.a2).essentials["mail_protection"] == "done"
    services_decision.sign(bd.users["director_a2"], bd.care, {"outcome": "accept", "months": 12})
    assert services_track.status_of(bd.a2).essentials["care_record_decision"] == "done"


def test_an_exercise_held_within_a_year_checks_the_exercise_essential(bd):
    """The exercises service hands its fact (``exercise``) through the contract when an
    exercise is closed; the track reads it: no mark by hand needed, and an old one expires."""
    assert services_track.status_of(bd.a2).essentials["exercise"] == "not_done"
    held = timezone.now() - timezone.timedelta(days=400)
    contract.record_evidence(bd.a2, "exercise", at=held, value={}, reference="exercise:1")
    assert services_track.status_of(bd.a2).essentials["exercise"] == "not_done"  # too old
    contract.record_evidence(bd.a2, "exercise", value={"level": 1}, reference="exercise:2")
    assert services_track.status_of(bd.a2).essentials["exercise"] == "done"


def test_steps_follow_the_diagnostic_the_essentials_and_the_roadmap(bd):
    Assessment.objects.create(
        structure=bd.a2,
        framework=Framework.objects.get(code="diagnostic"),
        completed_at=timezone.now(),
    )
    state = services_track.status_of(bd.a2)
    # The care record is described but not decided: what is already started comes first.
    assert state.step == "essentials" and state.next_step == "care_record_decision"
    for code in services_track.track.ESSENTIALS:
        if code not in ("care_record_decision",):
            services_track.mark(SYSTEM, bd.a2, code, "done")
    services_decision.sign(bd.users["director_a2"], bd.care, {"outcome": "accept", "months": 6})
    assert services_track.status_of(bd.a2).step == "roadmap"
    Roadmap.objects.create(structure=bd.a2, start_year=2026, status="validated")
    final = services_track.status_of(bd.a2)
    assert (final.step, final.progress, final.next_step) == ("done", 100, "")


def test_marks_are_checked_and_audited(bd):
    with pytest.raises(ValidationError):
        services_track.mark(SYSTEM, bd.a2, "telepathy", "done")
    with pytest.raises(ValidationError):
        services_track.mark(SYSTEM, bd.a2, "updates", "na")
    with pytest.raises(PermissionDenied):
        services_track.mark(bd.users["director_b"], bd.a2, "updates", "done")
    services_track.mark(bd.users["referent_a2"], bd.a2, "updates", "done", note="WSUS")
    from carbet.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="bydesign.track.mark", structure_id=bd.a2.pk).exists()


def test_the_centre_pushes_a_step_to_medico_social_structures_only(bd):
    count = services_track.push(
        bd.users["centre_analyst"], "exercise", Structure.objects.all(), "Exercice régional"
    )
    assert count == 2  # a2 and b; the hospital a is not medico-social
    assert set(TrackPush.objects.values_list("structure_id", flat=True)) == {bd.a2.pk, bd.b.pk}
    Assessment.objects.create(
        structure=bd.a2,
        framework=Framework.objects.get(code="diagnostic"),
        completed_at=timezone.now(),
    )
    assert services_track.status_of(bd.a2).next_step == "exercise"
    for role in ("director_a2", "ars_viewer"):
        with pytest.raises(PermissionDenied):
            services_track.push(bd.users[role], "exercise", Structure.objects.all())
    with pytest.raises(ValidationError):
        services_track.push(
            bd.users["centre_analyst"], "exercise", Structure.objects.filter(pk=bd.a.pk)
        )


def test_the_night_computes_every_medico_social_structure(bd):
    result = nightly.run(reminders=False)
    assert result["track_structures"] == 2
    assert set(TrackStatus.objects.values_list("structure_id", flat=True)) == {bd.a2.pk, bd.b.pk}
    again = nightly.run(reminders=False)
    assert again["services"] == 1


def test_the_nightly_command_and_job_kind(bd):
    import io

    from django.core.management import call_command

    from carbet.jobs.registry import kinds

    out = io.StringIO()
    call_command("bydesign", "nightly", stdout=out)
    assert "services: 1" in out.getvalue() and "decision_reminders" in out.getvalue()
    call_command("bydesign", "recompute", stdout=out)
    assert "bydesign.nightly" in kinds()


def _audit_with(structure, origin: str, findings: list[str], evaluated: list[str] | None):
    result: dict = {"findings": [{"rule": rule} for rule in findings]}
    if evaluated is not None:
        result["evaluated"] = evaluated
    DirectoryAudit.objects.create(
        structure=structure,
        origin=origin,
        status="done",
        domain="e.local",
        analysed_at=timezone.now(),
        result=result,
    )


def test_passwords_and_mfa_read_the_administrators_second_factor_from_the_audit(bd):
    """Strong passwords alone no longer check "passwords and MFA" when the audit shows
    administrators who sign in with a password alone; a PingCastle report, or an audit made
    before the rule existed, says nothing of it."""
    rule = "privileged_password_only"
    _audit_with(bd.a2, "online", [rule], ["weak_password_policy", rule])
    assert services_track.status_of(bd.a2).essentials["passwords_mfa"] == "not_done"
    _audit_with(bd.a2, "online", [], ["weak_password_policy", rule])
    assert services_track.status_of(bd.a2).essentials["passwords_mfa"] == "done"
    _audit_with(bd.a2, "online", [rule], None)  # analysed before the rule existed
    assert services_track.status_of(bd.a2).essentials["passwords_mfa"] == "done"
    _audit_with(bd.a2, "pingcastle", [], [rule])
    assert services_track.status_of(bd.a2).essentials["passwords_mfa"] == "done"
