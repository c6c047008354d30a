"""Which priority an action deserves, from the findings it fixes (pure logic, no database).

Critical or known-exploited (KEV) findings are P1, high ones P2, medium ones P3, low and
informational ones P4; a finding reachable from the internet is raised one level. An action
covering several findings takes the most urgent of theirs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

# Severity values of carbet.findings.choices.Severity (kept literal: this module is pure).
CRITICAL, HIGH, MEDIUM = 4, 3, 2
P1, P2, P3, P4 = 1, 2, 3, 4


@dataclass(frozen=True)
class FindingTraits:
    """What the priority of a finding depends on."""

    severity: int
    kev: bool = False
    internet_exposed: bool = False
    sla_due: date | None = None


def finding_priority(traits: FindingTraits) -> int:
    """The priority (1 = most urgent … 4) one finding calls for."""
    if traits.severity >= CRITICAL or traits.kev:
        level = P1
    elif traits.severity == HIGH:
        level = P2
    elif traits.severity == MEDIUM:
        level = P3
    else:
        level = P4
    if traits.internet_exposed:
        level = max(P1, level - 1)
    return level


def action_priority(findings: Iterable[FindingTraits], default: int = P2) -> int:
    """The most urgent priority among ``findings`` (``default`` when there are none)."""
    levels = [finding_priority(f) for f in findings]
    return min(levels) if levels else default


def earliest_due(findings: Iterable[FindingTraits]) -> date | None:
    """The earliest SLA deadline among ``findings`` (``None`` when none has one)."""
    dues = [f.sla_due for f in findings if f.sla_due is not None]
    return min(dues) if dues else None
