"""Exports of the registry as CSV or XLSX, in the same columns the importer reads.

Every text cell is protected against formula injection: a spreadsheet would run a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (and some read a leading tab or carriage return the same
way), so such a cell is prefixed with a quote and is shown as plain text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import Actor

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

STRUCTURE_COLUMNS = [
    "finess_et",
    "nom",
    "categorie",
    "finess_ej",
    "organisation",
    "statut",
    "ght",
    "departement",
    "lits",
    "places",
    "poids_activite",
    "adresse",
    "code_postal",
    "commune",
]
ASSET_COLUMNS = ["finess_et", "type", "valeur", "libelle", "criticite", "expose_internet", "valide"]

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value: Any) -> Any:
    """The cell as written: numbers stay numbers, risky text gets a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def structure_rows(structures: Iterable[Structure]) -> Iterable[list[Any]]:
    for s in structures:
        organisation = s.organisation
        yield [
            s.finess_et,
            s.name,
            s.category,
            organisation.finess_ej,
            organisation.name,
            organisation.legal_status,
            organisation.ght.code if organisation.ght else "",
            s.departement,
            s.beds,
            s.places,
            float(s.activity_weight),
            s.address,
            s.postal_code,
            s.city,
        ]


def asset_rows(assets: Iterable[Asset]) -> Iterable[list[Any]]:
    for a in assets:
        yield [
            a.structure.finess_et,
            a.kind,
            a.value,
            a.label,
            a.criticality,
            a.internet_exposed,
            a.validated,
        ]


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a BOM and ``;`` separators: what French Excel opens without a wizard."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(columns))
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render(fmt: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(columns, rows, title)
    return to_csv(columns, rows)


def export_structures(actor: Actor, structures: Any, fmt: str, *, ip: str | None = None) -> bytes:
    """The given (already visible, filtered) structures as a file; audited ``export.structures``.

    ``structures`` must come from ``Structure.objects.visible_to(actor, Perm.EXPORT_RUN)``.
    """
    require(actor, Perm.EXPORT_RUN)
    rows = list(structures.select_related("organisation__ght").order_by("name", "pk"))
    data = render(fmt, STRUCTURE_COLUMNS, structure_rows(rows), "structures")
    audit.record(actor, "export.structures", changes={"format": fmt, "count": len(rows)}, ip=ip)
    return data


def export_assets(actor: Actor, structure: Structure, fmt: str, *, ip: str | None = None) -> bytes:
    """One structure's assets as a file; audited ``export.assets``."""
    require(actor, Perm.EXPORT_RUN, structure)
    assets = list(
        Asset.objects.visible_to(actor, Perm.ASSET_VIEW)
        .filter(structure=structure)
        .select_related("structure")
    )
    data = render(fmt, ASSET_COLUMNS, asset_rows(assets), "actifs")
    audit.record(
        actor,
        "export.assets",
        structure,
        structure=structure,
        changes={"format": fmt, "count": len(assets)},
        ip=ip,
    )
    return data
