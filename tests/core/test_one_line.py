"""The kernel's free-text rule (``carbet.core.validators.one_line``), on any input."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from carbet.core.validators import one_line


@given(st.one_of(st.none(), st.text(max_size=300), st.integers()))
def test_any_text_becomes_one_clean_line(value):
    line = one_line(value)
    assert not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in line)
    assert "  " not in line and line == line.strip()
    assert one_line(line) == line


def test_line_breaks_and_controls_are_spaces():
    assert one_line(" Dossier\r\nde\x00soins\u2028 ") == "Dossier de soins"
    assert one_line(None) == ""
