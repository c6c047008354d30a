"""Crisis templates: the shipped files, line-precise problems, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines.crisis import templates

DATA = Path(__file__).resolve().parents[3] / "carbet" / "crisis" / "templates_data"
EXPECTED = {
    "ransomware",
    "prestataire",
    "vol-donnees",
    "messagerie",
    "deni-service",
    "dispositif-medical",
}


def test_the_six_shipped_templates_are_valid():
    loaded = {templates.loads(p.read_text(encoding="utf-8")).code for p in DATA.glob("*.json")}
    assert loaded == EXPECTED
    for path in DATA.glob("*.json"):
        template = templates.loads(path.read_text(encoding="utf-8"))
        assert any(c.code == "exit" for c in template.checklists)
        assert {t.workstream for t in template.tasks} <= set(templates.WORKSTREAMS)
        assert template.tasks and template.contacts and template.activities


BAD = """{
  "format": 1,
  "code": "essai",
  "version": "1",
  "title": "Essai",
  "colour": "rouge",
  "phases": {
    "alert": {"tasks": [
      {"workstream": "technique", "title": "Isoler", "priority": 1},
      {"workstream": "care", "title": "", "priority": 7, "due_hours": -3}
    ]},
    "panic": {"tasks": []}
  },
  "checklists": [
    {"code": "reflexes", "title": "R", "items": ["a", ""]}
  ],
  "contacts": [{"kind": "plombier", "why": "x"}],
  "activities": ["Urgences", "Urgences"]
}
"""


def test_every_problem_with_its_line():
    with pytest.raises(templates.TemplateError) as exc:
        templates.loads(BAD)
    found = {(p.line, p.message.split(" ")[0]) for p in exc.value.problems}
    lines = {p.line for p in exc.value.problems}
    assert 6 in lines  # unknown key "colour"
    assert 9 in lines  # unknown workstream
    assert 10 in lines  # empty title, priority, due_hours
    assert 12 in lines  # unknown phase
    assert 15 in lines  # empty checklist item
    assert 17 in lines  # unknown contact kind
    assert 18 in lines  # duplicate activity
    assert any("exit" in p.message for p in exc.value.problems)
    assert found


def test_json_syntax_error_has_its_line():
    with pytest.raises(templates.TemplateError) as exc:
        templates.loads('{\n  "format": 1,\n  "code": ,\n}')
    assert exc.value.problems[0].line == 3


def test_too_big_and_too_deep():
    with pytest.raises(templates.TemplateError):
        templates.loads(" " * (templates.MAX_BYTES + 1))
    with pytest.raises(templates.TemplateError):
        templates.loads("[" * 5000 + "]" * 5000)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "format",
                    "code",
                    "title",
                    "phases",
                    "tasks",
                    "alert",
                    "workstream",
                    "items",
                    "checklists",
                    "contacts",
                    "kind",
                    "activities",
                    "version",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_accepted_or_refused_cleanly(value):
    try:
        templates.loads(json.dumps(value))
    except templates.TemplateError as exc:
        assert exc.problems


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_refused_cleanly(text):
    try:
        templates.loads(text)
    except templates.TemplateError as exc:
        assert exc.problems
