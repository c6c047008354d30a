"""Putting a scenario to use: a chronogram's injects in a scenario, variables filled in.

``with_injects`` replaces a scenario's injects (from an imported chronogram) and checks the
result like a file. ``values_for`` and ``render_inject`` / ``render_situation`` give the texts
one structure sees: declared variables only, defaults where the exercise gave no value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from .jsonformat import from_data, to_data
from .model import Inject, Problem, Scenario, Section, Sender
from .render import render


def with_injects(
    scenario: Scenario, injects: Sequence[Inject], path: str = "chronogramme"
) -> tuple[Scenario | None, list[Problem]]:
    """``scenario`` with ``injects`` instead of its own, checked (problems have no line)."""
    candidate = dataclasses.replace(scenario, injects=tuple(injects))
    return from_data(to_data(candidate), path)


def values_for(scenario: Scenario, values: Mapping[str, str]) -> dict[str, str]:
    """The value of every declared variable: the exercise's, else the scenario's default."""
    return {
        variable.name: str(values.get(variable.name) or variable.default)
        for variable in scenario.variables
    }


def render_inject(inject: Inject, values: Mapping[str, str]) -> Inject:
    """The inject as sent: placeholders of ``values`` (see ``values_for``) replaced."""
    return dataclasses.replace(
        inject,
        title=render(inject.title, values),
        subject=render(inject.subject, values),
        body=render(inject.body, values),
        phone_script=render(inject.phone_script, values),
        sender=Sender(render(inject.sender.name, values), render(inject.sender.address, values)),
    )


def render_situation(scenario: Scenario, values: Mapping[str, str]) -> tuple[Section, ...]:
    return tuple(
        Section(render(section.title, values), render(section.text, values))
        for section in scenario.situation
    )
