"""What may be published about a group of structures to someone not entitled to each one's figures.

Two audiences read statistics over structures whose detail they may not see: a structure's
people (the peer comparison on their dashboard and in their PDF) and the ARS (regional
aggregates: findings, directory levels, roadmap indicators, mandates). Exact small-group
statistics can be inverted — with three hospitals in a group, the median and the inclusive
quartiles plus one's own figure give back the other two figures exactly. Every such statistic
goes through this module, which follows the rules statistical offices apply to their tables:

1. **Threshold.** No statistic over fewer than ``MIN_GROUP`` (5) structures. Below it, nothing
   is published and the page says why ("groupe trop petit pour une comparaison anonyme").
2. **The viewer is left out of their own comparison.** A peer comparison is computed over the
   *other* structures of the group (every structure the viewer covers is removed), at least
   ``MIN_PEERS`` of them: one's own figure then solves nothing.
3. **Ranges, never exact small-group statistics.** Quartiles, medians and group averages are
   published as bands (counts: "0–2", "3–5", "6–10", "11–20", "21–50", "51–100", "> 100";
   scores and percentages: tens). Every band holds at least three whole values, so many peer
   figures stay consistent with what is shown; the position badge ("mieux que la plupart")
   compares one's figure with the published bounds only, so it adds nothing to them.
4. **Small cells.** A count of structures (per level, with/without a mandate...) between 1 and
   4 is replaced by a "secret" mark; zeros stay (they name nobody). If the hidden part could
   be worked out from the total — one hidden cell, or hidden cells that can only hold 1 each —
   the next smallest cell is hidden too (complementary suppression). A table whose every
   structure would fall in one cell (everyone at level 3) is not published: it would state
   each structure's value.
5. **No differencing between breakdowns.** Group sums from two breakdowns (by category and by
   département) plus the region's total can be subtracted from one another. ``recoverable``
   finds, by linear algebra over the published groups, every cross-cell of fewer than
   ``MIN_GROUP`` structures whose total would follow; a breakdown that opens such a cell is
   not published. Over time, the regional trend follows a fixed set of structures (those with
   a snapshot on every day shown), so a structure joining or leaving is not a difference, and
   banded averages leave a newcomer's figure within a wide range.

What stays possible, on purpose: the exact number of structures in a group (the registry of
the region's structures is public), exact shares when both sides hold at least five
structures, and someone's own figures. Pure Python: no Django import.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

MIN_GROUP = 5
MIN_PEERS = MIN_GROUP - 1  # a group of five, the viewer's structure left out
SECRET_MAX = MIN_GROUP - 1  # counts 1..4 are small cells


def _number(value: float) -> str:
    text = f"{value:g}"
    return text.replace(".", ",")


@dataclass(frozen=True)
class Band:
    """A published range of values: ``low`` to ``high`` included (``high`` None: no bound)."""

    low: float
    high: float | None

    @property
    def label(self) -> str:
        if self.high is None:
            return f"> {_number(self.low - 1)}" if self.low >= 1 else f"≥ {_number(self.low)}"
        if self.high == self.low:
            return _number(self.low)
        return f"{_number(self.low)}–{_number(self.high)}"

    def __str__(self) -> str:
        return self.label

    def holds(self, value: float) -> bool:
        return value >= self.low and (self.high is None or value <= self.high)


COUNT_BANDS: tuple[Band, ...] = (
    Band(0, 2),
    Band(3, 5),
    Band(6, 10),
    Band(11, 20),
    Band(21, 50),
    Band(51, 100),
    Band(101, None),
)
PERCENT_BANDS: tuple[Band, ...] = (*(Band(10 * i, 10 * i + 9) for i in range(9)), Band(90, 100))


def round_half_up(value: float) -> int:
    """Schoolbook rounding (2.5 → 3), the same on every platform."""
    return math.floor(value + 0.5)


def band_of(value: float, bands: Sequence[Band] = COUNT_BANDS) -> Band:
    """The band holding ``value`` rounded to a whole number (values outside: the end bands)."""
    whole = round_half_up(value)
    for band in bands:
        if band.holds(whole):
            return band
    return bands[0] if whole < bands[0].low else bands[-1]


def step_band(value: float, step: float) -> Band:
    """``[k·step, (k+1)·step]`` around ``value``, for averages on a small scale (0–3, 1–5)."""
    k = math.floor(value / step + 1e-9)
    return Band(round(k * step, 6), round((k + 1) * step, 6))


# ---- 1–3: peer comparison ----------------------------------------------------------------


@dataclass(frozen=True)
class PeerRange:
    """What a structure sees of its peers for one figure: bands, never exact quartiles."""

    peers: int  # how many other structures the bands come from
    low: Band  # band of the first quartile
    median: Band
    high: Band  # band of the third quartile

    @property
    def range_label(self) -> str:
        if self.high.high is None:
            return f"≥ {_number(self.low.low)}"
        return f"{_number(self.low.low)}–{_number(self.high.high)}"


def peer_range(
    values: Iterable[float | None], bands: Sequence[Band] = COUNT_BANDS
) -> PeerRange | None:
    """Banded quartiles of the peers' known values (the viewer's own are never in ``values``);
    ``None`` when fewer than ``MIN_PEERS`` are known."""
    known = sorted(float(v) for v in values if v is not None)
    if len(known) < MIN_PEERS:
        return None
    q1, median, q3 = statistics.quantiles(known, n=4, method="inclusive")
    return PeerRange(len(known), band_of(q1, bands), band_of(median, bands), band_of(q3, bands))


def peer_position(
    own: float | None, group: PeerRange | None, *, higher_is_better: bool
) -> str | None:
    """``"better"``, ``"usual"`` or ``"worse"`` from the *published* bounds only, so the badge
    tells the viewer nothing the range does not already say."""
    if own is None or group is None:
        return None
    low, high = group.low.low, group.high.high
    if high is not None and own > high:
        return "better" if higher_is_better else "worse"
    if own < low:
        return "worse" if higher_is_better else "better"
    return "usual"


# ---- 3: group averages for the ARS -------------------------------------------------------


def banded_mean(values: Sequence[float | None], bands: Sequence[Band] = COUNT_BANDS) -> Band | None:
    """The band of the known values' average, or ``None`` under ``MIN_GROUP`` values."""
    known = [float(v) for v in values if v is not None]
    if len(known) < MIN_GROUP:
        return None
    return band_of(sum(known) / len(known), bands)


def published_mean(mean: float | None, n: int, *, step: float) -> Band | None:
    """An average already computed over ``n`` structures, as a band ``step`` wide."""
    if mean is None or n < MIN_GROUP:
        return None
    return step_band(mean, step)


def rounded_total(total: int, base: int = 10) -> int:
    """A sum over many structures rounded to ``base``: a newcomer's share of it stays unknown."""
    return base * round_half_up(total / base)


# ---- 4: counts of structures -------------------------------------------------------------


@dataclass(frozen=True)
class CountTable:
    """A protected frequency table: ``counts[i]`` is ``None`` where the cell is secret."""

    labels: tuple[str, ...]
    counts: tuple[int | None, ...]
    total: int
    reason: str = ""  # "" published; "too_small"; "concentrated"

    @property
    def published(self) -> bool:
        return not self.reason

    def rows(self) -> list[tuple[str, int | None]]:
        return list(zip(self.labels, self.counts, strict=True))


def _hidden_determined(hidden: list[int]) -> bool:
    """Whether an onlooker knowing the total can tell each hidden cell: with one hidden cell,
    or hidden cells that can only hold one structure each (zeros are shown, so a hidden cell
    holds at least one). When every hidden cell is a small one, hidden cells that would each
    hold four are treated alike, for an onlooker who knows this rule."""
    k, total = len(hidden), sum(hidden)
    if k == 1 or (k > 0 and total == k):
        return True
    return k > 0 and max(hidden) <= SECRET_MAX and total == SECRET_MAX * k


def protect_counts(cells: Sequence[tuple[str, int]]) -> CountTable:
    """Small-cell suppression of a table counting structures (rule 4 of the module)."""
    labels = tuple(label for label, _n in cells)
    counts = [int(n) for _label, n in cells]
    total = sum(counts)
    if total < MIN_GROUP:
        return CountTable(labels, tuple(None for _ in counts), total, "too_small")
    secret = {i for i, n in enumerate(counts) if 0 < n <= SECRET_MAX}
    while _hidden_determined([counts[i] for i in secret]):
        shown = [i for i, n in enumerate(counts) if n > 0 and i not in secret]
        if not shown:
            return CountTable(labels, tuple(None for _ in counts), total, "concentrated")
        secret.add(min(shown, key=lambda i: (counts[i], i)))
    if not secret and sum(1 for n in counts if n > 0) <= 1:
        return CountTable(labels, tuple(None for _ in counts), total, "concentrated")
    return CountTable(
        labels, tuple(None if i in secret else n for i, n in enumerate(counts)), total
    )


def protect_share(yes: int, total: int) -> float | None:
    """``yes / total`` when both sides hold at least ``MIN_GROUP`` structures, else ``None``
    (a two-cell table under rule 4: below that, one side names fewer than five)."""
    table = protect_counts([("yes", yes), ("no", total - yes)])
    if not table.published or None in table.counts:
        return None
    return yes / total


# ---- 5: differencing between overlapping groups ------------------------------------------


def recoverable(
    groups: Sequence[Collection[int]], *, minimum: int = MIN_GROUP
) -> list[frozenset[int]]:
    """Sets of fewer than ``minimum`` structures whose total follows from the groups' totals.

    The structures are split into cells by the groups they belong to (two structures in exactly
    the same groups cannot be told apart by any combination of totals). A cell's total follows
    from the published ones exactly when its indicator vector lies in the row space of the
    group-by-cell matrix; that is decided by Gaussian elimination over fractions. Returns the
    small cells that are recoverable (empty: nothing can be isolated).
    """
    members = sorted({m for g in groups for m in g})
    sets = [frozenset(g) for g in groups]
    patterns: dict[tuple[bool, ...], set[int]] = {}
    for member in members:
        patterns.setdefault(tuple(member in s for s in sets), set()).add(member)
    cells = list(patterns.items())
    rows = [[Fraction(int(pattern[g])) for pattern, _m in cells] for g in range(len(sets))]
    pivots = _reduce(rows)
    found = []
    for index, (_pattern, cell) in enumerate(cells):
        if len(cell) >= minimum:
            continue
        if _in_row_space(rows, pivots, index, len(cells)):
            found.append(frozenset(cell))
    return found


def _reduce(rows: list[list[Fraction]]) -> list[int]:
    """Reduced row echelon form, in place; returns the pivot column of each leading row."""
    pivots: list[int] = []
    rank = 0
    width = len(rows[0]) if rows else 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][column]
        rows[rank] = [value / lead for value in rows[rank]]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        pivots.append(column)
        rank += 1
    del rows[rank:]
    return pivots


def _in_row_space(rows: list[list[Fraction]], pivots: list[int], index: int, width: int) -> bool:
    """Whether the unit vector ``e_index`` is a combination of the reduced rows: it is exactly
    when one reduced row equals it (pivot columns hold zeros in every other row)."""
    for row, column in zip(rows, pivots, strict=True):
        if column == index:
            return all(row[c] == (1 if c == index else 0) for c in range(width))
    return False


def safe_breakdowns(
    total: Collection[int], breakdowns: Sequence[Sequence[Collection[int]]]
) -> list[bool]:
    """Which breakdowns may be published beside the total: each one is added in turn, and kept
    only if no small cell becomes recoverable (the first one, a partition into groups of at
    least ``MIN_GROUP``, always is)."""
    kept: list[Collection[int]] = [total]
    verdicts = []
    for groups in breakdowns:
        trial = [*kept, *groups]
        ok = all(len(g) >= MIN_GROUP for g in groups) and not recoverable(trial)
        if ok:
            kept = trial
        verdicts.append(ok)
    return verdicts
