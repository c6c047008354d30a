"""Targets: the staff of a structure who may receive simulations, imported from a CSV file.

Each row is checked on its own (a bad row never stops the good ones) and the report lists every
problem with its row number, in French. Everyone gets a pseudonym at import: results shown to
management use it, never the name.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.awareness.models import Target, TargetGroup
from carbet.core import uploads
from carbet.core.models import Structure
from carbet.core.tenancy import Actor
from carbet.engines.tabular import CellError, Column, Schema, read_table

TARGET_SCHEMA = Schema(
    (
        Column("name", ("nom", "nom complet", "nom prénom", "full name"), required=True),
        Column("email", ("e-mail", "mail", "courriel", "adresse"), required=True),
        Column("service", ("unité", "pôle", "department")),
        Column("role", ("fonction", "métier", "poste")),
        Column("groups", ("groupe", "groupes", "group")),
    )
)
MAX_ROWS = 20_000
MAX_BYTES = 5 * 1024 * 1024
PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_pseudonym() -> str:
    return "P-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(8))


@dataclass
class TargetImportReport:
    created: int = 0
    updated: int = 0
    errors: list[CellError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "errors": [e.as_dict() for e in self.errors],
        }


def load_upload(upload: Any) -> uploads.Loaded:
    """Read an uploaded staff list (CSV or XLSX) within ``MAX_BYTES``; what is no table at all
    is refused here (``ValidationError`` on ``file``), the rest is explained row by row."""
    return uploads.load(
        upload,
        {uploads.Kind.TABLE},
        field="file",
        max_bytes=MAX_BYTES,
        size_message=_("Le fichier est trop gros (5 Mo au plus)."),
    )


def import_targets(
    actor: Actor, structure: Structure, data: bytes, *, ip: str | None = None
) -> TargetImportReport:
    """Create or update the targets of ``structure`` from a CSV/XLSX file."""
    table = read_table(data, TARGET_SCHEMA, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    report = TargetImportReport(errors=list(table.errors))
    seen: set[str] = set()
    existing = {t.email.lower(): t for t in Target.objects.filter(structure=structure)}
    groups = {g.name: g for g in TargetGroup.objects.filter(structure=structure)}
    with transaction.atomic():
        for row_number, row in table.rows:
            name = row.get("name", "").strip()
            email = row.get("email", "").strip().lower()
            if not name:
                report.errors.append(CellError(row_number, "name", "Le nom est vide."))
                continue
            try:
                validate_email(email)
            except ValidationError:
                report.errors.append(
                    CellError(
                        row_number, "email", f"« {email[:80]} » n'est pas une adresse valide."
                    )
                )
                continue
            if email in seen:
                report.errors.append(
                    CellError(row_number, "email", "Cette adresse figure déjà plus haut.")
                )
                continue
            seen.add(email)
            values = {
                "full_name": name[:200],
                "service": row.get("service", "").strip()[:100],
                "role": row.get("role", "").strip()[:100],
            }
            target = existing.get(email)
            if target is None:
                target = Target.objects.create(
                    structure=structure, email=email, pseudonym=new_pseudonym(), **values
                )
                report.created += 1
            else:
                for key, value in values.items():
                    setattr(target, key, value)
                target.save(update_fields=list(values))
                report.updated += 1
            for group_name in filter(
                None, (g.strip()[:100] for g in row.get("groups", "").split(","))
            ):
                group = groups.get(group_name)
                if group is None:
                    group = groups[group_name] = TargetGroup.objects.create(
                        structure=structure, name=group_name
                    )
                target.groups.add(group)
        audit.record(
            actor,
            "awareness.targets.import",
            structure,
            structure=structure,
            changes={
                "created": report.created,
                "updated": report.updated,
                "errors": len(report.errors),
            },
            ip=ip,
        )
    return report
