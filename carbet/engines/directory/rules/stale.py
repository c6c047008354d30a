"""Stale objects: forgotten accounts, old systems, settings left from another era."""

from __future__ import annotations

from typing import Any

from carbet.engines.directory.model import (
    UAC_DONT_EXPIRE_PASSWORD,
    UAC_DONT_REQ_PREAUTH,
    UAC_ENCRYPTED_TEXT_PWD_ALLOWED,
    UAC_PASSWD_NOTREQD,
    UAC_SMARTCARD_REQUIRED,
    UAC_USE_DES_KEY_ONLY,
    Snapshot,
)
from carbet.engines.directory.rules.common import (
    is_person,
    names,
)
from carbet.engines.directory.rules.graph import (
    RID_DOMAIN_COMPUTERS,
    RID_DOMAIN_CONTROLLERS,
    RID_DOMAIN_GUESTS,
    RID_DOMAIN_USERS,
    RID_GUEST,
    RID_RODCS,
    RuleContext,
    is_domain_controller,
    is_enabled,
    rid_of,
)
from carbet.engines.directory.rules.registry import Evaluation, rule
from carbet.engines.directory.scoring import Fixed, PerObject

STALE = "stale_objects"
USER_INACTIVE_DAYS = 180
COMPUTER_INACTIVE_DAYS = 180


_DORMANT_COMMAND = (
    "Search-ADAccount -AccountInactive -TimeSpan 180.00:00:00 -UsersOnly | "
    "Where-Object Enabled | Disable-ADAccount"
)
DORMANT_SHARE_PERCENT = 25
MIN_ACTIVE_USERS = 10


def _dormant(ctx: RuleContext) -> list[Any]:
    return ctx.memo(
        "dormant_users",
        lambda: [
            u
            for u in ctx.enabled_users()
            if is_person(u)
            and (age := ctx.age_days(ctx.last_activity(u))) is not None
            and age > USER_INACTIVE_DAYS
        ],
    )


@rule(
    id="vuln1_user_accounts_dormant",
    anssi="vuln1_user_accounts_dormant",
    level=1,
    category=STALE,
    severity=3,
    points=Fixed(10),
    title_fr="Un quart des comptes utilisateurs ou plus sont dormants",
    title_en="A quarter or more of the user accounts are dormant",
    description_fr=(
        "Quand un compte sur quatre n'est plus utilisé depuis 6 mois, les départs ne sont plus "
        "suivis : personne ne remarquera qu'un de ces comptes sert à un attaquant."
    ),
    remediation_fr=(
        "Mettre en place une procédure de départ avec les ressources humaines, désactiver les "
        "comptes inutilisés depuis 6 mois, puis les supprimer après un délai de conservation."
    ),
    command=_DORMANT_COMMAND,
    needs=("users",),
)
def dormant_share(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    # ANSSI / PingCastle: dormant enabled accounts are 25 % or more of all user accounts, in
    # a domain with more than 10 accounts in use.
    dormant = _dormant(ctx)
    people = [u for u in snapshot.users if is_person(u)]
    active = len([u for u in ctx.enabled_users() if is_person(u)]) - len(dormant)
    if active <= MIN_ACTIVE_USERS or not people:
        return []
    share = 100 * len(dormant) // len(people)
    return names(dormant) if share >= DORMANT_SHARE_PERCENT else []


@rule(
    id="stale_users_inactive",
    category=STALE,
    severity=2,
    points=PerObject(1, floor=5, cap=30),
    title_fr="Comptes utilisateurs actifs mais inutilisés depuis plus de 6 mois",
    title_en="Enabled user accounts unused for more than 6 months",
    description_fr=(
        "Un compte oublié (ancien salarié, stagiaire, prestataire) reste une porte ouverte : "
        "personne ne remarquera qu'il est utilisé par un attaquant."
    ),
    remediation_fr=(
        "Désactiver les comptes inutilisés depuis plus de 6 mois, puis les supprimer après un "
        "délai de conservation ; mettre en place une procédure de départ."
    ),
    command=_DORMANT_COMMAND,
    needs=("users",),
)
def dormant_users(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(_dormant(ctx))


@rule(
    id="stale_computers_inactive",
    category=STALE,
    severity=1,
    points=PerObject(1, cap=20),
    title_fr="Ordinateurs actifs mais absents du réseau depuis plus de 6 mois",
    title_en="Enabled computers not seen for more than 6 months",
    description_fr=(
        "Un ordinateur disparu (vendu, volé, jeté) garde son compte : son secret permet encore de "
        "s'authentifier sur le domaine."
    ),
    remediation_fr="Désactiver puis supprimer les comptes des ordinateurs qui ne sont plus là.",
    command=(
        "Search-ADAccount -AccountInactive -TimeSpan 180.00:00:00 -ComputersOnly | "
        "Where-Object Enabled | Disable-ADAccount"
    ),
    needs=("computers",),
)
def inactive_computers(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            c
            for c in ctx.enabled_computers()
            if not is_domain_controller(c)
            and (age := ctx.age_days(ctx.last_activity(c))) is not None
            and age > COMPUTER_INACTIVE_DAYS
        ]
    )


@rule(
    id="vuln2_dont_expire",
    anssi="vuln2_dont_expire",
    level=2,
    category=STALE,
    severity=2,
    points=PerObject(1, cap=20),
    title_fr="Comptes dont le mot de passe n'expire jamais",
    title_en="Accounts whose password never expires",
    description_fr=(
        "Un mot de passe qui ne change jamais finit par fuiter (réutilisation, ancien "
        "collaborateur) et reste valable indéfiniment."
    ),
    remediation_fr=(
        "Retirer l'option « le mot de passe n'expire jamais » ; pour les comptes de service, "
        "utiliser des comptes de service gérés (gMSA) qui changent seuls de mot de passe."
    ),
    command="Set-ADUser -Identity <compte> -PasswordNeverExpires $false",
    needs=("users", "groups"),
)
def never_expires(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            u
            for u in ctx.enabled_users()
            if u.uac & UAC_DONT_EXPIRE_PASSWORD and is_person(u) and not ctx.is_privileged(u)
        ]
    )


@rule(
    id="password_not_required",
    category=STALE,
    severity=3,
    points=PerObject(2, floor=5, cap=30),
    title_fr="Comptes autorisés à avoir un mot de passe vide",
    title_en="Accounts allowed to have an empty password",
    description_fr=(
        "L'option PASSWD_NOTREQD permet un mot de passe vide, ignorant la politique du domaine : "
        "un attaquant peut essayer de se connecter sans mot de passe."
    ),
    remediation_fr="Retirer l'option et imposer un mot de passe conforme à la politique.",
    command="Set-ADAccountControl -Identity <compte> -PasswordNotRequired $false",
    needs=("users", "computers"),
)
def password_not_required(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.accounts if is_enabled(a) and a.uac & UAC_PASSWD_NOTREQD])


@rule(
    id="vuln3_reversible_password",
    anssi="vuln3_reversible_password",
    level=3,
    category=STALE,
    severity=3,
    points=Fixed(5),
    title_fr="Mots de passe stockés de façon réversible",
    title_en="Passwords stored with reversible encryption",
    description_fr=(
        "Avec le chiffrement réversible, le mot de passe en clair peut être retrouvé à partir de "
        "la base de l'annuaire : une sauvegarde volée suffit."
    ),
    remediation_fr=(
        "Désactiver le chiffrement réversible dans la politique de mots de passe et sur les "
        "comptes, puis faire changer les mots de passe concernés."
    ),
    command="Set-ADAccountControl -Identity <compte> -AllowReversiblePasswordEncryption $false",
    # PSOs are usually unreadable by a non-admin account: the rule still checks the accounts
    # and the default policy, and the PSOs it was given (pso_weak says when they are missing).
    needs=("users", "computers", "domain.password_policy"),
)
def reversible(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    found = names([a for a in ctx.accounts if a.uac & UAC_ENCRYPTED_TEXT_PWD_ALLOWED])
    policies = [snapshot.domain.password_policy, *snapshot.psos]
    found += [f"politique : {p.name}" for p in policies if p.reversible]
    return found


@rule(
    id="vuln2_kerberos_properties_deskey",
    anssi="vuln2_kerberos_properties_deskey",
    level=2,
    category=STALE,
    severity=3,
    points=PerObject(5, cap=15),
    title_fr="Comptes limités au chiffrement DES, cassé depuis longtemps",
    title_en="Accounts restricted to DES Kerberos encryption",
    description_fr=(
        "DES se casse en quelques heures : les tickets de ces comptes révèlent leur secret."
    ),
    remediation_fr="Retirer l'option « utiliser uniquement DES » et changer le mot de passe.",
    command="Set-ADAccountControl -Identity <compte> -UseDESKeyOnly $false",
    needs=("users", "computers"),
)
def des_only(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.accounts if is_enabled(a) and a.uac & UAC_USE_DES_KEY_ONLY])


@rule(
    id="vuln2_kerberos_properties_preauth",
    anssi="vuln2_kerberos_properties_preauth",
    level=2,
    category=STALE,
    severity=3,
    points=PerObject(5, cap=20),
    title_fr="Comptes sans pré-authentification Kerberos (AS-REP roasting)",
    title_en="Accounts without Kerberos pre-authentication (AS-REP roasting)",
    description_fr=(
        "N'importe qui peut demander pour ces comptes une réponse chiffrée avec leur mot de "
        "passe et la casser tranquillement hors ligne."
    ),
    remediation_fr="Réactiver la pré-authentification Kerberos sur ces comptes.",
    command="Set-ADAccountControl -Identity <compte> -DoesNotRequirePreAuth $false",
    needs=("users", "groups"),
)
def no_preauth(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in ctx.accounts
            if is_enabled(a) and a.uac & UAC_DONT_REQ_PREAUTH and not ctx.is_privileged(a)
        ]
    )


@rule(
    id="vuln3_primary_group_id_nochange",
    anssi="vuln3_primary_group_id_nochange",
    level=3,
    category=STALE,
    severity=2,
    points=PerObject(5, cap=15),
    title_fr="Groupe principal modifié (appartenance cachée)",
    title_en="Modified primary group (hidden membership)",
    description_fr=(
        "Le groupe principal n'apparaît pas dans la liste des membres d'un groupe : le changer "
        "est une façon classique de cacher un compte dans un groupe d'administration."
    ),
    remediation_fr=(
        "Remettre le groupe principal par défaut (« Utilisateurs du domaine » pour un "
        "utilisateur, « Ordinateurs du domaine » pour un poste)."
    ),
    command="Set-ADUser -Identity <compte> -Replace @{primaryGroupID=513}",
    needs=("users", "computers"),
)
def primary_group(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    found = []
    for account in ctx.accounts:
        if is_domain_controller(account):
            expected = {RID_DOMAIN_CONTROLLERS, RID_RODCS}
        elif account.is_computer:
            expected = {RID_DOMAIN_COMPUTERS}
        elif rid_of(account.sid) == RID_GUEST:
            expected = {RID_DOMAIN_GUESTS}
        else:
            expected = {RID_DOMAIN_USERS}
        if account.primary_group_id not in expected:
            found.append(account)
    return names(found)


@rule(
    id="vuln3_sidhistory_present",
    anssi="vuln3_sidhistory_present",
    level=3,
    category=STALE,
    severity=1,
    points=PerObject(1, floor=5, cap=15),
    title_fr="Comptes portant un historique de SID (sIDHistory)",
    title_en="Accounts carrying a SID history",
    description_fr=(
        "Un historique de SID, reste d'une migration, donne à un compte les droits d'un autre "
        "compte, invisibles dans les groupes."
    ),
    remediation_fr="Une fois la migration terminée, vider l'attribut sIDHistory des comptes.",
    command="Set-ADUser -Identity <compte> -Remove @{sIDHistory='<SID>'}",
    needs=("users", "computers"),
)
def sid_history(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.accounts if a.sid_history])


@rule(
    id="vuln4_smartcard_expire_passwords",
    anssi="vuln4_smartcard_expire_passwords",
    level=4,
    category=STALE,
    severity=1,
    points=PerObject(1, cap=10),
    title_fr="Comptes à carte à puce dont le secret ne change jamais",
    title_en="Smart-card accounts whose secret never rotates",
    description_fr=(
        "Avec une carte à puce, le secret caché du compte ne change que si on le force : volé "
        "une fois, il reste utilisable sans la carte."
    ),
    remediation_fr=(
        "Activer la rotation automatique des secrets des comptes à carte à puce (niveau "
        "fonctionnel 2016) ou décocher puis recocher l'option chaque année."
    ),
    command=(
        "Set-ADDomain -Identity <domaine> -Replace "
        "@{'msDS-ExpirePasswordsOnSmartCardOnlyAccounts'=$true}"
    ),
    needs=("users",),
)
def smartcard_rotation(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    found = []
    for user in ctx.enabled_users():
        if not user.uac & UAC_SMARTCARD_REQUIRED:
            continue
        age = ctx.age_days(user.pwd_last_set)
        if user.uac & UAC_DONT_EXPIRE_PASSWORD or (age is not None and age > 365):
            found.append(user)
    return names(found)
