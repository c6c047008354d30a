"""Weekly schedules and scan profiles: spread over the week, launched when due, audited.

Each structure gets one weekly slot (a weekday and an hour, at night by default so that the
structures' servers are quiet). New schedules go to the least-used slot, so the region's scans
stay spread out and existing slots never move. ``run_due`` (``carbet exposure run-due``, from
cron every hour) starts the scans whose slot has come since they last ran: it is idempotent, a
slot is launched once however often the command runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.services import require
from carbet.core.tenancy import SYSTEM, Actor
from carbet.exposure.models import ScanProfile, ScanSchedule
from carbet.exposure.service import ExposurePerm
from carbet.exposure.services import NothingToScan, request_structure_scan

# Night hours, from the evening: scans should not compete with the day's work.
SLOT_HOURS = (20, 21, 22, 23, 0, 1, 2, 3, 4, 5)
SLOTS = [(weekday, hour) for weekday in range(7) for hour in SLOT_HOURS]
PROFILE_FIELDS = [
    "name",
    "description",
    "ports",
    "connect_timeout",
    "read_timeout",
    "target_timeout",
    "global_concurrency",
    "per_target_concurrency",
    "per_target_budget",
    "tls",
    "web_paths",
    "mail_dns",
    "is_default",
]
SCHEDULE_FIELDS = ["weekday", "hour", "enabled", "profile_id", "note"]


def ensure_schedules(actor: Actor = SYSTEM) -> int:
    """Give every structure without a schedule the least-used night slot; the number created."""
    used = Counter(ScanSchedule.objects.values_list("weekday", "hour"))
    missing = (
        Structure.objects.visible_to(SYSTEM).filter(exposure_schedule__isnull=True).order_by("pk")
    )
    created = []
    for structure in missing:
        slot = min(SLOTS, key=lambda s: (used[s], SLOTS.index(s)))
        used[slot] += 1
        created.append(ScanSchedule(structure=structure, weekday=slot[0], hour=slot[1]))
    if created:
        ScanSchedule.objects.bulk_create(created, ignore_conflicts=True)
        audit.record(actor, "exposure.schedules.spread", changes={"created": len(created)})
    return len(created)


def last_slot(schedule: ScanSchedule, now: dt.datetime) -> dt.datetime:
    """The latest moment at or before ``now`` matching the schedule's weekday and hour."""
    local = timezone.localtime(now)
    days_back = (local.weekday() - schedule.weekday) % 7
    candidate = (local - dt.timedelta(days=days_back)).replace(
        hour=schedule.hour, minute=0, second=0, microsecond=0
    )
    if candidate > local:
        candidate -= dt.timedelta(days=7)
    return candidate


def due_schedules(now: dt.datetime) -> list[tuple[ScanSchedule, dt.datetime]]:
    due = []
    for schedule in (
        ScanSchedule.objects.visible_to(SYSTEM)
        .filter(enabled=True)
        .select_related("structure__organisation", "profile")
    ):
        slot = last_slot(schedule, now)
        # A slot missed by more than a day (platform down) waits for next week's.
        if now - slot > dt.timedelta(days=1):
            continue
        if schedule.last_slot_at is None or schedule.last_slot_at < slot:
            due.append((schedule, slot))
    return due


def run_due(now: dt.datetime | None = None) -> dict[str, Any]:
    """Start the scans whose weekly slot has come; each slot once."""
    now = now or timezone.now()
    ensure_schedules()
    started, refused = [], []
    for schedule, slot in due_schedules(now):
        with transaction.atomic():
            claimed = (
                ScanSchedule.objects.filter(pk=schedule.pk)
                .filter(Q(last_slot_at__isnull=True) | Q(last_slot_at__lt=slot))
                .update(last_slot_at=slot)
            )
        if not claimed:
            continue  # another run-due took it
        try:
            scan = request_structure_scan(
                schedule.structure, SYSTEM, on_demand=False, profile=schedule.profile
            )
        except NothingToScan as exc:
            refused.append({"structure": schedule.structure_id, "reason": str(exc)})
            continue
        started.append(scan.pk)
    return {"started": len(started), "refused": len(refused), "scans": started}


def save_profile(actor: Actor, profile: ScanProfile, before: dict | None, ip: str | None) -> None:
    """Save a profile edited through a form (validated there), audited with its changes."""
    require(actor, ExposurePerm.MANAGE)
    with transaction.atomic():
        if profile.is_default:
            ScanProfile.objects.exclude(pk=profile.pk).update(is_default=False)
        profile.save()
        after = {name: getattr(profile, name) for name in PROFILE_FIELDS}
        changes = (
            {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
            if before is not None
            else after
        )
        audit.record(
            actor,
            "exposure.profile.created" if before is None else "exposure.profile.updated",
            profile,
            changes=changes,
            ip=ip,
        )


def profile_state(profile: ScanProfile) -> dict:
    return {name: getattr(profile, name) for name in PROFILE_FIELDS}


def save_schedule(actor: Actor, schedule: ScanSchedule, before: dict, ip: str | None) -> None:
    require(actor, ExposurePerm.MANAGE, schedule.structure)
    with transaction.atomic():
        schedule.save()
        after = schedule_state(schedule)
        audit.record(
            actor,
            "exposure.schedule.updated",
            schedule,
            structure=schedule.structure,
            changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
            ip=ip,
        )


def schedule_state(schedule: ScanSchedule) -> dict:
    return {name: getattr(schedule, name) for name in SCHEDULE_FIELDS}
