"""The ingest service: dedup, reopen, complete vs partial runs, decisions left alone, SLA."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carbet.findings.choices import EventKind, Status
from carbet.findings.ingest import FindingInput, IngestError, ingest
from carbet.findings.models import Finding, FindingEvent, SlaPolicy


def batch(*names: str, severity: str = "high", **extra) -> list[FindingInput]:
    return [
        FindingInput(title=f"Finding {n}", fingerprint=f"fp-{n}", severity=severity, **extra)
        for n in names
    ]


def status_of(structure, name: str) -> str:
    return Finding.objects.get(structure=structure, fingerprint=f"fp-{name}").status


def test_dedup_within_a_structure_but_never_across(region):
    ingest(region.a, "exposure", batch("x", "y"), complete=False, scope="asset:1")
    report = ingest(region.a, "exposure", batch("x", "x", "z"), complete=False, scope="asset:1")
    assert report.duplicates_in_batch == 1
    assert report.created == 1 and report.unchanged == 1
    ingest(region.b, "exposure", batch("x"), complete=False, scope="asset:1")
    assert Finding.objects.filter(fingerprint="fp-x").count() == 2
    assert Finding.objects.filter(structure=region.a).count() == 3
    # the same weakness reported by another stream of the structure is the same finding
    ingest(region.a, "manual", batch("x"), complete=False)
    assert Finding.objects.filter(structure=region.a, fingerprint="fp-x").count() == 1


def test_complete_rescan_closes_what_is_gone_partial_never_does(region):
    ingest(region.a, "exposure", batch("a", "b", "c"), complete=True, label="run 1")
    partial = ingest(region.a, "exposure", batch("a"), complete=False, label="run 2")
    assert partial.closed == 0
    assert status_of(region.a, "b") == Status.NEW
    report = ingest(region.a, "exposure", batch("a", "b"), complete=True, label="run 3")
    assert report.closed == 1
    gone = Finding.objects.get(fingerprint="fp-c")
    assert gone.status == Status.VERIFIED_CLOSED
    assert "run 3" in gone.status_reason
    assert gone.events.filter(kind=EventKind.CLOSED_NOT_SEEN).exists()


def test_a_complete_run_of_one_stream_leaves_other_streams_alone(region):
    ingest(region.a, "exposure", batch("a"), complete=True, scope="asset:1")
    ingest(region.a, "exposure", batch("b"), complete=True, scope="asset:2")
    ingest(region.a, "exposure", [], complete=True, scope="asset:2")
    assert status_of(region.a, "a") == Status.NEW
    assert status_of(region.a, "b") == Status.VERIFIED_CLOSED


def test_reappearing_finding_reopens_unless_told_not_to(region):
    ingest(region.a, "exposure", batch("a", "b"), complete=True)
    ingest(region.a, "exposure", [], complete=True)
    assert status_of(region.a, "a") == Status.VERIFIED_CLOSED
    report = ingest(region.a, "exposure", batch("a"), complete=False, label="again")
    assert report.reopened == 1
    reopened = Finding.objects.get(fingerprint="fp-a")
    assert reopened.status == Status.NEW and reopened.closed_at is None
    assert reopened.events.filter(kind=EventKind.REOPENED).exists()
    ingest(region.a, "exposure", batch("b"), complete=False, reopen=False)
    assert status_of(region.a, "b") == Status.VERIFIED_CLOSED


def test_decisions_are_left_alone_but_the_sighting_is_recorded(region):
    ingest(region.a, "exposure", batch("fp", "acc"), complete=True)
    Finding.objects.filter(fingerprint="fp-fp").update(status=Status.FALSE_POSITIVE)
    Finding.objects.filter(fingerprint="fp-acc").update(status=Status.RISK_ACCEPTED)
    later = timezone.now() + dt.timedelta(days=3)
    report = ingest(region.a, "exposure", batch("fp", "acc"), complete=True, now=later)
    assert report.decided_seen == 2 and report.reopened == 0
    for name, expected in (("fp", Status.FALSE_POSITIVE), ("acc", Status.RISK_ACCEPTED)):
        finding = Finding.objects.get(fingerprint=f"fp-{name}")
        assert finding.status == expected
        assert finding.last_seen == later
    # and a complete run that no longer sees them does not close decisions either
    ingest(region.a, "exposure", [], complete=True)
    assert status_of(region.a, "fp") == Status.FALSE_POSITIVE


def test_changed_content_is_rewritten_and_recorded(region):
    ingest(region.a, "exposure", batch("a", severity="low"), complete=True)
    report = ingest(
        region.a,
        "exposure",
        [
            FindingInput(
                title="Finding a (v2)",
                fingerprint="fp-a",
                severity="critical",
                evidence={"port": 443},
                references=[{"type": "cve", "id": "CVE-2024-1"}],
            )
        ],
        complete=True,
    )
    assert report.updated == 1
    finding = Finding.objects.get(fingerprint="fp-a")
    assert finding.title == "Finding a (v2)" and finding.severity == 4
    assert finding.evidence == {"port": 443}
    assert finding.references == [{"type": "cve", "id": "CVE-2024-1"}]
    assert FindingEvent.objects.filter(finding=finding, kind=EventKind.CHANGED).count() == 1


def test_sla_defaults_and_shortening(region):
    today = timezone.localdate()
    ingest(
        region.a,
        "exposure",
        [
            FindingInput(title="c", fingerprint="c", severity="critical"),
            FindingInput(title="h", fingerprint="h", severity="high"),
            FindingInput(title="m", fingerprint="m", severity="medium"),
            FindingInput(title="l", fingerprint="l", severity="low"),
            FindingInput(title="i", fingerprint="i", severity="info"),
            FindingInput(title="kev", fingerprint="kev", severity="medium", kev=True),
            FindingInput(title="exp", fingerprint="exp", severity="high", internet_exposed=True),
        ],
        complete=False,
    )
    due = {f.fingerprint: f.sla_due for f in Finding.objects.filter(structure=region.a)}
    days = {k: (v - today).days if v else None for k, v in due.items()}
    assert days == {"c": 7, "h": 30, "m": 90, "l": 120, "i": None, "kev": 7, "exp": 15}


def test_region_policy_changes_deadlines(region):
    SlaPolicy.objects.create(critical_days=3, high_days=10, medium_days=60, low_days=200)
    ingest(region.a, "manual", batch("x", severity="high"), complete=False)
    finding = Finding.objects.get(fingerprint="fp-x")
    assert (finding.sla_due - timezone.localdate()).days == 10


def test_exposure_comes_from_the_asset(region):
    asset = region.a.assets.first()
    ingest(
        region.a,
        "exposure",
        [FindingInput(title="t", fingerprint="t", severity="high", asset_id=asset.pk)],
        complete=False,
    )
    assert Finding.objects.get(fingerprint="t").internet_exposed is True


def test_bad_batch_writes_nothing(region):
    other_asset = region.b.assets.first()
    items = [
        FindingInput(title="ok", fingerprint="ok"),
        FindingInput(title="", fingerprint="empty"),
        FindingInput(title="sev", severity="apocalyptic"),
        FindingInput(title="cvss", cvss=11),
        FindingInput(title="asset", asset_id=other_asset.pk),
    ]
    with pytest.raises(IngestError) as error:
        ingest(region.a, "exposure", items, complete=True)
    assert [index for index, _ in error.value.errors] == [1, 2, 3, 4]
    assert not Finding.objects.exists()
    with pytest.raises(IngestError):
        ingest(region.a, "nonsense", [], complete=True)


def test_ingest_is_audited(region):
    from carbet.audit.models import AuditEntry

    ingest(region.a, "exposure", batch("a"), complete=True, scope="asset:9")
    entry = AuditEntry.objects.get(action="findings.ingest")
    assert entry.structure_id == region.a.pk
    assert entry.changes["created"] == 1


def test_non_numeric_scores_are_errors_not_crashes(region):
    items = [
        FindingInput(title="a", cvss="high"),
        FindingInput(title="b", epss=float("nan")),
        FindingInput(title="c", cvss="7.5", epss="0.2"),
    ]
    with pytest.raises(IngestError) as error:
        ingest(region.a, "manual", items, complete=False)
    assert [index for index, _ in error.value.errors] == [0, 1]
    report = ingest(region.a, "manual", items[2:], complete=False)
    assert report.created == 1
    assert float(Finding.objects.get(title="c").cvss) == 7.5
