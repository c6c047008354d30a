"""The crisis demo: one closed crisis with its whole history, one under way — loaded through
the service's functions, idempotent, with an intact log and printable reports."""

from __future__ import annotations

import datetime as dt

from carbet.crisis import demo, services_log
from carbet.crisis.choices import Phase
from carbet.crisis.models import CrisisCase, LogEntry, Sitrep


def test_demo_loads_once_with_a_whole_history(region, keys):
    from carbet.findings.models import Finding

    structures = {demo.CLOSED: region.b, demo.ONGOING: region.a}
    users = list(region.users.values())
    today = dt.date(2026, 11, 20)
    assert demo.load(structures, users, today=today) == 2
    closed = CrisisCase.objects.get(structure=region.b)
    assert closed.phase == Phase.CLOSED and closed.closed_at is not None
    assert [c.to_phase for c in closed.phase_changes.order_by("at")] == [
        "qualification",
        "containment",
        "remediation",
        "rebuild",
        "exit",
        "lessons",
        "closed",
    ]
    assert closed.decisions.exists() and closed.tasks.filter(status="done").exists()
    assert closed.obligations.filter(sent_at__isnull=False).count() >= 2
    assert LogEntry.objects.filter(case=closed, supersedes__isnull=False).exists()
    assert Finding.objects.filter(structure=region.b, source="crisis").count() == 2
    assert services_log.verify_log(closed).ok
    ongoing = CrisisCase.objects.get(structure=region.a)
    assert ongoing.phase == Phase.REMEDIATION
    assert ongoing.activities.exclude(mode="normal").exists()
    # The director of the ongoing case sits in its cell: his one page has content.
    assert ongoing.members.filter(user=region.users["director"], active=True).exists()
    assert not Sitrep.objects.filter(status="sent").exists()  # nothing is mailed
    # Twice: nothing more.
    assert demo.load(structures, users, today=today) == 0
    assert CrisisCase.objects.count() == 2
