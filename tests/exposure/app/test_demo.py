"""The demo's exposure scans: through the services, mandate-gated, contacting nothing."""

from __future__ import annotations

from carbet.demo.exposure import load_demo_exposure
from carbet.exposure.models import Scan
from carbet.findings.models import Finding
from carbet.jobs.models import Job


def test_demo_scans_are_finished_without_any_network(region, django_capture_on_commit_callbacks):
    from carbet.core.models import Mandate

    Mandate.objects.filter(structure=region.b).delete()
    with django_capture_on_commit_callbacks(execute=True):
        result = load_demo_exposure()
    assert result == {"scans": 2, "without_mandate": 1}
    scans = list(Scan.objects.all())
    assert {s.structure_id for s in scans} == {region.a.pk, region.a2.pk}
    assert all(s.status == "succeeded" and s.scores for s in scans)
    assert Finding.objects.filter(source="exposure").exists()
    # The jobs ran after the scans were finished: they found nothing left to do.
    assert all(j.status == "succeeded" for j in Job.objects.filter(kind="exposure.scan"))
    assert load_demo_exposure() == {"scans": 0, "without_mandate": 1}
