"""The profile form's port list: any text gets a clear error or a clean list, never a crash."""

from __future__ import annotations

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from carbet.exposure.forms import MAX_PORTS, format_ports, parse_ports


@given(st.text(max_size=200))
def test_any_text_is_parsed_or_refused_clearly(text):
    try:
        ports = parse_ports(text)
    except forms.ValidationError as exc:
        assert exc.messages and all(message for message in exc.messages)
        return
    assert ports == sorted(set(ports)) and all(1 <= p <= 65535 for p in ports)
    assert len(ports) <= MAX_PORTS


@given(st.sets(st.integers(min_value=1, max_value=65535), min_size=1, max_size=300))
def test_formatting_then_parsing_gives_the_same_ports(ports):
    assert parse_ports(format_ports(sorted(ports))) == sorted(ports)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("22, 80;443 8000-8002", [22, 80, 443, 8000, 8001, 8002]), ("3389", [3389])],
)
def test_examples(text, expected):
    assert parse_ports(text) == expected


@pytest.mark.parametrize("text", ["", "0", "70000", "80-22", "abc", "1-65535"])
def test_refusals(text):
    with pytest.raises(forms.ValidationError):
        parse_ports(text)
