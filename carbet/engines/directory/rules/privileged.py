"""Privileged accounts: who can take the whole domain, and how easily.

"Privileged" means nested membership of the privileged groups by well-known SID/RID (see
``graph``), plus the built-in Administrator (RID 500).
"""

from __future__ import annotations

from carbet.engines.directory.model import (
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_NOT_DELEGATED,
    UAC_TRUSTED_FOR_DELEGATION,
    UAC_TRUSTED_TO_AUTH_FOR_DELEGATION,
    Account,
    Group,
    Snapshot,
)
from carbet.engines.directory.rules.common import is_person, names
from carbet.engines.directory.rules.graph import (
    RID_ADMINISTRATOR,
    RID_ENTERPRISE_ADMINS,
    RID_SCHEMA_ADMINS,
    SID_ACCOUNT_OPERATORS,
    SID_BACKUP_OPERATORS,
    SID_PRINT_OPERATORS,
    SID_SERVER_OPERATORS,
    RuleContext,
    is_domain_controller,
    is_enabled,
    rid_of,
)
from carbet.engines.directory.rules.registry import Evaluation, NotEvaluated, rule
from carbet.engines.directory.scoring import Fixed, PerObject, Tiered

PRIVILEGED = "privileged_accounts"
ADMIN_PASSWORD_DAYS = 3 * 365
ADMIN_RECENT_LOGON_DAYS = 35
ADMIN_INACTIVE_DAYS = 180


def _admins(ctx: RuleContext) -> list[Account]:
    """Enabled privileged user accounts (people and services, not computers)."""
    return [a for a in ctx.privileged_users if not a.is_computer and is_person(a)]


@rule(
    id="operators_not_empty",
    category=PRIVILEGED,
    severity=3,
    points=PerObject(5, floor=10, cap=30),
    title_fr="Membres dans des groupes d'administration qui devraient rester vides",
    title_en="Members in privileged groups that should stay empty",
    description_fr=(
        "Les groupes Opérateurs de compte, de serveur, d'impression, de sauvegarde, "
        "Administrateurs du schéma et Administrateurs de l'entreprise donnent, directement ou "
        "par rebond, le contrôle du domaine ; ils doivent rester vides en temps normal."
    ),
    remediation_fr=(
        "Retirer ces comptes des groupes listés et leur déléguer seulement les droits utiles. "
        "L'administrateur intégré, placé dans « Administrateurs du schéma » et « de l'entreprise » "
        "à la création du domaine, n'est pas compté."
    ),
    command="Remove-ADGroupMember -Identity 'Backup Operators' -Members <compte>",
    needs=("users", "groups"),
)
def members_of_empty_groups(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    groups = [
        ctx.group_by_sid(sid)
        for sid in (
            SID_ACCOUNT_OPERATORS,
            SID_SERVER_OPERATORS,
            SID_PRINT_OPERATORS,
            SID_BACKUP_OPERATORS,
        )
    ]
    groups += [ctx.group_by_rid(RID_SCHEMA_ADMINS), ctx.group_by_rid(RID_ENTERPRISE_ADMINS)]
    found: dict[str, Account] = {}
    for group in groups:
        for account in ctx.nested_accounts(group):
            if rid_of(account.sid) != RID_ADMINISTRATOR and is_enabled(account):
                found[account.dn] = account
    return names(list(found.values()))


@rule(
    id="vuln1_privileged_members",
    anssi="vuln1_privileged_members",
    level=1,
    category=PRIVILEGED,
    severity=3,
    points=Fixed(10),
    title_fr="Trop de membres dans les groupes d'administration",
    title_en="Large privileged group member count",
    description_fr=(
        "Plus de 50 comptes d'administration, ou plus d'un compte actif sur dix : "
        "l'administration n'est plus maîtrisée et chaque compte est une porte vers le domaine."
    ),
    remediation_fr=(
        "Revoir chaque membre des groupes d'administration, retirer ceux qui n'en ont pas "
        "besoin et déléguer finement les tâches courantes (mots de passe, postes)."
    ),
    command="Get-ADGroupMember -Identity 'Administrators' -Recursive | Measure-Object",
    needs=("users", "groups"),
)
def large_privileged_membership(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    # ANSSI / PingCastle thresholds: over 50 privileged members, or over 10 % of the active
    # accounts once the domain has more than 100 of them.
    privileged = names(_admins(ctx))
    active = len([u for u in ctx.enabled_users() if is_person(u)])
    share_too_high = active > 100 and len(privileged) * 100 // active > 10
    return privileged if len(privileged) > 50 or share_too_high else []


@rule(
    id="admin_count_excessive",
    category=PRIVILEGED,
    severity=2,
    points=Tiered(((11, 10), (26, 20), (51, 30)), unit="administrateurs"),
    title_fr="Trop de comptes administrateurs du domaine",
    title_en="Too many domain administrator accounts",
    description_fr=(
        "Chaque administrateur est une cible : au-delà de quelques comptes nominatifs, personne "
        "ne sait plus qui détient les clés."
    ),
    remediation_fr=(
        "Garder au plus une dizaine d'administrateurs, nominatifs et dédiés à l'administration ; "
        "déléguer le reste (réinitialiser des mots de passe, joindre des postes) finement."
    ),
    command="Get-ADGroupMember -Identity 'Domain Admins' -Recursive",
    needs=("users", "groups"),
)
def too_many_admins(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    admins = names(_admins(ctx))
    return admins if len(admins) > 10 else []


@rule(
    id="vuln1_spn_priv",
    anssi="vuln1_spn_priv",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(10, floor=20, cap=40),
    exploitable_now=True,
    title_fr="Comptes d'administration avec un nom de service (Kerberoasting)",
    title_en="Privileged accounts with a service principal name (Kerberoasting)",
    description_fr=(
        "Tout utilisateur du domaine peut obtenir un ticket chiffré avec le mot de passe de ces "
        "comptes et le casser hors ligne : un mot de passe faible donne le domaine."
    ),
    remediation_fr=(
        "Ne jamais faire tourner un service sous un compte administrateur : utiliser un compte "
        "de service géré (gMSA) sans privilège, puis retirer le SPN du compte administrateur."
    ),
    command="Set-ADUser -Identity <compte> -ServicePrincipalNames @{Remove='<SPN>'}",
    needs=("users", "groups"),
)
def privileged_spn(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in _admins(ctx) if a.spns])


@rule(
    id="vuln1_dont_expire_priv",
    anssi="vuln1_dont_expire_priv",
    level=1,
    category=PRIVILEGED,
    severity=3,
    points=PerObject(5, floor=10, cap=30),
    title_fr="Comptes d'administration dont le mot de passe n'expire jamais",
    title_en="Privileged accounts whose password never expires",
    description_fr=(
        "Un mot de passe d'administrateur qui ne change jamais finit par fuiter et reste "
        "valable : c'est la clé du domaine."
    ),
    remediation_fr="Retirer l'option et faire changer ces mots de passe régulièrement.",
    command="Set-ADUser -Identity <compte> -PasswordNeverExpires $false",
    needs=("users", "groups"),
)
def privileged_never_expires(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in _admins(ctx) if a.uac & UAC_DONT_EXPIRE_PASSWORD])


@rule(
    id="vuln1_kerberos_properties_preauth_priv",
    anssi="vuln1_kerberos_properties_preauth_priv",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(20, floor=30, cap=50),
    exploitable_now=True,
    title_fr="Comptes d'administration sans pré-authentification Kerberos (AS-REP roasting)",
    title_en="Privileged accounts without Kerberos pre-authentication (AS-REP roasting)",
    description_fr=(
        "N'importe qui sur le réseau, même sans compte, peut obtenir une réponse chiffrée avec "
        "le mot de passe de ces administrateurs et le casser hors ligne."
    ),
    remediation_fr="Réactiver tout de suite la pré-authentification Kerberos sur ces comptes.",
    command="Set-ADAccountControl -Identity <compte> -DoesNotRequirePreAuth $false",
    needs=("users", "groups"),
)
def privileged_no_preauth(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.privileged_users if a.uac & UAC_DONT_REQ_PREAUTH])


@rule(
    id="vuln1_password_change_priv",
    anssi="vuln1_password_change_priv",
    level=1,
    category=PRIVILEGED,
    severity=3,
    points=PerObject(5, floor=10, cap=30),
    title_fr="Mots de passe d'administration inchangés depuis plus de 3 ans",
    title_en="Privileged passwords unchanged for more than 3 years",
    description_fr=(
        "Un mot de passe d'administrateur vieux de plusieurs années a eu le temps d'être noté, "
        "partagé ou volé."
    ),
    remediation_fr="Changer ces mots de passe (longs, uniques), puis au moins une fois par an.",
    command="Set-ADAccountPassword -Identity <compte> -Reset",
    needs=("users", "groups"),
)
def privileged_old_password(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in _admins(ctx)
            if (age := ctx.age_days(a.pwd_last_set)) is not None and age > ADMIN_PASSWORD_DAYS
        ]
    )


@rule(
    id="vuln3_protected_users",
    anssi="vuln3_protected_users",
    level=3,
    category=PRIVILEGED,
    severity=1,
    points=PerObject(1, floor=5, cap=10),
    title_fr="Administrateurs hors du groupe « Protected Users »",
    title_en="Administrators outside the Protected Users group",
    description_fr=(
        "Le groupe « Protected Users » empêche que le secret d'un administrateur reste en "
        "mémoire sur les postes où il se connecte, là où les attaquants vont le chercher."
    ),
    remediation_fr=(
        "Ajouter les comptes d'administration nominatifs au groupe « Protected Users » (pas les "
        "comptes de service), après un test."
    ),
    command="Add-ADGroupMember -Identity 'Protected Users' -Members <compte>",
    needs=("users", "groups"),
)
def not_protected(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    protected = ctx.protected_users
    if protected is None:
        return NotEvaluated(
            "groupe « Protected Users » absent (niveau fonctionnel antérieur à 2012 R2)"
        )
    return names([a for a in _admins(ctx) if ctx.key(a) not in protected])


@rule(
    id="privileged_not_delegated",
    category=PRIVILEGED,
    severity=2,
    points=PerObject(1, floor=5, cap=20),
    title_fr="Administrateurs dont l'identité peut être déléguée",
    title_en="Administrators whose identity can be delegated",
    description_fr=(
        "Sans l'option « compte sensible, ne peut pas être délégué », un serveur compromis "
        "configuré pour la délégation peut agir au nom de l'administrateur partout."
    ),
    remediation_fr=(
        "Cocher « Le compte est sensible et ne peut pas être délégué » sur les comptes "
        "d'administration (ou les mettre dans « Protected Users »)."
    ),
    command="Set-ADAccountControl -Identity <compte> -AccountNotDelegated $true",
    needs=("users", "groups"),
)
def delegable_admins(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    protected = ctx.protected_users or set()
    return names(
        [a for a in _admins(ctx) if not a.uac & UAC_NOT_DELEGATED and ctx.key(a) not in protected]
    )


@rule(
    id="vuln4_dnsadmins",
    anssi="vuln4_dnsadmins",
    level=4,
    category=PRIVILEGED,
    severity=2,
    points=PerObject(1, floor=5, cap=10),
    title_fr="Membres du groupe DnsAdmins",
    title_en="Members of the DnsAdmins group",
    description_fr=(
        "Un membre de DnsAdmins peut faire charger son propre programme par le service DNS des "
        "contrôleurs de domaine, donc en devenir administrateur."
    ),
    remediation_fr=(
        "Vider le groupe DnsAdmins ; administrer le DNS avec un compte d'administration."
    ),
    command="Get-ADGroupMember -Identity DnsAdmins -Recursive",
    needs=("users", "groups"),
)
def dns_admins(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    group = ctx.group_by_name("DnsAdmins")
    if group is None and snapshot.pseudonymised:
        return NotEvaluated("groupe DnsAdmins introuvable dans un instantané pseudonymisé")
    return names([a for a in ctx.nested_accounts(group) if is_enabled(a)])


@rule(
    id="vuln2_privileged_members_no_admincount",
    anssi="vuln2_privileged_members_no_admincount",
    level=2,
    category=PRIVILEGED,
    severity=1,
    points=PerObject(1, floor=5, cap=15),
    title_fr="Administrateurs sans la protection AdminSDHolder (adminCount)",
    title_en="Privileged accounts not protected by AdminSDHolder (adminCount)",
    description_fr=(
        "Un administrateur sans adminCount n'a pas reçu les droits protégés d'AdminSDHolder : "
        "quelqu'un a pu garder un droit sur lui, ou son appartenance est récente et inattendue."
    ),
    remediation_fr=(
        "Vérifier pourquoi ces comptes sont administrateurs ; le processus SDProp les protège "
        "ensuite automatiquement dans l'heure."
    ),
    command="Get-ADUser -Identity <compte> -Properties adminCount, nTSecurityDescriptor",
    needs=("users", "groups"),
    samba=False,
)
def no_admincount(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    items: list[Account | Group] = [*ctx.accounts, *snapshot.groups]
    if not any(item.admin_count is not None for item in items):
        return NotEvaluated("adminCount absent de l'annuaire (Samba) ou non collecté")
    return names([a for a in _admins(ctx) if a.admin_count != 1])


@rule(
    id="builtin_admin_recently_used",
    category=PRIVILEGED,
    severity=1,
    points=Fixed(5),
    title_fr="Le compte « Administrateur » intégré sert au quotidien",
    title_en="The built-in Administrator account is used day to day",
    description_fr=(
        "Le compte intégré est connu de tous les attaquants et partagé : on ne sait pas qui "
        "l'utilise. Il doit rester un compte de secours."
    ),
    remediation_fr=(
        "Créer des comptes d'administration nominatifs, ranger le mot de passe de "
        "l'administrateur intégré sous enveloppe et ne plus l'utiliser."
    ),
    command="Get-ADUser -Identity Administrator -Properties LastLogonDate",
    needs=("users",),
)
def builtin_admin_used(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            u
            for u in ctx.enabled_users()
            if rid_of(u.sid) == RID_ADMINISTRATOR
            and (age := ctx.age_days(u.last_logon)) is not None
            and age <= ADMIN_RECENT_LOGON_DAYS
        ]
    )


@rule(
    id="privileged_dormant",
    category=PRIVILEGED,
    severity=2,
    points=PerObject(5, floor=10, cap=20),
    title_fr="Comptes d'administration inutilisés depuis plus de 6 mois",
    title_en="Privileged accounts unused for more than 6 months",
    description_fr=(
        "Un administrateur qui ne se connecte plus (départ, ancien prestataire) garde les clés "
        "du domaine sans que personne ne le surveille."
    ),
    remediation_fr="Désactiver ces comptes, puis les retirer des groupes d'administration.",
    command="Disable-ADAccount -Identity <compte>",
    needs=("users", "groups"),
)
def dormant_admins(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in _admins(ctx)
            if (age := ctx.age_days(ctx.last_activity(a))) is not None and age > ADMIN_INACTIVE_DAYS
        ]
    )


@rule(
    id="privileged_computers",
    category=PRIVILEGED,
    severity=3,
    points=PerObject(10, cap=30),
    title_fr="Ordinateurs membres de groupes d'administration",
    title_en="Computers in privileged groups",
    description_fr=(
        "Quiconque contrôle l'un de ces ordinateurs (un administrateur local, un logiciel "
        "malveillant) devient administrateur du domaine."
    ),
    remediation_fr="Retirer ces ordinateurs des groupes d'administration.",
    command="Remove-ADGroupMember -Identity <groupe> -Members <ordinateur>$",
    needs=("computers", "groups"),
)
def computers_in_admin_groups(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.privileged_users if a.is_computer])


def _delegation_targets_dc(account: Account, ctx: RuleContext) -> bool:
    for spn in account.allowed_to_delegate_to:
        parts = spn.split("/")
        if len(parts) >= 2 and parts[1].split(":")[0].lower() in ctx.dc_dns_names:
            return True
    return False


def _delegating(ctx: RuleContext) -> list[Account]:
    return [a for a in ctx.accounts if is_enabled(a) and not is_domain_controller(a)]


@rule(
    id="vuln2_delegation_t4d",
    anssi="vuln2_delegation_t4d",  # t4d: TRUSTED_FOR_DELEGATION, i.e. unconstrained
    level=2,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(10, floor=20, cap=50),
    exploitable_now=True,
    title_fr="Délégation sans contrainte hors des contrôleurs de domaine",
    title_en="Unconstrained delegation outside domain controllers",
    description_fr=(
        "Ces serveurs gardent une copie réutilisable de l'identité de tous ceux qui s'y "
        "connectent ; un attaquant qui en prend un peut forcer un contrôleur de domaine à s'y "
        "connecter et obtenir le domaine."
    ),
    remediation_fr=(
        "Remplacer par une délégation contrainte vers les seuls services nécessaires, ou la "
        "supprimer."
    ),
    command="Set-ADAccountControl -Identity <compte> -TrustedForDelegation $false",
    needs=("users", "computers"),
)
def unconstrained(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in _delegating(ctx) if a.uac & UAC_TRUSTED_FOR_DELEGATION])


@rule(
    id="vuln1_delegation_t2a4d",
    anssi="vuln1_delegation_t2a4d",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(20, floor=30, cap=50),
    exploitable_now=True,
    title_fr="Délégation avec transition de protocole vers un contrôleur de domaine",
    title_en="Constrained delegation with protocol transition to a domain controller",
    description_fr=(
        "Ce compte peut se faire passer pour n'importe qui, administrateur compris, auprès d'un "
        "contrôleur de domaine, sans mot de passe de la victime : il vaut un administrateur."
    ),
    remediation_fr=(
        "Retirer la délégation vers les services des contrôleurs de domaine et l'option "
        "« utiliser n'importe quel protocole d'authentification »."
    ),
    command="Set-ADAccountControl -Identity <compte> -TrustedToAuthForDelegation $false",
    needs=("users", "computers"),
)
def t2a4d(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in _delegating(ctx)
            if a.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION and _delegation_targets_dc(a, ctx)
        ]
    )


@rule(
    id="vuln1_delegation_a2d2",
    anssi="vuln1_delegation_a2d2",
    level=1,
    category=PRIVILEGED,
    severity=3,
    points=PerObject(10, floor=20, cap=40),
    title_fr="Délégation contrainte vers un service de contrôleur de domaine",
    title_en="Constrained delegation to a domain controller service",
    description_fr=(
        "Quiconque compromet ce compte peut agir au nom des utilisateurs qui s'y connectent "
        "auprès d'un contrôleur de domaine."
    ),
    remediation_fr="Retirer les services des contrôleurs de domaine de la liste de délégation.",
    command="Set-ADAccount -Identity <compte> -Remove @{'msDS-AllowedToDelegateTo'='<SPN>'}",
    needs=("users", "computers"),
)
def a2d2(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in _delegating(ctx)
            if not a.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION and _delegation_targets_dc(a, ctx)
        ]
    )


@rule(
    id="vuln1_delegation_sourcedeleg",
    anssi="vuln1_delegation_sourcedeleg",
    level=1,
    category=PRIVILEGED,
    severity=4,
    points=PerObject(20, floor=30, cap=50),
    exploitable_now=True,
    title_fr="Délégation basée sur les ressources (RBCD) sur un contrôleur ou un administrateur",
    title_en="Resource-based constrained delegation on a domain controller or an admin",
    description_fr=(
        "Les comptes autorisés par cet attribut peuvent se présenter comme n'importe quel "
        "utilisateur auprès du contrôleur de domaine : c'est une porte dérobée classique."
    ),
    remediation_fr=(
        "Vider l'attribut msDS-AllowedToActOnBehalfOfOtherIdentity de ces objets et chercher "
        "qui l'a posé."
    ),
    command="Set-ADComputer -Identity <dc> -PrincipalsAllowedToDelegateToAccount $null",
    needs=("users", "computers"),
)
def rbcd_sensitive(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    sensitive = [*ctx.domain_controllers, *ctx.privileged_users]
    sensitive += [u for u in snapshot.users if rid_of(u.sid) == 502]
    return names([a for a in {a.dn: a for a in sensitive}.values() if a.rbcd])


@rule(
    id="protocol_transition_delegation",
    category=PRIVILEGED,
    severity=2,
    points=PerObject(5, cap=20),
    title_fr="Délégation avec transition de protocole",
    title_en="Constrained delegation with protocol transition",
    description_fr=(
        "Ces comptes peuvent se faire passer pour n'importe quel utilisateur auprès des services "
        "listés, sans son mot de passe."
    ),
    remediation_fr=(
        "Préférer la délégation « Kerberos uniquement » et limiter la liste des services."
    ),
    command="Set-ADAccountControl -Identity <compte> -TrustedToAuthForDelegation $false",
    needs=("users", "computers"),
)
def protocol_transition(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in _delegating(ctx)
            if a.uac & UAC_TRUSTED_TO_AUTH_FOR_DELEGATION and not _delegation_targets_dc(a, ctx)
        ]
    )
