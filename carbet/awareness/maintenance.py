"""The periodic upkeep of the awareness service (job ``awareness.maintenance``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from carbet.awareness import results, tracking
from carbet.awareness.choices import CampaignStatus
from carbet.awareness.models import Campaign
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM


def run(progress: Callable[..., Any] | None = None, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    settled = tracking.settle_clicks(now)
    if progress:
        progress(30, "clics classés")
    done = Campaign.objects.visible_to(SYSTEM).filter(
        status=CampaignStatus.DONE, purged_at__isnull=True
    )
    structure_ids = set()
    for campaign in done:
        results.refresh_summary(campaign)
        structure_ids.add(campaign.structure_id)
    for structure in Structure.objects.visible_to(SYSTEM).filter(pk__in=structure_ids):
        results.sync_findings(structure)
    if progress:
        progress(70, "résultats à jour")
    purged = results.purge_due(now)
    return {"settled_clicks": settled, "structures": len(structure_ids), "purged": purged}
