"""Automatic statuses: what Carbet itself has measured about a structure, turned into the
status of the measures it can verify. A rule without a recent fact says nothing (``None``):
the structure's own answer then stands.

Facts are the latest of each kind (an older, better result never stands in for a newer one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

DONE, IN_PROGRESS, NOT_DONE, NOT_APPLICABLE = "done", "in_progress", "not_done", "na"
STATUSES = (DONE, IN_PROGRESS, NOT_DONE, NOT_APPLICABLE)

# How long a fact stays a proof (days): a scan ages fast, an audit or a campaign a year.
# An exercise counts for a year: the national instruction asks for one every year.
FRESH_DAYS = {
    "directory": 365, "exposure": 90, "phishing": 365, "backups": 365, "exercise": 365,
}  # fmt: skip
WEAK_PASSWORD_RULES = frozenset({"weak_password_policy", "no_lockout"})
SHORT_PASSWORD_RULES = frozenset({"password_length_below_12"})
GOOD_REPORTING_RATE = 0.3


@dataclass(frozen=True)
class Facts:
    """The latest facts about one structure (any may be missing)."""

    directory_on: date | None = None
    directory_rules: frozenset[str] = field(default_factory=frozenset)  # rules it triggered
    admin_mfa: bool | None = None  # every everyday administrator needs a smart card / key
    exposure_on: date | None = None
    exposure_critical: int = 0
    exposure_high: int = 0
    dmarc_reject: bool | None = None
    mfa_remote_access: bool | None = None
    phishing_on: date | None = None
    reporting_rate: float | None = None
    restore_on: date | None = None
    restore_result: str = ""
    exercise_on: date | None = None  # the latest crisis exercise held (exercises service)


@dataclass(frozen=True)
class AutoStatus:
    status: str
    source: str  # "directory", "exposure", "phishing", "backups", "exercise"
    reason: str  # a stable code the app turns into a sentence
    on: date


def _fresh(day: date | None, kind: str, today: date) -> bool:
    return day is not None and day >= today - timedelta(days=FRESH_DAYS[kind])


def _password(facts: Facts, today: date) -> AutoStatus | None:
    if not _fresh(facts.directory_on, "directory", today) or facts.directory_on is None:
        return None
    if facts.directory_rules & WEAK_PASSWORD_RULES:
        return AutoStatus(NOT_DONE, "directory", "password_weak", facts.directory_on)
    if facts.directory_rules & SHORT_PASSWORD_RULES:
        return AutoStatus(IN_PROGRESS, "directory", "password_short", facts.directory_on)
    return AutoStatus(DONE, "directory", "password_ok", facts.directory_on)


def _exposure(facts: Facts, today: date) -> AutoStatus | None:
    if not _fresh(facts.exposure_on, "exposure", today) or facts.exposure_on is None:
        return None
    if facts.exposure_critical:
        return AutoStatus(NOT_DONE, "exposure", "exposure_critical", facts.exposure_on)
    if facts.exposure_high:
        return AutoStatus(IN_PROGRESS, "exposure", "exposure_high", facts.exposure_on)
    return AutoStatus(DONE, "exposure", "exposure_ok", facts.exposure_on)


def _mail(facts: Facts, today: date) -> AutoStatus | None:
    on = facts.exposure_on
    if on is None or not _fresh(on, "exposure", today) or facts.dmarc_reject is None:
        return None
    if facts.dmarc_reject:
        return AutoStatus(DONE, "exposure", "dmarc_reject", on)
    return AutoStatus(NOT_DONE, "exposure", "dmarc_weak", on)


def _mfa(facts: Facts, today: date) -> AutoStatus | None:
    on = facts.exposure_on
    if on is None or not _fresh(on, "exposure", today) or facts.mfa_remote_access is None:
        return None
    if facts.mfa_remote_access:
        return AutoStatus(DONE, "exposure", "mfa_ok", on)
    return AutoStatus(NOT_DONE, "exposure", "mfa_missing", on)


def _mfa_admins(facts: Facts, today: date) -> AutoStatus | None:
    """The directory audit: administrators who can sign in with a password alone."""
    on = facts.directory_on
    if on is None or not _fresh(on, "directory", today) or facts.admin_mfa is None:
        return None
    if facts.admin_mfa:
        return AutoStatus(DONE, "directory", "mfa_admins_ok", on)
    return AutoStatus(NOT_DONE, "directory", "mfa_admins_missing", on)


def _phishing(facts: Facts, today: date) -> AutoStatus | None:
    on = facts.phishing_on
    if on is None or not _fresh(on, "phishing", today):
        return None
    if facts.reporting_rate is not None and facts.reporting_rate >= GOOD_REPORTING_RATE:
        return AutoStatus(DONE, "phishing", "reporting_good", on)
    return AutoStatus(IN_PROGRESS, "phishing", "reporting_low", on)


def _backups(facts: Facts, today: date) -> AutoStatus | None:
    on = facts.restore_on
    if on is None or not _fresh(on, "backups", today):
        return None
    if facts.restore_result == "success":
        return AutoStatus(DONE, "backups", "restore_ok", on)
    return AutoStatus(IN_PROGRESS, "backups", "restore_failed", on)


def _exercise(facts: Facts, today: date) -> AutoStatus | None:
    """A crisis exercise held within a year is the essential done; an older one, or none,
    says nothing (the structure's own answer stands: it may have exercised elsewhere)."""
    on = facts.exercise_on
    if on is None or not _fresh(on, "exercise", today):
        return None
    return AutoStatus(DONE, "exercise", "exercise_held", on)


RULES = {
    "password_policy": _password,
    "exposure": _exposure,
    "mail_dmarc": _mail,
    "mfa_remote": _mfa,
    "mfa_admins": _mfa_admins,
    "phishing": _phishing,
    "backups": _backups,
    "exercise": _exercise,
}


ORDER = {NOT_DONE: 0, IN_PROGRESS: 1, DONE: 2, NOT_APPLICABLE: 3}


def worst_status(rules: tuple[str, ...], facts: Facts, today: date) -> AutoStatus | None:
    """The least advanced of what ``rules`` measured (None: none of them measured anything):
    an essential made of several measures is only as done as its weakest part."""
    measured = [s for rule in rules if (s := auto_status(rule, facts, today)) is not None]
    return min(measured, key=lambda s: ORDER[s.status], default=None)


def auto_status(rule: str, facts: Facts, today: date) -> AutoStatus | None:
    """The status Carbet measured for a measure with ``auto`` = ``rule`` (None: no evidence)."""
    evaluate = RULES.get(rule)
    return evaluate(facts, today) if evaluate else None
