"""The posture table as CSV or XLSX for centre staff (formula injection neutralised).

Cells go through ``carbet.core.exports``: a structure name starting with ``=`` or ``@`` is
written as text, never as a formula a spreadsheet would run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import exports
from carbet.core.tenancy import Actor, can
from carbet.findings.posture.selectors import PostureRow, posture_rows

FORMATS = ("csv", "xlsx")
POSTURE_COLUMNS = [
    "finess_et",
    "structure",
    "categorie",
    "departement",
    "critiques_ouvertes",
    "elevees_ouvertes",
    "moyennes_ouvertes",
    "faibles_ouvertes",
    "en_retard",
    "corrigees_dans_les_delais_90j",
    "corrigees_en_retard_90j",
    "conformite_delais_pct",
    "score_posture",
    "score_posture_il_y_a_30_jours",
]


def may_export_posture(actor: Actor) -> bool:
    """Centre staff only: the table names every structure of the region."""
    return can(actor, Perm.REGION_VIEW) and can(actor, Perm.EXPORT_RUN)


def _row(row: PostureRow) -> list[Any]:
    c = row.counts
    return [
        row.structure.finess_et,
        row.structure.name,
        row.category_label,
        row.structure.departement,
        c.open_critical,
        c.open_high,
        c.open_medium,
        c.open_low,
        c.overdue,
        c.closed_in_sla,
        c.closed_late,
        c.sla_compliance if c.sla_compliance is not None else "",
        row.score,
        row.score_before if row.score_before is not None else "",
    ]


def export_posture(actor: Actor, fmt: str, *, today: date, ip: str | None = None) -> bytes:
    """The region's posture table as a file; audited ``export.posture``."""
    if not may_export_posture(actor):
        raise PermissionDenied(_("Vous n'avez pas le droit de faire cette action."))
    if fmt not in FORMATS:
        raise ValueError(fmt)
    rows = posture_rows(actor, today=today)
    data = exports.render(fmt, POSTURE_COLUMNS, (_row(r) for r in rows), "posture")
    audit.record(
        actor,
        "export.posture",
        changes={"format": fmt, "count": len(rows), "day": today.isoformat()},
        ip=ip,
    )
    return data
