"""ScanConfig.nameserver_address: every accepted spelling, and a clear error otherwise."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbet.engines.exposure.core import ScanConfig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
        ("[::1]:5353", ("::1", 5353)),
    ],
)
def test_accepted_spellings(text, expected):
    assert ScanConfig(nameserver=text).nameserver_address() == expected


@pytest.mark.parametrize("text", ["1.2.3.4:²", "host:53", "[::1]x", "1.2.3.4:0", "1.2.3.4:70000"])
def test_bad_spellings_raise_a_clear_error(text):
    with pytest.raises(ValueError, match="nameserver"):
        ScanConfig(nameserver=text).nameserver_address()


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_value_error(text):
    try:
        _address, port = ScanConfig(nameserver=text).nameserver_address() or ("", 53)
    except ValueError:
        return
    assert 0 < port < 65536
