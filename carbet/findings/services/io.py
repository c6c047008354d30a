"""Importing findings from a file, and exporting a list of findings as CSV, JSON or XLSX.

Imports are all or nothing: the file is parsed (``io_format``), each row's asset is looked up
in the structure, and only a file without a single problem is written — through the ingest
service, so deduplication, reopening and SLA apply as for any scan. The stream is the
structure's ``import`` stream for the tool the file names (or ``generic``); a file declared as a
*complete report* closes the findings of that stream it no longer contains.

Exports write the same columns the importer reads (plus status and dates, which it ignores),
with every text cell protected against formula injection (``carbet.core.exports.safe_cell``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import uploads
from carbet.core.access import require
from carbet.core.exports import safe_cell, to_xlsx
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import Actor
from carbet.engines.tabular import FILE_ROW, CellError, normalize_header
from carbet.findings.choices import Severity, Source
from carbet.findings.ingest import IngestError, ingest
from carbet.findings.models import Finding
from carbet.findings.services.io_format import ParsedFile, parse_findings_file

MAX_ROWS = 100_000
GENERIC_SCOPE = "generic"
Progress = Callable[[int, str], None]


def max_bytes() -> int:
    return int(getattr(settings, "CARBET_MAX_UPLOAD_BYTES", 20 * 2**20))


def scope_for(tool: str) -> str:
    """The import stream's scope: the tool's name, normalised, or ``generic``."""
    name = normalize_header(tool)[:100]
    return name or GENERIC_SCOPE


@dataclass
class ImportOutcome:
    """What an import did, or why it did nothing (``errors``)."""

    filename: str = ""
    tool: str = ""
    scope: str = ""
    complete: bool = False
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self) -> str:
        if not self.ok:
            return _(
                "Rien n'a été importé : %(n)s problème(s) à corriger dans le fichier, puis "
                "déposez-le à nouveau."
            ) % {"n": self.error_count}
        return _(
            "%(rows)s vulnérabilité(s) lue(s) : %(created)s nouvelle(s), %(updated)s mise(s) à "
            "jour, %(unchanged)s inchangée(s), %(reopened)s réapparue(s), %(closed)s fermée(s)."
        ) % {"rows": self.rows, **{k: self.counts.get(k, 0) for k in _COUNTERS}}

    def as_result(self) -> dict[str, Any]:
        """The job's result: counters, then the per-row errors the jobs pages render."""
        result: dict[str, Any] = {
            "filename": self.filename,
            "tool": self.tool or GENERIC_SCOPE,
            "complete": self.complete,
            "rows": self.rows,
        }
        result.update({k: self.counts.get(k, 0) for k in _COUNTERS})
        if self.ignored_columns:
            result["ignored_columns"] = ", ".join(self.ignored_columns[:20])
        result["summary"] = self.summary()
        result["errors"] = [error.as_dict() for error in self.errors]
        result["errors_total"] = self.error_count
        return result


_COUNTERS = ("created", "updated", "unchanged", "reopened", "closed", "duplicates_in_batch")


def _resolve_assets(structure: Structure, parsed: ParsedFile, outcome: ImportOutcome) -> None:
    """Replace each row's asset value by the structure's asset id (an unknown one is an error)."""
    wanted = {row.asset_value for row in parsed.rows if row.asset_value}
    if not wanted:
        return
    assets: dict[str, int] = {}
    for pk, value in Asset.objects.filter(structure=structure).values_list("id", "value"):
        assets.setdefault(value, pk)
        assets.setdefault(value.lower(), pk)
    for row in parsed.rows:
        if not row.asset_value:
            continue
        found = assets.get(row.asset_value) or assets.get(row.asset_value.lower().rstrip("."))
        if found is None:
            outcome.error_count += 1
            outcome.errors.append(
                CellError(
                    row.row,
                    "asset",
                    _(
                        "Actif « %(v)s » inconnu dans cette structure : déclarez-le d'abord "
                        "dans la fiche de la structure, ou laissez la cellule vide."
                    )
                    % {"v": row.asset_value[:100]},
                )
            )
        else:
            row.item.asset_id = found


def import_findings(
    actor: Actor,
    structure: Structure,
    data: bytes,
    *,
    filename: str = "",
    complete: bool = False,
    ip: str | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportOutcome:
    """Check ``data`` then, if the whole file is valid, ingest it into ``structure``."""
    require(actor, Perm.FINDINGS_WRITE, structure)
    progress = progress or (lambda percent, message="": None)
    progress(5, _("Lecture du fichier"))
    parsed = parse_findings_file(data, filename, max_rows=MAX_ROWS, max_bytes=max_bytes())
    outcome = ImportOutcome(
        filename=filename,
        tool=parsed.tool,
        scope=scope_for(parsed.tool),
        complete=complete,
        rows=len(parsed.rows),
        errors=list(parsed.errors),
        error_count=parsed.error_count,
        ignored_columns=parsed.ignored_columns,
    )
    if outcome.ok:
        progress(30, _("Vérification des actifs"))
        _resolve_assets(structure, parsed, outcome)
    if outcome.ok:
        progress(50, _("Enregistrement"))
        try:
            report = ingest(
                structure,
                Source.IMPORT,
                [row.item for row in parsed.rows],
                complete=complete,
                scope=outcome.scope,
                label=filename[:200] or _("Import"),
                actor=actor,
                now=now,
            )
        except IngestError as exc:
            for index, message in exc.errors:
                row = parsed.rows[index].row if 0 <= index < len(parsed.rows) else FILE_ROW
                outcome.errors.append(CellError(row, "", message))
                outcome.error_count += 1
        else:
            outcome.counts = {k: getattr(report, k) for k in _COUNTERS}
    outcome.errors.sort(key=lambda e: (e.row, e.column))
    audit.record(
        actor,
        "findings.import",
        structure,
        structure=structure,
        label=filename[:255],
        changes={
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else "",
            "tool": outcome.scope,
            "complete": complete,
            "rows": outcome.rows,
            "errors": outcome.error_count,
            **outcome.counts,
        },
        ip=ip,
    )
    progress(100, outcome.summary())
    return outcome


# --- Uploads handed to the background job ----------------------------------------------------


def store_upload(upload: Any) -> uploads.Stored:
    """Keep an uploaded findings file (CSV, JSON or XLSX, read by the job) under a random name;
    a file that is no table at all is refused at once (``ValidationError`` on ``file``)."""
    return uploads.store(
        upload, {uploads.Kind.TABLE}, area="imports", field="file", max_bytes=max_bytes()
    )


def submit_import(
    actor: Actor,
    structure: Structure,
    upload: Any,
    *,
    complete: bool = False,
    ip: str | None = None,
) -> Any:
    """Store the file and submit a ``findings.import`` job for ``structure``; returns the Job."""
    from carbet.jobs import services as jobs

    require(actor, Perm.FINDINGS_WRITE, structure)
    stored = store_upload(upload)
    filename = stored.original_name[-200:]
    return jobs.submit(
        "findings.import",
        actor=actor,
        structure=structure,
        params={
            "structure": structure.pk,
            "file": stored.name,
            "filename": filename,
            "complete": bool(complete),
            "ip": ip,
        },
        title=_("Import de vulnérabilités (%(name)s)") % {"name": filename[-80:]},
    )


# --- Exports -------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "id",
    "finess_et",
    "structure",
    "fingerprint",
    "title",
    "severity",
    "status",
    "status_reason",
    "source",
    "description",
    "remediation",
    "asset",
    "cvss",
    "epss",
    "kev",
    "cve",
    "references",
    "rule",
    "tool_id",
    "product",
    "evidence",
    "first_seen",
    "last_seen",
    "sla_due",
]
FORMATS = ("csv", "json", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat()


def export_record(finding: Finding) -> dict[str, Any]:
    """One finding as the export (and the importer) names its fields."""
    return {
        "id": finding.pk,
        "finess_et": finding.structure.finess_et,
        "structure": finding.structure.name,
        "fingerprint": finding.fingerprint,
        "title": finding.title,
        "severity": str(Severity(finding.severity).label).lower(),
        "status": finding.status,
        "status_reason": finding.status_reason,
        "source": finding.source,
        "description": finding.description,
        "remediation": finding.remediation,
        "asset": finding.asset.value if finding.asset_id else "",
        "cvss": None if finding.cvss is None else float(finding.cvss),
        "epss": finding.epss,
        "kev": finding.kev,
        "cve": finding.cve,
        "references": [str(r) for r in (finding.references or [])],
        "rule": finding.rule,
        "tool_id": finding.tool_id,
        "product": finding.product,
        "evidence": finding.evidence or {},
        "first_seen": _when(finding.first_seen),
        "last_seen": _when(finding.last_seen),
        "sla_due": _when(finding.sla_due),
    }


def _flat(record: dict[str, Any]) -> list[Any]:
    """A record as spreadsheet cells: lists joined by « ; », objects as compact JSON."""
    cells = []
    for name in EXPORT_COLUMNS:
        value = record[name]
        if name == "references":
            value = "; ".join(value)
        elif name == "evidence":
            value = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
        elif value is None:
            value = ""
        cells.append(value)
    return cells


def _records(findings: QuerySet) -> Iterator[dict[str, Any]]:
    rows = findings.select_related("structure", "asset").order_by("structure_id", "-severity", "id")
    for finding in rows.iterator(chunk_size=2000):
        yield export_record(finding)


def _csv_stream(findings: QuerySet) -> Iterator[bytes]:
    """UTF-8 with a BOM and « ; » separators (what French Excel opens), sent in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def flush() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff".encode() + flush()
    for count, record in enumerate(_records(findings), start=1):
        writer.writerow([safe_cell(v) for v in _flat(record)])
        if count % 500 == 0:
            yield flush()
    yield flush()


def _json_stream(findings: QuerySet, tool: str) -> Iterator[bytes]:
    head = {"tool": tool, "exported_at": timezone.now().isoformat(timespec="seconds")}
    yield json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "findings": ['
    for index, record in enumerate(_records(findings)):
        prefix = b"\n" if index == 0 else b",\n"
        yield prefix + json.dumps(record, ensure_ascii=False, default=str).encode()
    yield b"\n]}\n"


def export_findings(
    actor: Actor,
    findings: QuerySet,
    fmt: str,
    *,
    filters: dict[str, Any] | None = None,
    ip: str | None = None,
) -> Iterator[bytes] | bytes:
    """Export the findings of ``findings`` that ``actor`` may export, audited.

    ``findings`` is the list the actor is looking at (already scoped to what they may see);
    it is narrowed again to the structures where they hold ``EXPORT_RUN``. Returns bytes for
    XLSX and an iterator of bytes (to stream) for CSV and JSON.
    """
    require(actor, Perm.EXPORT_RUN)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    allowed = findings & Finding.objects.visible_to(actor, Perm.EXPORT_RUN)
    count = allowed.count()
    audit.record(
        actor,
        "findings.export",
        changes={"format": fmt, "count": count, "filters": filters or {}},
        ip=ip,
        label=_("%(n)s vulnérabilité(s)") % {"n": count},
    )
    if fmt == "csv":
        return _csv_stream(allowed)
    if fmt == "json":
        return _json_stream(allowed, "carbet")
    return to_xlsx(EXPORT_COLUMNS, (_flat(r) for r in _records(allowed)), str(_("vulnérabilités")))
