"""A chronogram merged into a scenario, and the texts one structure sees."""

from __future__ import annotations

import dataclasses

from carbet.engines.exercises import library
from carbet.engines.exercises.chronogram import import_chronogram
from carbet.engines.exercises.compose import (
    render_inject,
    render_situation,
    values_for,
    with_injects,
)
from carbet.engines.exercises.render import placeholders

SCENARIO = library.load_scenario("fournisseur-dispositif-medical")


def test_values_use_defaults_and_ignore_undeclared_names():
    values = values_for(SCENARIO, {"structure": "CH de Brume", "pirate": "{{x}}", "ville": ""})
    assert values["structure"] == "CH de Brume"
    assert values["ville"] == "Valmont"  # empty value: the default
    assert "pirate" not in values


def test_rendered_texts_have_no_placeholder_left():
    values = values_for(SCENARIO, {"structure": "CH de Brume"})
    for inject in SCENARIO.injects:
        shown = render_inject(inject, values)
        for text in (shown.title, shown.subject, shown.body, shown.phone_script, shown.sender.name):
            assert placeholders(text) == []
    situation = render_situation(SCENARIO, values)
    assert "CH de Brume" in situation[1].text
    assert all(not placeholders(section.text) for section in situation)


def test_a_chronogram_replaces_the_injects_and_is_checked():
    rows = (
        "Heure;Cellule;Canal;Objet;Message\n"
        "T+0;Cellule de crise décisionnelle;Courriel;DEBEX;Début\n"
        "T+30;Cellule communication;Presse;Article;Texte sur {{structure}}\n"
    ).encode()
    result = import_chronogram(rows, "c.csv", cells=SCENARIO.cells)
    assert result.problems == ()
    merged, problems = with_injects(
        dataclasses.replace(SCENARIO, regional_ready=False), result.injects
    )
    assert problems == [] and merged is not None
    assert [i.recipients for i in merged.injects] == [("decision",), ("communication",)]
    late = dataclasses.replace(result.injects[1], offset_minutes=999)
    merged, problems = with_injects(SCENARIO, [result.injects[0], late])
    assert merged is None
    assert any("après la fin" in p.message for p in problems)
    assert any("sans aucun inject de portée" in p.message for p in problems)
