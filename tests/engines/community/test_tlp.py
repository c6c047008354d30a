"""TLP levels shared by the STIX and MISP exports (community and crisis)."""

from __future__ import annotations

import pytest
import stix2

from carbet.engines import tlp


def test_stix_markings():
    assert tlp.stix_markings("clear") == [stix2.TLP_WHITE]
    assert tlp.stix_markings("amber+strict") == [stix2.TLP_AMBER, tlp.AMBER_STRICT]
    assert tlp.AMBER_STRICT.definition.statement == "TLP:AMBER+STRICT"
    with pytest.raises(ValueError, match="unknown TLP"):
        tlp.stix_markings("white")


def test_misp_tags_both_ways():
    assert [tlp.misp_tag(level) for level in tlp.LEVELS] == [
        "tlp:clear",
        "tlp:green",
        "tlp:amber",
        "tlp:amber+strict",
        "tlp:red",
    ]
    assert tlp.from_misp_tags(["tlp:white"]) == "clear"
    assert tlp.from_misp_tags(["TLP:GREEN", "tlp:amber", "osint"]) == "amber"  # the strictest
    assert tlp.from_misp_tags(["tlp:unknown", "admiralty-scale"]) == ""
    with pytest.raises(ValueError):
        tlp.misp_tag("amber strict")
