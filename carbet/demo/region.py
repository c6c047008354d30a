"""What the demo region contains: a fictional territory of three overseas départements.

Every name here is invented (towns included) so that nobody mistakes a demo row for a real
establishment. E-mail addresses and host names use the reserved ``.test`` and ``.example``
top-level domains and lab addresses sit in 127.0.0.0/8, so nothing in the demo can ever reach a
real system. FINESS numbers are built from a fixed pattern with a correct Luhn key; the
``DEMO_FINESS_INFIX`` digits keep them apart from the numbers the test suite uses.

Pure data and pure functions: the loader in ``carbet.demo.services`` turns it into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carbet.engines.identifiers import luhn_valid

GHT_CODE = "DEMO-GHT-CARAIBE-SUD"
GHT_NAME = "GHT Caraïbe Sud (démo)"
REGION_NAME = "Région Caraïbe (démo)"
IT_COMPANY = "Caraïbe Infogérance (démo)"
IT_COMPANY_DOMAIN = "caraibe-infogerance.test"

# Digit after the département code: 9 then 0 for a legal entity (EJ), 9 then 1 for a site (ET).
DEMO_FINESS_INFIX = {"ej": "90", "et": "91"}


def finess_number(departement: str, kind: str, serial: int) -> str:
    """A 9-digit FINESS number: département (3), infix (2), serial (3) and the Luhn key."""
    if len(departement) != 3 or not departement.isdigit():
        raise ValueError("the demo uses three-digit overseas département codes")
    base = f"{departement}{DEMO_FINESS_INFIX[kind]}{serial:03d}"
    for key in "0123456789":
        if luhn_valid(base + key):
            return base + key
    raise AssertionError("a Luhn key always exists")  # pragma: no cover


@dataclass(frozen=True)
class StructureSpec:
    """One establishment (FINESS ET) and how the demo dresses it up."""

    key: str  # short name used for its host names
    name: str
    category: str
    departement: str
    city: str
    postal_code: str
    beds: int = 0
    places: int = 0
    # "valid", "partial" (covers two chosen assets), "expiring", "expired", "revoked" or "none"
    mandate: str = "valid"
    has_referent: bool = False
    has_it_provider: bool = True


@dataclass(frozen=True)
class OrganisationSpec:
    """One legal entity (FINESS EJ) and its structures."""

    key: str
    name: str
    legal_status: str
    departement: str
    in_ght: bool
    structures: tuple[StructureSpec, ...]


@dataclass(frozen=True)
class UserSpec:
    """A demo login. ``scopes`` name structure/organisation keys, or "ght" for the GHT."""

    email: str
    full_name: str
    centre_role: str = ""
    structure_role: str = ""
    scope_kind: str = ""  # "structure", "organisation" or "ght"
    scopes: tuple[str, ...] = field(default_factory=tuple)
    role_label: str = ""


# The tables below are laid out by hand, one structure per entry, to stay readable.
# fmt: off
S = StructureSpec
ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        "chu-mornevert", "CHU de Morne-Vert", "public", "972", True,
        (S("chu-mornevert", "CHU de Morne-Vert — site Bellevue", "chu", "972", "Morne-Vert",
           "97290", beds=1150, mandate="partial", has_referent=True, has_it_provider=False),),
    ),
    OrganisationSpec(
        "ch-anse-bleue", "Centre hospitalier de l'Anse-Bleue", "public", "972", True,
        (S("ch-anse-bleue", "Centre hospitalier de l'Anse-Bleue", "ch", "972", "Anse-Bleue",
           "97291", beds=340, has_referent=True),),
    ),
    OrganisationSpec(
        "ch-saint-ilet", "Centre hospitalier de Saint-Ilet", "public", "971", True,
        (S("ch-saint-ilet", "Centre hospitalier de Saint-Ilet", "ch", "971", "Saint-Ilet",
           "97191", beds=280, mandate="expiring", has_referent=True),),
    ),
    OrganisationSpec(
        "ch-fleuve", "Centre hospitalier du Fleuve", "public", "973", True,
        (S("ch-fleuve", "Centre hospitalier du Fleuve", "ch", "973", "Crique-Argent", "97391",
           beds=210),),
    ),
    OrganisationSpec(
        "epsm-pointe", "Établissement public de santé mentale de la Pointe", "public", "972",
        True,
        (S("epsm-pointe", "EPSM de la Pointe", "psychiatrie", "972", "Pointe-aux-Lamantins",
           "97292", beds=240, has_referent=True),),
    ),
    OrganisationSpec(
        "alizes", "SAS Clinique des Alizés", "private", "972", False,
        (S("clinique-alizes", "Clinique des Alizés", "clinique", "972", "Anse-Bleue", "97291",
           beds=120, mandate="revoked"),),
    ),
    OrganisationSpec(
        "lagon", "SAS Clinique du Lagon", "private", "971", False,
        (S("clinique-lagon", "Clinique du Lagon", "clinique", "971", "Baie-Corail", "97192",
           beds=85),),
    ),
    OrganisationSpec(
        "bois-cannelle", "Fondation Bois-Cannelle", "private_non_profit", "971", False,
        (S("ssr-bois-cannelle", "Centre de réadaptation Bois-Cannelle", "ssr", "971",
           "Bois-Cannelle", "97193", beds=75),),
    ),
    OrganisationSpec(
        "had-caraibe", "Association Caraïbe Domicile", "private_non_profit", "972", False,
        (S("had-caraibe", "HAD Caraïbe Domicile", "had", "972", "Morne-Vert", "97290",
           places=60),),
    ),
    OrganisationSpec(
        "flamboyants", "Association Les Flamboyants", "private_non_profit", "971", False,
        (
            S("ehpad-flamboyants", "EHPAD Les Flamboyants", "ehpad", "971", "Saint-Ilet",
              "97191", places=82),
            S("ehpad-corossol", "EHPAD Résidence Corossol", "ehpad", "971", "Baie-Corail",
              "97192", places=64, mandate="expired"),
        ),
    ),
    OrganisationSpec(
        "hibiscus", "EHPAD public Les Hibiscus", "public", "972", False,
        (S("ehpad-hibiscus", "EHPAD Les Hibiscus", "ehpad", "972", "Pointe-aux-Lamantins",
           "97292", places=90),),
    ),
    OrganisationSpec(
        "ti-kaz", "SARL Résidence Ti Kaz", "private", "973", False,
        (S("ehpad-ti-kaz", "EHPAD Ti Kaz", "ehpad", "973", "Crique-Argent", "97391",
           places=48),),
    ),
    OrganisationSpec(
        "colibris", "Association Les Colibris", "private_non_profit", "973", False,
        (S("ime-colibris", "IME Les Colibris", "handicap_enfant", "973", "Savane-Haute",
           "97392", places=45),),
    ),
    OrganisationSpec(
        "manguier", "Association Le Manguier", "private_non_profit", "971", False,
        (S("fam-manguier", "Foyer d'accueil médicalisé Le Manguier", "handicap_adulte", "971",
           "Bois-Cannelle", "97193", places=36, mandate="none"),),
    ),
    OrganisationSpec(
        "ssiad-nord", "Association Soins du Nord", "private_non_profit", "972", False,
        (S("ssiad-nord", "SSIAD du Nord", "ssiad", "972", "Morne-Vert", "97290", places=40,
           mandate="none", has_it_provider=False),),
    ),
)
del S

USERS: tuple[UserSpec, ...] = (
    UserSpec("admin@centre-demo.test", "Alix Demo-Admin", centre_role="centre_admin",
             role_label="Administrateur du centre"),
    UserSpec("analyste@centre-demo.test", "Camille Demo-Analyste", centre_role="centre_analyst",
             role_label="Analyste du centre"),
    UserSpec("ars@ars-demo.test", "Dominique Demo-ARS", centre_role="ars_viewer",
             role_label="ARS (indicateurs régionaux)"),
    UserSpec("directrice@ehpad-hibiscus.test", "Josette Demo-Lacour", structure_role="director",
             scope_kind="structure", scopes=("ehpad-hibiscus",),
             role_label="Directrice (1 structure)"),
    UserSpec("direction@flamboyants.test", "Max Demo-Rosier", structure_role="director",
             scope_kind="organisation", scopes=("flamboyants",),
             role_label="Directeur d'organisation (2 structures)"),
    UserSpec("rssi@ght-caraibe-sud.test", "Noé Demo-Marlin", structure_role="referent",
             scope_kind="ght", scopes=("ght",), role_label="Référent cyber du GHT"),
    UserSpec("direction@ch-anse-bleue.test", "Rémi Demo-Bellerose", structure_role="director",
             scope_kind="structure", scopes=("ch-anse-bleue",),
             role_label="Directeur d'hôpital (1 structure)"),
    UserSpec(f"technicien@{IT_COMPANY_DOMAIN}", "Sacha Demo-Technicien",
             structure_role="it_provider", scope_kind="structure",
             scopes=("ehpad-ti-kaz", "ime-colibris"),
             role_label="Prestataire informatique (2 structures)"),
)

# fmt: on

# Invented people for the contact lists, combined deterministically.
FIRST_NAMES = tuple(
    "Annick Bertrand Chantal Didier Élise Fabrice Ginette Hervé "
    "Inès Jocelyn Katia Lionel Maryse Nestor Odile Patrice".split()
)
LAST_NAMES = tuple(
    "Alcide Belrose Cyrille Dorval Euzet Florentin Galbas Hilaire "
    "Ismène Jurant Kancel Lapierre Moutou Nelson Orville Passave".split()
)


def all_structures() -> list[tuple[OrganisationSpec, StructureSpec]]:
    return [(org, st) for org in ORGANISATIONS for st in org.structures]


def person_name(index: int) -> str:
    """An invented full name; distinct for the first few hundred indexes."""
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    last = LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"
