"""What the importer reads: columns, their French and English names, and cell parsers.

The vocabularies accept what people actually type in a spreadsheet: codes, interface labels and
common abbreviations, compared without case, accents or punctuation (``normalize_header``).
Each parser takes the cell text and a ``RowErrors`` collecting French messages for its row.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from carbet.core.choices import AssetKind, Category, Criticality, LegalStatus
from carbet.engines.identifiers import IdentifierError, normalize_finess
from carbet.engines.tabular import CellError, Column, Schema, normalize_header

FINESS_ET_COLUMN = Column(
    "finess_et",
    (
        "finess",
        "finess geographique",
        "finess etablissement",
        "n finess et",
        "establishment finess",
        "finess establishment",
    ),
    required=True,
)

STRUCTURE_SCHEMA = Schema(
    (
        FINESS_ET_COLUMN,
        Column(
            "nom", ("name", "nom etablissement", "raison sociale et", "establishment name"), True
        ),
        Column("categorie", ("category", "type etablissement", "categorie etablissement"), True),
        Column(
            "finess_ej", ("finess juridique", "legal entity finess", "finess legal entity"), True
        ),
        Column(
            "organisation",
            ("organization", "raison sociale", "entite juridique", "legal entity", "gestionnaire"),
        ),
        Column("statut", ("status", "legal status", "statut juridique")),
        Column("ght", ("code ght", "ght code")),
        Column("departement", ("department", "dept", "dep")),
        Column("lits", ("beds", "nombre de lits")),
        Column("places", ("nombre de places",)),
        Column("poids_activite", ("activity weight", "poids", "weight")),
        Column("adresse", ("address",)),
        Column("code_postal", ("postal code", "cp", "zip", "zip code", "postcode")),
        Column("commune", ("ville", "city", "town")),
    )
)

ASSET_SCHEMA = Schema(
    (
        FINESS_ET_COLUMN,
        Column("type", ("kind", "type actif", "asset type"), True),
        Column("valeur", ("value", "actif", "asset"), True),
        Column("libelle", ("label", "description", "nom")),
        Column("criticite", ("criticality",)),
        Column("expose_internet", ("internet exposed", "exposed", "expose", "exposition internet")),
    )
)


def choices_map(enum: Any, synonyms: dict[str, str]) -> dict[str, str]:
    table = {}
    for value, label in enum.choices:
        table[normalize_header(value)] = value
        table[normalize_header(str(label))] = value
    table.update({normalize_header(k): v for k, v in synonyms.items()})
    return table


CATEGORY_NAMES = choices_map(
    Category,
    {
        "chr": "chu",
        "smr": "ssr",
        "chs": "psychiatrie",
        "epsm": "psychiatrie",
        "psy": "psychiatrie",
        "mco": "clinique",
        "cds": "centre_sante",
        "ime": "handicap_enfant",
        "itep": "handicap_enfant",
        "sessad": "handicap_enfant",
        "mas": "handicap_adulte",
        "fam": "handicap_adulte",
        "esat": "handicap_adulte",
        "foyer de vie": "handicap_adulte",
    },
)
STATUS_NAMES = choices_map(
    LegalStatus,
    {
        "prive non lucratif": "private_non_profit",
        "espic": "private_non_profit",
        "associatif": "private_non_profit",
        "non lucratif": "private_non_profit",
        "prive": "private",
        "prive lucratif": "private",
        "commercial": "private",
    },
)
KIND_NAMES = choices_map(
    AssetKind,
    {
        "domaine": "domain",
        "nom de domaine": "domain",
        "site": "domain",
        "site web": "domain",
        "website": "domain",
        "hote": "hostname",
        "nom d hote": "hostname",
        "host": "hostname",
        "fqdn": "hostname",
        "reseau": "cidr",
        "network": "cidr",
        "plage": "cidr",
        "messagerie": "mail_domain",
        "mail": "mail_domain",
        "domaine de messagerie": "mail_domain",
        "ad": "ad_domain",
        "active directory": "ad_domain",
        "domaine ad": "ad_domain",
        "appli": "application",
        "app": "application",
    },
)
AUTO_IP = "ip"  # "ip" or "adresse IP": IPv4 or IPv6, decided by the value
KIND_NAMES.update({"ip": AUTO_IP, "adresse_ip": AUTO_IP, "ip_address": AUTO_IP})
CRITICALITY_NAMES = choices_map(
    Criticality,
    {"basse": "low", "moyen": "medium", "haute": "high", "forte": "high", "critique": "critical"},
)
TRUE_WORDS = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
FALSE_WORDS = {"non", "n", "no", "false", "faux", "0"}


class RowErrors:
    """Collects the problems of one row into a shared list; ``count`` is this row's share."""

    def __init__(self, errors: list[CellError], row: int) -> None:
        self.errors, self.row, self.count = errors, row, 0

    def add(self, column: str, message: str) -> None:
        self.errors.append(CellError(self.row, column, message))
        self.count += 1


def finess_cell(value: str, errors: RowErrors, column: str) -> str | None:
    if not value:
        errors.add(column, _("Le numéro FINESS est obligatoire."))
        return None
    # Spreadsheets drop the leading zero of départements 01 to 09.
    candidate = value.zfill(9) if value.isdigit() and len(value) == 8 else value
    try:
        return normalize_finess(candidate)
    except IdentifierError as exc:
        errors.add(column, str(exc))
        return None


def choice_cell(value: str, names: dict[str, str], errors: RowErrors, column: str, what: str):
    found = names.get(normalize_header(value))
    if found is None:
        errors.add(column, _("%(what)s inconnu(e) : « %(v)s ».") % {"what": what, "v": value})
    return found


def count_cell(value: str, errors: RowErrors, column: str) -> int | None:
    cleaned = value.replace(" ", "").replace("\u202f", "").replace("\xa0", "")
    if cleaned.endswith((".0", ",0")):
        cleaned = cleaned[:-2]
    if not cleaned.isdigit() or len(cleaned) > 7:
        errors.add(column, _("Nombre entier positif attendu, pas « %(v)s ».") % {"v": value})
        return None
    return int(cleaned)


def weight_cell(value: str, errors: RowErrors, column: str) -> Decimal | None:
    cleaned = value.replace(" ", "").replace("%", "").replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0 or number >= Decimal(10) ** 10:
        errors.add(column, _("Nombre positif attendu (ex. 66,5), pas « %(v)s ».") % {"v": value})
        return None
    return number.quantize(Decimal("0.01"))


def text_cell(value: str, limit: int, errors: RowErrors, column: str) -> str:
    if len(value) > limit:
        errors.add(column, _("Texte trop long (%(n)s caractères au plus).") % {"n": limit})
    return value[:limit]
