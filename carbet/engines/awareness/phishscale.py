"""Lure difficulty with the NIST Phish Scale (NIST TN 2276): observable cues × premise alignment.

Cues are the tell-tale signs a recipient can spot (errors, technical indicators, visual
presentation, language and content); few cues make a lure harder. Premise alignment is how well
the lure fits the recipients' work (0–8 for each of four elements, minus up to 8 when the
premise was the subject of recent training or warnings); a strong fit makes it harder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CueCategory(StrEnum):
    ERRORS = "errors"
    TECHNICAL = "technical"
    VISUAL = "visual"
    LANGUAGE = "language"


class Difficulty(StrEnum):
    LEAST = "least"
    MODERATE = "moderate"
    VERY = "very"


# Weight of a result in trends: a click on a very difficult lure says less than one on an easy one.
DIFFICULTY_WEIGHT = {Difficulty.LEAST: 1.0, Difficulty.MODERATE: 2.0, Difficulty.VERY: 3.0}

_MATRIX = {
    ("few", "high"): Difficulty.VERY,
    ("few", "medium"): Difficulty.VERY,
    ("few", "low"): Difficulty.MODERATE,
    ("some", "high"): Difficulty.VERY,
    ("some", "medium"): Difficulty.MODERATE,
    ("some", "low"): Difficulty.LEAST,
    ("many", "high"): Difficulty.MODERATE,
    ("many", "medium"): Difficulty.MODERATE,
    ("many", "low"): Difficulty.LEAST,
}


@dataclass(frozen=True)
class PremiseAlignment:
    workplace_process: int = 0  # mimics a process of the workplace (0-8)
    workplace_relevance: int = 0  # relevant to the recipients' job (0-8)
    current_events: int = 0  # aligns with what is going on (0-8)
    concern: int = 0  # makes people worry about not acting (0-8)
    recent_training: int = 0  # subject of recent training or warnings (0-8, subtracted)

    def score(self) -> int:
        parts = (self.workplace_process, self.workplace_relevance, self.current_events)
        positive = sum(_clamp(p) for p in (*parts, self.concern))
        return positive - _clamp(self.recent_training)


def _clamp(value: int) -> int:
    return max(0, min(8, int(value)))


def cue_band(cues: int) -> str:
    if cues <= 8:
        return "few"
    if cues <= 14:
        return "some"
    return "many"


def premise_band(score: int) -> str:
    if score >= 18:
        return "high"
    if score >= 11:
        return "medium"
    return "low"


def rate(cues: int, premise: PremiseAlignment) -> Difficulty:
    """The lure's difficulty for a recipient (the harder, the less a click says about them)."""
    return _MATRIX[(cue_band(max(0, cues)), premise_band(premise.score()))]
