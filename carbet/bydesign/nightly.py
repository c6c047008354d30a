"""The night's work of the service, also run on demand (``carbet bydesign nightly``, the
``bydesign.nightly`` background job): every digital service's automatic statuses and index,
then every medico-social structure's track, then the reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone

from carbet.bydesign import services, services_decision, services_track, services_vendor
from carbet.bydesign.models import DigitalService

BATCH = 2000


def recompute_all(today: date) -> dict[str, int]:
    totals = {"services": 0, "states_written": 0, "indexes_changed": 0, "structures_findings": 0}
    last = 0
    while True:
        batch = list(DigitalService.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return totals
        report = services.recompute(batch, today=today)
        totals["services"] += report.services
        totals["states_written"] += report.states_written
        totals["indexes_changed"] += report.indexes_changed
        totals["structures_findings"] += report.structures_with_findings
        last = batch[-1].pk


def run(
    *, today: date | None = None, now: datetime | None = None, reminders: bool = True
) -> dict[str, Any]:
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    result: dict[str, Any] = recompute_all(today)
    structure_ids = set(services_track.medico_social().values_list("pk", flat=True))
    result["track_structures"] = len(services_track.compute(structure_ids, today))
    if reminders:
        result["decision_reminders"] = services_decision.send_reminders(today)
        result["vendor_reminders"] = services_vendor.send_reminders(now)
    return result
