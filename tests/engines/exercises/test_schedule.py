"""Scheduling math: compression, pauses that shift later injects, dependency conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exercises.model import Dependency, Expectation, Inject
from carbet.engines.exercises.schedule import (
    Decision,
    InjectOutcome,
    Pause,
    decide,
    next_due,
    scenario_minutes,
    wall_time,
)

START = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return START + dt.timedelta(minutes=minutes)


def inject(code, offset, *depends, expectations=()):
    return Inject(
        code=code,
        offset_minutes=offset,
        title=code,
        channel="message",
        depends_on=tuple(Dependency(*d) for d in depends),
        expectations=tuple(Expectation(e, e) for e in expectations),
    )


def test_compression_sixty_makes_an_hour_a_minute():
    assert wall_time(START, 60, compression=60) == at(1)
    assert wall_time(START, 90) == at(90)
    assert wall_time(START, 0, compression=60) == START
    with pytest.raises(ValueError):
        wall_time(START, 10, compression=0)


def test_a_pause_shifts_every_later_inject_but_not_earlier_ones():
    pauses = [Pause(at(0.5), at(5.5))]  # five wall minutes of pause
    assert wall_time(START, 20, compression=60, pauses=pauses) == at(0 + 20 / 60)
    assert wall_time(START, 60, compression=60, pauses=pauses) == at(6)
    two = [*pauses, Pause(at(7), at(9))]
    assert wall_time(START, 120, compression=60, pauses=two) == at(2 + 5 + 2)
    assert wall_time(START, 60, compression=60, pauses=list(reversed(two))) == at(6)


def test_an_open_pause_freezes_everything_after_it():
    pauses = [Pause(at(10))]
    assert wall_time(START, 5, pauses=pauses) == at(5)
    assert wall_time(START, 30, pauses=pauses) is None
    decisions = decide(
        [inject("A", 5), inject("B", 30)], {}, start=START, now=at(60), pauses=pauses
    )
    assert [d.state for d in decisions] == ["due", "paused"]
    assert next_due(decisions) == at(5)


def test_scenario_clock_stops_during_pauses():
    pauses = [Pause(at(1), at(3))]
    assert scenario_minutes(START, at(1), compression=60, pauses=pauses) == pytest.approx(60)
    assert scenario_minutes(START, at(2), compression=60, pauses=pauses) == pytest.approx(60)
    assert scenario_minutes(START, at(4), compression=60, pauses=pauses) == pytest.approx(120)
    assert scenario_minutes(START, at(4), compression=60, pauses=[Pause(at(1))]) == pytest.approx(
        60
    )
    assert scenario_minutes(START, at(-5)) == 0


@given(
    offsets=st.lists(st.integers(0, 600), min_size=1, max_size=10),
    compression=st.sampled_from([1, 2, 10, 60, 120]),
    pause_points=st.lists(st.tuples(st.integers(0, 600), st.integers(0, 120)), max_size=4),
)
def test_wall_time_is_monotonic_and_inverse_of_the_scenario_clock(
    offsets, compression, pause_points
):
    pauses = []
    cursor = START
    for gap, length in sorted(pause_points):
        begin = cursor + dt.timedelta(minutes=gap)
        pauses.append(Pause(begin, begin + dt.timedelta(minutes=length)))
        cursor = begin + dt.timedelta(minutes=length)
    times = [wall_time(START, o, compression=compression, pauses=pauses) for o in sorted(offsets)]
    assert times == sorted(times)
    for offset, moment in zip(sorted(offsets), times, strict=True):
        clock = scenario_minutes(START, moment, compression=compression, pauses=pauses)
        assert clock == pytest.approx(offset, abs=1e-6)


def states(injects, outcomes, now, **kwargs):
    return {d.code: d for d in decide(injects, outcomes, start=START, now=now, **kwargs)}


def test_scheduled_then_due_then_sent():
    plan = [inject("A", 10), inject("B", 20)]
    result = states(plan, {}, at(15))
    assert (result["A"].state, result["B"].state) == ("due", "scheduled")
    assert result["B"].due_at == at(20)
    assert next_due(list(result.values())) == at(10)
    result = states(plan, {"A": InjectOutcome(sent=True)}, at(15))
    assert result["A"].state == "sent"
    assert next_due(list(result.values())) == at(20)
    result = states(plan, {"A": InjectOutcome(sent=True), "B": InjectOutcome(skipped=True)}, at(30))
    assert [d.state for d in result.values()] == ["sent", "skipped"]
    assert next_due(list(result.values())) is None


PARENT = inject("P", 0, expectations=("E1", "E2"))
SENT = InjectOutcome(sent=True)


@pytest.mark.parametrize(
    ("condition", "outcome", "now", "state", "reason"),
    [
        ("sent", InjectOutcome(), 40, "waiting", "attend l'envoi"),
        ("sent", SENT, 40, "due", ""),
        ("sent", SENT, 20, "scheduled", ""),
        ("sent", InjectOutcome(skipped=True), 40, "blocked", "n'a pas été joué"),
        ("replied", SENT, 40, "waiting", "attend une réponse"),
        ("replied", InjectOutcome(sent=True, replied=True), 40, "due", ""),
        ("not_replied", SENT, 40, "due", ""),
        ("not_replied", SENT, 20, "scheduled", ""),
        (
            "not_replied",
            InjectOutcome(sent=True, replied=True),
            40,
            "blocked",
            "a reçu une réponse",
        ),
        ("expectation_met", SENT, 40, "waiting", "attend l'évaluation"),
        (
            "expectation_met",
            InjectOutcome(sent=True, expectations={"E1": "met"}),
            40,
            "waiting",
            "",
        ),
        (
            "expectation_met",
            InjectOutcome(sent=True, expectations={"E1": "met", "E2": "met"}),
            40,
            "due",
            "",
        ),
        (
            "expectation_met",
            InjectOutcome(sent=True, expectations={"E1": "met", "E2": "partial"}),
            40,
            "blocked",
            "n'a pas été obtenue",
        ),
        ("expectation_not_met", SENT, 40, "waiting", "attend l'évaluation"),
        (
            "expectation_not_met",
            InjectOutcome(sent=True, expectations={"E2": "not_met"}),
            40,
            "due",
            "",
        ),
        (
            "expectation_not_met",
            InjectOutcome(sent=True, expectations={"E1": "met", "E2": "met"}),
            40,
            "blocked",
            "ont été obtenues",
        ),
    ],
)
def test_dependency_conditions(condition, outcome, now, state, reason):
    child = inject("C", 30, ("P", condition))
    decision = states([PARENT, child], {"P": outcome}, at(now))["C"]
    assert decision.state == state
    assert reason in decision.reason


def test_a_blocked_inject_blocks_its_dependents():
    plan = [
        PARENT,
        inject("A", 10, ("P", "replied")),
        inject("B", 20, ("A", "sent")),
        inject("X", 20, ("P", "not_replied")),
    ]
    result = states(plan, {"P": InjectOutcome(sent=True, replied=True)}, at(30))
    assert result["A"].state == "due"
    assert result["X"].state == "blocked"
    result = states(plan, {"P": SENT, "A": InjectOutcome(skipped=True)}, at(30))
    assert result["B"].state == "blocked" and "« A » n'a pas été joué" in result["B"].reason
    assert result["X"].state == "due"


@dataclass(frozen=True)
class Row:
    """What a database row looks like to the scheduler (not a model.Inject)."""

    code: str
    offset_minutes: int
    depends_on: tuple[Dependency, ...] = ()


def test_any_schedulable_works_and_hostile_graphs_do_not_raise():
    plan = [
        Row("A", 0, (Dependency("B", "sent"),)),
        Row("B", 0, (Dependency("A", "sent"),)),
        Row("C", 0, (Dependency("ghost", "sent"),)),
        Row("D", 0, (Dependency("E", "expectation_met"),)),
        Row("E", 0),
    ]
    result = states(plan, {"E": SENT}, at(1), expectation_codes={"E": ["X1"]})
    assert result["A"].state == "blocked" or result["B"].state == "blocked"
    assert result["C"].state == "blocked" and "n'existe pas" in result["C"].reason
    assert result["D"].state == "waiting"
    result = states(
        plan,
        {"E": InjectOutcome(sent=True, expectations={"X1": "met"})},
        at(1),
        expectation_codes={"E": ["X1"]},
    )
    assert result["D"].state == "due"


def test_next_due_ignores_waiting_and_blocked():
    decisions = [
        Decision("A", "waiting", at(1)),
        Decision("B", "blocked", at(2)),
        Decision("C", "scheduled", at(9)),
        Decision("D", "paused", None),
    ]
    assert next_due(decisions) == at(9)
    assert next_due([]) is None


def test_regional_scale_plan_is_decided():
    plan = [inject(f"I{n}", n, *([(f"I{n - 1}", "sent")] if n % 5 else [])) for n in range(250)]
    outcomes = {f"I{n}": SENT for n in range(100)}
    result = decide(plan, outcomes, start=START, now=at(120), compression=1)
    counts = {state: sum(d.state == state for d in result) for state in {d.state for d in result}}
    assert counts["sent"] == 100
    assert counts["due"] + counts.get("waiting", 0) == 21
    assert counts["scheduled"] == 129
