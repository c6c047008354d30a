"""Diagnostic scoring, the activity-coverage rule and automatic-evidence conditions.

The diagnostic works like ANSSI's MonAideCyber: each question is answered on a 0–3 scale, "ne
sais pas" and "non applicable" are not scored, a theme's score is the average of its scored
answers, and the six lowest-scored measures (ties broken by priority, then by the order of the
questionnaire) are the structure's priorities.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

PRIORITY_COUNT = 6
MAX_SCORE = 3


@dataclass(frozen=True)
class Question:
    code: str
    theme: str
    priority: int = 2
    order: int = 0
    scored: bool = True


@dataclass(frozen=True)
class DiagnosticResult:
    theme_scores: dict[str, float | None]
    overall: float | None
    answered: int
    scored: int
    total: int
    priorities: list[str] = field(default_factory=list)

    @property
    def overall_percent(self) -> int | None:
        return None if self.overall is None else round(self.overall / MAX_SCORE * 100)


def score_diagnostic(
    questions: Iterable[Question], answers: Mapping[str, int | None], count: int = PRIORITY_COUNT
) -> DiagnosticResult:
    """Theme averages, the overall average (over every scored answer) and the priorities.

    ``answers`` maps a question code to 0–3, or ``None`` for "ne sais pas"/"non applicable";
    a question without any answer is simply not answered. A measure already at 3 is never a
    priority.
    """
    by_theme: dict[str, list[int]] = {}
    themes: list[str] = []
    candidates: list[tuple[int, int, int, str]] = []
    all_scores: list[int] = []
    total = answered = 0
    for question in questions:
        if question.theme not in by_theme:
            by_theme[question.theme] = []
            themes.append(question.theme)
        if not question.scored:
            continue
        total += 1
        if question.code not in answers:
            continue
        answered += 1
        value = answers[question.code]
        if value is None:
            continue
        if isinstance(value, bool) or not 0 <= int(value) <= MAX_SCORE:
            raise ValueError(f"{question.code}: score {value!r} hors de 0–3")
        value = int(value)
        by_theme[question.theme].append(value)
        all_scores.append(value)
        if value < MAX_SCORE:
            candidates.append((value, question.priority, question.order, question.code))
    theme_scores = {
        theme: (sum(values) / len(values) if values else None)
        for theme, values in ((t, by_theme[t]) for t in themes)
    }
    candidates.sort()
    return DiagnosticResult(
        theme_scores=theme_scores,
        overall=sum(all_scores) / len(all_scores) if all_scores else None,
        answered=answered,
        scored=len(all_scores),
        total=total,
        priorities=[code for *_rest, code in candidates[:count]],
    )


# --- The ≥ 66 % activity rule (CaRE D2, objective d2.o1.d) ---------------------------------


@dataclass(frozen=True)
class Coverage:
    share: float
    threshold: float
    covered_weight: Decimal
    total_weight: Decimal

    @property
    def met(self) -> bool:
        # Compared in hundredths so 66 % meets a 0.66 threshold despite float rounding.
        return round(self.share * 100, 6) >= round(self.threshold * 100, 6)


def activity_coverage(
    weights: Mapping[Any, Decimal | float | int], covered: Iterable[Any], threshold: float = 0.66
) -> Coverage:
    """The share of combined activity carried by the ``covered`` entities.

    ``weights`` maps every entity of the applicant to its activity weight. When every weight is
    zero (not filled in) the entities count equally, so the rule still means something.
    """
    covered_set = set(covered) & set(weights)
    values = {key: Decimal(str(value)) for key, value in weights.items()}
    if any(v < 0 for v in values.values()):
        raise ValueError("activity weights cannot be negative")
    total = sum(values.values(), Decimal(0))
    if total == 0:
        values = dict.fromkeys(values, Decimal(1))
        total = Decimal(len(values))
    covered_weight = sum((values[k] for k in covered_set), Decimal(0))
    share = float(covered_weight / total) if total else 0.0
    return Coverage(share, threshold, covered_weight, total)


# --- Automatic evidence -------------------------------------------------------------------


def _same(actual: Any, expected: Any) -> bool:
    # JSON's true is not 1: a boolean only equals a boolean.
    if isinstance(actual, bool) != isinstance(expected, bool):
        return False
    return bool(actual == expected)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "==":
        return _same(actual, expected)
    if op == "!=":
        return not _same(actual, expected)
    numeric = (int, float)
    if (
        isinstance(actual, bool)
        or isinstance(expected, bool)
        or not isinstance(actual, numeric)
        or not isinstance(expected, numeric)
    ):
        return False  # an order needs two numbers; a missing or odd value never satisfies it
    if op == ">=":
        return actual >= expected
    if op == ">":
        return actual > expected
    if op == "<=":
        return actual <= expected
    if op == "<":
        return actual < expected
    raise ValueError(f"unknown operator {op!r}")


def condition_holds(when: Mapping[str, Mapping[str, Any]], value: Mapping[str, Any]) -> bool:
    """Whether every ``{field: {op: expected}}`` test holds on the fact's ``value``."""
    for name, tests in when.items():
        actual = value.get(name)
        for op, expected in tests.items():
            if not _compare(actual, op, expected):
                return False
    return True
