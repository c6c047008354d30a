"""The medico-social track: diagnostic → ten essentials → roadmap, one step at a time.

The ten essentials are the smallest set that takes an EHPAD without IT staff out of the most
common attacks' reach (passwords, backups, updates, the IT provider's contract, mail, staff,
an exercise, the incident reflex, the care record's security decision, crisis contacts). Pure
logic: the app says which are done (measured by Carbet or declared), this says where the
structure stands and what comes next.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from carbet.engines.bydesign.auto import DONE, IN_PROGRESS

STEPS = ("diagnostic", "essentials", "roadmap", "done")
ESSENTIALS = (
    "passwords_mfa",
    "backups_tested",
    "updates",
    "provider_contract",
    "mail_protection",
    "staff_awareness",
    "exercise",
    "incident_reflex",
    "care_record_decision",
    "crisis_contacts",
)
# Units of progress: the diagnostic, each essential, the roadmap.
TOTAL_UNITS = 1 + len(ESSENTIALS) + 1


@dataclass(frozen=True)
class TrackInput:
    diagnostic_done: bool
    essentials: Mapping[str, str]  # code → done / in_progress / not_done (missing: not done)
    roadmap_done: bool
    pushed: Sequence[str] = ()  # steps the centre pushed to this structure, newest first


@dataclass(frozen=True)
class TrackState:
    step: str
    essentials_done: int
    progress: int  # percent, 0–100
    next_step: str  # "diagnostic", an essential's code, "roadmap" or "" when all is done


def _next_essential(essentials: Mapping[str, str], pushed: Sequence[str]) -> str:
    for code in pushed:  # what the centre asked for first, if not yet done
        if code in ESSENTIALS and essentials.get(code) != DONE:
            return code
    for code in ESSENTIALS:  # then what is already started, then the track's order
        if essentials.get(code) == IN_PROGRESS:
            return code
    for code in ESSENTIALS:
        if essentials.get(code) != DONE:
            return code
    return ""


def state(data: TrackInput) -> TrackState:
    done = sum(1 for code in ESSENTIALS if data.essentials.get(code) == DONE)
    units = int(data.diagnostic_done) + done + int(data.roadmap_done)
    progress = round(100 * units / TOTAL_UNITS)
    if not data.diagnostic_done:
        step, following = "diagnostic", "diagnostic"
    elif done < len(ESSENTIALS):
        step, following = "essentials", _next_essential(data.essentials, data.pushed)
    elif not data.roadmap_done:
        step, following = "roadmap", "roadmap"
    else:
        step, following = "done", ""
    return TrackState(step=step, essentials_done=done, progress=progress, next_step=following)


@dataclass(frozen=True)
class RegionalProgress:
    structures: int
    by_step: dict[str, int]
    by_essential: dict[str, int]  # structures having done each essential


def regional(
    states: Sequence[TrackState], essentials: Sequence[Mapping[str, str]]
) -> RegionalProgress:
    """Counts over the region (the app publishes them through the disclosure rules)."""
    by_step = {step: 0 for step in STEPS}
    for item in states:
        by_step[item.step] += 1
    by_essential = {code: 0 for code in ESSENTIALS}
    for marks in essentials:
        for code in ESSENTIALS:
            by_essential[code] += marks.get(code) == DONE
    return RegionalProgress(len(states), by_step, by_essential)
