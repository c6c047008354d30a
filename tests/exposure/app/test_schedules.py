"""Weekly slots spread over the week, launched once when due."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carbet.exposure.models import Scan, ScanSchedule
from carbet.exposure.services_schedule import SLOTS, ensure_schedules, last_slot, run_due


def test_slots_are_spread_and_stable(region):
    assert ensure_schedules() == 3
    first = dict(ScanSchedule.objects.values_list("structure_id", "weekday"))
    assert ensure_schedules() == 0  # nothing moves
    assert dict(ScanSchedule.objects.values_list("structure_id", "weekday")) == first
    assert len(set(ScanSchedule.objects.values_list("weekday", "hour"))) == 3
    assert all((s.weekday, s.hour) in SLOTS for s in ScanSchedule.objects.all())


def test_run_due_starts_each_slot_once(region):
    ensure_schedules()
    now = timezone.make_aware(dt.datetime(2026, 3, 4, 22, 30))  # a Wednesday
    ScanSchedule.objects.filter(structure=region.a).update(weekday=2, hour=22)
    ScanSchedule.objects.filter(structure=region.a2).update(weekday=2, hour=21, enabled=False)
    ScanSchedule.objects.filter(structure=region.b).update(weekday=5, hour=3)
    result = run_due(now)
    assert result["started"] == 1
    scan = Scan.objects.get()
    assert scan.structure == region.a and scan.trigger == "scheduled"
    assert run_due(now + dt.timedelta(minutes=20))["started"] == 0
    # Next week, the same slot runs again.
    assert run_due(now + dt.timedelta(days=7))["started"] == 1


def test_last_slot_is_the_latest_matching_moment(region):
    ensure_schedules()
    schedule = ScanSchedule.objects.get(structure=region.a)
    schedule.weekday, schedule.hour = 0, 23
    now = timezone.make_aware(dt.datetime(2026, 3, 4, 10, 0))  # Wednesday morning
    slot = timezone.localtime(last_slot(schedule, now))
    assert (slot.weekday(), slot.hour, slot.day) == (0, 23, 2)
