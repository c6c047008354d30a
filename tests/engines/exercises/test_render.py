"""Safe placeholders: only declared names, no attribute access, no template engine."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exercises.render import malformed, placeholders, render

VARS = {"structure": "CH de Valmont", "directeur": "Mme Duval"}


def test_declared_names_are_replaced():
    assert render("À {{structure}}, {{ directeur }}.", VARS) == "À CH de Valmont, Mme Duval."


def test_undeclared_and_malformed_placeholders_stay_as_written():
    text = "{{inconnu}} {{ structure.__class__ }} {{structure|upper}} {% if x %} {{structure}}"
    assert render(text, VARS) == (
        "{{inconnu}} {{ structure.__class__ }} {{structure|upper}} {% if x %} CH de Valmont"
    )
    assert render("{{directeur}}", VARS, declared=["structure"]) == "{{directeur}}"


def test_values_are_inserted_as_plain_text_once():
    hostile = {"structure": "{{directeur}} <b>"}
    assert render("{{structure}}", {**VARS, **hostile}) == "{{directeur}} <b>"


def test_placeholders_and_malformed():
    assert placeholders("{{a}} {{ b }} {{a}}") == ["a", "b"]
    assert malformed("{{a}} {{a.b}} {{ x|y }}") == ["{{a.b}}", "{{ x|y }}"]


@given(
    st.text(max_size=200),
    st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(max_size=20)),
)
def test_render_never_fails(text, variables):
    result = render(text, variables)
    if not placeholders(text):
        assert result == text
