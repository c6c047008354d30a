"""The demo's exposure scans: through the services, mandate-gated, contacting nothing."""

from __future__ import annotations

from carbet.demo.exposure import load_demo_exposure
from carbet.exposure.models import Scan
from carbet.findings.models import Finding
from carbet.jobs.models import Job


def test_demo_scans_are_finished_without_any_network(region, django_capture_on_commit_callbacks):
    import datetime as dt

    from carbet.core.models import Mandate

    Mandate.objects.filter(structure=region.b).delete()
    # The demo replays its last scan day in the past: the mandates must already be in force.
    earlier = dt.date.today() - dt.timedelta(days=120)
    Mandate.objects.update(valid_from=earlier, signed_on=earlier)
    # Keys outside the demo's history: the replayed scans find nothing (the demo's own figures
    # are cross-checked in tests/demo); here only the gate and the "contact nothing" matter.
    structures = {"test-a": region.a, "test-a2": region.a2, "test-b": region.b}
    with django_capture_on_commit_callbacks(execute=True):
        result = load_demo_exposure(structures)
    assert result == {"scans": 2, "without_mandate": 1}
    scans = list(Scan.objects.all())
    assert {s.structure_id for s in scans} == {region.a.pk, region.a2.pk}
    assert all(s.status == "succeeded" and s.finished_at for s in scans), [
        (s.status, s.scores) for s in scans
    ]
    assert not Finding.objects.filter(source="exposure", structure=region.b).exists()
    # The jobs ran after the scans were finished: they found nothing left to do.
    assert all(j.status == "succeeded" for j in Job.objects.filter(kind="exposure.scan"))
    assert load_demo_exposure(structures) == {"scans": 0, "without_mandate": 1}
