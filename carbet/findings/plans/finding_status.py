"""Status changes of findings that follow from their action plan.

Linking a finding to an action puts it *in remediation*, claiming the action done makes it
*mitigation claimed*, approved evidence closes it as *verified closed*. These changes are
consequences of an action-plan right (ACTION_EDIT, ACTION_PROGRESS, ACTION_VERIFY) the caller
already checked, not a triage decision, so they do not require the triage right; but they follow
the lifecycle's rule book (``carbet.findings.services.lifecycle.TRANSITIONS``): a finding that
must pass through an intermediate status does so (e.g. *in remediation* before *mitigation
claimed*), and each step is written by the lifecycle's own writer, leaving a STATUS event on the
finding and a ``finding.status`` entry in the audit trail, exactly as a triage change does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from carbet.core.tenancy import Actor
from carbet.findings.choices import OPEN_STATUSES, Status
from carbet.findings.models import Finding
from carbet.findings.services.lifecycle import TRANSITIONS, apply_status

# Where each plan-driven transition may start from: decisions (false positive, accepted risk…)
# and closed findings are never moved by an action plan.
TO_REMEDIATION_FROM = frozenset({Status.NEW, Status.CONFIRMED})
TO_CLAIMED_FROM = frozenset({Status.NEW, Status.CONFIRMED, Status.IN_REMEDIATION})
TO_VERIFIED_FROM = frozenset(
    {Status.NEW, Status.CONFIRMED, Status.IN_REMEDIATION, Status.MITIGATION_CLAIMED}
)
BACK_TO_REMEDIATION_FROM = frozenset({Status.MITIGATION_CLAIMED})
BACK_TO_CONFIRMED_FROM = frozenset({Status.IN_REMEDIATION, Status.MITIGATION_CLAIMED})


def route(current: str, target: str) -> list[str]:
    """The statuses a finding passes through from ``current`` to ``target`` (target last),
    by the shortest path of the lifecycle's transitions through open statuses."""
    frontier: list[tuple[str, list[str]]] = [(current, [])]
    seen = {current}
    while frontier:
        status, path = frontier.pop(0)
        for following in sorted(TRANSITIONS.get(status, frozenset())):
            if following == target:
                return [*path, following]
            if following in OPEN_STATUSES and following not in seen:
                seen.add(following)
                frontier.append((following, [*path, following]))
    return []


@transaction.atomic
def move(
    actor: Actor,
    findings: Iterable[Finding],
    to_status: str,
    reason: str,
    *,
    allowed_from: frozenset[str],
    ip: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Move each of ``findings`` whose status is in ``allowed_from`` to ``to_status``.

    Returns the ids of the findings that changed. Every step writes a STATUS event (from, to,
    reason) and an audit entry ``finding.status`` through the lifecycle's writer.
    """
    now = now or timezone.now()
    moved: list[int] = []
    for finding in findings:
        if finding.status not in allowed_from or finding.status == to_status:
            continue
        steps = route(finding.status, to_status)
        if not steps:
            continue
        for status in steps:
            apply_status(actor, finding, status, str(reason), now=now, ip=ip)
        moved.append(finding.pk)
    return moved
