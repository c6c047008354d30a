"""The directory app: uploads, analyses, findings, history, exceptions, mandate and rights."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carbet.audit.models import AuditEntry
from carbet.core.models import Mandate
from carbet.directory import services
from carbet.directory.models import AuditOrigin, AuditStatus, DirectoryAudit, RuleException
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.findings.choices import Status
from carbet.findings.models import Finding
from carbet.roadmap.models import ServiceFact
from tests.directory.app.crafted import snapshot, snapshot_bytes

ASREP_RULE = "vuln2_kerberos_properties_preauth"


def _upload(client, structure, data: bytes, *, kind="snapshot", passphrase="", callbacks=None):
    return client.post(
        reverse("directory:upload", args=[structure.pk]),
        {
            "kind": kind,
            "file": SimpleUploadedFile("alpha.carbet", data),
            "passphrase": passphrase,
        },
    )


@pytest.fixture
def mandated(region):
    """The region fixture already holds a mandate covering directory audits for A."""
    return region


def _run_upload(client, structure, data, capture, **kwargs):
    with capture(execute=True):
        response = _upload(client, structure, data, **kwargs)
    return response


def test_an_uploaded_snapshot_is_analysed_into_findings_and_history(
    mandated, django_capture_on_commit_callbacks
):
    region = mandated
    client = region.client("it_provider")
    response = _run_upload(
        client, region.a, snapshot_bytes(snapshot()), django_capture_on_commit_callbacks
    )
    assert response.status_code == 302, response.content[:500]
    audit_row = DirectoryAudit.objects.get(structure=region.a)
    assert audit_row.status == AuditStatus.DONE, audit_row.error
    assert audit_row.origin == AuditOrigin.SNAPSHOT
    assert audit_row.domain == "alpha.local"
    assert 1 <= audit_row.anssi_level <= 5
    assert audit_row.score_global is not None
    assert audit_row.counts["users"] == 4
    rules = {f["rule"] for f in audit_row.result["findings"]}
    assert ASREP_RULE in rules
    finding = Finding.objects.get(structure=region.a, rule=ASREP_RULE)
    assert finding.source == DIRECTORY_SOURCE
    # The roadmap receives the audit as automatic evidence (level reached).
    fact = ServiceFact.objects.get(structure=region.a, kind="directory_audit")
    assert fact.value["anssi_level"] == audit_row.anssi_level
    assert "svc-irm" in finding.evidence["objects"]
    # The snapshot is kept encrypted at rest, never as readable JSON.
    from tests.directory.app.test_connections import _raw_column

    raw = _raw_column(DirectoryAudit, "snapshot", audit_row.pk)
    assert "svc-irm" not in raw

    # The structure fixes it: the next audit closes the finding and lists the rule as fixed.
    _run_upload(
        client,
        region.a,
        snapshot_bytes(snapshot(asrep_user=False)),
        django_capture_on_commit_callbacks,
    )
    second = DirectoryAudit.objects.filter(structure=region.a).order_by("-created_at").first()
    assert second.status == AuditStatus.DONE
    assert ASREP_RULE in second.fixed_rules
    finding.refresh_from_db()
    assert finding.status == Status.VERIFIED_CLOSED
    page = region.client("director").get(reverse("directory:audit", args=[second.pk]))
    assert page.status_code == 200
    assert "Depuis le dernier audit" in page.content.decode()


def test_an_upload_without_a_mandate_is_refused_and_audited(region):
    Mandate.objects.filter(structure=region.a).delete()
    client = region.client("it_provider")
    response = _upload(client, region.a, snapshot_bytes(snapshot()))
    assert response.status_code == 200
    assert not DirectoryAudit.objects.exists()
    assert AuditEntry.objects.filter(action="mandate.refused").exists()


def test_a_revoked_mandate_refuses_uploads(region):
    Mandate.objects.filter(structure=region.a).update(status="revoked")
    response = _upload(region.client("it_provider"), region.a, snapshot_bytes(snapshot()))
    assert response.status_code == 200
    assert not DirectoryAudit.objects.exists()


@pytest.mark.parametrize(
    "data",
    [b"", b"not a snapshot at all", b"\x1f\x8b\x08\x00garbage", b"CARBET-AD" + b"\x00" * 64],
)
def test_a_hostile_file_gives_a_clear_error_and_creates_nothing(mandated, data):
    response = _upload(mandated.client("it_provider"), mandated.a, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Instantané illisible" in body or "fichier" in body.lower()
    assert not DirectoryAudit.objects.exists()
    assert not Finding.objects.exists()


def test_an_encrypted_snapshot_needs_its_passphrase(mandated, django_capture_on_commit_callbacks):
    data = snapshot_bytes(snapshot(), passphrase="correct horse battery")
    response = _upload(mandated.client("it_provider"), mandated.a, data, passphrase="wrong one")
    assert response.status_code == 200
    assert not DirectoryAudit.objects.exists()
    response = _run_upload(
        mandated.client("it_provider"),
        mandated.a,
        data,
        django_capture_on_commit_callbacks,
        passphrase="correct horse battery",
    )
    assert response.status_code == 302
    assert DirectoryAudit.objects.get().status == AuditStatus.DONE


def test_an_exception_removes_an_object_from_the_next_analysis(
    mandated, django_capture_on_commit_callbacks
):
    region = mandated
    _run_upload(
        region.client("it_provider"),
        region.a,
        snapshot_bytes(snapshot()),
        django_capture_on_commit_callbacks,
    )
    first = DirectoryAudit.objects.get()
    referent = region.client("referent")
    response = referent.post(
        reverse("directory:exception_add", args=[first.pk]),
        {
            "rule": ASREP_RULE,
            "object_name": "svc-irm",
            "justification": "Compte de service de l'IRM : le fournisseur l'exige, réseau isolé.",
            "expires_on": (dt.date.today() + dt.timedelta(days=90)).isoformat(),
        },
    )
    assert response.status_code == 302
    exception = RuleException.objects.get()
    assert AuditEntry.objects.filter(action="directory.exception.create").exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = region.client("centre_analyst").post(
            reverse("directory:reanalyse", args=[first.pk])
        )
    assert response.status_code == 302
    second = DirectoryAudit.objects.exclude(pk=first.pk).get()
    assert second.origin == AuditOrigin.REANALYSIS
    item = next(f for f in second.result["findings"] if f["rule"] == ASREP_RULE)
    assert "svc-irm" in item["excepted_objects"]
    assert "svc-irm" not in item["objects"]
    # An expired exception counts for nothing.
    RuleException.objects.filter(pk=exception.pk).update(
        expires_on=dt.date.today() - dt.timedelta(days=1)
    )
    assert services.active_exceptions(region.a) == []


def test_an_exception_needs_a_justification_and_a_future_end(mandated):
    audit_row = DirectoryAudit.objects.create(
        structure=mandated.a,
        origin="snapshot",
        status="done",
        result={"findings": [{"rule": ASREP_RULE, "title": "AS-REP"}]},
    )
    url = reverse("directory:exception_add", args=[audit_row.pk])
    client = mandated.client("referent")
    response = client.post(
        url,
        {"rule": ASREP_RULE, "object_name": "*", "justification": " ", "expires_on": "2020-01-01"},
    )
    assert response.status_code == 200
    assert not RuleException.objects.exists()


@pytest.mark.parametrize(
    ("role", "upload", "run", "view"),
    [
        ("centre_analyst", 200, True, 200),
        ("referent", 200, False, 200),
        ("it_provider", 200, False, 200),
        ("director", 403, False, 200),
        ("director_b", 404, False, 404),
        ("ars_viewer", 404, False, 404),
    ],
)
def test_rights_by_role(mandated, role, upload, run, view):
    client = mandated.client(role)
    assert client.get(reverse("directory:upload", args=[mandated.a.pk])).status_code == upload
    page = client.get(reverse("directory:structure", args=[mandated.a.pk]))
    assert page.status_code == view
    if view == 200:
        assert ("Ajouter une connexion" in page.content.decode()) is run


def test_the_ars_sees_the_distribution_but_no_names(mandated):
    DirectoryAudit.objects.create(
        structure=mandated.a,
        origin="snapshot",
        status="done",
        anssi_level=2,
        analysed_at=dt.datetime.now(dt.UTC),
        score_global=60,
        domain="alpha.local",
    )
    response = mandated.client("ars_viewer").get(reverse("directory:region"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Niveau 2" in body
    assert mandated.a.name not in body
    centre = mandated.client("centre_analyst").get(reverse("directory:region")).content.decode()
    assert mandated.a.name in centre
