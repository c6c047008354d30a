"""The scenario library: every file loads with zero problems and meets the editorial rules."""

from __future__ import annotations

import pytest

from carbet.engines.exercises import library
from carbet.engines.exercises.jsonformat import export, parse
from carbet.engines.exercises.model import CHANNELS
from carbet.engines.exercises.render import placeholders

FILES = library.library_files()


def test_at_least_six_scenarios_over_the_three_levels():
    scenarios = library.load_library()
    assert len(scenarios) >= 6
    assert {s.level for s in scenarios} == {"debutant", "intermediaire", "confirme"}
    assert len({s.code for s in scenarios}) == len(scenarios)
    assert [s.level for s in scenarios] == sorted(
        (s.level for s in scenarios), key=["debutant", "intermediaire", "confirme"].index
    )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_library_file_has_no_problem(path):
    scenario, problems = parse(path.read_bytes(), str(path))
    assert problems == []
    assert scenario is not None
    assert path.stem == scenario.code


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_library_file_is_in_canonical_form(path):
    """Files are written by ``export``: a re-export changes nothing (clean diffs)."""
    scenario = library.load_file(path)
    assert export(scenario) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_library_scenario_meets_the_editorial_rules(path):
    s = library.load_file(path)
    assert 3 <= len(s.objectives) <= 5
    assert 15 <= len(s.injects) <= 30
    assert 8 <= len(s.observation_grid) <= 15
    assert len(s.situation) >= 3 and sum(len(section.text) for section in s.situation) > 800
    assert len(s.cells) >= 3
    assert sum(len(i.expectations) for i in s.injects) >= 8
    # Every objective is evaluated: some expectation and some criterion point at it.
    for objective in s.objectives:
        assert any(e.objective == objective.code for i in s.injects for e in i.expectations)
        assert any(c.objective == objective.code for c in s.observation_grid)
    # The chronogram opens and closes the game.
    offsets = [i.offset_minutes for i in s.injects]
    assert offsets == sorted(offsets)
    assert s.injects[0].title.startswith("DEBEX") and s.injects[-1].title.startswith("FINEX")
    assert any(i.depends_on for i in s.injects)
    assert {i.channel for i in s.injects} <= set(CHANNELS)
    assert len({i.channel for i in s.injects}) >= 4
    # Simulated addresses never point at a real domain.
    for inject in s.injects:
        if inject.sender.address:
            assert inject.sender.address.endswith(".invalid")


def test_one_regional_scenario_mixes_regional_and_local_injects_with_variables():
    regional = [s for s in library.load_library() if s.regional_ready]
    assert regional
    s = regional[0]
    senders = {i.sender.name for i in s.injects if i.scope == "regional"}
    assert any("ARS" in name for name in senders)
    assert any("SAMU" in name for name in senders)
    assert any("Centre régional" in name for name in senders)
    assert any(i.channel == "press" for i in s.injects if i.scope == "regional")
    local = [i for i in s.injects if i.scope == "local"]
    assert local
    assert any(placeholders(i.body + i.phone_script + i.sender.name) for i in local)


def test_health_context_is_named():
    text = " ".join(export(s) for s in library.load_library())
    for word in (
        "2022-715",
        "CNIL",
        "72 heures",
        "CERT Santé",
        "ARS",
        "mode dégradé",
        "plan blanc",
    ):
        assert word in text, word


def test_load_scenario_by_code():
    assert library.load_scenario("rancongiciel-sih") is not None
    assert library.load_scenario("inconnu") is None
