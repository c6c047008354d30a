"""Digital services: description, measures and their statuses, automatic statuses from the
real results of the other services, the cyber index, findings, and the review a change asks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.bydesign import nightly, selectors, services, services_decision
from carbet.bydesign.models import DigitalService, MeasureState
from carbet.core import contract
from carbet.core.tenancy import SYSTEM
from carbet.directory.models import DirectoryAudit
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import Finding
from carbet.roadmap import services_backups
from carbet.roadmap.models import BackupSystem
from tests.bydesign.conftest import CARE_RECORD

pytestmark = pytest.mark.django_db


def _state(service, code):
    return MeasureState.objects.filter(service=service, code=code).first()


def test_a_described_service_gets_its_measures_index_and_findings(bd):
    care = DigitalService.objects.get(pk=bd.care.pk)
    page = selectors.service_page(care, timezone.localdate())
    codes = {row.code for row in page.rows}
    assert {"gov.hds", "pro.mfa", "res.vendor_backups", "res.degraded"} <= codes
    assert "res.backups" not in codes  # hosted by the vendor: the vendor's backups instead
    assert care.index_value == 0 and care.essentials_missing > 5
    findings = Finding.objects.filter(structure=bd.a2, source="bydesign")
    assert findings.count() == care.essentials_missing
    assert all(f.severity == 3 for f in findings)  # health data: high
    assert AuditEntry.objects.filter(action="bydesign.service.create").exists()


def test_statuses_raise_the_index_and_close_findings(bd):
    referent = bd.users["referent_a2"]
    before = Finding.objects.filter(
        structure=bd.a2, source="bydesign", status__in=OPEN_STATUSES
    ).count()
    services.set_status(referent, bd.care, "gov.owner", "done", evidence="Mme X, cadre de santé")
    bd.care.refresh_from_db()
    assert bd.care.index_value > 0
    open_now = Finding.objects.filter(
        structure=bd.a2, source="bydesign", status__in=OPEN_STATUSES
    ).count()
    assert open_now == before - 1
    entry = AuditEntry.objects.filter(action="bydesign.measure.status").latest("sequence")
    assert entry.changes["measure"] == "gov.owner"


def test_not_applicable_needs_a_reason_and_unknown_measures_are_refused(bd):
    referent = bd.users["referent_a2"]
    with pytest.raises(ValidationError) as exc:
        services.set_status(referent, bd.care, "def.logs", "na")
    assert "reason" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.set_status(referent, bd.care, "pro.mail", "done")  # not a mail service
    with pytest.raises(ValidationError):
        services.set_status(referent, bd.care, "gov.owner", "maybe")
    state = services.set_status(referent, bd.care, "def.logs", "na", reason="Pas de journaux")
    assert state.effective == "na"


def test_other_structures_people_cannot_write(bd):
    with pytest.raises(PermissionDenied):
        services.set_status(bd.users["director_b"], bd.care, "gov.owner", "done")
    with pytest.raises(PermissionDenied):
        services.create_service(bd.users["director_b"], bd.a2, dict(CARE_RECORD))


def test_health_data_at_a_third_party_must_say_whether_hds(bd):
    values = dict(CARE_RECORD, hds_certified=None)
    with pytest.raises(ValidationError) as exc:
        services.create_service(bd.users["referent_a2"], bd.a2, values)
    assert "hds_certified" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.create_service(bd.users["referent_a2"], bd.a2, dict(CARE_RECORD, vendor_email="x"))


def test_no_hds_caps_the_index_and_is_explained(bd):
    service = services.create_service(
        SYSTEM, bd.a2, dict(CARE_RECORD, name="Télémédecine", hds_certified=False)
    )
    for row in selectors.service_page(service, timezone.localdate()).rows:
        if row.code != "gov.hds":
            services.set_status(SYSTEM, service, row.code, "done")
    service.refresh_from_db()
    assert float(service.index_value) <= 2.0
    page = selectors.service_page(service, timezone.localdate())
    assert any("HDS" in line for line in page.explanation)


def _audit(structure, rules, evaluated=None):
    result = {"findings": [{"rule": r, "fully_excepted": False} for r in rules]}
    if evaluated is not None:
        result["evaluated"] = evaluated
    return DirectoryAudit.objects.create(
        structure=structure,
        origin="upload",
        status="done",
        domain="ehpad.local",
        analysed_at=timezone.now(),
        anssi_level=3,
        result=result,
    )


def test_automatic_statuses_from_the_other_services_results(bd):
    """Real rows of the directory audit, the facts the exposure service and the awareness
    service record, and a restore test through the backup register's own service."""
    mail = services.create_service(
        SYSTEM,
        bd.a2,
        {
            "name": "Messagerie",
            "kind": "email",
            "data_kind": "personal",
            "hosting": "on_site",
            "internet_exposed": True,
            "availability": "day",
        },
    )
    _audit(bd.a2, ["no_lockout"])
    contract.record_evidence(
        bd.a2,
        "exposure_scan",
        value={"critical": 0, "high": 1, "dmarc_reject": True, "mfa_remote_access": None},
        reference="exposure-scan:1",
    )
    contract.record_evidence(
        bd.a2,
        "phishing_campaign",
        value={"reporting_rate": 0.45, "click_rate": 0.1},
        reference="awareness-campaign:1",
    )
    system = BackupSystem.objects.create(structure=bd.a2, name="Messagerie", method="image")
    services_backups.record_restore_test(
        SYSTEM,
        system,
        {
            "tested_on": timezone.localdate(),
            "scope": "boîtes",
            "result": "success",
            "business_referent": "Mme Y",
        },
    )
    report = nightly.run(reminders=False)
    assert report["services"] == 2
    assert _state(mail, "pro.passwords").auto_status == "not_done"  # no lockout
    assert _state(mail, "pro.passwords").auto_source == "directory"
    assert _state(mail, "pro.mfa_admins") is None  # the audit did not run the rule: no status
    assert _state(mail, "pro.mail").auto_status == "done"
    assert _state(mail, "pro.encryption").auto_status == "in_progress"  # a high finding
    assert _state(mail, "def.awareness").auto_status == "done"
    assert _state(mail, "res.backups").auto_status == "done"
    assert _state(mail, "pro.mfa") is None  # the scan says nothing about MFA: no verdict
    # A newer audit with a sound policy wins over the older one.
    DirectoryAudit.objects.update(analysed_at=timezone.now() - dt.timedelta(days=3))
    _audit(bd.a2, [])
    nightly.run(reminders=False)
    assert _state(mail, "pro.passwords").effective == "done"
    # A second night changes nothing.
    again = nightly.run(reminders=False)
    assert again["states_written"] == 0 and again["indexes_changed"] == 0


def test_measured_status_wins_over_declared_except_not_applicable(bd):
    services.set_status(SYSTEM, bd.care, "pro.passwords", "done")
    _audit(bd.a2, ["weak_password_policy"])
    services.recompute([bd.care])
    state = _state(bd.care, "pro.passwords")
    assert (state.status, state.auto_status, state.effective) == ("done", "not_done", "not_done")
    services.set_status(SYSTEM, bd.care, "pro.passwords", "na", reason="Comptes de l'éditeur")
    assert _state(bd.care, "pro.passwords").effective == "na"


def test_a_change_of_hosting_or_exposure_asks_for_a_new_decision(bd):
    director = bd.users["director_a2"]
    services_decision.sign(director, bd.care, {"outcome": "accept", "months": 12})
    today = timezone.localdate()
    assert selectors.decision_state(bd.care, today).code == "valid"
    services.update_service(bd.users["referent_a2"], bd.care, {"description": "autre texte"})
    assert selectors.decision_state(bd.care, today).code == "valid"
    services.update_service(bd.users["referent_a2"], bd.care, {"internet_exposed": False})
    state = selectors.decision_state(bd.care, today)
    assert state.code == "review"
    assert DigitalService.objects.get(pk=bd.care.pk).review_reason == "internet_exposed"


def test_deleting_a_service_closes_its_findings(bd):
    assert Finding.objects.filter(
        structure=bd.a2, source="bydesign", status__in=OPEN_STATUSES
    ).exists()
    services.delete_service(bd.users["referent_a2"], bd.care)
    assert not Finding.objects.filter(
        structure=bd.a2, source="bydesign", status__in=OPEN_STATUSES
    ).exists()


def test_administrators_second_factor_measured_by_the_directory_audit(bd):
    """An on-site service's "MFA for administrators" measure follows the latest audit: the
    rule ran and listed nobody → done; it listed administrators → not done."""
    mail = services.create_service(
        SYSTEM,
        bd.a2,
        {"name": "Serveur de fichiers", "kind": "other", "data_kind": "personal",
         "hosting": "on_site", "internet_exposed": False, "availability": "day"},
    )  # fmt: skip
    rule = "privileged_password_only"
    _audit(bd.a2, [rule], evaluated=[rule])
    services.recompute([mail])
    state = _state(mail, "pro.mfa_admins")
    assert (state.auto_status, state.auto_source) == ("not_done", "directory")
    _audit(bd.a2, [], evaluated=[rule])
    services.recompute([mail])
    assert _state(mail, "pro.mfa_admins").auto_status == "done"
