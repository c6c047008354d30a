"""The roles of Carbet and what each may do: the permission matrix lives here, in one table.

Centre roles are regional (they belong to the user); structure roles come from memberships on a
structure, an organisation (covering its structures) or a GHT (covering its organisations'
structures). ``docs/permissions.md`` is generated from this table and a test keeps them equal.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CentreRole(models.TextChoices):
    NONE = "", _("Aucun (rôle par structure)")
    ADMIN = "centre_admin", _("Administrateur du centre")
    ANALYST = "centre_analyst", _("Analyste du centre")
    ARS = "ars_viewer", _("ARS (indicateurs régionaux)")


class StructureRole(models.TextChoices):
    DIRECTOR = "director", _("Directeur ou directrice")
    REFERENT = "referent", _("Référent cyber / RSSI")
    IT_PROVIDER = "it_provider", _("Prestataire informatique")


class Perm(models.TextChoices):
    """The kernel's permissions (registry, accounts, findings and plans, audit, jobs).

    Each service declares its own in its ``service.py`` (``carbet.core.contract.Permission``),
    with the roles that hold them; registering the service adds them to ``MATRIX``.
    """

    REGION_VIEW = "region.view", _("Voir la liste des structures de la région")
    REGION_AGGREGATES = "region.aggregates", _("Voir les indicateurs régionaux agrégés")
    STRUCTURE_VIEW = "structure.view", _("Voir le détail d'une structure")
    STRUCTURE_EDIT = "structure.edit", _("Créer ou modifier une structure")
    CONTACT_EDIT = "contact.edit", _("Gérer les contacts d'une structure")
    ASSET_VIEW = "asset.view", _("Voir les actifs d'une structure")
    ASSET_EDIT = "asset.edit", _("Déclarer ou modifier un actif")
    ASSET_VALIDATE = "asset.validate", _("Valider un actif au nom de la structure")
    ASSET_PROVE = "asset.prove", _(
        "Reconnaître la propriété d'un actif après revue, trancher un conflit"
    )
    MANDATE_VIEW = "mandate.view", _("Voir les mandats")
    MANDATE_EDIT = "mandate.edit", _("Enregistrer un mandat signé")
    MANDATE_REVOKE = "mandate.revoke", _("Révoquer un mandat")
    IMPORT_RUN = "import.run", _("Importer des structures ou des actifs")
    EXPORT_RUN = "export.run", _("Exporter des données")
    FINDINGS_DETAIL = "findings.detail", _("Voir le détail des vulnérabilités")
    AUDIT_VIEW_ALL = "audit.view_all", _("Consulter tout le journal d'audit")
    AUDIT_VIEW_STRUCTURE = "audit.view_structure", _("Consulter le journal d'audit de sa structure")
    USER_MANAGE = "user.manage", _("Gérer les comptes et les rattachements")
    JOB_VIEW = "job.view", _("Suivre les tâches de fond")
    FINDINGS_TRIAGE = "findings.triage", _("Changer l'état d'une vulnérabilité")
    FINDINGS_WRITE = "findings.write", _("Écrire un constat ou importer un rapport")
    ACCEPTANCE_REQUEST = "acceptance.request", _("Demander l'acceptation d'un risque")
    ACCEPTANCE_SIGN = "acceptance.sign", _("Signer l'acceptation d'un risque")
    ACTION_VIEW = "action.view", _("Voir le plan d'action")
    ACTION_EDIT = "action.edit", _("Créer ou modifier une action corrective")
    ACTION_PROGRESS = "action.progress", _("Mettre à jour l'avancement et déposer une preuve")
    ACTION_VERIFY = "action.verify", _("Valider une preuve et clore les vulnérabilités")
    CAMPAIGN_MANAGE = "campaign.manage", _("Lancer une campagne régionale")
    REPORT_VIEW = "report.view", _("Télécharger les rapports d'une structure")
    SETTINGS_MANAGE = "settings.manage", _("Régler les délais de correction de la région")


C_ADMIN, C_ANALYST, ARS = CentreRole.ADMIN, CentreRole.ANALYST, CentreRole.ARS
DIRECTOR, REFERENT, IT = StructureRole.DIRECTOR, StructureRole.REFERENT, StructureRole.IT_PROVIDER

# Which role holds which permission. Structure roles only ever apply within their scope.
# Services' permissions are added when they register (``carbet.core.contract.register``).
MATRIX: dict[str, frozenset[str]] = {
    Perm.REGION_VIEW: frozenset({C_ADMIN, C_ANALYST}),
    Perm.REGION_AGGREGATES: frozenset({C_ADMIN, C_ANALYST, ARS}),
    Perm.STRUCTURE_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.STRUCTURE_EDIT: frozenset({C_ADMIN, C_ANALYST}),
    Perm.CONTACT_EDIT: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT}),
    Perm.ASSET_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.ASSET_EDIT: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.ASSET_VALIDATE: frozenset({DIRECTOR, REFERENT}),
    Perm.ASSET_PROVE: frozenset({C_ADMIN, C_ANALYST}),
    Perm.MANDATE_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT}),
    Perm.MANDATE_EDIT: frozenset({C_ADMIN, C_ANALYST, DIRECTOR}),
    Perm.MANDATE_REVOKE: frozenset({C_ADMIN, DIRECTOR}),
    Perm.IMPORT_RUN: frozenset({C_ADMIN, C_ANALYST}),
    Perm.EXPORT_RUN: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT}),
    Perm.FINDINGS_DETAIL: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.AUDIT_VIEW_ALL: frozenset({C_ADMIN}),
    Perm.AUDIT_VIEW_STRUCTURE: frozenset({C_ADMIN, DIRECTOR}),
    Perm.USER_MANAGE: frozenset({C_ADMIN}),
    Perm.JOB_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.FINDINGS_TRIAGE: frozenset({C_ADMIN, C_ANALYST, REFERENT}),
    Perm.FINDINGS_WRITE: frozenset({C_ADMIN, C_ANALYST}),
    Perm.ACCEPTANCE_REQUEST: frozenset({REFERENT, DIRECTOR}),
    Perm.ACCEPTANCE_SIGN: frozenset({DIRECTOR}),
    Perm.ACTION_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.ACTION_EDIT: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT}),
    Perm.ACTION_PROGRESS: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT, IT}),
    Perm.ACTION_VERIFY: frozenset({C_ADMIN, C_ANALYST}),
    Perm.CAMPAIGN_MANAGE: frozenset({C_ADMIN, C_ANALYST}),
    Perm.REPORT_VIEW: frozenset({C_ADMIN, C_ANALYST, DIRECTOR, REFERENT}),
    Perm.SETTINGS_MANAGE: frozenset({C_ADMIN}),
}

CENTRE_STAFF_ROLES = frozenset({C_ADMIN, C_ANALYST})
# Roles for which a second factor is mandatory (they see the whole region).
MFA_REQUIRED_ROLES = frozenset({C_ADMIN, C_ANALYST, ARS})


def role_has(role: str, perm: Perm) -> bool:
    return role in MATRIX[perm]
