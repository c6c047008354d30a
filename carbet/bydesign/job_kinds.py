"""Job kinds of the security-by-design service (found by the jobs registry's autodiscovery)."""

from __future__ import annotations

from datetime import date
from typing import Any

from carbet.jobs.registry import Reporter, job_kind


@job_kind("bydesign.nightly")
def nightly_job(job: Any, report: Reporter) -> dict:
    """Params: ``day`` (ISO date, default today); ``reminders`` (bool, default true)."""
    from carbet.bydesign import nightly

    day = job.params.get("day")
    report(5, "Statuts vérifiés, indices cyber, parcours")
    return nightly.run(
        today=date.fromisoformat(day) if day else None,
        reminders=bool(job.params.get("reminders", True)),
    )
