"""Charts for everyone (RGAA 1.3, 1.6, 3.1, 3.2, 10.4): values in the description, lines told
apart without colour, heat-map cells marked and readable, sizes that follow the text size."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines import charts

SVG = "{http://www.w3.org/2000/svg}"


def _desc(svg: str) -> str:
    return ET.fromstring(svg).find(f"{SVG}desc").text or ""


def test_the_anssi_level_chart_describes_its_values():
    """The ARS chart "Niveau ANSSI" only said "Nombre de structures par niveau."."""
    svg = charts.bar_chart(
        "Niveau ANSSI de l'annuaire",
        "Nombre de structures par niveau.",
        ["niveau 1", "niveau 2", "niveau 3"],
        [2.0, 5.0, 0.0],
    )
    assert _desc(svg) == (
        "Nombre de structures par niveau. niveau 1 : 2 ; niveau 2 : 5 ; niveau 3 : 0."
    )


def test_a_description_that_already_gives_the_values_is_kept_as_is():
    desc = "Critique : 3, Élevée : 1"
    svg = charts.bar_chart("t", desc, ["Critique", "Élevée"], [3, 1])
    assert _desc(svg) == desc


def test_line_descriptions_give_first_last_lowest_and_highest():
    svg = charts.line_chart(
        "Exercices",
        "Part des structures.",
        ["01/01", "02/01", "03/01"],
        [charts.Series("part (%)", [10, None, 40], "#1f5f8b")],
    )
    assert _desc(svg) == "Part des structures. part (%) : 10 (01/01) → 40 (03/01), min 10, max 40."


def test_stacked_and_heatmap_descriptions_list_every_row():
    series = [
        charts.Series("Critique", [1, 0], "#7d0a0a"),
        charts.Series("Élevée", [2, 3], "#c0392b"),
    ]
    assert "CH A : Critique 1, Élevée 2 (total 3)" in _desc(
        charts.stacked_bar_chart("t", "", ["CH A", "CH B"], series)
    )
    heat = charts.heatmap("t", "", ["Exposition"], ["Critique", "Faible"], [[2, 0]], [[4, 0]])
    assert _desc(heat) == "Exposition : Critique 2, Faible 0."


def test_lines_differ_by_dash_and_marker_not_only_by_colour():
    series = [charts.Series(f"s{i}", [1, 2, 3], "#1b1f24") for i in range(4)]
    root = ET.fromstring(charts.line_chart("t", "d 3", ["a", "b", "c"], series))
    dashes = [line.get("stroke-dasharray") for line in root.findall(f"{SVG}polyline")]
    assert len(set(dashes)) == 4  # solid (None) and three patterns
    markers = root.findall(f"{SVG}g")
    shapes = {child.tag.replace(SVG, "") for group in markers for child in group}
    assert {"circle", "rect", "polygon"} <= shapes


def test_heat_cells_carry_marks_and_readable_text():
    for background, ink in charts.HEAT_LEVELS:
        assert charts.contrast(background, ink) >= 4.5, (background, ink)
    root = ET.fromstring(
        charts.heatmap(
            "t", "d", ["r"], ["a", "b", "c", "d", "e"], [[0, 1, 2, 3, 4]], [[0, 1, 2, 3, 4]]
        )
    )
    marks = [len(group.findall(f"{SVG}rect")) for group in root.findall(f"{SVG}g")]
    assert marks == [1, 2, 3, 4]  # level n: n squares; level 0: none


def test_the_stylesheet_uses_the_same_heat_colours():
    css = (Path(charts.__file__).resolve().parents[1] / "static/carbet/dashboards.css").read_text()
    for level, (background, _ink) in enumerate(charts.HEAT_LEVELS):
        assert re.search(rf"\.heat-{level} \{{ background: {background};", css), level


@settings(max_examples=50, deadline=None)
@given(width=st.integers(100, 2000), height=st.integers(50, 1000))
def test_sizes_are_in_rem_so_charts_grow_with_the_text(width, height):
    root = ET.fromstring(charts.line_chart("t", "d 1", ["a"], [], width=width, height=height))
    assert root.get("width") == charts._em(width) and root.get("width").endswith("rem")
    assert float(root.get("width")[:-3]) * charts.PX_PER_EM == pytest.approx(width, abs=0.01)
    assert root.get("viewBox") == f"0 0 {width} {height}"


def test_ink_on_picks_the_readable_colour():
    assert charts.ink_on("#7d0a0a") == charts.WHITE
    assert charts.ink_on("#ffd966") == charts.INK
    assert charts.contrast("#ffffff", "#000000") == pytest.approx(21)
