"""Deadlines: days per severity from the region's policy, shorter when exploited or exposed."""

from __future__ import annotations

from datetime import date, timedelta

from carbet.findings.choices import Severity
from carbet.findings.models import SlaPolicy


def current_policy() -> SlaPolicy:
    policy = SlaPolicy.objects.order_by("-updated_at").first()
    return policy or SlaPolicy()


def sla_days(policy: SlaPolicy, severity: int, *, kev: bool, exposed: bool) -> int | None:
    base = {
        Severity.CRITICAL: policy.critical_days,
        Severity.HIGH: policy.high_days,
        Severity.MEDIUM: policy.medium_days,
        Severity.LOW: policy.low_days,
    }.get(severity)
    if base is None:
        return None  # information only: no deadline
    if exposed:
        base = max(1, base * policy.exposed_factor_percent // 100)
    if kev:
        base = min(base, policy.kev_max_days)
    return base


def due_date(
    policy: SlaPolicy, severity: int, start: date, *, kev: bool, exposed: bool
) -> date | None:
    days = sla_days(policy, severity, kev=kev, exposed=exposed)
    return None if days is None else start + timedelta(days=days)
