"""What people do with matched alerts: acknowledge them for their structure, and (the centre)
start a matching pass now, as a background job."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.community.choices import AlertStatus
from carbet.community.models import StructureAlert
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.tenancy import Actor

MATCH_JOB = "community.match"
# The answers a structure gives; "new" is only the starting state.
ANSWERS = (AlertStatus.ACKNOWLEDGED, AlertStatus.FIXED, AlertStatus.NOT_CONCERNED)


def acknowledge(
    actor: Actor, alert: StructureAlert, status: str, reason: str = "", *, ip: str | None = None
) -> StructureAlert:
    """Record the structure's answer to an alert: taken into account, fixed, or not concerned
    (which needs a reason: the centre reads it). Audited."""
    access.require(actor, CommunityPerm.ACKNOWLEDGE, alert.structure)
    reason = (reason or "").strip()
    if status not in ANSWERS:
        raise ValidationError({"status": _("Choisissez une réponse proposée.")})
    if status == AlertStatus.NOT_CONCERNED and not reason:
        raise ValidationError({"reason": _("Dites pourquoi votre structure n'est pas concernée.")})
    if len(reason) > 500:
        raise ValidationError({"reason": _("500 caractères au plus.")})
    with transaction.atomic():
        locked = StructureAlert.objects.select_for_update().get(pk=alert.pk)
        old = locked.status
        locked.status = status
        locked.reason = reason
        locked.acknowledged_by = actor if getattr(actor, "pk", None) else None
        locked.acknowledged_at = timezone.now()
        locked.save(update_fields=["status", "reason", "acknowledged_by", "acknowledged_at"])
        audit.record(
            actor,
            "community.alert.acknowledge",
            locked,
            structure=locked.structure,
            ip=ip,
            changes={
                "vulnerability": locked.vulnerability.vuln_id,
                "status": [old, status],
                "reason": reason,
            },
        )
    for name in ("status", "reason", "acknowledged_by", "acknowledged_at"):
        setattr(alert, name, getattr(locked, name))
    return alert


def start_match(actor: Actor, *, full: bool = False, ip: str | None = None) -> Any:
    """Queue a matching pass now (the centre's button); the job."""
    from carbet.jobs import services as jobs

    access.require_centre(actor, CommunityPerm.REGION)
    job = jobs.submit(
        MATCH_JOB,
        actor=actor,
        params={"full": bool(full)},
        title=_("Rapprochement complet des inventaires et des vulnérabilités")
        if full
        else _("Rapprochement du jour des inventaires et des vulnérabilités"),
    )
    audit.record(
        actor, "community.match.start", ip=ip, changes={"full": bool(full), "job": str(job.pk)}
    )
    return job
