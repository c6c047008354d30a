"""The scenario JSON format: line-precise French problems, hostile input, round trip."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbet.engines.exercises import library
from carbet.engines.exercises.jsonformat import MAX_BYTES, export, from_data, parse, to_data
from carbet.engines.exercises.model import Problem

BASE = {
    "code": "essai",
    "version": "1",
    "title": "Essai pour {{structure}}",
    "level": "debutant",
    "audience": "tous",
    "summary": "Un scénario minimal.",
    "duration_minutes": 120,
    "variables": [{"name": "structure", "description": "Nom", "default": "CH"}],
    "objectives": [{"code": "O1", "title": "Réagir"}],
    "situation": [{"title": "Contexte", "text": "Vous êtes à {{ structure }}."}],
    "cells": [{"code": "crise", "name": "Cellule de crise", "role": "decision"}],
    "injects": [
        {
            "code": "I1",
            "offset_minutes": 0,
            "title": "Début",
            "channel": "email",
            "recipients": ["crise"],
            "expectations": [{"code": "E1", "text": "Réunir", "objective": "O1"}],
        },
        {
            "code": "I2",
            "offset_minutes": 30,
            "title": "Suite",
            "channel": "phone",
            "phone_script": "Allô",
            "recipients": "all",
            "depends_on": [{"inject": "I1", "condition": "expectation_not_met"}],
        },
    ],
    "observation_grid": [{"code": "G1", "criterion": "Réactivité", "objective": "O1"}],
}


def text_of(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


def line_containing(text: str, fragment: str, nth: int = 0) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    return lines[nth]


def problems_of(data) -> list[Problem]:
    scenario, problems = parse(text_of(data), "essai.json")
    assert (scenario is None) == bool(problems)
    return problems


def edited(**changes):
    data = json.loads(json.dumps(BASE))
    for path, value in changes.items():
        target = data
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if value is dataclasses.MISSING:
            del target[last]
        elif last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
    return data


def test_minimal_scenario_parses():
    scenario, problems = parse(text_of(BASE), "essai.json")
    assert problems == []
    assert scenario.injects[1].recipients == ("all",)
    assert scenario.observation_grid[0].scale[0].value == 1  # default 1-4 scale
    assert scenario.audience == "tous"


@pytest.mark.parametrize(
    ("changes", "fragment", "message"),
    [
        ({"level": "expert"}, '"level"', "valeurs possibles : debutant"),
        ({"duration_minutes": "2h"}, '"duration_minutes"', "doit être un nombre entier"),
        ({"duration_minutes": 0}, '"duration_minutes"', "entre 1 et"),
        ({"colour": "red"}, '"colour"', "clé inconnue « colour »"),
        ({"injects__1__offset_minutes": -5}, '"offset_minutes": -5', "décalage négatif"),
        ({"injects__1__offset_minutes": 500}, '"offset_minutes": 500', "après la fin"),
        ({"injects__1__code": "I1"}, '"code": "I1"', "en double (déjà ligne"),
        ({"injects__0__channel": "fax"}, '"channel": "fax"', "« channel » vaut « fax »"),
        (
            {"injects__0__recipients": ["crise", "dsi"]},
            '"recipients"',
            "destinataire « dsi » inconnu",
        ),
        ({"injects__0__body": "Bonjour {{directeur}}"}, '"body"', "{{directeur}} non déclarée"),
        ({"injects__0__body": "{{ structure.nom }}"}, '"body"', "n'est pas une variable valide"),
        (
            {"injects__0__expectations__0__objective": "O9"},
            '"objective": "O9"',
            "objectif « O9 » inconnu",
        ),
        (
            {"injects__0__expectations__0__cell": "soins"},
            '"cell": "soins"',
            "cellule « soins » inconnue",
        ),
        ({"injects__1__depends_on__0__inject": "I7"}, '"inject": "I7"', "« I7 », qui n'existe pas"),
        (
            {"injects__1__depends_on__0__condition": "maybe"},
            '"condition": "maybe"',
            "valeurs possibles",
        ),
        ({"injects__1__phone_script": dataclasses.MISSING}, '"channel": "phone"', "phone_script"),
        ({"observation_grid__0__objective": "O5"}, '"objective": "O5"', "objectif « O5 » inconnu"),
        ({"situation__0__text": "{{ville}}"}, '"text"', "{{ville}} non déclarée"),
        ({"cells__0__role": "chef"}, '"role"', "valeurs possibles : decision"),
        ({"variables__0__name": "la structure"}, '"name"', "variable « la structure »"),
        ({"regional_ready": True}, '"regional_ready"', "sans aucun inject de portée"),
        ({"regional_ready": "oui"}, '"regional_ready"', "true ou false"),
        ({"objectives": []}, '"objectives"', "ne doit pas être vide"),
        (
            {"injects__0__expectations__0__within_minutes": 0},
            '"within_minutes"',
            "doit être positif",
        ),
        ({"injects__0": "I1"}, '"I1"', "un objet {…} est attendu, pas un texte"),
        ({"title": dataclasses.MISSING}, '"code": "essai"', "champ obligatoire « title » absent"),
    ],
)
def test_problem_lines_and_messages(changes, fragment, message):
    data = edited(**changes)
    text = text_of(data)
    problems = problems_of(data)
    nth = 1 if "en double" in message else 0
    expected_line = 1 if fragment == '"code": "essai"' else line_containing(text, fragment, nth)
    assert any(message in p.message for p in problems), problems
    matching = [p for p in problems if message in p.message]
    assert matching[0].line == expected_line, (matching, expected_line)
    assert matching[0].render().startswith(f"essai.json:{expected_line}: ")


def test_dependency_on_a_later_inject_and_cycles():
    data = edited(injects__0__depends_on=[{"inject": "I2", "condition": "sent"}])
    problems = problems_of(data)
    assert any("prévu plus tard" in p.message for p in problems)
    data["injects"][1]["offset_minutes"] = 0
    messages = [p.message for p in problems_of(data)]
    assert any("dépendances circulaires : I1 → I2 → I1" in m for m in messages), messages


def test_self_dependency_and_condition_on_inject_without_expectation():
    data = edited(injects__1__depends_on=[{"inject": "I2", "condition": "sent"}])
    assert any("lui-même" in p.message for p in problems_of(data))
    data = edited()
    data["injects"][0]["expectations"] = []
    assert any("aucune réaction attendue" in p.message for p in problems_of(data))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{\n  "code": "a",\n  "code": "b"\n}', 3, "en double"),
        ('{\n  "code": "a",\n}', 3, "nom de clé entre guillemets attendu"),
        ('{\n  "code": NaN\n}', 2, "valeur inattendue"),
        ("[1, 2]", 1, "un objet {…} est attendu, pas une liste"),
        ("", 0, "vide"),
        ("   \n  ", 0, "vide"),
        ('{"a": 1} x', 1, "texte en trop"),
        ('{\n\n  "code": "\x01"\n}', 3, "texte entre guillemets invalide"),
    ],
)
def test_syntax_problems(text, line, message):
    scenario, problems = parse(text, "f.json")
    assert scenario is None
    assert problems[0].line == line and message in problems[0].message, problems


def test_bytes_limits_and_encodings():
    assert "trop volumineux" in parse(b" " * (MAX_BYTES + 1), "f.json")[1][0].message
    bad = b'{\n"code": "caf\xe9"\n}'
    problem = parse(bad, "f.json")[1][0]
    assert (problem.line, "UTF-8" in problem.message) == (2, True)
    scenario, problems = parse(b"\xef\xbb\xbf" + text_of(BASE).encode(), "f.json")
    assert problems == [] and scenario is not None
    deep = "[" * 5000 + "]" * 5000
    problem = parse(deep, "f.json")[1][0]
    assert "imbrication trop profonde" in problem.message


def test_render_without_line():
    assert Problem("a.json", 0, "vide").render() == "a.json: vide"
    assert str(Problem("a.json", 4, "x")) == "a.json:4: x"
    assert Problem("c.xlsx", 12, "x", "Feuille!B12").render() == "c.xlsx:Feuille!B12: x"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_any_text_gives_problems_never_an_exception(text):
    scenario, problems = parse(text, "x.json")
    assert scenario is None or problems == []
    assert all(isinstance(p, Problem) and p.line >= 0 for p in problems)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_any_bytes_give_problems_never_an_exception(data):
    scenario, problems = parse(data, "x.json")
    assert scenario is None or problems == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from([*BASE, "code", "x", "inject"]), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(BASE)), JSON_VALUES, max_size=14))
def test_any_json_structure_gives_problems_never_an_exception(data):
    merged = {**BASE, **data}
    scenario, problems = parse(json.dumps(merged), "x.json")
    assert scenario is None or problems == []
    assert from_data(merged)[0] == scenario


SAMPLE = library.load_file(library.library_files()[0])
SAMPLE_TEXT = export(SAMPLE)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, len(SAMPLE.injects) - 1),
    mutation=st.sampled_from(["offset", "channel", "recipient", "variable", "cell"]),
)
def test_an_error_injected_anywhere_is_reported_on_its_line(index, mutation):
    inject = SAMPLE.injects[index]
    lines = SAMPLE_TEXT.splitlines()
    start = line_containing(SAMPLE_TEXT, f'"code": "{inject.code}"') - 1
    key, replacement, message = {
        "offset": ('"offset_minutes": ', '"offset_minutes": -3,', "décalage négatif"),
        "channel": ('"channel": ', '"channel": "pigeon",', "« channel » vaut « pigeon »"),
        "recipient": ('"subject": ', '"subject": "{{ a.b }}",', "n'est pas une variable valide"),
        "variable": ('"title": ', '"title": "{{inconnue}}",', "{{inconnue}} non déclarée"),
        "cell": ('"scope": ', '"scope": "planetaire",', "« scope » vaut « planetaire »"),
    }[mutation]
    target = next(i for i in range(start, len(lines)) if lines[i].strip().startswith(key))
    indent = lines[target][: len(lines[target]) - len(lines[target].lstrip())]
    lines[target] = indent + replacement
    scenario, problems = parse("\n".join(lines), "lib.json")
    assert scenario is None
    found = [p for p in problems if message in p.message]
    assert found and found[0].line == target + 1, (problems, target + 1)


SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="{}"), max_size=60
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=SAFE_TEXT.filter(str.strip),
    body=SAFE_TEXT,
    offset=st.integers(0, SAMPLE.duration_minutes),
    within=st.none() | st.integers(1, 600),
    regional=st.booleans(),
)
def test_round_trip(title, body, offset, within, regional):
    first = SAMPLE.injects[0]
    expectation = dataclasses.replace(first.expectations[0], within_minutes=within)
    changed = dataclasses.replace(
        first,
        title=title,
        body=body,
        offset_minutes=offset,
        scope="regional" if regional else "local",
        expectations=(expectation,),
    )
    scenario = dataclasses.replace(
        SAMPLE, title=title, regional_ready=regional, injects=(changed, *SAMPLE.injects[1:])
    )
    assert parse(export(scenario), "x.json") == (scenario, [])
    assert from_data(to_data(scenario)) == (scenario, [])
    assert export(parse(export(scenario))[0]) == export(scenario)


def test_export_key_order_is_stable():
    keys = re.findall(r'^  "(\w+)"', SAMPLE_TEXT, re.MULTILINE)
    assert keys[:4] == ["format", "code", "version", "title"]
    assert keys[-2:] == ["injects", "observation_grid"]


def test_unknown_format_version():
    data = {**BASE, "format": "carbet-scenario/9"}
    assert any("format" in p.message for p in problems_of(data))


def test_lone_surrogates_are_refused_and_messages_stay_printable():
    text = text_of(BASE).replace('"Début"', '"\\ud800"').replace('"crise"]', '"\\udfff"]')
    scenario, problems = parse(text, "x.json")
    assert scenario is None
    assert any("caractère invalide" in p.message for p in problems)
    data = {**BASE, "\ud800": 1}
    problems = parse(json.dumps(data), "x.json")[1]
    assert problems
    for problem in problems:
        problem.render().encode("utf-8")


def test_from_data_reports_empty_lists_too():
    scenario, problems = from_data({**BASE, "cells": [], "injects": []})
    assert scenario is None
    assert {p.message for p in problems} >= {
        "« cells » ne doit pas être vide",
        "« injects » ne doit pas être vide",
    }
    assert all(p.line == 0 for p in problems)
