"""Job kinds of the roadmap service (imported by the jobs registry's autodiscovery).

``roadmap.nightly`` runs the night's work in an idempotent order: automatic evidence windows,
evidence reminders (claimed before sending, never twice), the backup register's findings
(complete run: rewrites the same stream) and the indicators (upsert of the day's rows).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from carbet.jobs.registry import Reporter, job_kind


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def run_nightly(day: date | None = None, report: Reporter = None) -> dict:
    from carbet.roadmap import auto_evidence, indicators, services_backups, services_evidence

    def step(progress: int, message: str) -> None:
        if report is not None:
            report(progress, message)

    step(5, "Preuves automatiques")
    refreshed = auto_evidence.refresh_all(day)
    step(25, "Rappels des justificatifs")
    reminders = services_evidence.send_reminders(day)
    step(45, "Registre des sauvegardes")
    backups = services_backups.sweep_all(day)
    step(70, "Indicateurs")
    values = indicators.compute_all(day)
    return {
        "auto_evidence_structures": refreshed,
        "reminders": reminders,
        "backups": backups,
        "indicators": values,
    }


@job_kind("roadmap.nightly")
def nightly_job(job: Any, report: Reporter) -> dict:
    """Params: ``day`` (ISO date, default today)."""
    return run_nightly(_day(job.params.get("day")), report)


@job_kind("roadmap.indicators")
def indicators_job(job: Any, report: Reporter) -> dict:
    """Params: ``day`` (ISO date, default today)."""
    from carbet.roadmap import indicators

    report(10, "Calcul des indicateurs")
    return indicators.compute_all(_day(job.params.get("day")))
