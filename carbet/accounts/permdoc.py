"""The permission matrix as a document: ``docs/permissions.md`` and the "who can do what" page.

Both are produced from ``carbet.accounts.roles.MATRIX`` (the kernel's permissions and those the
services register) so they can never disagree with what the
code enforces; a test compares the committed document with ``render_markdown()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation

from carbet.accounts.roles import MATRIX, MFA_REQUIRED_ROLES, CentreRole, Perm, StructureRole

YES, NO = "✔", "—"


@dataclass(frozen=True)
class RoleColumn:
    code: str
    label: str
    regional: bool


@dataclass(frozen=True)
class PermRow:
    code: str
    label: str
    allowed: tuple[bool, ...]


def role_columns() -> list[RoleColumn]:
    """Regional roles first (they see the region), then the roles held on a structure."""
    regional = [RoleColumn(role.value, str(role.label), True) for role in CentreRole if role.value]
    local = [RoleColumn(role.value, str(role.label), False) for role in StructureRole]
    return regional + local


def all_permissions() -> list:
    """The kernel's permissions, then each registered service's (``carbet.core.contract``)."""
    from carbet.core import contract

    return [*Perm, *contract.permissions()]


def matrix_rows() -> list[PermRow]:
    columns = role_columns()
    return [
        PermRow(perm.value, str(perm.label), tuple(c.code in MATRIX[perm] for c in columns))
        for perm in all_permissions()
    ]


_INTRO = """\
# Rôles et permissions

Ce document est généré à partir de `carbet/accounts/roles.py` par
`carbet permissions-doc --write` ; un test vérifie qu'il reste identique au code.
Ne le modifiez pas à la main : modifiez la matrice, puis régénérez-le.

## Deux sortes de rôles

- **Rôles régionaux** (portés par le compte) : ils s'appliquent à toute la région.
{regional}
- **Rôles par structure** (portés par un *rattachement*) : ils ne s'appliquent qu'aux structures
  que couvre le rattachement.
{local}

## Portée d'un rattachement

Un rattachement associe un rôle par structure à **exactement une** de ces portées :

- une **structure** (FINESS géographique) : le rôle vaut pour cette structure seulement ;
- une **organisation** (FINESS juridique) : le rôle vaut pour toutes les structures qu'elle gère,
  y compris celles créées plus tard ;
- un **GHT** : le rôle vaut pour toutes les structures des organisations membres du GHT.

Une personne peut avoir plusieurs rattachements (par exemple un RSSI partagé entre plusieurs
EHPAD) ; ses droits sont l'union de ce que donne chacun, chacun sur sa seule portée. Un rôle par
structure ne donne jamais accès à une autre structure, ni à la liste de la région.

## ARS : des indicateurs agrégés uniquement

Le rôle ARS voit les indicateurs régionaux agrégés (par catégorie, par département), calculés
sur toute la région et regroupés pour qu'aucune structure ne puisse y être isolée. Il ne voit le
détail d'aucune structure : ni ses actifs, ni ses vulnérabilités, ni ses mandats.

## Double authentification obligatoire

La double authentification (application TOTP sur téléphone) est obligatoire pour :
{mfa}
- les super-utilisateurs techniques.

Elle est proposée à tous les autres comptes, qui peuvent l'activer depuis « Mon compte ».

## Matrice

Un ✔ signifie que le rôle détient la permission : sur toute la région pour un rôle régional,
sur les structures couvertes par le rattachement pour un rôle par structure.

"""


def render_markdown() -> str:
    """The whole of ``docs/permissions.md``, always rendered in French (the source language)."""
    with translation.override("fr"):
        columns = role_columns()
        regional = "\n".join(f"  - {c.label} (`{c.code}`)" for c in columns if c.regional)
        local = "\n".join(f"  - {c.label} (`{c.code}`)" for c in columns if not c.regional)
        mfa = "\n".join(
            f"- {c.label} (`{c.code}`) ;" for c in columns if c.code in MFA_REQUIRED_ROLES
        )
        text = _INTRO.format(regional=regional, local=local, mfa=mfa)
        header = "| Permission | " + " | ".join(c.label for c in columns) + " |"
        rule = "|---|" + "|".join(":-:" for _c in columns) + "|"
        lines = [header, rule]
        for row in matrix_rows():
            cells = " | ".join(YES if allowed else NO for allowed in row.allowed)
            lines.append(f"| {row.label} (`{row.code}`) | {cells} |")
        return text + "\n".join(lines) + "\n"
