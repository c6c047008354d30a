"""The SVG chart engine and the posture arithmetic (pure Python), with property tests.

Chart labels come from untrusted places (structure names, finding titles): whatever the text,
the SVG must stay well-formed XML, carry its title and description, and never let markup
through.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.engines import charts
from carbet.engines.disclosure import PERCENT_BANDS, peer_position, peer_range
from carbet.engines.posture import (
    SCORE_RULES,
    PostureCounts,
    merge_small_groups,
    sla_compliance,
    trend,
)

SVG = "{http://www.w3.org/2000/svg}"
labels = st.text(max_size=60)
counts = st.integers(min_value=0, max_value=10_000)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert not root.findall(f".//{SVG}script") and not root.findall(".//script")
    assert "style=" not in svg  # the CSP forbids inline styles
    return root


@settings(max_examples=60, deadline=None)
@given(
    title=labels,
    names=st.lists(labels, min_size=0, max_size=8),
    data=st.data(),
)
def test_bar_and_stacked_charts_are_well_formed_whatever_the_labels(title, names, data):
    values = data.draw(st.lists(counts, min_size=len(names), max_size=len(names)))
    parse(charts.bar_chart(title, title, names, values))
    series = [
        charts.Series(
            label, data.draw(st.lists(counts, min_size=len(names), max_size=len(names))), colour
        )
        for label, colour in (("<b>Critique</b>", "#7d0a0a"), ("Élevée & co", "#c0392b"))
    ]
    root = parse(charts.stacked_bar_chart(title, "desc", names, series))
    texts = "".join(root.itertext())
    for name in names:
        shown = " ".join(name.split())
        if shown and len(shown) <= 30 and all(charts._xml_allowed(c) for c in shown):
            assert shown in texts


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(0, 1e6)), max_size=40), name=labels)
def test_line_chart_handles_gaps_and_any_values(values, name):
    days = [f"{i:02d}/01" for i in range(len(values))]
    root = parse(charts.line_chart(name, name, days, [charts.Series(name, values, "#0b5d6b")]))
    known = [v for v in values if v is not None]
    lines = root.findall(f"{SVG}polyline") + root.findall(f"{SVG}circle")
    assert bool(lines) == bool(known)


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(labels, min_size=1, max_size=6), columns=st.lists(labels, min_size=1, max_size=5)
)
def test_heatmap_writes_every_value_as_text(rows, columns):
    values = [[i * len(columns) + j for j in range(len(columns))] for i in range(len(rows))]
    levels = [[v % 5 for v in row] for row in values]
    root = parse(charts.heatmap("t", "d", rows, columns, values, levels))
    written = [t.text for t in root.findall(f"{SVG}text")]
    for row in values:
        for value in row:
            assert str(value) in written


def test_markup_in_labels_is_escaped():
    svg = charts.bar_chart('<script>alert(1)</script>"', "x", ["</svg><script>"], [3])
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_heat_levels_and_nice_bounds():
    assert charts.heat_level(0, [1, 5, 10]) == 0
    assert charts.heat_level(1, [1, 5, 10]) == 2
    assert charts.heat_level(500, [1, 5, 10]) == 4
    assert [charts.nice_max(v) for v in (0, 3, 7, 42, 101)] == [1, 5, 10, 50, 200]


@given(
    critical=counts,
    high=counts,
    medium=counts,
    low=counts,
    overdue=counts,
    extra=counts,
    field=st.sampled_from([rule.key for rule in SCORE_RULES]),
)
def test_posture_score_is_bounded_and_never_rewards_a_problem(
    critical, high, medium, low, overdue, extra, field
):
    base = PostureCounts(critical, high, medium, low, overdue)
    assert 0 <= base.score <= 100
    worse = PostureCounts(**{**vars(base), field: getattr(base, field) + extra})
    assert worse.score <= base.score


def test_posture_score_examples():
    assert PostureCounts().score == 100
    assert PostureCounts(open_critical=1).score == 90
    assert PostureCounts(open_medium=10_000).score == 90  # mediums alone cost at most 10
    assert PostureCounts(100, 100, 100, 100, 100).score == 0
    assert sum(rule.cap for rule in SCORE_RULES) == 100


def test_small_statistics():
    assert sla_compliance(3, 1) == 75 and sla_compliance(0, 0) is None
    # Peers are shown as bands of their quartiles (exact quartiles of a small group can be
    # inverted, see tests/test_aggregate_inversion.py): 20, 30, 40 fall in 20–29, 30–39, 40–49.
    group = peer_range([10, 20, 30, 40, 50], PERCENT_BANDS)
    assert (group.low.label, group.median.label, group.high.label) == ("20–29", "30–39", "40–49")
    assert group.range_label == "20–49"
    assert peer_range([]) is None and peer_range([None]) is None
    assert peer_range([1, 2, 3]) is None  # fewer than four peers: nothing
    assert peer_position(55, group, higher_is_better=True) == "better"
    assert peer_position(55, group, higher_is_better=False) == "worse"
    assert peer_position(45, group, higher_is_better=True) == "usual"  # inside the bounds
    assert trend(80, 70) == "up" and trend(70, 80) == "down" and trend(70, 70) == "flat"
    assert trend(70, None) is None


@given(
    sizes=st.lists(st.integers(min_value=1, max_value=6), max_size=10),
    minimum=st.integers(min_value=2, max_value=5),
)
def test_merged_groups_never_fall_under_the_minimum(sizes, minimum):
    groups, next_id = [], 0
    for index, size in enumerate(sizes):
        groups.append((f"g{index}", list(range(next_id, next_id + size))))
        next_id += size
    merged = merge_small_groups(groups, minimum, "autres")
    assert all(len(members) >= minimum for _label, members in merged)
    everyone = sorted(m for _label, members in merged for m in members)
    if next_id >= minimum:
        assert everyone == list(range(next_id))  # nobody dropped when the region is big enough
    else:
        assert merged == []
