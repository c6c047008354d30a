"""An online audit through the platform against the session's real Samba AD DC: connection
stored encrypted, audit job collects as the non-admin reader (only from the DC's proven
address), findings land in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from carbet.core.models import Asset
from carbet.directory.models import AuditOrigin, AuditStatus, DirectoryAudit, DirectoryConnection
from carbet.directory.service import DIRECTORY_SOURCE
from carbet.findings.models import Finding
from tests.conftest import proven
from tests.directory.samba import HOSTNAME

pytestmark = pytest.mark.realserver


def _proven_dc(structure, samba_dc) -> Asset:
    """The AD domain and the DC's address, both proven (the centre's review)."""
    Asset.objects.create(
        structure=structure, kind="ipv4", value=samba_dc.host, internet_exposed=False, **proven()
    )
    return Asset.objects.create(
        structure=structure,
        kind="ad_domain",
        value=samba_dc.dns_domain,
        internet_exposed=False,
        **proven(),
    )


def test_an_online_audit_collects_analyses_and_writes_findings(
    region, samba_dc, dns_lab, settings, django_capture_on_commit_callbacks
):
    """The normal path, by name: dc1.<domain> (under the proven AD domain) resolves, through
    the platform's resolver, to the DC's proven address; the certificate names dc1."""
    asset = _proven_dc(region.a, samba_dc)
    settings.CARBET_EXPOSURE_NAMESERVER = dns_lab.nameserver
    dns_lab.answer({HOSTNAME: [samba_dc.host]})
    analyst = region.client("centre_analyst")
    response = analyst.post(
        reverse("directory:connection_add", args=[region.a.pk]),
        {
            "label": "DC Samba",
            "asset": asset.pk,
            "server": f"{HOSTNAME}.{samba_dc.dns_domain}",
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
        Finding.objects.filter(structure=region.a, source=DIRECTORY_SOURCE).values_list(
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
    asset = _proven_dc(region.a, samba_dc)
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
