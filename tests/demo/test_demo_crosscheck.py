"""One demo, one truth: the figures that several pages show come from the same rows.

The demo is loaded once (module fixture) and every cross-check reads it: audited structures
(directory vs roadmap facts), each structure's latest AD level (directory vs CaRE evidence),
exposure scans cited as evidence (scan rows, dates), campaigns per structure (awareness vs
roadmap facts), the score card vs its chart's last point, phishing send times in working
hours, and no weakness reported twice for the same asset.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from carbet.awareness.models import Campaign, Recipient
from carbet.core.tenancy import SYSTEM
from carbet.directory.models import AuditStatus, DirectoryAudit
from carbet.exposure.models import Scan, ScanObservation
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import Finding, PostureSnapshot
from carbet.findings.posture.selectors import live_counts
from carbet.roadmap.models import ServiceFact

PASSWORD = "une démo bien gardée 2024"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("demo", password=PASSWORD, stdout=io.StringIO())
        yield
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db


def test_audited_structures_are_the_same_everywhere(demo):
    audited = set(
        DirectoryAudit.objects.filter(status=AuditStatus.DONE).values_list(
            "structure_id", flat=True
        )
    )
    with_facts = set(
        ServiceFact.objects.filter(kind="directory_audit").values_list("structure_id", flat=True)
    )
    assert audited and audited == with_facts
    # Every directory finding names an audit that the directory page lists, on its day.
    audit_days = {
        (a.structure_id, timezone.localtime(a.created_at).date())
        for a in DirectoryAudit.objects.all()
    }
    for finding in Finding.objects.filter(source="directory_audit"):
        assert finding.structure_id in audited
        first = timezone.localtime(finding.first_seen).date()
        assert (finding.structure_id, first) in audit_days, finding.title


def test_latest_ad_level_is_the_evidence_level(demo):
    for structure_id in DirectoryAudit.objects.values_list("structure_id", flat=True).distinct():
        latest = DirectoryAudit.objects.filter(structure_id=structure_id).latest("created_at")
        fact = ServiceFact.objects.filter(structure_id=structure_id, kind="directory_audit").latest(
            "at"
        )
        assert fact.reference == f"directory-audit:{latest.pk}"
        assert fact.value["anssi_level"] == latest.anssi_level
        assert fact.at == latest.analysed_at


def test_exposure_evidence_names_real_scans_and_no_weakness_is_doubled(demo):
    facts = ServiceFact.objects.filter(kind="exposure_scan")
    assert facts.exists()
    for fact in facts:
        scan = Scan.objects.get(pk=int(fact.reference.split(":")[1]))
        assert scan.structure_id == fact.structure_id and scan.finished_at == fact.at
    # The demo's scans see the findings the history wrote: same fingerprints, no new finding.
    fingerprints = set(ScanObservation.objects.values_list("fingerprint", flat=True))
    known = set(Finding.objects.values_list("fingerprint", flat=True))
    assert fingerprints and fingerprints <= known
    # A weakness on an asset (its port, if any) is reported once, whichever source saw it.
    # Findings without an asset (one per backup system, per procedure) are told apart by
    # what they are about, not by this key.
    open_rows = Finding.objects.filter(status__in=OPEN_STATUSES, asset__isnull=False)
    doubled = Counter(
        (f.structure_id, f.rule, f.asset_id, (f.evidence or {}).get("port")) for f in open_rows
    )
    assert [key for key, n in doubled.items() if n > 1] == []


def test_campaigns_per_structure_agree(demo):
    with_campaigns = Counter(Campaign.objects.values_list("structure_id", flat=True))
    facts = Counter(
        ServiceFact.objects.filter(kind="phishing_campaign").values_list("structure_id", flat=True)
    )
    assert with_campaigns and facts == with_campaigns


def test_phishing_went_out_in_working_hours(demo):
    for campaign in Campaign.objects.all():
        for sent in Recipient.objects.filter(campaign=campaign).values_list("sent_at", flat=True):
            local = timezone.localtime(sent)
            assert local.weekday() < 5, local
            assert campaign.day_start <= local.time() <= campaign.day_end or local.time() == time(
                campaign.day_end.hour, campaign.day_end.minute
            ), local


def test_score_card_is_the_charts_last_point(demo):
    today = timezone.localdate()
    counts, _cells = live_counts(SYSTEM, today=today)
    snapshots = PostureSnapshot.objects.filter(day=today)
    assert snapshots.exists()
    for snapshot in snapshots:
        live = counts.get(snapshot.structure_id)
        if live is not None:
            assert snapshot.scores["posture"] == live.score
