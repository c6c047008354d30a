"""Background jobs of the registry: ``core.import`` runs an uploaded import file."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from carbet.core import imports
from carbet.core.tenancy import SYSTEM
from carbet.jobs.registry import job_kind


@job_kind("core.import", max_attempts=2)
def run_import(job: Any, report: Any) -> dict:
    """Import the stored file named in ``job.params``; the result carries the row report.

    Idempotent: the writes happen in one transaction, so a run cut short left nothing, and a
    second full run finds the rows already there (counted as unchanged). The stored file is
    deleted once read to the end, whatever the outcome.
    """
    params = job.params
    actor = job.actor or SYSTEM
    path = imports.stored_path(params["file"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        missing = imports.ImportReport(
            kind=params.get("kind", ""), filename=params.get("filename", "")
        )
        missing.errors.append(
            imports.CellError(
                imports.FILE_ROW,
                "",
                _("Le fichier déposé n'est plus disponible : déposez-le à nouveau."),
            )
        )
        return missing.as_result()
    try:
        outcome = imports.run_import(
            actor,
            params["kind"],
            data,
            filename=params.get("filename", ""),
            dry_run=bool(params.get("dry_run")),
            ip=params.get("ip"),
            progress=report,
        )
    finally:
        path.unlink(missing_ok=True)
    return outcome.as_result()
