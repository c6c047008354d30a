"""Badge classes for severities and statuses, so every page colours them the same way."""

from __future__ import annotations

from django import template

from carbet.findings.choices import (
    CLOSED_STATUSES,
    DECIDED_STATUSES,
    OPEN_STATUSES,
    Severity,
    Status,
)

register = template.Library()

_SEVERITY_CLASSES = {
    Severity.CRITICAL: "danger",
    Severity.HIGH: "danger",
    Severity.MEDIUM: "warn",
    Severity.LOW: "muted",
    Severity.INFO: "muted",
}


@register.filter
def severity_class(value: int) -> str:
    """``danger`` for critical and high, ``warn`` for medium, ``muted`` below."""
    try:
        return _SEVERITY_CLASSES.get(Severity(int(value)), "muted")
    except (TypeError, ValueError):
        return "muted"


@register.filter
def status_class(value: str) -> str:
    """``ok`` once fixed, ``muted`` for decisions, ``warn`` while open."""
    if value in CLOSED_STATUSES:
        return "ok"
    if value in DECIDED_STATUSES:
        return "muted"
    return "warn"


@register.filter
def status_label(value: str) -> str:
    try:
        return str(Status(value).label)
    except ValueError:
        return str(value)


@register.filter
def percent(value: float | None) -> str:
    """An EPSS probability as a percentage (``0.973`` → ``97,3 %``)."""
    if value is None:
        return "—"
    return f"{value * 100:.1f} %".replace(".", ",")


@register.filter
def is_overdue(finding, today) -> bool:
    """An open finding whose deadline is before ``today``."""
    return bool(finding.sla_due and finding.sla_due < today and finding.status in OPEN_STATUSES)
