"""The regulatory clock: what a structure must declare, by when, and when to remind it.

Facts (REFERENCE "Crisis support"):

- **ARS / CERT Santé**: décret 2022-715 (art. L1111-8-2 CSP) — significant or serious incidents
  of health and medico-social structures are declared *sans délai* on the national portal of
  adverse health events, analysed by CERT Santé. "Sans délai" has no number: Carbet makes the
  declaration due as soon as the case is qualified (or, before that, from awareness) and
  reminds at once, then again after ``ARS_LATE``.
- **CNIL**: a personal-data breach is notified within 72 hours after becoming aware of it
  (GDPR art. 33); only when personal data are involved.
- **Police complaint**: art. L12-10-1 of the code des assurances (loi 2023-22) makes an
  insurer's cover of a cyber-attack's losses conditional on a complaint filed within 72 hours
  of becoming aware of it: Carbet uses that as the complaint's due time.
- **Insurer**: the delay of the structure's contract (hours), when recorded; otherwise the
  obligation is listed without a due time, and the page asks for the contract's delay.

Reminders come in stages (``soon``, ``due``, ``late``): each stage is sent once; when the job
was not running and several stages passed, only the latest one is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

ARS = "ars"
CNIL = "cnil"
POLICE = "police"
INSURER = "insurer"
KINDS: tuple[str, ...] = (ARS, CNIL, POLICE, INSURER)

CNIL_DELAY = dt.timedelta(hours=72)
POLICE_DELAY = dt.timedelta(hours=72)
ARS_LATE = dt.timedelta(hours=24)
SOON = dt.timedelta(hours=24)  # the "soon" reminder comes this long before a dated due time
LATE = dt.timedelta(hours=24)  # the "late" reminder comes this long after it

STAGES: tuple[str, ...] = ("soon", "due", "late")

BASIS = {
    ARS: "Décret 2022-715 (art. L1111-8-2 du code de la santé publique) : déclaration sans "
    "délai sur le portail de signalement des événements sanitaires indésirables, analysée "
    "par le CERT Santé",
    CNIL: "RGPD, article 33 : notification à la CNIL dans les 72 heures après en avoir pris "
    "connaissance",
    POLICE: "Code des assurances, art. L12-10-1 : plainte dans les 72 heures après la "
    "connaissance de l'attaque pour être indemnisé par l'assureur",
    INSURER: "Contrat d'assurance de la structure : délai de déclaration du sinistre",
}


@dataclass(frozen=True)
class Facts:
    """What the clock needs to know about a case."""

    aware_at: dt.datetime
    qualified_at: dt.datetime | None
    personal_data: bool
    insurer_delay_hours: int | None = None


@dataclass(frozen=True)
class Due:
    kind: str
    applicable: bool
    due_at: dt.datetime | None
    basis: str


def obligations(facts: Facts) -> list[Due]:
    """The four obligations of a case, with their due times (``None``: not dated)."""
    ars_due = facts.qualified_at or facts.aware_at
    insurer_due = (
        facts.aware_at + dt.timedelta(hours=facts.insurer_delay_hours)
        if facts.insurer_delay_hours is not None
        else None
    )
    return [
        Due(ARS, True, ars_due, BASIS[ARS]),
        Due(
            CNIL,
            facts.personal_data,
            facts.aware_at + CNIL_DELAY if facts.personal_data else None,
            BASIS[CNIL],
        ),
        Due(POLICE, True, facts.aware_at + POLICE_DELAY, BASIS[POLICE]),
        Due(INSURER, True, insurer_due, BASIS[INSURER]),
    ]


def stage_times(kind: str, due_at: dt.datetime) -> dict[str, dt.datetime]:
    """When each reminder stage is reached. The ARS declaration is due at once: no "soon"."""
    if kind == ARS:
        return {"due": due_at, "late": due_at + ARS_LATE}
    return {"soon": due_at - SOON, "due": due_at, "late": due_at + LATE}


def reminder_stage(
    kind: str,
    due_at: dt.datetime | None,
    *,
    applicable: bool,
    sent: bool,
    already: Collection[str],
    now: dt.datetime,
) -> str | None:
    """The stage to remind now, or ``None``. Only the latest reached stage, and only once."""
    if not applicable or sent or due_at is None:
        return None
    reached = [stage for stage, at in stage_times(kind, due_at).items() if now >= at]
    if not reached:
        return None
    latest = reached[-1]
    if latest in already or any(STAGES.index(s) > STAGES.index(latest) for s in already):
        return None
    return latest


def status(due_at: dt.datetime | None, *, applicable: bool, sent: bool, now: dt.datetime) -> str:
    """``not_applicable``, ``sent``, ``undated``, ``overdue``, ``due_soon`` or ``pending``."""
    if not applicable:
        return "not_applicable"
    if sent:
        return "sent"
    if due_at is None:
        return "undated"
    if now >= due_at:
        return "overdue"
    if now >= due_at - SOON:
        return "due_soon"
    return "pending"
