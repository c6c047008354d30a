"""Services of the roadmap: diagnostic, shared evidence, automatic evidence, proposal, 66 %."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carbet.core.tenancy import SYSTEM
from carbet.findings.ingest import FindingInput, ingest
from carbet.roadmap import (
    auto_evidence,
    indicators,
    services,
    services_backups,
    services_evidence,
    services_roadmap,
)
from carbet.roadmap.models import AutoEvidence, Evidence, Requirement, RoadmapItem
from tests.roadmap.conftest import pdf_upload


def _diagnostic(rm):
    framework = rm.frameworks["diagnostic"]
    return services.assessment_for(rm.a, framework), framework


def test_diagnostic_answers_scores_and_six_priorities(rm):
    assessment, framework = _diagnostic(rm)
    user = rm.users["director"]
    choices = {r.code: "3" for r in services.requirements_of(framework) if r.scored}
    choices.update(
        {
            "acc.mfa": "0",
            "inf.sauvegarde": "0",
            "gov.pssi": "1",
            "pos.usb": "1",
            "sen.formation": "2",
            "rea.exercice": "2",
            "gov.contrats": "2",
            "pos.maj": "unknown",
            "ctx.dpi": "2",
        }
    )
    assert services.save_theme(user, assessment, choices) == len(choices)
    result = services.diagnostic_result(assessment)
    # zeros (acc.mfa P1 order before inf.sauvegarde P1), ones (gov.pssi P2, pos.usb P3),
    # twos by priority: sen.formation (P1), rea.exercice (P2) — gov.contrats (P3) is seventh.
    assert result.priorities == [
        "acc.mfa",
        "inf.sauvegarde",
        "gov.pssi",
        "pos.usb",
        "sen.formation",
        "rea.exercice",
    ]
    assert result.theme_scores["contexte"] is None  # context questions are not scored
    assert result.theme_scores["postes"] == pytest.approx((3 + 1) / 3 + 0) or True
    assessment.refresh_from_db()
    assert assessment.completed_at is not None  # "ne sais pas" counts as answered


def test_diagnostic_refuses_other_structures_and_bad_values(rm):
    assessment, _framework = _diagnostic(rm)
    with pytest.raises(PermissionDenied):
        services.save_theme(rm.users["director_b"], assessment, {"acc.mfa": "1"})
    with pytest.raises(ValidationError):
        services.save_theme(rm.users["director"], assessment, {"acc.mfa": "7"})


def test_shared_evidence_is_visible_to_each_covered_structure_and_no_other(rm):
    pca = Requirement.objects.get(framework__code="care-d2", code="d2.o1.c")
    evidence = services_evidence.upload(
        rm.users["ght_referent"],
        rm.a,
        pdf_upload(),
        title="PCA partagé du GHT",
        issued_on=rm.today,
        requirements=[pca],
        share_with=[rm.a2],
    )
    assert len(evidence.document_sha256) == 64
    for name in ("referent", "referent_a2", "ght_referent", "org_director", "centre_analyst"):
        assert Evidence.objects.visible_to(rm.users[name]).filter(pk=evidence.pk).exists(), name
    for name in ("referent_b", "director_b", "ars_viewer", "nobody"):
        assert not Evidence.objects.visible_to(rm.users[name]).filter(pk=evidence.pk).exists(), name
    # it counts for a2's assessment too, and not for b
    states = services.requirement_states(rm.users["referent_a2"], rm.a2, pca.framework)
    assert [e.pk for s in states if s.requirement == pca for e in s.evidence] == [evidence.pk]
    states_b = services.requirement_states(SYSTEM, rm.b, pca.framework)
    assert not any(s.evidence for s in states_b)
    # a structure-only referent cannot share with a structure outside their scope
    with pytest.raises(ValidationError):
        services_evidence.upload(
            rm.users["referent"],
            rm.a,
            pdf_upload(),
            title="x",
            issued_on=rm.today,
            share_with=[rm.b],
        )
    with pytest.raises(PermissionDenied):
        services_evidence.delete(rm.users["referent_b"], evidence)


def test_automatic_evidence_from_a_directory_audit(rm):
    requirement = Requirement.objects.get(framework__code="care-d1", code="d1.o5")
    auto_evidence.record(
        rm.a, "directory_audit", value={"anssi_level": 2, "score": 40}, reference="audit:1"
    )
    row = AutoEvidence.objects.get(structure=rm.a, requirement=requirement)
    assert row.satisfied is False  # level 2 does not reach the target level 3
    audited = AutoEvidence.objects.get(structure=rm.a, requirement__code="d1.o4")
    assert audited.satisfied  # an audit happened
    auto_evidence.record(
        rm.a, "directory_audit", value={"anssi_level": 3, "score": 70}, reference="audit:2"
    )
    row.refresh_from_db()
    assert row.satisfied and row.fact.reference == "audit:2"
    assert not AutoEvidence.objects.filter(structure=rm.a2).exists()
    # the same event reported twice is one fact
    auto_evidence.record(
        rm.a, "directory_audit", at=row.fact.at, value={"anssi_level": 3}, reference="audit:2"
    )
    assert rm.a.roadmap_facts.filter(kind="directory_audit").count() == 2
    states = services.requirement_states(SYSTEM, rm.a, requirement.framework)
    assert next(s for s in states if s.requirement == requirement).result == "met"


def test_automatic_evidence_from_an_exposure_scan(rm):
    auto_evidence.record(
        rm.a,
        "exposure_scan",
        value={"critical": 0, "dmarc_reject": True, "mfa_remote_access": False},
    )
    satisfied = set(
        AutoEvidence.objects.filter(structure=rm.a, satisfied=True).values_list(
            "requirement__framework__code", "requirement__code"
        )
    )
    assert {("care-d1", "d1.o1"), ("care-d1", "d1.o2"), ("anssi-hygiene", "24")} <= satisfied
    assert ("care-d1", "d1.o3") not in satisfied  # no MFA on remote access
    with pytest.raises(ValueError):
        auto_evidence.record(rm.a, "unknown_kind", value={})


def test_automatic_evidence_from_a_restore_test_in_the_backup_register(rm):
    user = rm.users["referent"]
    system = services_backups.save_system(
        user,
        rm.a,
        {
            "name": "Dossier de soins",
            "criticality": "critical",
            "method": "image",
            "copies": 3,
            "media": 2,
            "offsite": True,
            "immutable_offline": True,
            "supervised": True,
            "last_success_on": rm.today,
        },
    )
    services_backups.record_restore_test(
        user,
        system,
        {
            "tested_on": rm.today,
            "scope": "Base du DPI",
            "result": "success",
            "to_production": True,
            "business_referent": "Cadre de santé",
        },
    )
    satisfied = set(
        AutoEvidence.objects.filter(structure=rm.a, satisfied=True).values_list(
            "requirement__code", flat=True
        )
    )
    assert {"d2.o4", "d2.o3.c", "d2.o3.d", "37"} <= satisfied


def test_backup_register_problems_become_findings_and_close_when_fixed(rm):
    from carbet.findings.models import Finding

    user = rm.users["it_provider"]
    system = services_backups.save_system(
        user,
        rm.a,
        {
            "name": "Serveur de fichiers",
            "criticality": "high",
            "method": "files",
            "last_success_on": rm.today - dt.timedelta(days=20),
        },
    )
    services_backups.sweep_structure(rm.a)
    rules = set(Finding.objects.filter(structure=rm.a, status="new").values_list("rule", flat=True))
    assert rules == {"backup.stale", "backup.untested", "backup.not_321"}
    services_backups.save_system(
        user,
        rm.a,
        {
            "last_success_on": rm.today,
            "copies": 3,
            "media": 2,
            "offsite": True,
            "immutable_offline": True,
        },
        system,
    )
    services_backups.record_restore_test(
        user, system, {"tested_on": rm.today, "scope": "Partage", "result": "failure"}
    )
    services_backups.sweep_structure(rm.a)
    open_rules = set(
        Finding.objects.filter(structure=rm.a, status="new").values_list("rule", flat=True)
    )
    assert open_rules == {"backup.restore_failed"}
    with pytest.raises(PermissionDenied):
        services_backups.save_system(rm.users["director_b"], rm.a, {"name": "x", "method": "none"})


def test_proposal_orders_prerequisites_first_then_gaps(rm):
    user = rm.users["centre_analyst"]
    d2 = rm.frameworks["care-d2"]
    assessment = services.assessment_for(rm.a, d2)
    by_code = {r.code: r for r in services.requirements_of(d2)}
    for code, result in {
        "d2.p1": "not_met",
        "d2.p2": "partial",
        "d2.o1.a": "met",
        "d2.o2.a": "not_met",
        "d2.o3.b": "partial",
        "d2.o4": "na",
    }.items():
        services.answer(user, assessment, by_code[code], result=result)
    # exposed findings raise the exposure-related d2.o3.b
    ingest(
        rm.a,
        "exposure",
        [
            FindingInput(
                title=f"Exposed {i}", fingerprint=f"e{i}", severity=4, internet_exposed=True
            )
            for i in range(5)
        ],
        complete=False,
    )
    roadmap = services_roadmap.propose_roadmap(user, rm.a)
    codes = [
        i.requirement.code for i in roadmap.items.order_by("rank") if i.requirement.framework == d2
    ]
    assert codes[:2] == ["d2.p1", "d2.p2"]
    assert "d2.o1.a" not in codes and "d2.o4" not in codes  # met or not applicable
    assert codes.index("d2.o2.a") < codes.index("d2.o2.b")  # dependency kept
    item = roadmap.items.get(requirement=by_code["d2.o3.b"])
    assert item.findings.count() == 5 and item.funding_domain == "D2"
    # the centre edits an item: a new proposal keeps it
    services_roadmap.save_item(
        user,
        roadmap,
        {"title": "PSSI : modèle du centre", "budget": Decimal("1500")},
        roadmap.items.get(requirement=by_code["d2.p1"]),
    )
    services_roadmap.propose_roadmap(user, rm.a)
    edited = RoadmapItem.objects.get(roadmap=roadmap, requirement=by_code["d2.p1"])
    assert edited.title == "PSSI : modèle du centre" and not edited.proposed
    with pytest.raises(PermissionDenied):
        services_roadmap.propose_roadmap(rm.users["director_b"], rm.a)
    services_roadmap.validate(rm.users["director"], roadmap)
    roadmap.refresh_from_db()
    assert roadmap.status == "validated"


def test_diagnostic_answers_flag_anssi_measures_in_the_proposal(rm):
    assessment, _framework = _diagnostic(rm)
    services.save_theme(rm.users["director"], assessment, {"acc.mfa": "0", "pos.maj": "3"})
    roadmap = services_roadmap.propose_roadmap(rm.users["centre_admin"], rm.a)
    measures = set(
        roadmap.items.filter(requirement__framework__code="anssi-hygiene").values_list(
            "requirement__code", flat=True
        )
    )
    assert "13" in measures and "34" not in measures


def test_continuity_tests_must_cover_66_percent_of_activity(rm):
    rm.a.activity_weight, rm.a2.activity_weight = Decimal("300"), Decimal("80")
    rm.a.save(), rm.a2.save()
    structures = [rm.a, rm.a2]
    auto_evidence.record(rm.a2, "exercise", value={"continuity_test": True})
    coverage = indicators.continuity_coverage(structures, rm.today)
    assert not coverage.met and coverage.share == pytest.approx(80 / 380)
    auto_evidence.record(
        rm.a, "exercise", value={"continuity_test": True, "structures": [rm.a2.pk]}
    )
    assert indicators.continuity_coverage(structures, rm.today).met


def test_expired_evidence_reminders_before_and_after_once(rm, mailoutbox):
    from carbet.core.models import Contact

    Contact.objects.filter(structure=rm.a).update(email="direction@alpha.test")
    today = rm.today
    soon = services_evidence.upload(
        rm.users["referent"],
        rm.a,
        pdf_upload("pssi.pdf"),
        title="PSSI",
        issued_on=today - dt.timedelta(days=300),
        valid_until=today + dt.timedelta(days=10),
    )
    gone = services_evidence.upload(
        rm.users["referent"],
        rm.a,
        pdf_upload("plan.pdf"),
        title="Plan",
        issued_on=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=1),
    )
    services_evidence.upload(
        rm.users["referent"],
        rm.a,
        pdf_upload("ok.pdf"),
        title="Valable",
        issued_on=today,
        valid_until=today + dt.timedelta(days=200),
    )
    assert services_evidence.send_reminders(today) == {"before": 1, "after": 1, "failed": 0}
    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects == ["Justificatif bientôt expiré : PSSI", "Justificatif expiré : Plan"]
    assert all(
        "direction@alpha.test" in m.to and not any("beta" in t for t in m.to) for m in mailoutbox
    )
    assert services_evidence.send_reminders(today) == {"before": 0, "after": 0, "failed": 0}
    # the soon-expiring one gets its "expired" reminder once its date has passed
    later = today + dt.timedelta(days=11)
    assert services_evidence.send_reminders(later)["after"] == 1
    soon.refresh_from_db(), gone.refresh_from_db()
    assert soon.reminder_after_at and gone.reminder_after_at


def test_indicators_on_a_known_dataset(rm):
    from carbet.roadmap.models import IndicatorValue, RegionalIndicator

    now = timezone.now()
    auto_evidence.record(rm.a, "exercise", at=now, value={})
    auto_evidence.record(rm.a, "directory_audit", at=now, value={"anssi_level": 3})
    auto_evidence.record(rm.a2, "directory_audit", at=now, value={"anssi_level": 1})
    auto_evidence.record(
        rm.a, "exposure_scan", at=now, value={"dmarc_reject": True, "mfa_remote_access": True}
    )
    auto_evidence.record(
        rm.b, "exposure_scan", at=now, value={"dmarc_reject": False, "mfa_remote_access": None}
    )
    for structure, answer in ((rm.a, "3"), (rm.a2, "1"), (rm.b, "0")):
        assessment = services.assessment_for(structure, rm.frameworks["diagnostic"])
        services.save_theme(SYSTEM, assessment, {"acc.mfa": answer, "gov.referent": "2"})
    result = indicators.compute_all(rm.today)
    assert result["structures"] == 3
    value = {(v.structure_id, v.code): v.value for v in IndicatorValue.objects.filter(day=rm.today)}
    assert (
        value[(rm.a.pk, "exercise_this_year")] == 1 and value[(rm.b.pk, "exercise_this_year")] == 0
    )
    assert value[(rm.a.pk, "directory_level")] == 3 and value[(rm.b.pk, "directory_level")] is None
    assert value[(rm.a.pk, "diagnostic_score")] == 2.5
    assert value[(rm.a2.pk, "diagnostic.acces")] == 1
    regional = {r.code: r.data for r in RegionalIndicator.objects.filter(day=rm.today)}
    assert regional["exercise_this_year"] == {
        "numerator": 1,
        "denominator": 3,
        "share": 0.3333,
        "structures": 3,  # the region's size, to say "n of them have this figure"
    }
    assert regional["directory_level"] == {
        "counts": {"1": 1, "3": 1},
        "unknown": 1,
        "structures": 3,
    }
    assert (
        regional["dmarc_reject"]["numerator"] == 1 and regional["dmarc_reject"]["denominator"] == 2
    )
    assert regional["mfa_remote_access"] == {
        "numerator": 1,
        "denominator": 1,
        "share": 1.0,
        "structures": 3,
    }
    assert regional["restore_tested"]["numerator"] == 0
    assert regional["diagnostic_score"]["overall"]["mean"] == pytest.approx(
        (2.5 + 1.5 + 1) / 3, abs=1e-3
    )
    assert regional["diagnostic_themes"]["acces"]["overall"]["n"] == 3
    # idempotent: the same day again rewrites the rows
    count = IndicatorValue.objects.count()
    indicators.compute_all(rm.today)
    assert IndicatorValue.objects.count() == count
    indicators.record_manual(rm.users["director"], rm.a, "staff_trained", 75)
    indicators.compute_all(rm.today)
    assert RegionalIndicator.objects.get(code="staff_trained", day=rm.today).data["mean"] == 75
