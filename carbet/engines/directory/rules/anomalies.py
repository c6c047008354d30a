"""Anomalies: domain-wide settings and configuration weaknesses."""

from __future__ import annotations

import re

from carbet.engines.directory.model import PasswordPolicy, Snapshot
from carbet.engines.directory.rules.common import AES_BITS, DES_BITS, is_person, names
from carbet.engines.directory.rules.graph import (
    RID_DOMAIN_COMPUTERS,
    RID_DOMAIN_USERS,
    RID_GUEST,
    RID_KRBTGT,
    SID_ANONYMOUS,
    SID_AUTHENTICATED_USERS,
    SID_EVERYONE,
    RuleContext,
    is_domain_controller,
    is_enabled,
    rid_of,
)
from carbet.engines.directory.rules.registry import Evaluation, Hits, NotEvaluated, rule
from carbet.engines.directory.scoring import Fixed, PerObject, Tiered

ANOMALIES = "anomalies"
DAYS_PER_YEAR = 365.25
LOW_PRIVILEGE_SIDS = {SID_EVERYONE, SID_AUTHENTICATED_USERS, SID_ANONYMOUS, "S-1-5-32-545"}
LOW_PRIVILEGE_RIDS = {RID_DOMAIN_USERS, RID_DOMAIN_COMPUTERS}
PASSWORD_IN_TEXT = re.compile(r"(mot de passe|mdp|password|passwd|pwd)\s*[:=]", re.IGNORECASE)


@rule(
    id="vuln2_krbtgt",
    anssi="vuln2_krbtgt",
    level=2,
    category=ANOMALIES,
    severity=3,
    points=Tiered(((1, 20), (2, 30), (3, 40), (4, 50)), unit="ans"),
    title_fr="Mot de passe du compte krbtgt inchangé depuis plus d'un an",
    title_en="krbtgt password unchanged for more than a year",
    description_fr=(
        "Le secret du compte krbtgt signe tous les tickets du domaine : s'il a été volé un jour "
        "(ancienne intrusion, sauvegarde), l'attaquant peut fabriquer des tickets d'administrateur "
        "(« golden ticket ») tant qu'il n'a pas changé."
    ),
    remediation_fr=(
        "Changer le mot de passe du compte krbtgt deux fois, à au moins 10 heures d'intervalle "
        "(le temps de la réplication), puis une fois par an."
    ),
    command="Set-ADAccountPassword -Identity krbtgt -Reset  # deux fois, à 10 h d'intervalle",
    needs=("domain.krbtgt_pwd_last_set",),
)
def krbtgt_age(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    last_set = snapshot.domain.krbtgt_pwd_last_set
    if last_set is None:
        krbtgt = [u for u in snapshot.users if rid_of(u.sid) == RID_KRBTGT]
        last_set = krbtgt[0].pwd_last_set if krbtgt else None
    age = ctx.age_days(last_set)
    if age is None:
        return NotEvaluated("date du dernier changement du mot de passe krbtgt inconnue")
    years = age / DAYS_PER_YEAR
    return Hits(objects=["krbtgt"], measure=years) if years >= 1 else []


@rule(
    id="guest_enabled",
    category=ANOMALIES,
    severity=3,
    points=Fixed(15),
    title_fr="Compte Invité activé",
    title_en="Guest account enabled",
    description_fr="Le compte Invité donne un accès au domaine sans identité ni mot de passe.",
    remediation_fr="Désactiver le compte Invité.",
    command="Disable-ADAccount -Identity Guest",
    needs=("users",),
)
def guest(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([u for u in ctx.enabled_users() if rid_of(u.sid) == RID_GUEST])


def _policy_label(policy: PasswordPolicy) -> str:
    return "politique par défaut" if policy.name == "default" else f"PSO : {policy.name}"


def _weak(policy: PasswordPolicy) -> bool:
    return policy.min_length < 8 or (not policy.complexity and policy.min_length < 14)


@rule(
    id="weak_password_policy",
    category=ANOMALIES,
    severity=3,
    points=Fixed(10),
    title_fr="Politique de mots de passe trop faible",
    title_en="Weak password policy",
    description_fr=(
        "Moins de 8 caractères, ou moins de 14 sans exigence de complexité : ces mots de passe "
        "se devinent ou se cassent en quelques heures."
    ),
    remediation_fr=(
        "Exiger au moins 12 caractères (14 pour les administrateurs), la complexité, et "
        "interdire les mots de passe courants."
    ),
    command=(
        "Set-ADDefaultDomainPasswordPolicy -Identity <domaine> -MinPasswordLength 12 "
        "-ComplexityEnabled $true"
    ),
    needs=("domain.password_policy",),
)
def weak_policy(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    policy = snapshot.domain.password_policy
    return [_policy_label(policy)] if _weak(policy) else []


@rule(
    id="password_length_below_12",
    category=ANOMALIES,
    severity=1,
    points=Fixed(2),
    title_fr="Longueur minimale des mots de passe inférieure à 12 caractères",
    title_en="Minimum password length below 12 characters",
    description_fr=(
        "L'ANSSI et la CNIL recommandent au moins 12 caractères avec complexité pour les "
        "comptes des utilisateurs."
    ),
    remediation_fr="Porter la longueur minimale à 12 caractères.",
    command="Set-ADDefaultDomainPasswordPolicy -Identity <domaine> -MinPasswordLength 12",
    needs=("domain.password_policy",),
)
def short_policy(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    policy = snapshot.domain.password_policy
    return [_policy_label(policy)] if not _weak(policy) and policy.min_length < 12 else []


@rule(
    id="no_lockout",
    category=ANOMALIES,
    severity=2,
    points=Fixed(10),
    title_fr="Aucun verrouillage après des essais de mot de passe ratés",
    title_en="No account lockout after failed password attempts",
    description_fr=(
        "Sans verrouillage, un attaquant peut essayer des milliers de mots de passe sur chaque "
        "compte sans être arrêté ni remarqué."
    ),
    remediation_fr=(
        "Verrouiller le compte quelques minutes après 5 à 10 essais ratés (seuil et durée à "
        "adapter pour ne pas bloquer les soignants)."
    ),
    command=(
        "Set-ADDefaultDomainPasswordPolicy -Identity <domaine> -LockoutThreshold 10 "
        "-LockoutDuration 00:15:00"
    ),
    needs=("domain.password_policy",),
)
def no_lockout(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    policy = snapshot.domain.password_policy
    return [_policy_label(policy)] if policy.lockout_threshold == 0 else []


@rule(
    id="pso_weak",
    category=ANOMALIES,
    severity=2,
    points=PerObject(5, cap=15),
    title_fr="Politique de mots de passe affinée (PSO) plus faible que nécessaire",
    title_en="Fine-grained password policy (PSO) that is too weak",
    description_fr=(
        "Une politique affinée remplace la politique du domaine pour les comptes visés : "
        "faible, elle y ouvre une brèche (mots de passe courts, pas de verrouillage)."
    ),
    remediation_fr="Renforcer la politique affinée ou la retirer.",
    command=(
        "Set-ADFineGrainedPasswordPolicy -Identity <PSO> -MinPasswordLength 12 -LockoutThreshold 10"
    ),
    needs=("psos",),
)
def weak_pso(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return sorted(
        _policy_label(p)
        for p in snapshot.psos
        if p.applies_to and (_weak(p) or p.lockout_threshold == 0 or p.reversible)
    )


@rule(
    id="pso_unused",
    category=ANOMALIES,
    severity=0,
    points=Fixed(1),
    title_fr="Politique de mots de passe affinée (PSO) appliquée à personne",
    title_en="Fine-grained password policy (PSO) applied to nobody",
    description_fr=(
        "Une politique affinée sans cible est un reste oublié : elle trompe celui qui croit "
        "qu'elle protège quelqu'un."
    ),
    remediation_fr="Appliquer la politique aux groupes voulus ou la supprimer.",
    command="Get-ADFineGrainedPasswordPolicy -Filter * | Select-Object Name, AppliesTo",
    needs=("psos",),
)
def unused_pso(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return sorted(_policy_label(p) for p in snapshot.psos if not p.applies_to)


@rule(
    id="gpp_passwords",
    category=ANOMALIES,
    severity=4,
    points=PerObject(20, floor=40, cap=60),
    exploitable_now=True,
    title_fr="Mots de passe dans les préférences de stratégie de groupe (SYSVOL)",
    title_en="Passwords in Group Policy Preferences (SYSVOL)",
    description_fr=(
        "Ces mots de passe sont lisibles par tout utilisateur du domaine : la clé qui les "
        "protège a été publiée par Microsoft en 2012."
    ),
    remediation_fr=(
        "Supprimer ces fichiers des stratégies de groupe, changer les mots de passe concernés "
        "et utiliser LAPS pour les administrateurs locaux."
    ),
    command="findstr /S /I cpassword \\\\<domaine>\\SYSVOL\\<domaine>\\Policies\\*.xml",
    needs=("gpp_passwords", "sysvol"),
)
def gpp(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    found = []
    for entry in snapshot.gpp_passwords:
        gpo = entry.get("gpo") or "?"
        user = entry.get("user") or ""
        path = entry.get("path") or ""
        label = f"{gpo} : {user}" if user else gpo
        found.append(f"{label} ({path})" if path else label)
    return sorted(set(found))


@rule(
    id="vuln4_user_accounts_machineaccountquota",
    anssi="vuln4_user_accounts_machineaccountquota",
    level=4,
    category=ANOMALIES,
    severity=2,
    points=Fixed(5),
    title_fr="Tout utilisateur peut ajouter des ordinateurs au domaine",
    title_en="Any user can join computers to the domain",
    description_fr=(
        "Par défaut chaque utilisateur peut créer 10 comptes d'ordinateur : un point d'appui "
        "utilisé par de nombreuses attaques (délégation, relais)."
    ),
    remediation_fr=(
        "Mettre ms-DS-MachineAccountQuota à 0 et déléguer la jonction au domaine à un groupe dédié."
    ),
    command="Set-ADDomain -Identity <domaine> -Replace @{'ms-DS-MachineAccountQuota'=0}",
    needs=("domain.machine_account_quota",),
)
def machine_account_quota(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    quota = snapshot.domain.machine_account_quota
    if quota is None:
        return NotEvaluated("ms-DS-MachineAccountQuota non collecté")
    return [f"ms-DS-MachineAccountQuota = {quota}"] if quota > 0 else []


@rule(
    id="vuln1_dsheuristics_bad",
    anssi="vuln1_dsheuristics_bad",
    level=1,
    category=ANOMALIES,
    severity=3,
    points=Fixed(15),
    title_fr="Réglages dangereux de dSHeuristics",
    title_en="Dangerous dSHeuristics settings",
    description_fr=(
        "dSHeuristics peut ouvrir l'annuaire en lecture aux connexions anonymes ou soustraire "
        "des groupes d'opérateurs à la protection des comptes d'administration."
    ),
    remediation_fr="Remettre les caractères concernés de dSHeuristics à leur valeur par défaut.",
    command=(
        "Get-ADObject 'CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,"
        "<DN de la forêt>' -Properties dSHeuristics"
    ),
    needs=("domain.ds_heuristics",),
)
def ds_heuristics(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    value = snapshot.domain.ds_heuristics
    found = []
    if len(value) >= 7 and value[6] == "2":
        found.append("fLDAPBlockAnonOps = 2 (lecture anonyme de l'annuaire)")
    if len(value) >= 16 and value[15] not in "0":
        found.append(f"dwAdminSDExMask = {value[15]} (opérateurs exclus d'AdminSDHolder)")
    return found


def _sid_of_member(member: str) -> str:
    """Members of Pre-Windows 2000 come as SIDs or as foreign security principal DNs."""
    if member.upper().startswith("CN=S-1-"):
        return member[3:].split(",", 1)[0]
    return member


def _pre2000(snapshot: Snapshot, wanted: set[str], ctx: RuleContext) -> list[str]:
    sids = {_sid_of_member(m) for m in snapshot.domain.pre2000_members}
    return sorted(ctx.name_of_sid(sid) for sid in sids & wanted)


@rule(
    id="vuln2_compatible_2000_anonymous",
    anssi="vuln2_compatible_2000_anonymous",
    level=2,
    category=ANOMALIES,
    severity=3,
    points=Fixed(10),
    title_fr="Accès anonyme par le groupe « Accès compatible pré-Windows 2000 »",
    title_en="Anonymous access through Pre-Windows 2000 Compatible Access",
    description_fr=(
        "Avec « Anonyme » ou « Tout le monde » dans ce groupe, n'importe qui sur le réseau peut "
        "lister les comptes et les groupes sans s'identifier."
    ),
    remediation_fr="Retirer « Anonyme » et « Tout le monde » du groupe.",
    command=(
        "Remove-ADGroupMember -Identity 'Pre-Windows 2000 Compatible Access' -Members 'S-1-5-7'"
    ),
    needs=("domain.pre2000_members",),
)
def pre2000_anonymous(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _pre2000(snapshot, {SID_ANONYMOUS, SID_EVERYONE}, ctx)


@rule(
    id="pre2000_authenticated_users",
    category=ANOMALIES,
    severity=1,
    points=Fixed(2),
    title_fr="« Utilisateurs authentifiés » dans « Accès compatible pré-Windows 2000 »",
    title_en="Authenticated Users in Pre-Windows 2000 Compatible Access",
    description_fr=(
        "Tout compte, même d'ordinateur, peut lire des attributs sensibles de tous les comptes."
    ),
    remediation_fr="Retirer « Utilisateurs authentifiés » du groupe après un test.",
    command=(
        "Remove-ADGroupMember -Identity 'Pre-Windows 2000 Compatible Access' -Members 'S-1-5-11'"
    ),
    needs=("domain.pre2000_members",),
)
def pre2000_authenticated(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _pre2000(snapshot, {SID_AUTHENTICATED_USERS}, ctx)


@rule(
    id="vuln1_dnszone_bad_prop",
    anssi="vuln1_dnszone_bad_prop",
    level=1,
    category=ANOMALIES,
    severity=3,
    points=PerObject(10, floor=15, cap=30),
    title_fr="Zones DNS acceptant les mises à jour non sécurisées",
    title_en="DNS zones accepting insecure dynamic updates",
    description_fr=(
        "N'importe quel appareil du réseau, sans compte, peut créer ou détourner un nom DNS et "
        "attirer vers lui les connexions (et les mots de passe) des autres."
    ),
    remediation_fr="Passer les zones en « mises à jour sécurisées uniquement ».",
    command="Set-DnsServerPrimaryZone -Name <zone> -DynamicUpdate Secure",
    needs=("dns_zones",),
)
def insecure_dns(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return sorted(z.name for z in snapshot.dns_zones if z.dynamic_update == "nonsecure_and_secure")


def _low_privileged(sid: str) -> bool:
    return sid in LOW_PRIVILEGE_SIDS or rid_of(sid) in LOW_PRIVILEGE_RIDS


@rule(
    id="vuln1_adcs_template_auth_enroll_with_name",
    anssi="vuln1_adcs_template_auth_enroll_with_name",
    level=1,
    category=ANOMALIES,
    severity=4,
    points=PerObject(20, floor=40, cap=60),
    exploitable_now=True,
    samba=False,
    title_fr="Modèles de certificat permettant de se faire passer pour un administrateur (ESC1)",
    title_en="Certificate templates that let anyone impersonate an admin (ESC1)",
    description_fr=(
        "Tout utilisateur peut demander un certificat d'authentification au nom de qui il veut, "
        "administrateur compris, sans validation : il devient administrateur en une commande."
    ),
    remediation_fr=(
        "Sur ces modèles, retirer « le sujet est fourni dans la demande », ou exiger "
        "l'approbation d'un gestionnaire, ou limiter l'inscription à un groupe restreint."
    ),
    command="certutil -dstemplate <modèle> msPKI-Certificate-Name-Flag -ENROLLEE_SUPPLIES_SUBJECT",
    needs=("cert_templates",),
)
def esc1(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return sorted(
        t.name
        for t in snapshot.cert_templates
        if t.published
        and t.enrollee_supplies_subject
        and t.client_auth
        and not t.manager_approval
        and any(_low_privileged(sid) for sid in t.enroll_sids)
    )


@rule(
    id="vuln3_kerberos_properties_encryption",
    anssi="vuln3_kerberos_properties_encryption",
    level=3,
    category=ANOMALIES,
    severity=2,
    points=PerObject(1, floor=5, cap=15),
    title_fr="Comptes n'acceptant pas le chiffrement AES pour Kerberos",
    title_en="Accounts without AES Kerberos encryption",
    description_fr=(
        "Sans AES, les tickets de ces comptes sont chiffrés en RC4 ou DES, bien plus faciles à "
        "casser."
    ),
    remediation_fr="Autoriser AES128 et AES256 sur ces comptes, puis changer leur mot de passe.",
    command="Set-ADUser -Identity <compte> -KerberosEncryptionType AES128,AES256",
    needs=("users", "computers"),
)
def weak_encryption(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            a
            for a in ctx.accounts
            if is_enabled(a)
            and a.supported_enc_types
            and (a.supported_enc_types & DES_BITS or not a.supported_enc_types & AES_BITS)
        ]
    )


@rule(
    id="kerberoastable_users",
    category=ANOMALIES,
    severity=2,
    points=PerObject(2, floor=5, cap=20),
    title_fr="Comptes utilisateurs exposés au Kerberoasting (nom de service)",
    title_en="Kerberoastable user accounts (service principal name)",
    description_fr=(
        "Tout utilisateur du domaine peut obtenir un ticket chiffré avec le mot de passe de ces "
        "comptes de service et le casser hors ligne s'il est faible."
    ),
    remediation_fr=(
        "Utiliser des comptes de service gérés (gMSA) ; à défaut, des mots de passe d'au moins "
        "25 caractères et AES uniquement."
    ),
    command=(
        "Get-ADUser -Filter 'ServicePrincipalName -like \"*\"' -Properties ServicePrincipalName"
    ),
    needs=("users", "groups"),
)
def kerberoastable(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [u for u in ctx.enabled_users() if u.spns and is_person(u) and not ctx.is_privileged(u)]
    )


@rule(
    id="laps_not_installed",
    category=ANOMALIES,
    severity=3,
    points=Fixed(15),
    title_fr="LAPS absent : même mot de passe administrateur local partout",
    title_en="LAPS not deployed: the same local admin password everywhere",
    description_fr=(
        "Sans LAPS, le mot de passe administrateur local est souvent identique sur tous les "
        "postes : un poste pris, et l'attaquant se déplace sur tous les autres."
    ),
    remediation_fr=(
        "Déployer Windows LAPS (intégré à Windows depuis 2023) par stratégie de groupe."
    ),
    command="Update-LapsADSchema; Set-LapsADComputerSelfPermission -Identity <OU>",
    needs=("domain.laps_schema",),
    samba=False,
)
def laps_absent(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return [] if snapshot.domain.laps_schema else [snapshot.domain.dns_name or "domaine"]


@rule(
    id="laps_coverage",
    category=ANOMALIES,
    severity=2,
    points=PerObject(1, floor=5, cap=20),
    title_fr="Ordinateurs sans mot de passe LAPS à jour",
    title_en="Computers without a current LAPS password",
    description_fr=(
        "Sur ces ordinateurs, le mot de passe administrateur local n'est pas géré par LAPS ou "
        "ne tourne plus."
    ),
    remediation_fr="Appliquer la stratégie LAPS à ces ordinateurs et vérifier qu'ils la reçoivent.",
    command="Get-LapsADPassword -Identity <ordinateur>",
    needs=("computers", "laps", "domain.laps_schema"),
    samba=False,
)
def laps_missing(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    if not snapshot.domain.laps_schema:
        return NotEvaluated("schéma LAPS absent : voir la règle laps_not_installed")
    stale = []
    for computer in ctx.enabled_computers():
        if is_domain_controller(computer):
            continue
        overdue = ctx.age_days(computer.laps_expiry)
        if computer.laps_expiry is None or (overdue is not None and overdue > 30):
            stale.append(computer)
    return names(stale)


@rule(
    id="single_dc",
    category=ANOMALIES,
    severity=1,
    points=Fixed(5),
    title_fr="Un seul contrôleur de domaine",
    title_en="A single domain controller",
    description_fr=(
        "Si l'unique contrôleur tombe (panne, rançongiciel), plus personne ne peut ouvrir de "
        "session : le domaine entier s'arrête."
    ),
    remediation_fr=(
        "Ajouter un second contrôleur de domaine et sauvegarder l'annuaire hors ligne."
    ),
    command="Get-ADDomainController -Filter * | Select-Object Name, Site",
    needs=("computers",),
    samba=False,  # the test directory has a single DC: the clean case cannot be built
)
def single_dc(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    dcs = [dc for dc in ctx.domain_controllers if is_enabled(dc)]
    if not dcs:
        return NotEvaluated("aucun contrôleur de domaine dans l'instantané")
    return names(dcs) if len(dcs) == 1 else []


@rule(
    id="recycle_bin_disabled",
    category=ANOMALIES,
    severity=1,
    points=Fixed(3),
    title_fr="Corbeille Active Directory désactivée",
    title_en="Active Directory Recycle Bin disabled",
    description_fr=(
        "Sans corbeille, un compte ou un groupe supprimé par erreur ou par malveillance ne se "
        "restaure qu'à partir d'une sauvegarde."
    ),
    remediation_fr="Activer la corbeille Active Directory (l'opération est irréversible).",
    command=(
        "Enable-ADOptionalFeature 'Recycle Bin Feature' -Scope ForestOrConfigurationSet "
        "-Target <forêt>"
    ),
    needs=("domain.recycle_bin",),
    samba=False,
)
def recycle_bin(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    if snapshot.domain.recycle_bin is None:
        return NotEvaluated("état de la corbeille Active Directory non collecté")
    return [] if snapshot.domain.recycle_bin else [snapshot.domain.dns_name or "domaine"]


@rule(
    id="password_in_description",
    category=ANOMALIES,
    severity=3,
    points=PerObject(10, floor=10, cap=30),
    title_fr="Mot de passe écrit dans la description d'un compte",
    title_en="Password written in an account description",
    description_fr=(
        "La description d'un compte est lisible par tous les utilisateurs du domaine : un mot "
        "de passe écrit là est un mot de passe publié."
    ),
    remediation_fr="Effacer ces descriptions et changer les mots de passe concernés.",
    command="Set-ADUser -Identity <compte> -Clear description",
    needs=("users", "computers"),
    needs_clear_names=True,
)
def password_in_description(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names([a for a in ctx.accounts if PASSWORD_IN_TEXT.search(a.description)])
