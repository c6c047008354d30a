"""Pure engines: diagnostic scoring and priorities, proposal ordering, the 66 % rule,
automatic-evidence conditions, indicator aggregates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbet.engines.roadmap.indicators import distribution, mean_by_category, share
from carbet.engines.roadmap.proposal import Gap, propose, urgency
from carbet.engines.roadmap.scoring import (
    Question,
    activity_coverage,
    condition_holds,
    score_diagnostic,
)


def _questions():
    # theme a: q1..q4, theme b: q5..q8; priorities vary to test ties
    return [
        Question("q1", "a", priority=2, order=1),
        Question("q2", "a", priority=1, order=2),
        Question("q3", "a", priority=3, order=3),
        Question("q4", "a", priority=2, order=4),
        Question("q5", "b", priority=1, order=5),
        Question("q6", "b", priority=2, order=6),
        Question("q7", "b", priority=1, order=7),
        Question("q8", "b", priority=3, order=8),
        Question("ctx", "context", scored=False, order=0),
    ]


def test_theme_scores_are_averages_and_unknown_is_not_scored():
    answers = {"q1": 3, "q2": 1, "q3": None, "q4": 2, "q5": 0, "q6": 0, "q7": 3, "q8": None}
    result = score_diagnostic(_questions(), answers)
    assert result.theme_scores["a"] == pytest.approx(2.0)  # (3+1+2)/3, q3 unknown
    assert result.theme_scores["b"] == pytest.approx(1.0)  # (0+0+3)/3
    assert result.theme_scores["context"] is None
    assert result.overall == pytest.approx(9 / 6)
    assert result.overall_percent == 50
    assert (result.answered, result.scored, result.total) == (8, 6, 8)


def test_six_lowest_become_priorities_ties_by_priority_then_order():
    answers = {"q1": 1, "q2": 1, "q3": 0, "q4": 2, "q5": 1, "q6": 0, "q7": 2, "q8": 2}
    result = score_diagnostic(_questions(), answers)
    # zeros first (q6 priority 2 before q3 priority 3), then ones by priority (q2, q5 are P1,
    # q2 earlier; then q1 P2), then twos: q7 (P1) before q4 (P2) before q8 (P3).
    assert result.priorities == ["q6", "q3", "q2", "q5", "q1", "q7"]


def test_measures_at_three_are_never_priorities_and_fewer_than_six_is_fine():
    answers = dict.fromkeys(["q1", "q2", "q3", "q4", "q5", "q6", "q7"], 3) | {"q8": 1}
    assert score_diagnostic(_questions(), answers).priorities == ["q8"]


def test_out_of_range_scores_are_refused():
    with pytest.raises(ValueError):
        score_diagnostic(_questions(), {"q1": 4})


def test_proposal_puts_prerequisites_first_then_urgency_and_respects_dependencies():
    gaps = [
        Gap("low-gap", score=2, priority=3, order=1),
        Gap("big-gap", score=0, priority=1, order=2),
        Gap("needs-policy", score=0, priority=1, requires=("policy",), order=3),
        Gap("policy", score=2, priority=3, order=4),
        Gap("prereq", score=1, priority=2, prerequisite=True, order=5),
        Gap("done", score=3, priority=1, order=6),
        Gap("exposed", score=1, priority=2, exposure=True, order=7),
        Gap("unknown", score=None, priority=2, order=8),
    ]
    ordered = [p.key for p in propose(gaps, exposure=1.0)]
    assert ordered[0] == "prereq"
    assert "done" not in ordered
    assert ordered.index("policy") < ordered.index("needs-policy")
    assert ordered.index("big-gap") < ordered.index("exposed") < ordered.index("unknown")
    assert ordered.index("unknown") < ordered.index("low-gap")
    # Exposure lifts the exposure-related gap above an equal one.
    assert urgency(Gap("e", 1, 2, exposure=True), 1.0) == 2 * urgency(Gap("n", 1, 2), 1.0)


def test_proposal_years_keep_dependencies_in_order():
    gaps = [Gap(f"g{i}", score=1, priority=3, order=i) for i in range(9)]
    gaps.append(Gap("last", score=0, priority=1, requires=("g8",), order=10))
    result = {p.key: p for p in propose(gaps, years=3)}
    assert result["last"].year_offset >= result["g8"].year_offset
    assert {p.year_offset for p in result.values()} == {0, 1, 2}


def test_the_66_percent_rule():
    weights = {"chu": Decimal("600"), "ch": Decimal("300"), "ehpad": Decimal("100")}
    assert activity_coverage(weights, {"chu"}).met is False  # 60 %
    covered = activity_coverage(weights, {"chu", "ehpad"})
    assert covered.share == pytest.approx(0.70) and covered.met
    exact = activity_coverage({"x": 66, "y": 34}, {"x"})
    assert exact.met  # exactly 66 % meets the threshold
    assert not activity_coverage({"x": 65.99, "y": 34.01}, {"x"}).met
    # weights not filled in: entities count equally
    assert activity_coverage({"a": 0, "b": 0, "c": 0}, {"a", "b"}).met


def test_conditions_of_automatic_evidence():
    assert condition_holds({"anssi_level": {">=": 3}}, {"anssi_level": 3})
    assert not condition_holds({"anssi_level": {">=": 3}}, {"anssi_level": 2})
    assert not condition_holds({"anssi_level": {">=": 3}}, {})
    assert not condition_holds({"anssi_level": {">=": 3}}, {"anssi_level": "4"})
    assert condition_holds(
        {"critical": {"==": 0}, "dmarc_reject": {"==": True}}, {"critical": 0, "dmarc_reject": True}
    )
    assert not condition_holds({"critical": {"==": 0}}, {"critical": False is True})
    assert condition_holds({}, {"anything": 1})


def test_aggregates():
    assert share([1, 0, 1, None]) == {"numerator": 2, "denominator": 3, "share": 0.6667}
    assert distribution([1, 3, 3, None]) == {"counts": {"1": 1, "3": 2}, "unknown": 1}
    grouped = mean_by_category(
        {1: 2.0, 2: 1.0, 3: 3.0, 4: 1.0}, {1: "ch", 2: "ch", 3: "ch", 4: "ehpad"}
    )
    assert grouped["by_category"]["ch"] == {"mean": 2.0, "n": 3}
    assert grouped["by_category"]["ehpad"]["too_few"] is True
    assert grouped["by_category"]["ehpad"]["mean"] is None
