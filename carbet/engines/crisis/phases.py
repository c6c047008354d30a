"""The phases of a cyber crisis and the time spent in each.

The order follows the ANSSI/CDSE guide and ANSSI's remediation corpus: alert, qualification,
containment, remediation (evict, eradicate), rebuild, exit, lessons learned, then closed.
Moving forward may skip phases (a contained incident can go straight to the exit); moving back
is allowed while the case is not closed (an attacker who comes back sends a case from rebuild
to containment). Every change needs a reason: the log keeps why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

ALERT = "alert"
QUALIFICATION = "qualification"
CONTAINMENT = "containment"
REMEDIATION = "remediation"
REBUILD = "rebuild"
EXIT = "exit"
LESSONS = "lessons"
CLOSED = "closed"
PHASES: tuple[str, ...] = (
    ALERT,
    QUALIFICATION,
    CONTAINMENT,
    REMEDIATION,
    REBUILD,
    EXIT,
    LESSONS,
    CLOSED,
)


class PhaseError(ValueError):
    """A change of phase that is not allowed; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def index(phase: str) -> int:
    try:
        return PHASES.index(phase)
    except ValueError:
        raise PhaseError("unknown", f"phase inconnue : {phase!r}") from None


def check_change(current: str, target: str, reason: str) -> None:
    """Raise ``PhaseError`` unless going from ``current`` to ``target`` is allowed."""
    index(target)
    if index(current) == index(target):
        raise PhaseError("same", "le dossier est déjà dans cette phase")
    if current == CLOSED:
        raise PhaseError("closed", "un dossier clos ne change plus de phase")
    if target == ALERT:
        raise PhaseError("back_to_alert", "un dossier ne revient pas à la phase d'alerte")
    if not reason.strip():
        raise PhaseError("reason", "indiquez le motif du changement de phase")


@dataclass(frozen=True)
class Change:
    """A change recorded on a case: at ``at`` the case entered ``to_phase``."""

    at: dt.datetime
    to_phase: str


def durations(
    opened_at: dt.datetime, changes: Sequence[Change], now: dt.datetime
) -> dict[str, dt.timedelta]:
    """Time spent in each phase (a phase entered twice adds up), up to ``now`` or closure.

    ``changes`` are in time order; before the first one the case is in the alert phase.
    """
    spent: dict[str, dt.timedelta] = {}
    phase, since = ALERT, opened_at
    for change in changes:
        spent[phase] = spent.get(phase, dt.timedelta()) + max(change.at - since, dt.timedelta())
        phase, since = change.to_phase, change.at
    if phase != CLOSED:
        spent[phase] = spent.get(phase, dt.timedelta()) + max(now - since, dt.timedelta())
    return spent


def total(opened_at: dt.datetime, changes: Sequence[Change], now: dt.datetime) -> dt.timedelta:
    """From opening to closure (or to ``now`` while the case is open)."""
    end = now
    for change in changes:
        if change.to_phase == CLOSED:
            end = change.at
    return max(end - opened_at, dt.timedelta())
