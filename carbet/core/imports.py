"""Importing structures and assets from CSV or XLSX files.

All or nothing: every row is checked first and any problem is reported with its row number and
column; only a file without a single problem is written, in one transaction, through the
registry services (so each change is validated and audited like one made in a page). A dry run
goes as far as writing and then rolls back, so it reports exactly what a real run would do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.core import services, uploads
from carbet.core.access import require
from carbet.core.choices import AssetKind
from carbet.core.import_columns import (
    ASSET_SCHEMA,
    AUTO_IP,
    CATEGORY_NAMES,
    CRITICALITY_NAMES,
    FALSE_WORDS,
    KIND_NAMES,
    STATUS_NAMES,
    STRUCTURE_SCHEMA,
    TRUE_WORDS,
    RowErrors,
    choice_cell,
    count_cell,
    finess_cell,
    text_cell,
    weight_cell,
)
from carbet.core.models import Asset, Ght, Organisation, Structure
from carbet.core.tenancy import SYSTEM, Actor
from carbet.core.validators import normalize_asset_value
from carbet.engines.identifiers import IdentifierError, normalize_departement
from carbet.engines.tabular import FILE_ROW, CellError, normalize_header, read_table

MAX_ROWS = 20_000
MAX_BYTES = getattr(settings, "CARBET_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
MAX_REPORTED_ERRORS = 1000
KINDS = ("structures", "assets")

Progress = Callable[[int, str], None]

# --- The report ------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did, or would do (dry run), or why it did nothing."""

    kind: str
    filename: str = ""
    dry_run: bool = False
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    organisations_created: int = 0
    ghts_created: int = 0
    errors: list[CellError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return _(
                "Rien n'a été importé : %(n)s problème(s) à corriger dans le fichier, "
                "puis déposez-le à nouveau."
            ) % {"n": len(self.errors)}
        numbers = {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        if self.dry_run:
            text = _(
                "%(rows)s ligne(s) lue(s) : %(created)s création(s) et %(updated)s mise(s) à "
                "jour seraient faites, %(unchanged)s ligne(s) sans changement. Vérification "
                "seulement : rien n'a été enregistré."
            )
        else:
            text = _(
                "%(rows)s ligne(s) lue(s) : %(created)s création(s), %(updated)s mise(s) à "
                "jour, %(unchanged)s ligne(s) sans changement."
            )
        text %= numbers
        if self.organisations_created or self.ghts_created:
            text += " " + _("Organisations créées : %(orgs)s ; GHT créés : %(ghts)s.") % {
                "orgs": self.organisations_created,
                "ghts": self.ghts_created,
            }
        return text

    def as_result(self) -> dict[str, Any]:
        """The job result: counters, the per-row ``errors`` and a French ``summary``.

        The error list is capped (a file of 20,000 bad rows would make a huge record);
        ``errors_total`` then says how many there were. The summary already names the
        organisations and GHTs created, so they are not repeated as counters.
        """
        result: dict[str, Any] = {
            "summary": self.summary(),
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [error.as_dict() for error in self.errors[:MAX_REPORTED_ERRORS]],
        }
        if len(self.errors) > MAX_REPORTED_ERRORS:
            result["errors_total"] = len(self.errors)
        if self.dry_run:
            result["dry_run"] = True
        return result


# --- Structures ------------------------------------------------------------------------------

STRUCTURE_TARGETS = {
    "nom": "name",
    "categorie": "category",
    "departement": "departement",
    "lits": "beds",
    "places": "places",
    "poids_activite": "activity_weight",
    "adresse": "address",
    "code_postal": "postal_code",
    "commune": "city",
}


@dataclass
class _OrgPlan:
    finess_ej: str
    row: int
    name: str = ""
    legal_status: str = ""
    ght_key: str = ""


def _parse_structure_row(values: dict[str, str], errors: RowErrors) -> dict[str, Any]:
    """The structure fields a row sets (blank optional cells are left out: no change)."""
    fields: dict[str, Any] = {}
    fields["finess_et"] = finess_cell(values["finess_et"], errors, "finess_et")
    fields["finess_ej"] = finess_cell(values["finess_ej"], errors, "finess_ej")
    if values["nom"]:
        fields["name"] = text_cell(values["nom"], 200, errors, "nom")
    else:
        errors.add("nom", _("Le nom de la structure est obligatoire."))
    if values["categorie"]:
        fields["category"] = choice_cell(
            values["categorie"], CATEGORY_NAMES, errors, "categorie", _("Catégorie")
        )
    else:
        errors.add("categorie", _("La catégorie est obligatoire (ex. EHPAD, centre hospitalier)."))
    if values.get("departement"):
        try:
            fields["departement"] = normalize_departement(values["departement"].zfill(2))
        except IdentifierError as exc:
            errors.add("departement", str(exc))
    for column in ("lits", "places"):
        if values.get(column):
            fields[STRUCTURE_TARGETS[column]] = count_cell(values[column], errors, column)
    if values.get("poids_activite"):
        fields["activity_weight"] = weight_cell(values["poids_activite"], errors, "poids_activite")
    for column, limit in (("adresse", 300), ("code_postal", 10), ("commune", 100)):
        if values.get(column):
            fields[STRUCTURE_TARGETS[column]] = text_cell(values[column], limit, errors, column)
    return fields


def _departement_fromfiness_cell(finess: str) -> str | None:
    prefix = finess[:3] if finess[:2] in ("97", "98") else finess[:2]
    try:
        return normalize_departement(prefix)
    except IdentifierError:
        return None


def _plan_organisation(
    plans: dict[str, _OrgPlan], values: dict[str, str], ej: str, errors: RowErrors
) -> None:
    plan = plans.setdefault(ej, _OrgPlan(ej, errors.row))
    incoming = {
        "name": text_cell(values.get("organisation", ""), 200, errors, "organisation"),
        "legal_status": "",
        "ght_key": values.get("ght", ""),
    }
    if values.get("statut"):
        incoming["legal_status"] = (
            choice_cell(values["statut"], STATUS_NAMES, errors, "statut", _("Statut juridique"))
            or ""
        )
    if len(incoming["ght_key"]) > 30:
        errors.add("ght", _("Le code du GHT fait 30 caractères au plus."))
    columns = {"name": "organisation", "legal_status": "statut", "ght_key": "ght"}
    for attr, value in incoming.items():
        if not value:
            continue
        current = getattr(plan, attr)
        if current and normalize_header(current) != normalize_header(value):
            errors.add(
                columns[attr],
                _("Le FINESS juridique %(ej)s a une autre valeur ligne %(row)s (« %(v)s »).")
                % {"ej": ej, "row": plan.row, "v": current},
            )
        elif not current:
            setattr(plan, attr, value)


def _check_structures(actor: Actor, table: Any, report: ImportReport) -> tuple[list, dict]:
    parsed: list[tuple[int, dict[str, Any]]] = []
    plans: dict[str, _OrgPlan] = {}
    first_row: dict[str, int] = {}
    for row, values in table.rows:
        errors = RowErrors(report.errors, row)
        fields = _parse_structure_row(values, errors)
        et, ej = fields.get("finess_et"), fields.get("finess_ej")
        if et and et in first_row:
            errors.add(
                "finess_et",
                _("Ce FINESS géographique figure déjà ligne %(row)s.") % {"row": first_row[et]},
            )
        elif et:
            first_row[et] = row
        if ej:
            _plan_organisation(plans, values, ej, errors)
        parsed.append((row, fields))
    existing_orgs = {
        o.finess_ej: o
        for o in Organisation.objects.visible_to(SYSTEM).filter(finess_ej__in=list(plans))
    }
    for ej, plan in plans.items():
        if ej in existing_orgs:
            continue
        errors = RowErrors(report.errors, plan.row)
        if not plan.name:
            errors.add(
                "organisation",
                _("Organisation %(ej)s inconnue : indiquez sa raison sociale.") % {"ej": ej},
            )
        if not plan.legal_status:
            errors.add(
                "statut",
                _("Organisation %(ej)s inconnue : indiquez son statut juridique.") % {"ej": ej},
            )
    existing = Structure.objects.visible_to(SYSTEM).filter(finess_et__in=list(first_row))
    known = {s.finess_et: s for s in existing.select_related("organisation")}
    for row, fields in parsed:
        et = fields.get("finess_et")
        if et and et not in known and "departement" not in fields:
            # A new structure without a département: the FINESS prefix usually gives it.
            fields["departement"] = _departement_fromfiness_cell(et)
            if not fields["departement"]:
                RowErrors(report.errors, row).add(
                    "departement", _("Indiquez le département (il ne se déduit pas du FINESS).")
                )
    return parsed, {"plans": plans, "orgs": existing_orgs, "structures": known}


def _ght_for(actor: Actor, key: str, ghts: dict[str, Ght], report: ImportReport, ip: Any) -> Ght:
    found = ghts.get(normalize_header(key))
    if found is None:
        found = Ght(code=key, name=key)
        services.save_ght(actor, found, ip=ip)
        report.ghts_created += 1
        ghts[normalize_header(key)] = found
    return found


def _write_structures(actor: Actor, parsed: list, known: dict, report: ImportReport, ip: Any):
    ghts: dict[str, Ght] = {}
    for ght in Ght.objects.visible_to(SYSTEM):
        ghts.setdefault(normalize_header(ght.code), ght)
        ghts.setdefault(normalize_header(ght.name), ght)
    organisations: dict[str, Organisation] = dict(known["orgs"])
    for ej, plan in known["plans"].items():
        organisation = organisations.get(ej) or Organisation(finess_ej=ej)
        creating = organisation.pk is None
        changed = creating
        for attr in ("name", "legal_status"):
            value = getattr(plan, attr)
            if value and getattr(organisation, attr) != value:
                setattr(organisation, attr, value)
                changed = True
        if plan.ght_key:
            ght = _ght_for(actor, plan.ght_key, ghts, report, ip)
            if organisation.ght_id != ght.pk:
                organisation.ght, changed = ght, True
        if changed:
            _save(report, plan.row, services.save_organisation, actor, organisation, ip)
            report.organisations_created += int(creating)
        organisations[ej] = organisation
    for row, fields in parsed:
        structure = known["structures"].get(fields["finess_et"]) or Structure()
        creating = structure.pk is None
        changed = creating
        organisation = organisations[fields.pop("finess_ej")]
        if structure.organisation_id != organisation.pk:
            structure.organisation, changed = organisation, True
        for attr, value in fields.items():
            if getattr(structure, attr) != value:
                setattr(structure, attr, value)
                changed = True
        if not changed:
            report.unchanged += 1
            continue
        _save(report, row, services.save_structure, actor, structure, ip)
        if creating:
            report.created += 1
        else:
            report.updated += 1


# --- Assets ----------------------------------------------------------------------------------


def _parse_asset_row(values: dict[str, str], errors: RowErrors) -> dict[str, Any]:
    fields: dict[str, Any] = {"finess_et": finess_cell(values["finess_et"], errors, "finess_et")}
    kind = None
    if values["type"]:
        kind = choice_cell(values["type"], KIND_NAMES, errors, "type", _("Type d'actif"))
    else:
        errors.add("type", _("Le type d'actif est obligatoire (ex. domaine, ipv4, cidr)."))
    exposed = True
    if values.get("expose_internet"):
        word = normalize_header(values["expose_internet"])
        if word in TRUE_WORDS or word in FALSE_WORDS:
            exposed = word in TRUE_WORDS
        else:
            errors.add("expose_internet", _("Répondez « oui » ou « non »."))
    fields["internet_exposed"] = exposed
    raw = values["valeur"]
    if not raw:
        errors.add("valeur", _("La valeur de l'actif est obligatoire."))
    elif kind:
        if kind == AUTO_IP:
            kind = AssetKind.IPV6 if ":" in raw else AssetKind.IPV4
        try:
            fields["value"] = normalize_asset_value(kind, raw, exposed)
        except ValidationError as exc:
            for messages in exc.message_dict.values():
                for message in messages:
                    errors.add("valeur", message)
    fields["kind"] = kind
    if values.get("libelle"):
        fields["label"] = text_cell(values["libelle"], 200, errors, "libelle")
    if values.get("criticite"):
        fields["criticality"] = choice_cell(
            values["criticite"], CRITICALITY_NAMES, errors, "criticite", _("Criticité")
        )
    return fields


def _check_assets(actor: Actor, table: Any, report: ImportReport) -> tuple[list, dict]:
    parsed = []
    for row, values in table.rows:
        errors = RowErrors(report.errors, row)
        parsed.append((row, _parse_asset_row(values, errors), errors.count))
    finesses = {fields["finess_et"] for _row, fields, _count in parsed if fields["finess_et"]}
    structures = {
        s.finess_et: s
        for s in Structure.objects.visible_to(actor, Perm.ASSET_EDIT)
        .filter(finess_et__in=finesses)
        .select_related("organisation")
    }
    existing = {
        (a.structure_id, a.kind, a.value): a
        for a in Asset.objects.visible_to(actor, Perm.ASSET_EDIT).filter(
            structure__in=list(structures.values())
        )
    }
    first_row: dict[tuple, int] = {}
    plan = []
    for row, fields, error_count in parsed:
        errors = RowErrors(report.errors, row)
        structure = structures.get(fields["finess_et"]) if fields["finess_et"] else None
        if fields["finess_et"] and structure is None:
            errors.add(
                "finess_et",
                _(
                    "Aucune structure de ce FINESS dans votre périmètre : importez d'abord "
                    "la structure."
                ),
            )
        if error_count or structure is None:
            continue
        key = (structure.pk, fields["kind"], fields["value"])
        if key in first_row:
            errors.add(
                "valeur", _("Ce même actif figure déjà ligne %(row)s.") % {"row": first_row[key]}
            )
            continue
        first_row[key] = row
        plan.append((row, structure, fields, existing.get(key)))
    return plan, {}


def _write_assets(actor: Actor, plan: list, report: ImportReport, ip: Any) -> None:
    created: list[Asset] = []
    updated: list[Asset] = []
    for _row, structure, fields, asset in plan:
        creating = asset is None
        if creating:
            asset = Asset(structure=structure, kind=fields["kind"], value=fields["value"])
        changed = creating
        for attr in services.BULK_UPDATE_FIELDS:
            if attr in fields and getattr(asset, attr) != fields[attr]:
                setattr(asset, attr, fields[attr])
                changed = True
        if not changed:
            report.unchanged += 1
        else:
            (created if creating else updated).append(asset)
    # Values were normalised and duplicates refused row by row above: one bulk write is safe
    # and keeps the write lock short (20,000 assets in seconds, not minutes).
    _save(report, FILE_ROW, services.bulk_import_assets, actor, (created, updated), ip)
    report.created, report.updated = len(created), len(updated)


# --- Running an import -----------------------------------------------------------------------


class _Abort(Exception):
    """A write failed validation: the transaction is rolled back and the error reported."""


def _save(report: ImportReport, row: int, save: Any, actor: Actor, obj: Any, ip: Any) -> None:
    """Call a registry service; a refusal becomes a reported error and aborts the import."""
    try:
        if isinstance(obj, tuple):
            save(actor, *obj, ip=ip)
        else:
            save(actor, obj, ip=ip)
    except ValidationError as exc:
        for column, messages in getattr(exc, "message_dict", {"": exc.messages}).items():
            for message in messages:
                report.errors.append(CellError(row, column if column != "__all__" else "", message))
        raise _Abort from exc


def run_import(
    actor: Actor,
    kind: str,
    data: bytes,
    *,
    filename: str = "",
    dry_run: bool = False,
    ip: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check then (unless a problem was found, or ``dry_run``) write a whole file."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    require(actor, Perm.IMPORT_RUN)
    progress = progress or (lambda percent, message="": None)
    report = ImportReport(kind=kind, filename=filename, dry_run=dry_run)
    schema = STRUCTURE_SCHEMA if kind == "structures" else ASSET_SCHEMA
    progress(5, _("Lecture du fichier"))
    table = read_table(data, schema, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    report.errors.extend(table.errors)
    report.rows = len(table.rows)
    if report.ok:
        progress(20, _("Vérification des lignes"))
        if kind == "structures":
            parsed, known = _check_structures(actor, table, report)
        else:
            parsed, known = _check_assets(actor, table, report)
    if report.ok:
        progress(40, _("Enregistrement"))
        try:
            with transaction.atomic():
                if kind == "structures":
                    _write_structures(actor, parsed, known, report, ip)
                else:
                    _write_assets(actor, parsed, report, ip)
                if dry_run:
                    transaction.set_rollback(True)
        except _Abort:
            report.created = report.updated = report.unchanged = 0
            report.organisations_created = report.ghts_created = 0
    report.errors.sort(key=lambda e: (e.row, e.column))
    audit.record(
        actor,
        f"import.{kind}",
        changes={
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else "",
            "dry_run": dry_run,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "errors": len(report.errors),
        },
        ip=ip,
        label=filename,
    )
    progress(100, report.summary())
    return report


# --- Uploads handed to the background job ----------------------------------------------------


def store_upload(upload: Any) -> uploads.Stored:
    """Keep an uploaded table (CSV or XLSX, read by the job) under a random name; a file that
    is no table at all is refused at once (``ValidationError`` on ``file``)."""
    return uploads.store(
        upload, {uploads.Kind.TABLE}, area="imports", field="file", max_bytes=MAX_BYTES
    )


def submit_import(
    actor: Actor, kind: str, upload: Any, *, dry_run: bool = False, ip: str | None = None
) -> Any:
    """Store the file and submit a ``core.import`` job; returns the Job."""
    from carbet.jobs import services as jobs

    require(actor, Perm.IMPORT_RUN)
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    stored = store_upload(upload)
    what = _("structures") if kind == "structures" else _("actifs")
    return jobs.submit(
        "core.import",
        actor=actor,
        params={
            "kind": kind,
            "file": stored.name,
            "filename": stored.original_name[-200:],
            "dry_run": dry_run,
            "ip": ip,
        },
        title=_("Import de %(what)s (%(name)s)")
        % {"what": what, "name": stored.original_name[-80:]},
    )


__all__ = ["FILE_ROW", "CellError", "ImportReport", "run_import", "submit_import"]
