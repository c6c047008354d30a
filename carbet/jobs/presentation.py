"""Turning a job's ``result`` dict into something a director can read.

Job kinds return plain dicts. By convention, counters are top-level numbers (``created``,
``updated``...) and per-row problems of an import are a list under ``errors`` whose items are
dicts such as ``{"row": 12, "column": "finess_et", "value": "...", "message": "..."}`` (or plain
strings). Unknown keys are shown as they are rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

RESULT_LABELS = {
    "total": _("Lignes lues"),
    "rows": _("Lignes lues"),
    "created": _("Créations"),
    "updated": _("Mises à jour"),
    "unchanged": _("Inchangées"),
    "skipped": _("Ignorées"),
    "deleted": _("Suppressions"),
    "failed": _("En erreur"),
    "worker_ok": _("Processus de travail opérationnel"),
    "attempt": _("Essai"),
    "filename": _("Fichier"),
    "summary": _("Bilan"),
    "errors_total": _("Problèmes relevés"),
    "reopened": _("Rouvertes"),
    "closed": _("Fermées"),
    "duplicates_in_batch": _("Lignes en double dans le fichier"),
    "tool": _("Outil"),
    "complete": _("Rapport complet"),
    "ignored_columns": _("Colonnes ignorées"),
    "reminders": _("Rappels envoyés"),
    "reminders_failed": _("Rappels non envoyés"),
    "expired": _("Acceptations arrivées à leur fin"),
    "stale_requests": _("Demandes jamais signées, closes"),
}
ERROR_COLUMN_LABELS = {
    "row": _("Ligne"),
    "line": _("Ligne"),
    "sheet": _("Feuille"),
    "column": _("Colonne"),
    "field": _("Colonne"),
    "value": _("Valeur lue"),
    "message": _("Problème"),
    "error": _("Problème"),
}
# Columns shown first, in this order, when present.
_PREFERRED = ["sheet", "row", "line", "column", "field", "value", "message", "error"]
MAX_ERROR_ROWS = 1000


@dataclass(frozen=True)
class SummaryItem:
    label: str
    value: Any


@dataclass(frozen=True)
class ErrorTable:
    headers: list[str]
    rows: list[list[Any]]
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def _display(value: Any) -> Any:
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    return value


def result_summary(result: Any) -> list[SummaryItem]:
    """The scalar entries of a result (the error list and nested data are shown elsewhere)."""
    if not isinstance(result, dict):
        return []
    items = []
    for key, value in result.items():
        if key == "errors" or isinstance(value, dict | list):
            continue
        items.append(SummaryItem(str(RESULT_LABELS.get(key, key)), _display(value)))
    return items


def error_table(result: Any) -> ErrorTable | None:
    """The per-row error table of an import job, or ``None`` when there is none."""
    if not isinstance(result, dict):
        return None
    errors = result.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    shown = errors[:MAX_ERROR_ROWS]
    keys: list[str] = []
    for item in shown:
        if isinstance(item, dict):
            keys.extend(key for key in item if key not in keys)
    if not keys:
        rows = [[str(item)] for item in shown]
        return ErrorTable([str(_("Problème"))], rows, len(errors))
    first_seen = {key: index for index, key in enumerate(keys)}
    keys.sort(
        key=lambda k: (_PREFERRED.index(k) if k in _PREFERRED else len(_PREFERRED), first_seen[k])
    )
    headers = [str(ERROR_COLUMN_LABELS.get(key, key)) for key in keys]
    text_column = next((keys.index(k) for k in ("message", "error") if k in keys), 0)
    rows = []
    for item in shown:
        if isinstance(item, dict):
            rows.append([_display(item.get(key, "")) for key in keys])
        else:
            row = [""] * len(keys)
            row[text_column] = str(item)
            rows.append(row)
    return ErrorTable(headers, rows, len(errors))
