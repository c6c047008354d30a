"""Properties over generated scenarios and plans: round trip, and decisions that never raise."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.exercises.jsonformat import export, from_data, parse, to_data
from carbet.engines.exercises.model import (
    CELL_ROLES,
    CHANNELS,
    CONDITIONS,
    Cell,
    Criterion,
    Dependency,
    Expectation,
    Inject,
    Objective,
    ScaleLevel,
    Scenario,
    Section,
    Sender,
    Variable,
)
from carbet.engines.exercises.schedule import InjectOutcome, Pause, decide, next_due, wall_time

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="{}"), max_size=40)
WORDS = TEXT.filter(str.strip)
CODES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True)


@st.composite
def scenarios(draw) -> Scenario:
    duration = draw(st.integers(1, 3000))
    names = draw(
        st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), max_size=3, unique=True)
    )
    variables = tuple(Variable(n, draw(WORDS), draw(TEXT)) for n in names)
    placeholder = st.sampled_from([f"{{{{{n}}}}}" for n in names]) if names else st.just("")
    objectives = tuple(
        Objective(code, draw(WORDS), tuple(draw(st.lists(TEXT, max_size=2))))
        for code in draw(st.lists(CODES, min_size=1, max_size=4, unique=True))
    )
    cells = tuple(
        Cell(code, draw(WORDS), draw(st.sampled_from(CELL_ROLES)))
        for code in draw(st.lists(CODES, min_size=1, max_size=3, unique=True))
    )
    inject_codes = draw(st.lists(CODES, min_size=1, max_size=8, unique=True))
    offsets = sorted(
        draw(
            st.lists(
                st.integers(0, duration), min_size=len(inject_codes), max_size=len(inject_codes)
            )
        )
    )
    expectation_codes = iter(f"E{n}" for n in range(1000))
    recipients = st.sampled_from(["all", "directeur", "animateur", *(c.code for c in cells)])
    injects: list[Inject] = []
    for code, offset in zip(inject_codes, offsets, strict=True):
        earlier = [i for i in injects if i.offset_minutes <= offset]
        depends = []
        if earlier and draw(st.booleans()):
            parent = draw(st.sampled_from(earlier))
            choices = CONDITIONS if parent.expectations else ("sent", "replied", "not_replied")
            depends.append(Dependency(parent.code, draw(st.sampled_from(choices))))
        channel = draw(st.sampled_from(CHANNELS))
        expectations = tuple(
            Expectation(
                next(expectation_codes),
                draw(WORDS),
                draw(st.sampled_from(["", *(o.code for o in objectives)])),
                draw(st.sampled_from(["", *(c.code for c in cells)])),
                draw(st.none() | st.integers(1, 500)),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        injects.append(
            Inject(
                code=code,
                offset_minutes=offset,
                title=draw(WORDS),
                channel=channel,
                scope=draw(st.sampled_from(["local", "regional"])),
                sender=Sender(draw(TEXT), draw(TEXT)),
                recipients=tuple(draw(st.lists(recipients, min_size=1, max_size=3))),
                subject=draw(TEXT),
                body=draw(TEXT) + draw(placeholder),
                phone_script=draw(WORDS) if channel == "phone" else draw(TEXT),
                depends_on=tuple(depends),
                expectations=expectations,
            )
        )
    regional = any(i.scope == "regional" for i in injects) and draw(st.booleans())
    grid = tuple(
        Criterion(
            code,
            draw(WORDS),
            draw(st.sampled_from(["", *(o.code for o in objectives)])),
            tuple(
                ScaleLevel(v, draw(WORDS))
                for v in draw(st.lists(st.integers(0, 9), min_size=2, max_size=5, unique=True))
            ),
        )
        for code in draw(st.lists(CODES, max_size=3, unique=True))
    )
    return Scenario(
        code=draw(CODES),
        version=draw(WORDS),
        title=draw(WORDS),
        level=draw(st.sampled_from(["debutant", "intermediaire", "confirme"])),
        audience=draw(st.sampled_from(["sanitaire", "medico_social", "tous"])),
        summary=draw(WORDS) + draw(placeholder),
        duration_minutes=duration,
        regional_ready=regional,
        variables=variables,
        objectives=objectives,
        situation=tuple(Section(draw(WORDS), draw(WORDS)) for _ in range(draw(st.integers(1, 3)))),
        cells=cells,
        injects=tuple(injects),
        observation_grid=grid,
    )


@settings(
    max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(scenarios())
def test_every_valid_scenario_round_trips(scenario):
    assert parse(export(scenario), "x.json") == (scenario, [])
    assert from_data(to_data(scenario), "x") == (scenario, [])
    assert parse(export(scenario).encode("utf-8"), "x.json") == (scenario, [])


START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
STATES = st.sampled_from(["none", "sent", "skipped", "replied", "met", "not_met"])


def outcome(kind: str) -> InjectOutcome:
    return {
        "none": InjectOutcome(),
        "sent": InjectOutcome(sent=True),
        "skipped": InjectOutcome(skipped=True),
        "replied": InjectOutcome(sent=True, replied=True),
        "met": InjectOutcome(sent=True, expectations={"X": "met"}),
        "not_met": InjectOutcome(sent=True, expectations={"X": "not_met"}),
    }[kind]


@settings(max_examples=300)
@given(
    plan=st.lists(
        st.tuples(
            st.integers(0, 300),
            st.lists(st.tuples(st.integers(0, 12), st.sampled_from(CONDITIONS)), max_size=3),
            STATES,
        ),
        min_size=1,
        max_size=12,
    ),
    now=st.integers(-10, 400),
    compression=st.sampled_from([0.5, 1, 60]),
    paused=st.none() | st.tuples(st.integers(0, 300), st.none() | st.integers(0, 60)),
)
def test_decisions_never_raise_and_respect_the_clock(plan, now, compression, paused):
    """Any graph (unknown parents, cycles, self-references) gets a state for every inject."""
    injects = [
        Inject(
            f"I{n}",
            offset,
            "t",
            "message",
            depends_on=tuple(Dependency(f"I{p}", c) for p, c in deps),
            expectations=(Expectation("X", "x"),),
        )
        for n, (offset, deps, _state) in enumerate(plan)
    ]
    outcomes = {f"I{n}": outcome(state) for n, (_o, _d, state) in enumerate(plan)}
    pauses = []
    if paused is not None:
        begin = START + dt.timedelta(minutes=paused[0])
        end = None if paused[1] is None else begin + dt.timedelta(minutes=paused[1])
        pauses.append(Pause(begin, end))
    moment = START + dt.timedelta(minutes=now)
    decisions = decide(
        injects, outcomes, start=START, now=moment, compression=compression, pauses=pauses
    )
    assert [d.code for d in decisions] == [i.code for i in injects]
    for inject, decision in zip(injects, decisions, strict=True):
        due = wall_time(START, inject.offset_minutes, compression=compression, pauses=pauses)
        if decision.state == "due":
            assert due is not None and due <= moment
        if decision.state == "scheduled":
            assert due is not None and due > moment
        if decision.state == "paused":
            assert due is None
        if decision.state == "blocked":
            assert decision.reason
    upcoming = next_due(decisions)
    assert upcoming is None or any(d.due_at == upcoming for d in decisions)
