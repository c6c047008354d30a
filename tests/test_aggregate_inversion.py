"""Trying to invert what Carbet publishes about groups of structures (issue 11, item 5).

An attacker reads everything a structure's people or the ARS are shown — page context, API
JSON, the policy's own output — knows their own figures and how the policy works, and tries to
work out one other structure's exact figure: by solving for peers from the median and quartiles
plus their own value, by subtracting one breakdown's totals from another's, by comparing two
days, by reading a small count next to its total. Every attempt must leave at least two
values possible.

The solver is generic: given a published output, it looks for datasets that the policy maps to
that same output (exhaustively where small, by local moves otherwise) and collects the values
each rank can take. Finding two is enough to prove that rank is not recoverable.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Sequence

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from carbet.core.models import Structure
from carbet.engines import disclosure
from carbet.engines.disclosure import COUNT_BANDS, PERCENT_BANDS, peer_range, protect_counts
from carbet.findings.ingest import FindingInput, ingest

# ---- the solver ----------------------------------------------------------------------------


def _ranks_with_two_values(
    data: Sequence[int], publish: Callable[[list[int]], object], *, top: int
) -> list[int]:
    """Ranks (of the sorted data) for which no second consistent dataset was found."""
    target = publish(sorted(data))
    current = sorted(data)
    seen: list[set[int]] = [{v} for v in current]
    # Moves: add ``delta`` to one rank or to a block of consecutive ranks (several peers with
    # the same figure move together), then sort again.
    candidates: list[list[int]] = []
    for first in range(len(current)):
        for last in range(first, len(current)):
            for delta in (-3, -2, -1, 1, 2, 3):
                moved = list(current)
                for rank in range(first, last + 1):
                    moved[rank] += delta
                if all(0 <= v <= top for v in moved[first : last + 1]):
                    candidates.append(sorted(moved))

    def collect(pool: list[list[int]]) -> None:
        for candidate in pool:
            if publish(candidate) == target:
                for rank, value in enumerate(candidate):
                    seen[rank].add(value)

    collect(candidates)
    if any(len(values) < 2 for values in seen):
        # Two moves at once (a block up, one peer down...), only where one move did not do.
        collect(
            [
                sorted([*first[:i], first[i] + delta, *first[i + 1 :]])
                for first in candidates
                for i in range(len(first))
                for delta in (-3, -2, -1, 1, 2, 3)
                if 0 <= first[i] + delta <= top
            ]
        )
    return [rank for rank, values in enumerate(seen) if len(values) < 2]


def _published_peers(bands):
    def publish(values: list[int]):
        found = peer_range(values, bands)
        return None if found is None else (found.low, found.median, found.high)

    return publish


def test_the_old_exact_quartiles_were_invertible():
    """The finding: three hospitals, exact inclusive quartiles, one's own figure known."""
    own, others = 7, (3, 12)
    q1, median, q3 = statistics.quantiles(sorted((own, *others)), n=4, method="inclusive")
    # Solving: the median of three is the middle value; q1 and q3 sit halfway to the ends.
    solved = {round(2 * q1 - median), round(2 * q3 - median)} - {own} or {own}
    assert solved == set(others)  # the attack worked on what used to be shown
    # The same group now: fewer than five structures, nothing is published.
    assert peer_range(others) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=120), min_size=4, max_size=9),
    st.sampled_from(["count", "percent"]),
)
def test_banded_quartiles_never_pin_a_peer(values, kind):
    bands = COUNT_BANDS if kind == "count" else PERCENT_BANDS
    top = 130 if kind == "count" else 100
    values = [min(v, top) for v in values]
    assert not _ranks_with_two_values(values, _published_peers(bands), top=top)


@pytest.mark.parametrize("size", [3, 4, 5, 6, 10])
def test_exhaustive_small_groups(size):
    """Every dataset of small values: published bands leave each rank two values at least."""
    others = size - 1  # the viewer's structure is never among the figures
    publish = _published_peers(COUNT_BANDS)
    top = 9 if others <= 5 else 6
    for data in itertools.combinations_with_replacement(range(top + 1), min(others, 6)):
        if others < disclosure.MIN_PEERS:
            assert publish(list(data)) is None
            continue
        data = list(data) + [0] * (others - len(data))
        assert not _ranks_with_two_values(data, publish, top=top + 3), data


def test_position_badge_adds_nothing():
    """The badge compares one's figure with the published bounds only: two datasets with the
    same bands give the same badge whatever one's own figure."""
    first, second = peer_range([3, 4, 6, 9]), peer_range([4, 4, 5, 9])
    assert (first.low, first.median, first.high) == (second.low, second.median, second.high)
    for own in range(0, 30):
        assert disclosure.peer_position(
            own, first, higher_is_better=False
        ) == disclosure.peer_position(own, second, higher_is_better=False)


# ---- counts of structures: small cells, complements, everyone in one cell ------------------


def _consistent_tables(published: disclosure.CountTable) -> list[tuple[int, ...]]:
    """Every table the onlooker cannot tell from the published one: the shown cells, the total,
    and hidden cells of at least one structure each (zeros are shown) — the attacker model of
    statistical offices' protection intervals (linear constraints, not the choice of cells).
    """
    if not published.published:
        return []
    hidden = [i for i, c in enumerate(published.counts) if c is None]
    shown_sum = sum(c for c in published.counts if c is not None)
    rest = published.total - shown_sum
    found = []
    for split in itertools.product(range(1, rest + 1), repeat=len(hidden)):
        if sum(split) != rest:
            continue
        counts = list(published.counts)
        for i, value in zip(hidden, split, strict=True):
            counts[i] = value
        found.append(tuple(counts))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=9), min_size=2, max_size=5))
def test_secret_cells_cannot_be_worked_out(counts):
    labels = [f"niveau {i}" for i in range(len(counts))]
    published = protect_counts(list(zip(labels, counts, strict=True)))
    if sum(counts) < disclosure.MIN_GROUP:
        assert not published.published and set(published.counts) == {None}
        return
    if not published.published:
        assert published.reason == "concentrated"
        return
    tables = _consistent_tables(published)
    assert tuple(counts) in tables
    for i, value in enumerate(published.counts):
        if value is None:
            assert len({t[i] for t in tables}) >= 2, (counts, published, i)
    # No structure's cell follows: some consistent table puts structures in two cells or more.
    assert any(sum(1 for v in t if v) >= 2 for t in tables)
    for value in published.counts:
        assert value is None or value == 0 or value >= disclosure.MIN_GROUP


def test_count_tables_by_hand():
    one_small = protect_counts([("1", 1), ("3", 7), ("4", 9)])
    assert one_small.counts == (None, None, 9)  # 1 and its complement (7) hidden together
    assert protect_counts([("3", 8), ("4", 0)]).reason == "concentrated"  # everyone at 3
    assert protect_counts([("3", 2), ("4", 2)]).reason == "too_small"
    ones = protect_counts([("1", 1), ("2", 1), ("3", 8), ("4", 9)])
    assert ones.counts == (None, None, None, 9)  # two hidden ones would each be 1: one more hidden


# ---- differencing between breakdowns and between days -------------------------------------


def test_a_departement_that_is_a_category_plus_one_is_withheld():
    category_a = set(range(1, 6))
    category_b = set(range(6, 12))
    departement_1 = category_a | {6}  # all of A plus one of B
    departement_2 = category_b - {6}
    everyone = category_a | category_b
    assert disclosure.recoverable([everyone, category_a, category_b, departement_1]) == [
        frozenset({6})
    ]
    assert disclosure.safe_breakdowns(
        everyone, [[category_a, category_b], [departement_1, departement_2]]
    ) == [True, False]
    # Crossed breakdowns with every cross-cell of five or more are fine.
    grid = {(c, d): set(range(10 * c + 5 * d, 10 * c + 5 * d + 5)) for c in (0, 1) for d in (0, 1)}
    cats = [grid[(c, 0)] | grid[(c, 1)] for c in (0, 1)]
    deps = [grid[(0, d)] | grid[(1, d)] for d in (0, 1)]
    assert disclosure.safe_breakdowns(set().union(*grid.values()), [cats, deps]) == [True, True]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=60), min_size=5, max_size=12),
    st.integers(min_value=0, max_value=60),
)
def test_a_newcomer_cannot_be_read_off_two_days(members, newcomer):
    """Day 1: a group's banded average; day 2: the same group plus one structure, the others
    unchanged. The newcomer's figure stays within a range of several values."""
    before = disclosure.banded_mean(members)
    after = disclosure.banded_mean([*members, newcomer])
    n = len(members)
    # Sums consistent with each band (a band holds the rounded average: ± 0.5).
    low_1, high_1 = (before.low - 0.5) * n, (before.high + 0.5) * n if before.high else 1e9
    low_2 = (after.low - 0.5) * (n + 1)
    high_2 = (after.high + 0.5) * (n + 1) if after.high else 1e9
    possible = [v for v in range(0, 200) if low_2 - high_1 <= v <= high_2 - low_1]
    assert newcomer in possible and len(possible) >= 2


# ---- through the application: what a director and the ARS are actually given ---------------


def _ehpads(region, figures: list[int]) -> list[Structure]:
    """Small EHPADs of the test region with ``figures[i]`` open high findings each."""
    made = []
    for index, figure in enumerate(figures):
        structure = Structure.objects.create(
            finess_et=f"97190{index + 1:04d}",
            name=f"EHPAD Inversion {index + 1}",
            organisation=region.org_b,
            category="ehpad",
            places=30 + index,
            departement="971",
        )
        ingest(
            structure,
            "manual",
            [FindingInput(title=f"Inversion {index} n{k}", severity="high") for k in range(figure)],
            complete=False,
        )
        made.append(structure)
    return made


@pytest.mark.parametrize("size", [3, 4, 5, 6, 10])
def test_a_director_cannot_solve_for_a_peer(region, size):
    """The group: b (the director's structure, no finding), a2 (no finding) and ``size - 2``
    EHPADs with known figures. The director reads the page's context and, knowing her own
    figure, tries every way to recover one other structure's count."""
    figures = [2, 5, 9, 1, 14, 3, 7, 4][: size - 2]
    _ehpads(region, figures)
    response = region.client("director_b").get(
        reverse("findings:structure_dashboard", args=[region.b.pk])
    )
    assert response.status_code == 200
    comparison = response.context["data"].peers
    html = response.content.decode()
    if size < disclosure.MIN_GROUP:
        assert comparison is None
        assert "groupe trop petit pour une comparaison anonyme" in html
        return
    metric = next(m for m in comparison.metrics if "critiques ou élevées" in m.label)
    assert metric.own == 0 and comparison.peers == size - 1
    others = sorted([0, *figures])  # a2 and the new ones: what the attacker wants
    published = (metric.group.low, metric.group.median, metric.group.high)
    assert published == _published_peers(COUNT_BANDS)(others)
    # Whatever the director's own value, it is not in the figures: adding it solves nothing.
    assert not _ranks_with_two_values(others, _published_peers(COUNT_BANDS), top=30)
    # The page shows bands, never an exact quartile of the group.
    q1, _median, q3 = statistics.quantiles(others, n=4, method="inclusive")
    assert metric.group.range_label in html
    for exact in {q1, q3} - {float(b) for b in (metric.group.low.low, metric.group.high.high)}:
        if exact != int(exact):
            assert f"{exact:g}".replace(".", ",") not in html.split("peers-title")[1][:3000]


@pytest.mark.parametrize("size", [3, 4, 5, 6, 10])
def test_the_ars_cannot_isolate_a_structure(region, size):
    """The ARS reads its dashboard, the aggregates API, the directory levels and the roadmap
    indicators. Regions of 3 + (size − 3) structures: under five, nothing; above, only groups
    of five or more, banded averages, secret small counts."""
    from tests.api.conftest import token_client

    _ehpads(region, [2, 5, 9, 1, 14, 3, 7][: max(0, size - 3)])
    client = region.client("ars_viewer")
    view = client.get(reverse("findings:ars_dashboard")).context["view"]
    api = token_client(region.users["ars_viewer"])
    aggregates = api.get("/aggregates").json()
    levels = api.get("/directory/levels").json()
    if size < disclosure.MIN_GROUP:
        assert view.total is None and not view.by_category and not view.by_departement
        assert aggregates["by_category"] == [] and aggregates["by_departement"] == []
        assert all(row["count"] is None for row in levels)
        return
    groups = [view.total, *view.by_category, *view.by_departement]
    for group in groups:
        assert group.structures >= disclosure.MIN_GROUP
        assert group.avg_critical_high is None or isinstance(
            group.avg_critical_high, disclosure.Band
        )
    # The CH (a, alone in its category) is pooled, never shown on its own.
    assert not any(g.structures == 1 for g in groups)
    for row in aggregates["by_category"] + aggregates["by_departement"]:
        assert row["structures"] >= disclosure.MIN_GROUP
        assert row["assets"] % 10 == 0
    # Nobody audited: every structure "never audited" would state each one's status.
    assert all(row["count"] is None for row in levels)


def test_the_ars_indicators_hide_small_counts(region):
    """Roadmap indicators through the API: three structures, one audited at level 4 — the
    stored aggregate says so, what the ARS receives does not."""
    from carbet.roadmap import auto_evidence, indicators
    from tests.api.conftest import token_client

    auto_evidence.record(region.a, "directory_audit", value={"anssi_level": 4})
    indicators.compute_all()
    stored = indicators.latest_regional("directory_level").data
    assert stored["counts"] == {"4": 1}  # kept whole in the centre's database
    body = token_client(region.users["ars_viewer"]).get("/roadmap/indicators/region").json()
    level = next(r for r in body if r["code"] == "directory_level")
    assert level["data"]["withheld"] == "too_small"
    assert set(level["data"]["counts"].values()) == {None}
    for row in body:
        data = row["data"]
        for key in ("numerator", "mean"):
            assert data.get(key) is None, (row["code"], data)
