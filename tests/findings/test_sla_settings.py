"""The region's SLA page: centre admin only, validated, audited, used by new findings."""

from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.findings.ingest import FindingInput, ingest
from carbet.findings.models import Finding, SlaPolicy

URL = "/vulnerabilites/delais/"
VALUES = {
    "critical_days": 3,
    "high_days": 14,
    "medium_days": 60,
    "low_days": 180,
    "kev_max_days": 2,
    "exposed_factor_percent": 50,
}


def test_only_the_centre_admin_sets_deadlines(region):
    for role in ("centre_analyst", "director", "referent", "ars_viewer"):
        assert region.client(role).get(URL).status_code == 403, role
        assert region.client(role).post(URL, VALUES).status_code == 403, role
    assert not SlaPolicy.objects.exists()


def test_new_deadlines_apply_to_new_findings_and_are_audited(region):
    client = region.client("centre_admin")
    assert client.get(URL).status_code == 200
    response = client.post(URL, VALUES)
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="sla.update")
    assert entry.changes["critical_days"] == [7, 3]
    ingest(
        region.a,
        "manual",
        [FindingInput(title="x", fingerprint="x", severity="high")],
        complete=False,
    )
    due = Finding.objects.get(fingerprint="x").sla_due
    assert (due - timezone.localdate()).days == 14


def test_inconsistent_deadlines_are_refused_with_a_clear_error(region):
    client = region.client("centre_admin")
    response = client.post(URL, {**VALUES, "critical_days": 100})
    assert response.status_code == 200
    assert "du plus court" in response.content.decode()
    response = client.post(URL, {**VALUES, "exposed_factor_percent": 0})
    assert "Entre 1 et 100" in response.content.decode()
    assert not SlaPolicy.objects.exists()


def test_campaign_form_is_prefilled_from_the_dashboard_link(region):
    client = region.client("centre_analyst")
    response = client.get(
        "/vulnerabilites/plans/campagnes/nouvelle/?title=VPN&match_cve=CVE-2024-21762"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="CVE-2024-21762"' in body and 'value="VPN"' in body
