"""An online audit through the platform against the session's real Samba AD DC: connection
stored encrypted, audit job collects as the non-admin reader, findings land in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from carbet.core.models import Asset
from carbet.directory.models import AuditOrigin, AuditStatus, DirectoryAudit, DirectoryConnection
from carbet.findings.choices import Source
from carbet.findings.models import Finding

pytestmark = pytest.mark.realserver


def test_an_online_audit_collects_analyses_and_writes_findings(
    region, samba_dc, django_capture_on_commit_callbacks
):
    asset = Asset.objects.create(
        structure=region.a,
        kind="ad_domain",
        value=samba_dc.dns_domain,
        validated=True,
        internet_exposed=False,
    )
    analyst = region.client("centre_analyst")
    response = analyst.post(
        reverse("directory:connection_add", args=[region.a.pk]),
        {
            "label": "DC Samba",
            "asset": asset.pk,
            "server": samba_dc.host,
            "port": str(samba_dc.ldaps_port),
            "ca_pem": Path(samba_dc.ca_file).read_text(),
            "bind_user": samba_dc.reader_user,
            "bind_password": samba_dc.reader_password,
        },
    )
    assert response.status_code == 302, response.content[:800]
    connection = DirectoryConnection.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst.post(reverse("directory:connection_run", args=[connection.pk]))
    assert response.status_code == 302
    audit_row = DirectoryAudit.objects.get()
    assert audit_row.origin == AuditOrigin.ONLINE
    assert audit_row.status == AuditStatus.DONE, audit_row.error
    assert audit_row.domain.lower() == samba_dc.dns_domain.lower()
    assert audit_row.counts["users"] > 5
    assert audit_row.anssi_level is not None and audit_row.score_global is not None
    rules = {f["rule"] for f in audit_row.result["findings"] if f["objects"] or f["points"]}
    # A few of the weaknesses the fixture seeds (each has a clean control that must not fire).
    seeded = {"vuln4_user_accounts_machineaccountquota", "vuln2_kerberos_properties_preauth"}
    assert seeded <= rules, sorted(rules)
    stored = set(
        Finding.objects.filter(structure=region.a, source=Source.DIRECTORY).values_list(
            "rule", flat=True
        )
    )
    assert seeded <= stored
    page = region.client("director").get(reverse("directory:audit", args=[audit_row.pk]))
    assert page.status_code == 200
    assert "Exploitable tout de suite" in page.content.decode() or audit_row.exploitable_count == 0


def test_a_wrong_password_fails_the_audit_with_a_clear_message(
    region, samba_dc, django_capture_on_commit_callbacks
):
    asset = Asset.objects.create(
        structure=region.a,
        kind="ad_domain",
        value=samba_dc.dns_domain,
        validated=True,
        internet_exposed=False,
    )
    connection = DirectoryConnection.objects.create(
        structure=region.a,
        asset=asset,
        label="DC",
        server=samba_dc.host,
        port=samba_dc.ldaps_port,
        ca_pem=Path(samba_dc.ca_file).read_text(),
        bind_user=samba_dc.reader_user,
        bind_password="not-the-password",
    )
    with django_capture_on_commit_callbacks(execute=True):
        region.client("centre_analyst").post(
            reverse("directory:connection_run", args=[connection.pk])
        )
    audit_row = DirectoryAudit.objects.get()
    assert audit_row.status == AuditStatus.FAILED
    assert audit_row.error
    assert "not-the-password" not in audit_row.error
