"""Status changes of findings that follow from their action plan.

Linking a finding to an action puts it *in remediation*, claiming the action done makes it
*mitigation claimed*, approved evidence closes it as *verified closed*. These changes are
consequences of an action-plan right (ACTION_EDIT, ACTION_PROGRESS, ACTION_VERIFY) the caller
already checked, not a triage decision; each one still leaves a status event on the finding and
an entry in the audit trail, exactly as a triage change does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from carbet.audit import services as audit
from carbet.findings.choices import CLOSED_STATUSES, EventKind, Status
from carbet.findings.models import Finding, FindingEvent

# Where each plan-driven transition may start from: decisions (false positive, accepted risk…)
# and closed findings are never moved by an action plan.
TO_REMEDIATION_FROM = frozenset({Status.NEW, Status.CONFIRMED})
TO_CLAIMED_FROM = frozenset({Status.NEW, Status.CONFIRMED, Status.IN_REMEDIATION})
TO_VERIFIED_FROM = frozenset(
    {Status.NEW, Status.CONFIRMED, Status.IN_REMEDIATION, Status.MITIGATION_CLAIMED}
)
BACK_TO_REMEDIATION_FROM = frozenset({Status.MITIGATION_CLAIMED})
BACK_TO_CONFIRMED_FROM = frozenset({Status.IN_REMEDIATION, Status.MITIGATION_CLAIMED})


def _actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def move(
    actor: Any,
    findings: Iterable[Finding],
    to_status: str,
    reason: str,
    *,
    allowed_from: frozenset[str],
    ip: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Move each of ``findings`` whose status is in ``allowed_from`` to ``to_status``.

    Returns the ids of the findings that changed. Each change writes a STATUS event (from, to,
    reason) and an audit entry ``finding.status``.
    """
    now = now or timezone.now()
    user = _actor_user(actor)
    moved: list[int] = []
    events: list[FindingEvent] = []
    for finding in findings:
        previous = finding.status
        if previous not in allowed_from or previous == to_status:
            continue
        finding.status = to_status
        finding.status_reason = str(reason)
        finding.status_changed_at = now
        finding.status_changed_by = user
        finding.closed_at = now if to_status in CLOSED_STATUSES else None
        finding.save(
            update_fields=[
                "status",
                "status_reason",
                "status_changed_at",
                "status_changed_by",
                "closed_at",
            ]
        )
        events.append(
            FindingEvent(
                finding=finding,
                kind=EventKind.STATUS,
                at=now,
                actor=user,
                from_status=previous,
                to_status=to_status,
                note=str(reason),
            )
        )
        audit.record(
            actor,
            "finding.status",
            finding,
            changes={"status": [previous, to_status], "reason": str(reason)},
            ip=ip,
        )
        moved.append(finding.pk)
    FindingEvent.objects.bulk_create(events)
    return moved
