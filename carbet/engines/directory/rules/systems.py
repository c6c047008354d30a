"""Stale objects, systems side: operating systems past support, functional levels, machine
secrets that stopped rotating, inconsistent domain controller accounts."""

from __future__ import annotations

from carbet.engines.directory.model import (
    UAC_PARTIAL_SECRETS_ACCOUNT,
    UAC_PASSWD_NOTREQD,
    UAC_SERVER_TRUST_ACCOUNT,
    UAC_TRUSTED_FOR_DELEGATION,
    Snapshot,
)
from carbet.engines.directory.rules.common import (
    FUNCTIONAL_LEVEL_NAMES,
    names,
    os_family_out_of_support,
)
from carbet.engines.directory.rules.graph import (
    RID_DOMAIN_CONTROLLERS,
    RID_RODCS,
    RuleContext,
    is_domain_controller,
    is_enabled,
)
from carbet.engines.directory.rules.registry import Evaluation, Evaluator, NotEvaluated, rule
from carbet.engines.directory.scoring import Fixed, PerObject

STALE = "stale_objects"
COMPUTER_INACTIVE_DAYS = 180
DC_PASSWORD_DAYS = 45


def _os_rule(family: str) -> Evaluator:
    def evaluate(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
        return names(
            [
                c
                for c in ctx.enabled_computers()
                if not is_domain_controller(c)
                and os_family_out_of_support(c.os_name, ctx.now) == family
            ]
        )

    return evaluate


_OS_REMEDY = (
    "Remplacer ou mettre à jour ces systèmes ; à défaut, les isoler du reste du réseau "
    "(équipements biomédicaux : voir avec le fabricant) et le documenter."
)
_OS_COMMAND = (
    "Get-ADComputer -Filter 'Enabled -eq $true' -Properties OperatingSystem | "
    "Group-Object OperatingSystem"
)

rule(
    id="obsolete_os_legacy",
    category=STALE,
    severity=4,
    points=PerObject(5, floor=15, cap=40),
    title_fr="Ordinateurs sous Windows NT, 2000, XP ou 2003",
    title_en="Computers running Windows NT, 2000, XP or 2003",
    description_fr=(
        "Ces systèmes ne reçoivent plus de correctifs depuis plus de dix ans : des failles "
        "publiques permettent d'en prendre le contrôle à distance."
    ),
    remediation_fr=_OS_REMEDY,
    command=_OS_COMMAND,
    needs=("computers",),
)(_os_rule("legacy"))
rule(
    id="obsolete_os_2008",
    category=STALE,
    severity=3,
    points=PerObject(2, floor=10, cap=30),
    title_fr="Ordinateurs sous Windows Vista, 7, Server 2008 ou 2008 R2",
    title_en="Computers running Windows Vista, 7, Server 2008 or 2008 R2",
    description_fr="Ces systèmes ne sont plus maintenus depuis janvier 2020.",
    remediation_fr=_OS_REMEDY,
    command=_OS_COMMAND,
    needs=("computers",),
)(_os_rule("2008"))
rule(
    id="obsolete_os_2012",
    category=STALE,
    severity=2,
    points=PerObject(1, floor=5, cap=20),
    title_fr="Ordinateurs sous Windows 8, Server 2012 ou 2012 R2",
    title_en="Computers running Windows 8, Server 2012 or 2012 R2",
    description_fr="Ces systèmes ne sont plus maintenus depuis 2023.",
    remediation_fr=_OS_REMEDY,
    command=_OS_COMMAND,
    needs=("computers",),
)(_os_rule("2012"))
rule(
    id="obsolete_os_windows10",
    category=STALE,
    severity=2,
    points=PerObject(1, floor=5, cap=15),
    title_fr="Postes sous Windows 10 hors support",
    title_en="Workstations running Windows 10 past its end of support",
    description_fr=(
        "Windows 10 n'est plus maintenu depuis octobre 2025 (sauf éditions LTSC ou contrat de "
        "support étendu) : les nouvelles failles ne seront plus corrigées."
    ),
    remediation_fr=(
        "Passer ces postes à Windows 11 ou souscrire le support étendu (ESU) le temps de le faire."
    ),
    command=_OS_COMMAND,
    needs=("computers",),
)(_os_rule("windows10"))


@rule(
    id="vuln1_warning_dc_obsolete",
    anssi="vuln1_warning_dc_obsolete",
    level=1,
    category=STALE,
    severity=4,
    points=PerObject(10, floor=20, cap=40),
    title_fr="Contrôleurs de domaine sous un système qui n'est plus maintenu",
    title_en="Domain controllers running an unsupported operating system",
    description_fr=(
        "Le contrôleur de domaine détient les clés de tout le système d'information : une faille "
        "non corrigée sur lui donne tout le domaine."
    ),
    remediation_fr=(
        "Installer un nouveau contrôleur de domaine sur une version maintenue, transférer les "
        "rôles, puis rétrograder l'ancien."
    ),
    command="Get-ADDomainController -Filter * | Select-Object Name, OperatingSystem",
    needs=("computers",),
)
def obsolete_dc(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            dc
            for dc in ctx.domain_controllers
            if os_family_out_of_support(dc.os_name, ctx.now) in ("legacy", "2008", "2012")
        ]
    )


def _levels(snapshot: Snapshot) -> list[tuple[str, int]] | NotEvaluated:
    domain = snapshot.domain
    if domain.domain_functional_level is None and domain.forest_functional_level is None:
        return NotEvaluated("niveaux fonctionnels non collectés")
    found = []
    if domain.domain_functional_level is not None:
        found.append(("domaine", domain.domain_functional_level))
    if domain.forest_functional_level is not None:
        found.append(("forêt", domain.forest_functional_level))
    return found


def _level_objects(snapshot: Snapshot, low: int, high: int) -> Evaluation:
    levels = _levels(snapshot)
    if isinstance(levels, NotEvaluated):
        return levels
    return [
        f"{scope} : {FUNCTIONAL_LEVEL_NAMES.get(value, str(value))}"
        for scope, value in levels
        if low <= value < high
    ]


@rule(
    id="vuln1_functional_level",
    anssi="vuln1_functional_level",
    level=1,
    category=STALE,
    severity=3,
    points=Fixed(20),
    title_fr="Niveau fonctionnel du domaine ou de la forêt antérieur à 2008",
    title_en="Domain or forest functional level below Windows Server 2008",
    description_fr=(
        "Un niveau fonctionnel 2003 ou plus ancien interdit les protections modernes (AES pour "
        "Kerberos, réplication DFS de SYSVOL) et signale des contrôleurs très anciens."
    ),
    remediation_fr=(
        "Remplacer les anciens contrôleurs de domaine puis relever le niveau fonctionnel."
    ),
    command="Set-ADDomainMode -Identity <domaine> -DomainMode Windows2016Domain",
    needs=("domain.domain_functional_level",),
)
def functional_level_critical(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _level_objects(snapshot, 0, 3)


@rule(
    id="functional_level_outdated",
    category=STALE,
    severity=1,
    points=Fixed(5),
    title_fr="Niveau fonctionnel antérieur à Windows Server 2012 R2",
    title_en="Functional level below Windows Server 2012 R2",
    description_fr=(
        "Sous 2012 R2, le groupe « Protected Users » et les protections d'authentification "
        "récentes ne s'appliquent pas pleinement."
    ),
    remediation_fr="Relever le niveau fonctionnel une fois tous les contrôleurs à jour.",
    command="Set-ADForestMode -Identity <forêt> -ForestMode Windows2016Forest",
    needs=("domain.domain_functional_level",),
)
def functional_level_outdated(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _level_objects(snapshot, 3, 6)


@rule(
    id="vuln1_password_change_dc_no_change",
    anssi="vuln1_password_change_dc_no_change",
    level=1,
    category=STALE,
    severity=3,
    points=PerObject(5, floor=10, cap=20),
    title_fr="Contrôleurs de domaine dont le secret n'a pas changé depuis 45 jours",
    title_en="Domain controllers whose account password is older than 45 days",
    description_fr=(
        "Un contrôleur change normalement son secret tous les 30 jours : sinon il est arrêté, "
        "restauré d'une vieille sauvegarde, ou ne réplique plus."
    ),
    remediation_fr=(
        "Vérifier l'état du contrôleur (réplication, date) ; retirer proprement ceux qui "
        "n'existent plus."
    ),
    command="Get-ADDomainController -Filter * | Get-ADComputer -Properties PasswordLastSet",
    needs=("computers",),
)
def dc_password_age(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            dc
            for dc in ctx.domain_controllers
            if is_enabled(dc)
            and (age := ctx.age_days(dc.pwd_last_set)) is not None
            and age > DC_PASSWORD_DAYS
        ]
    )


@rule(
    id="vuln1_password_change_inactive_dc",
    anssi="vuln1_password_change_inactive_dc",
    level=1,
    category=STALE,
    severity=3,
    points=PerObject(5, floor=10, cap=20),
    title_fr="Contrôleurs de domaine inactifs depuis plus de 45 jours",
    title_en="Domain controllers inactive for more than 45 days",
    description_fr=(
        "Un contrôleur de domaine éteint ou disparu reste déclaré : il garde une copie des "
        "secrets de tous les comptes et peut revenir avec un annuaire périmé."
    ),
    remediation_fr=(
        "Remettre en service ou retirer proprement le contrôleur (nettoyage des métadonnées "
        "s'il a disparu)."
    ),
    command='ntdsutil "metadata cleanup"  # ou : Remove-ADDomainController -ForceRemoval',
    needs=("computers",),
)
def inactive_dc(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return names(
        [
            dc
            for dc in ctx.domain_controllers
            if is_enabled(dc)
            and (age := ctx.age_days(ctx.last_activity(dc))) is not None
            and age > DC_PASSWORD_DAYS
        ]
    )


def _servers_with_password_age(ctx: RuleContext, low: float, high: float) -> list[str]:
    return names(
        [
            c
            for c in ctx.enabled_computers()
            if not is_domain_controller(c)
            and "server" in c.os_name.lower()
            and (age := ctx.age_days(c.pwd_last_set)) is not None
            and low < age <= high
            and (seen := ctx.age_days(c.last_logon)) is not None
            and seen <= COMPUTER_INACTIVE_DAYS
        ]
    )


@rule(
    id="vuln2_password_change_server_no_change_90",
    anssi="vuln2_password_change_server_no_change_90",
    level=2,
    category=STALE,
    severity=2,
    points=PerObject(2, cap=15),
    title_fr="Serveurs actifs dont le secret n'a pas changé depuis 90 jours",
    title_en="Active servers whose account password is older than 90 days",
    description_fr=(
        "Un serveur en service qui ne change plus son secret a souvent le renouvellement "
        "désactivé : un secret volé resterait valable."
    ),
    remediation_fr=(
        "Réactiver le changement automatique du mot de passe machine (stratégie « Membre de "
        "domaine : désactiver les modifications de mot de passe du compte ordinateur »)."
    ),
    command="Test-ComputerSecureChannel -Repair  # sur le serveur concerné",
    needs=("computers",),
)
def server_password_90(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _servers_with_password_age(ctx, 90, float("inf"))


@rule(
    id="vuln3_password_change_server_no_change_45",
    anssi="vuln3_password_change_server_no_change_45",
    level=3,
    category=STALE,
    severity=1,
    points=PerObject(1, cap=10),
    title_fr="Serveurs actifs dont le secret n'a pas changé depuis 45 jours",
    title_en="Active servers whose account password is 45 to 90 days old",
    description_fr="Le secret d'un serveur change normalement tous les 30 jours.",
    remediation_fr="Vérifier que le renouvellement automatique du mot de passe machine marche.",
    command="Test-ComputerSecureChannel -Repair  # sur le serveur concerné",
    needs=("computers",),
)
def server_password_45(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _servers_with_password_age(ctx, 45, 90)


@rule(
    id="vuln1_dc_inconsistent_uac",
    anssi="vuln1_dc_inconsistent_uac",
    level=1,
    category=STALE,
    severity=3,
    points=PerObject(10, cap=30),
    title_fr="Comptes de contrôleur de domaine incohérents",
    title_en="Inconsistent domain controller accounts",
    description_fr=(
        "Un compte marqué contrôleur de domaine sans en être un (ou l'inverse) trahit une "
        "manipulation, parfois une porte dérobée : il peut répliquer les secrets du domaine."
    ),
    remediation_fr=(
        "Vérifier chaque compte listé : un vrai contrôleur doit être dans le groupe « Contrôleurs "
        "de domaine » avec l'option SERVER_TRUST_ACCOUNT ; sinon retirer l'option."
    ),
    command=(
        "Get-ADComputer -Filter 'userAccountControl -band 8192' -Properties "
        "userAccountControl, primaryGroupID"
    ),
    needs=("computers",),
)
def dc_inconsistent(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    found = []
    for computer in snapshot.computers:
        server_flag = bool(computer.uac & UAC_SERVER_TRUST_ACCOUNT)
        rodc = bool(computer.uac & UAC_PARTIAL_SECRETS_ACCOUNT)
        dc_group = computer.primary_group_id in (RID_DOMAIN_CONTROLLERS, RID_RODCS)
        if server_flag != dc_group and not (rodc and dc_group):
            found.append(computer)
        elif server_flag and not rodc and not computer.uac & UAC_TRUSTED_FOR_DELEGATION:
            found.append(computer)
        elif (server_flag or dc_group) and computer.uac & UAC_PASSWD_NOTREQD:
            found.append(computer)
    return names(found)
