"""Background jobs of the findings store: file imports and the daily acceptance sweep."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from carbet.core import uploads
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.engines.tabular import FILE_ROW, CellError
from carbet.findings.services import acceptance, io
from carbet.jobs.registry import Reporter, job_kind


@job_kind("findings.import", max_attempts=2)
def run_import(job: Any, report: Reporter) -> dict:
    """Import the stored file named in ``job.params`` into the job's structure.

    Idempotent: ingest writes in one transaction, and a second full run finds the same
    fingerprints (counted as unchanged). The stored file is deleted once read, whatever happens.
    """
    params = job.params
    actor = job.actor or SYSTEM
    structure = Structure.objects.select_related("organisation").get(pk=params["structure"])
    path = uploads.upload_path(params["file"], strict=True)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        missing = io.ImportOutcome(filename=params.get("filename", ""))
        missing.errors.append(
            CellError(
                FILE_ROW, "", _("Le fichier déposé n'est plus disponible : déposez-le à nouveau.")
            )
        )
        missing.error_count = 1
        return missing.as_result()
    try:
        outcome = io.import_findings(
            actor,
            structure,
            data,
            filename=params.get("filename", ""),
            complete=bool(params.get("complete")),
            ip=params.get("ip"),
            progress=report,
        )
    finally:
        path.unlink(missing_ok=True)
    return outcome.as_result()


@job_kind("findings.acceptance_sweep")
def run_acceptance_sweep(job: Any, report: Reporter) -> dict:
    """Reminders 30 days before the end of risk acceptances, and their expiry (idempotent).

    ``params["today"]`` (ISO date) runs the sweep as of another day.
    """
    today = job.params.get("today")
    report(10, _("Rappels et fins d'acceptation"))
    return acceptance.sweep(today=dt.date.fromisoformat(today) if today else None)
