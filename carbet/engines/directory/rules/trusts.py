"""Trusts: what another domain can do in ours.

trustDirection: 1 inbound (the other domain trusts us), 2 outbound (we trust it: its accounts
can reach our resources), 3 both. SID filtering and SID history matter where *we* trust the
other side, hence the outbound bit. Trusts inside the forest (WITHIN_FOREST) are not audited
here: the forest is one security boundary.
"""

from __future__ import annotations

from carbet.engines.directory.model import Snapshot, Trust
from carbet.engines.directory.rules.common import is_trust_account, names
from carbet.engines.directory.rules.graph import RuleContext
from carbet.engines.directory.rules.registry import Evaluation, NotEvaluated, rule
from carbet.engines.directory.scoring import Fixed, PerObject

TRUSTS = "trusts"
DIRECTION_OUTBOUND = 0x2
ATTR_QUARANTINED = 0x4  # SID filtering on an external trust
ATTR_FOREST = 0x8
ATTR_SELECTIVE_AUTH = 0x10  # CROSS_ORGANIZATION
ATTR_WITHIN_FOREST = 0x20
ATTR_TREAT_AS_EXTERNAL = 0x40  # on a forest trust: SID history allowed
ATTR_NO_TGT_DELEGATION = 0x200
ATTR_ENABLE_TGT_DELEGATION = 0x800
TYPE_DOWNLEVEL = 1
TYPE_MIT = 3
TRUST_INACTIVE_DAYS = 60
TRUST_SECRET_DAYS = 365


def _external(snapshot: Snapshot) -> list[Trust]:
    return [t for t in snapshot.trusts if not t.attributes & ATTR_WITHIN_FOREST]


def _we_trust(trust: Trust) -> bool:
    return bool(trust.direction & DIRECTION_OUTBOUND)


def _trust_names(trusts: list[Trust]) -> list[str]:
    return sorted((t.name for t in trusts), key=str.lower)


@rule(
    id="vuln1_trusts_domain_notfiltered",
    anssi="vuln1_trusts_domain_notfiltered",
    level=1,
    category=TRUSTS,
    severity=4,
    points=PerObject(30, floor=40, cap=60),
    exploitable_now=True,
    title_fr="Relation d'approbation externe sans filtrage des SID",
    title_en="External trust without SID filtering",
    description_fr=(
        "Un administrateur du domaine approuvé (ou un attaquant qui l'a pris) peut se présenter "
        "chez nous avec le SID de nos administrateurs : sa compromission devient la nôtre."
    ),
    remediation_fr=(
        "Activer le filtrage des SID (quarantaine) sur la relation d'approbation, après avoir "
        "vérifié qu'aucune migration n'en a encore besoin."
    ),
    command="netdom trust <notre domaine> /domain:<domaine approuvé> /quarantine:yes",
    needs=("trusts",),
)
def not_filtered(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names(
        [
            t
            for t in _external(snapshot)
            if _we_trust(t)
            and not t.attributes & ATTR_FOREST
            and t.trust_type != TYPE_MIT
            and not t.attributes & ATTR_QUARANTINED
        ]
    )


@rule(
    id="vuln1_trusts_forest_sidhistory",
    anssi="vuln1_trusts_forest_sidhistory",
    level=1,
    category=TRUSTS,
    severity=4,
    points=PerObject(30, floor=40, cap=60),
    exploitable_now=True,
    title_fr="Relation de forêt acceptant l'historique de SID",
    title_en="Forest trust accepting SID history",
    description_fr=(
        "L'historique de SID autorisé sur une relation de forêt laisse l'autre forêt injecter "
        "des droits chez nous."
    ),
    remediation_fr="Désactiver l'historique de SID sur la relation une fois la migration finie.",
    command="netdom trust <notre forêt> /domain:<autre forêt> /EnableSIDHistory:no",
    needs=("trusts",),
)
def forest_sid_history(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names(
        [
            t
            for t in _external(snapshot)
            if _we_trust(t) and t.attributes & ATTR_FOREST and t.attributes & ATTR_TREAT_AS_EXTERNAL
        ]
    )


@rule(
    id="vuln3_trusts_tgt_deleg",
    anssi="vuln3_trusts_tgt_deleg",
    level=3,
    category=TRUSTS,
    severity=2,
    points=PerObject(10, cap=20),
    title_fr="Relation de forêt autorisant la délégation des tickets (TGT)",
    title_en="Forest trust allowing TGT delegation",
    description_fr=(
        "Un serveur de l'autre forêt configuré en délégation sans contrainte recevrait les "
        "tickets de nos utilisateurs, administrateurs compris."
    ),
    remediation_fr="Désactiver la délégation des TGT sur la relation d'approbation.",
    command="netdom trust <notre forêt> /domain:<autre forêt> /EnableTGTDelegation:no",
    needs=("trusts",),
)
def tgt_delegation(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names(
        [
            t
            for t in _external(snapshot)
            if t.attributes & ATTR_FOREST
            and t.attributes & ATTR_ENABLE_TGT_DELEGATION
            and not t.attributes & ATTR_NO_TGT_DELEGATION
        ]
    )


@rule(
    id="vuln2_trusts_accounts",
    anssi="vuln2_trusts_accounts",
    level=2,
    category=TRUSTS,
    severity=2,
    points=PerObject(5, cap=20),
    title_fr="Secrets de relation d'approbation inchangés depuis plus d'un an",
    title_en="Trust secrets unchanged for more than a year",
    description_fr=(
        "Le secret partagé d'une relation d'approbation change normalement tous les 30 jours ; "
        "figé, il permet de forger des tickets entre les domaines s'il a fuité."
    ),
    remediation_fr=(
        "Réinitialiser le secret de la relation des deux côtés, ou supprimer la relation si "
        "elle ne sert plus."
    ),
    command=(
        "netdom trust <notre domaine> /domain:<autre domaine> /resetOneSide /passwordT:<secret>"
    ),
    needs=("users", "trusts"),
)
def stale_trust_accounts(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    accounts = [u for u in snapshot.users if is_trust_account(u)]
    if accounts:
        return names(
            [
                u
                for u in accounts
                if (age := ctx.age_days(u.pwd_last_set)) is not None and age > TRUST_SECRET_DAYS
            ]
        )
    # Without the NAME$ accounts, the trusted domain object's last change follows its secret.
    trusts = _external(snapshot)
    if trusts and all(t.when_changed is None for t in trusts):
        return NotEvaluated("ni comptes d'approbation (NOM$) ni dates de modification collectés")
    return _trust_names(
        [
            t
            for t in trusts
            if (age := ctx.age_days(t.when_changed)) is not None and age > TRUST_SECRET_DAYS
        ]
    )


@rule(
    id="trust_inactive",
    category=TRUSTS,
    severity=1,
    points=PerObject(10, cap=20),
    title_fr="Relations d'approbation inactives",
    title_en="Inactive trusts",
    description_fr=(
        "Une relation d'approbation qui n'a pas changé son secret depuis deux mois ne "
        "fonctionne plus : elle ne sert qu'à un attaquant."
    ),
    remediation_fr="Supprimer les relations d'approbation qui ne servent plus.",
    command="Get-ADTrust -Filter * | Select-Object Name, Direction, Modified",
    needs=("trusts",),
)
def inactive_trusts(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names(
        [
            t
            for t in _external(snapshot)
            if (age := ctx.age_days(t.when_changed)) is not None and age > TRUST_INACTIVE_DAYS
        ]
    )


@rule(
    id="trust_downlevel",
    category=TRUSTS,
    severity=2,
    points=PerObject(10, cap=20),
    title_fr="Relations d'approbation avec un domaine de type NT4",
    title_en="Trusts with a down-level (NT4-style) domain",
    description_fr=(
        "Ces relations reposent sur d'anciens protocoles (NTLM) et un domaine souvent obsolète."
    ),
    remediation_fr="Supprimer la relation ou migrer l'autre domaine vers Active Directory.",
    command="Remove-ADTrust  # ou : netdom trust <domaine> /domain:<autre> /remove",
    needs=("trusts",),
)
def downlevel(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names([t for t in _external(snapshot) if t.trust_type == TYPE_DOWNLEVEL])


@rule(
    id="trust_without_selective_auth",
    category=TRUSTS,
    severity=1,
    points=Fixed(2),
    title_fr="Relations d'approbation sans authentification sélective",
    title_en="Trusts without selective authentication",
    description_fr=(
        "Tous les comptes de l'autre domaine peuvent s'authentifier sur tous nos serveurs ; "
        "l'authentification sélective limite l'accès aux seuls serveurs autorisés."
    ),
    remediation_fr=(
        "Activer l'authentification sélective et autoriser explicitement les serveurs utiles."
    ),
    command="netdom trust <notre domaine> /domain:<autre domaine> /SelectiveAUTH:yes",
    needs=("trusts",),
)
def no_selective_auth(snapshot: Snapshot, ctx: RuleContext) -> Evaluation:
    return _trust_names(
        [
            t
            for t in _external(snapshot)
            if _we_trust(t) and t.trust_type != TYPE_MIT and not t.attributes & ATTR_SELECTIVE_AUTH
        ]
    )
