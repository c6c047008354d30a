"""When each inject is due, and whether it may still be sent: pure functions of the clock.

Scenario time runs ``compression`` times faster than the wall clock (60: one scenario hour
lasts one minute) and stops during pauses. The wall time of an inject at ``offset`` minutes is
``start + offset / compression`` plus the length of every pause that began before that moment;
while a pause is open the time is unknown (``None``): nothing is due in a paused exercise.

``decide`` then gives each inject a state from the outcomes of earlier injects (sent, replied,
expectations met): a dispatcher sends the "due" ones, skips the "blocked" ones with their
reason, and sleeps until ``next_due``. Nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .model import Dependency

SENT, SKIPPED, SCHEDULED, DUE, WAITING, BLOCKED, PAUSED = (
    "sent",
    "skipped",
    "scheduled",
    "due",
    "waiting",
    "blocked",
    "paused",
)
MET, PARTIAL, NOT_MET = "met", "partial", "not_met"


@dataclass(frozen=True)
class Pause:
    paused_at: dt.datetime
    resumed_at: dt.datetime | None = None


@dataclass(frozen=True)
class InjectOutcome:
    """What happened to an inject so far; ``expectations``: code -> "met"/"partial"/"not_met"."""

    sent: bool = False
    skipped: bool = False
    replied: bool = False
    expectations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    code: str
    state: str
    due_at: dt.datetime | None
    reason: str = ""


class Schedulable(Protocol):
    @property
    def code(self) -> str: ...

    @property
    def offset_minutes(self) -> int: ...

    @property
    def depends_on(self) -> tuple[Dependency, ...]: ...


def _check_compression(compression: float) -> float:
    if not compression > 0:
        raise ValueError("compression must be positive")
    return float(compression)


def _sorted(pauses: Sequence[Pause]) -> list[Pause]:
    return sorted(pauses, key=lambda pause: pause.paused_at)


def wall_time(
    start: dt.datetime,
    offset_minutes: float,
    *,
    compression: float = 1.0,
    pauses: Sequence[Pause] = (),
) -> dt.datetime | None:
    """The wall time at which scenario minute ``offset_minutes`` is reached (None: paused)."""
    factor = _check_compression(compression)
    moment = start + dt.timedelta(minutes=offset_minutes / factor)
    for pause in _sorted(pauses):
        if pause.paused_at > moment:
            break
        if pause.resumed_at is None:
            return None
        moment += max(pause.resumed_at - pause.paused_at, dt.timedelta(0))
    return moment


def scenario_minutes(
    start: dt.datetime,
    now: dt.datetime,
    *,
    compression: float = 1.0,
    pauses: Sequence[Pause] = (),
) -> float:
    """The scenario clock (minutes since the start) at wall time ``now``; frozen in a pause."""
    factor = _check_compression(compression)
    if now <= start:
        return 0.0
    paused = dt.timedelta(0)
    for pause in _sorted(pauses):
        if pause.paused_at >= now:
            break
        end = pause.resumed_at if pause.resumed_at is not None else now
        paused += max(min(end, now) - max(pause.paused_at, start), dt.timedelta(0))
    running = max(now - start - paused, dt.timedelta(0))
    return running.total_seconds() / 60.0 * factor


def _condition(
    dep: Dependency,
    parent_state: str,
    outcome: InjectOutcome,
    codes: Sequence[str],
    due_reached: bool,
) -> tuple[str, str]:
    """(``ok``/``wait``/``never``, reason) for one dependency."""
    name = dep.inject
    if parent_state in (SKIPPED, BLOCKED):
        return "never", f"« {name} » n'a pas été joué"
    if not outcome.sent:
        return "wait", f"attend l'envoi de « {name} »"
    if dep.condition == "sent":
        return "ok", ""
    if dep.condition == "replied":
        return ("ok", "") if outcome.replied else ("wait", f"attend une réponse à « {name} »")
    if dep.condition == "not_replied":
        if outcome.replied:
            return "never", f"« {name} » a reçu une réponse"
        if due_reached:
            return "ok", ""
        return "wait", f"attend de voir si « {name} » reçoit une réponse"
    statuses = [outcome.expectations.get(code) for code in codes]
    if dep.condition == "expectation_met":
        if any(status in (PARTIAL, NOT_MET) for status in statuses):
            return "never", f"une réaction attendue de « {name} » n'a pas été obtenue"
        if statuses and all(status == MET for status in statuses):
            return "ok", ""
        return "wait", f"attend l'évaluation des réactions attendues de « {name} »"
    if dep.condition == "expectation_not_met":
        if any(status in (PARTIAL, NOT_MET) for status in statuses):
            return "ok", ""
        if statuses and all(status == MET for status in statuses):
            return "never", f"les réactions attendues de « {name} » ont été obtenues"
        return "wait", f"attend l'évaluation des réactions attendues de « {name} »"
    return "never", f"condition « {dep.condition} » inconnue"


class _Decider:
    def __init__(
        self,
        injects: Sequence[Schedulable],
        outcomes: Mapping[str, InjectOutcome],
        clock: tuple[dt.datetime, dt.datetime, float, Sequence[Pause]],
        expectation_codes: Mapping[str, Sequence[str]] | None,
    ):
        self.by_code = {inject.code: inject for inject in injects}
        self.outcomes = outcomes
        self.start, self.now, self.compression, self.pauses = clock
        self.expectation_codes = expectation_codes
        self.states: dict[str, Decision] = {}
        self.visiting: set[str] = set()

    def expectations_of(self, inject: Schedulable) -> list[str]:
        if self.expectation_codes is not None and inject.code in self.expectation_codes:
            return list(self.expectation_codes[inject.code])
        return [str(getattr(e, "code", "")) for e in getattr(inject, "expectations", ())]

    def state_of(self, inject: Schedulable) -> Decision:
        known = self.states.get(inject.code)
        if known is not None:
            return known
        if inject.code in self.visiting:
            return Decision(inject.code, BLOCKED, None, "dépendances circulaires")
        self.visiting.add(inject.code)
        decision = self.one(inject)
        self.visiting.discard(inject.code)
        self.states[inject.code] = decision
        return decision

    def one(self, inject: Schedulable) -> Decision:
        outcome = self.outcomes.get(inject.code, InjectOutcome())
        due_at = wall_time(
            self.start, inject.offset_minutes, compression=self.compression, pauses=self.pauses
        )
        if outcome.sent:
            return Decision(inject.code, SENT, due_at)
        if outcome.skipped:
            return Decision(inject.code, SKIPPED, due_at)
        if due_at is None:
            return Decision(inject.code, PAUSED, None, "exercice en pause")
        reached = due_at <= self.now
        waiting: list[str] = []
        for dep in inject.depends_on:
            parent = self.by_code.get(dep.inject)
            if parent is None:
                return Decision(inject.code, BLOCKED, due_at, f"« {dep.inject} » n'existe pas")
            verdict, reason = _condition(
                dep,
                self.state_of(parent).state,
                self.outcomes.get(dep.inject, InjectOutcome()),
                self.expectations_of(parent),
                reached,
            )
            if verdict == "never":
                return Decision(inject.code, BLOCKED, due_at, f"condition impossible : {reason}")
            if verdict == "wait":
                waiting.append(reason)
        if not reached:
            return Decision(inject.code, SCHEDULED, due_at)
        if waiting:
            return Decision(inject.code, WAITING, due_at, " ; ".join(waiting))
        return Decision(inject.code, DUE, due_at)


def decide(
    injects: Sequence[Schedulable],
    outcomes: Mapping[str, InjectOutcome],
    *,
    start: dt.datetime,
    now: dt.datetime,
    compression: float = 1.0,
    pauses: Sequence[Pause] = (),
    expectation_codes: Mapping[str, Sequence[str]] | None = None,
) -> list[Decision]:
    """The state of every inject at wall time ``now``, in the order given.

    ``expectation_codes`` lists each inject's expectation codes (taken from ``.expectations``
    when the inject has them, as ``model.Inject`` does). A dependency on an unknown inject, or
    a cycle, blocks the inject rather than raising.
    """
    _check_compression(compression)
    decider = _Decider(injects, outcomes, (start, now, compression, pauses), expectation_codes)
    return [decider.state_of(inject) for inject in injects]


def next_due(decisions: Sequence[Decision]) -> dt.datetime | None:
    """The earliest time something may have to be sent ("due" now or "scheduled" later)."""
    times = [d.due_at for d in decisions if d.state in (DUE, SCHEDULED) and d.due_at is not None]
    return min(times) if times else None
