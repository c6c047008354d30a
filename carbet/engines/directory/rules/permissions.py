"""Privileged accounts, hidden paths: rights in security descriptors and SID history.

Readable by a non-admin account: the DACL and owner of the domain head and of AdminSDHolder.
A trustee is "default" when Windows grants it that right out of the box; anything else with a
write or replication right is reported by name (or SID when the snapshot cannot resolve it).
"""

from __future__ import annotations

from carbet.engines.directory.model import Ace, Descriptor, Snapshot
from carbet.engines.directory.rules.common import names
from carbet.engines.directory.rules.graph import (
    PRIVILEGED_BUILTIN_SIDS,
    RID_CERT_PUBLISHERS,
    RID_DOMAIN_ADMINS,
    RID_DOMAIN_CONTROLLERS,
    RID_ENTERPRISE_ADMINS,
    RID_ENTERPRISE_RODCS,
    RID_RODCS,
    SID_ADMINISTRATORS,
    SID_ENTERPRISE_DCS,
    SID_SELF,
    SID_SYSTEM,
    RuleContext,
    rid_of,
)
from carbet.engines.directory.rules.registry import Evaluation, NotEvaluated, rule
from carbet.engines.directory.scoring import PerObject

PRIVILEGED = "privileged_accounts"

# Access mask bits (ADS_RIGHTS_ENUM).
RIGHT_CREATE_CHILD = 0x1
RIGHT_SELF = 0x8
RIGHT_WRITE_PROPERTY = 0x20
RIGHT_CONTROL_ACCESS = 0x100
RIGHT_DELETE = 0x10000
RIGHT_WRITE_DAC = 0x40000
RIGHT_WRITE_OWNER = 0x80000
RIGHT_GENERIC_ALL = 0x10000000
RIGHT_GENERIC_WRITE = 0x40000000
TAKEOVER_RIGHTS = RIGHT_GENERIC_ALL | RIGHT_GENERIC_WRITE | RIGHT_WRITE_DAC | RIGHT_WRITE_OWNER
WRITE_RIGHTS = (
    TAKEOVER_RIGHTS
    | RIGHT_WRITE_PROPERTY
    | RIGHT_CONTROL_ACCESS
    | RIGHT_SELF
    | RIGHT_CREATE_CHILD
    | RIGHT_DELETE
)

# Extended rights (lower case GUIDs).
GET_CHANGES = "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2"
GET_CHANGES_ALL = "1131f6ad-9c07-11d1-f79f-00c04fc2dcd2"
CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"  # noqa: S105 (a right's GUID)

REPLICATION_DEFAULT_RIDS = {
    RID_DOMAIN_ADMINS,
    RID_ENTERPRISE_ADMINS,
    RID_DOMAIN_CONTROLLERS,
    RID_RODCS,
    RID_ENTERPRISE_RODCS,
}
REPLICATION_DEFAULT_SIDS = {SID_SYSTEM, SID_ADMINISTRATORS, SID_ENTERPRISE_DCS}
ADMINSDHOLDER_WRITER_RIDS = {RID_DOMAIN_ADMINS, RID_ENTERPRISE_ADMINS, RID_CERT_PUBLISHERS}
ADMINSDHOLDER_WRITER_SIDS = {SID_SYSTEM, SID_ADMINISTRATORS, SID_SELF, "S-1-5-32-561"}
DEFAULT_OWNER_RIDS = {RID_DOMAIN_ADMINS, RID_ENTERPRISE_ADMINS}
DEFAULT_OWNER_SIDS = {SID_SYSTEM, SID_ADMINISTRATORS}


def _is_default(sid: str, sids: set[str], rids: set[int]) -> bool:
    return sid in sids or rid_of(sid) in rids


def _applies_to_all(ace: Ace) -> bool:
    """An allow ACE that is not limited to one property or extended right."""
    return ace.kind == "allow" or (ace.kind == "allow_object" and not ace.object_type)


def _extended_rights(ace: Ace) -> set[str]:
    if not ace.kind.startswith("allow") or not ace.mask & (
        RIGHT_CONTROL_ACCESS | RIGHT_GENERIC_ALL
    ):
        return set()
    if _applies_to_all(ace):
        return {GET_CHANGES, GET_CHANGES_ALL}
    return {ace.object_type.lower()}


def dcsync_trustees(descriptor: Descriptor) -> set[str]:
    """SIDs that may replicate secrets (both rights) or take over the domain head."""
    rights: dict[str, set[str]] = {}
    takeover: set[str] = set()
    for ace in descriptor.dacl:
        rights.setdefault(ace.trustee, set()).update(_extended_rights(ace))
        if _applies_to_all(ace) and ace.mask & TAKEOVER_RIGHTS:
            takeover.add(ace.trustee)
    replicate = {sid for sid, held in rights.items() if {GET_CHANGES, GET_CHANGES_ALL} <= held}
    return {
        sid
        for sid in replicate | takeover
        if not _is_default(sid, REPLICATION_DEFAULT_SIDS, REPLICATION_DEFAULT_RIDS)
    }


@rule(
    id="vuln1_permissions_naming_context",
    anssi="vuln1_permissions_naming_context",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(25, floor=40, cap=60),
    exploitable_now=True,
    title_fr="Droits de réplication (DCSync) ou de contrôle du domaine accordés hors défaut",
    title_en="Replication (DCSync) or control rights on the domain granted beyond defaults",
    description_fr=(
        "Ces comptes ou groupes peuvent demander à un contrôleur de domaine une copie de tous "
        "les mots de passe (attaque DCSync) ou modifier les droits du domaine : c'est le "
        "domaine entier."
    ),
    remediation_fr=(
        "Retirer ces droits à la racine du domaine, sauf pour un outil connu et documenté "
        "(synchronisation Entra ID) dont le compte est alors protégé comme un administrateur."
    ),
    command=(
        "(Get-Acl 'AD:<DN du domaine>').Access | Where-Object ObjectType -in "
        "'1131f6aa-9c07-11d1-f79f-00c04fc2dcd2','1131f6ad-9c07-11d1-f79f-00c04fc2dcd2'"
    ),
    needs=("domain_descriptor",),
)
def dcsync(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    if snapshot.domain_descriptor is None:
        return NotEvaluated("descripteur de sécurité de la racine du domaine non collecté")
    return sorted(
        (ctx.name_of_sid(sid) for sid in dcsync_trustees(snapshot.domain_descriptor)),
        key=str.lower,
    )


def adminsdholder_writers(descriptor: Descriptor) -> set[str]:
    found = set()
    for ace in descriptor.dacl:
        if not ace.kind.startswith("allow") or not ace.mask & WRITE_RIGHTS:
            continue
        if ace.object_type.lower() == CHANGE_PASSWORD:
            continue  # "change password" needs the old password: granted to Everyone by default
        if _is_default(ace.trustee, ADMINSDHOLDER_WRITER_SIDS, ADMINSDHOLDER_WRITER_RIDS):
            continue
        found.add(ace.trustee)
    return found


@rule(
    id="vuln1_permissions_adminsdholder",
    anssi="vuln1_permissions_adminsdholder",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(25, floor=40, cap=60),
    exploitable_now=True,
    title_fr="Droits d'écriture ajoutés sur AdminSDHolder",
    title_en="Write rights added on AdminSDHolder",
    description_fr=(
        "AdminSDHolder sert de modèle aux droits de tous les administrateurs : un droit ajouté "
        "ici est recopié sur chacun d'eux dans l'heure. C'est une porte dérobée classique."
    ),
    remediation_fr=(
        "Retirer ces entrées de CN=AdminSDHolder,CN=System et chercher depuis quand et par qui "
        "elles ont été posées."
    ),
    command="(Get-Acl 'AD:CN=AdminSDHolder,CN=System,<DN du domaine>').Access",
    needs=("adminsdholder_descriptor",),
)
def adminsdholder(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    if snapshot.adminsdholder_descriptor is None:
        return NotEvaluated("descripteur de sécurité d'AdminSDHolder non collecté")
    return sorted(
        (ctx.name_of_sid(sid) for sid in adminsdholder_writers(snapshot.adminsdholder_descriptor)),
        key=str.lower,
    )


@rule(
    id="vuln3_owner",
    anssi="vuln3_owner",
    level=3,
    category=PRIVILEGED,
    severity=3,
    points=PerObject(10, cap=20),
    title_fr="Propriétaire inhabituel de la racine du domaine ou d'AdminSDHolder",
    title_en="Unusual owner of the domain head or AdminSDHolder",
    description_fr=(
        "Le propriétaire d'un objet peut toujours en modifier les droits : s'il n'est pas un "
        "groupe d'administration, il peut se donner le domaine."
    ),
    remediation_fr="Rendre « Admins du domaine » propriétaire de ces objets.",
    command="dsacls '<DN>' /takeownership  # depuis un compte Admins du domaine",
    needs=("domain_descriptor", "adminsdholder_descriptor"),
)
def unusual_owner(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    descriptors = {
        "racine du domaine": snapshot.domain_descriptor,
        "AdminSDHolder": snapshot.adminsdholder_descriptor,
    }
    if all(d is None for d in descriptors.values()):
        return NotEvaluated("descripteurs de sécurité non collectés")
    return [
        f"{label} : {ctx.name_of_sid(descriptor.owner)}"
        for label, descriptor in descriptors.items()
        if descriptor is not None
        and descriptor.owner
        and not _is_default(descriptor.owner, DEFAULT_OWNER_SIDS, DEFAULT_OWNER_RIDS)
    ]


def _dangerous_history_sid(sid: str, domain_sid: str) -> bool:
    if sid in PRIVILEGED_BUILTIN_SIDS:
        return True
    rid = rid_of(sid)
    if rid is None:
        return False
    same_domain = bool(domain_sid) and sid.rsplit("-", 1)[0] == domain_sid
    return rid < 1000 or same_domain


@rule(
    id="vuln2_sidhistory_dangerous",
    anssi="vuln2_sidhistory_dangerous",
    level=2,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(20, floor=30, cap=50),
    exploitable_now=True,
    title_fr="Historique de SID donnant des droits d'administration",
    title_en="SID history granting administrative rights",
    description_fr=(
        "Ces comptes portent dans leur historique le SID d'un groupe d'administration ou d'un "
        "compte du domaine lui-même : ils sont administrateurs sans apparaître dans aucun groupe."
    ),
    remediation_fr="Vider sIDHistory sur ces comptes sans attendre et rechercher une intrusion.",
    command="Set-ADUser -Identity <compte> -Clear sIDHistory",
    needs=("users", "computers"),
)
def dangerous_sid_history(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in ctx.accounts
            if any(_dangerous_history_sid(sid, ctx.domain_sid) for sid in a.sid_history)
        ]
    )
