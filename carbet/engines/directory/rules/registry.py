"""The registry of directory rules: small typed units, one stable id each.

A rule id is the ANSSI control id when ANSSI has one (``vuln1_spn_priv``), else a Carbet id
(``kerberoastable_users``). Once published an id never changes meaning: the findings store, the
exceptions and the score history key on it.

Each rule's ``evaluate(snapshot, ctx)`` returns the affected objects (names), a :class:`Hits`
when the points depend on a measure (krbtgt password age...), or :class:`NotEvaluated` when the
data it needs is missing. A rule declares the snapshot fields it reads in ``needs``: when the
collector recorded a gap for one of them (a ``Snapshot.gaps`` entry starting with that field
name followed by ":", e.g. ``"dns_zones: insufficient rights"``, or ``"domain: ..."`` for any
``domain.*`` field) the rule is not evaluated and the gap text says why.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carbet.engines.directory.scoring import CATEGORIES, PointsModel

if TYPE_CHECKING:
    from carbet.engines.directory.model import Snapshot
    from carbet.engines.directory.rules.graph import RuleContext

# Modules that declare rules; imported by all_rules() so the registry is whole.
RULE_MODULES = (
    "stale", "systems", "privileged", "authentication", "permissions", "trusts", "anomalies",
)  # fmt: skip


@dataclass(frozen=True)
class NotEvaluated:
    """The rule could not look: the data is missing, unreadable or pseudonymised."""

    reason: str


@dataclass(frozen=True)
class Hits:
    """Affected objects plus a measure for tiered points (e.g. an age in years)."""

    objects: list[str]
    measure: float | None = None


Evaluation = list[str] | Hits | NotEvaluated
Evaluator = Callable[["Snapshot", "RuleContext"], Evaluation]


@dataclass(frozen=True)
class Rule:
    id: str
    category: str  # one of scoring.CATEGORIES
    severity: int  # 0 info .. 4 critical, like the findings store
    points: PointsModel
    title_fr: str
    title_en: str
    description_fr: str  # why it matters, for a director
    remediation_fr: str  # what to do, in plain French
    evaluate: Evaluator = field(compare=False, repr=False)
    anssi: str = ""  # ANSSI control id ("vuln1_spn_priv"), "" when ANSSI has none
    level: int | None = None  # ANSSI level 1..5 of that control
    command: str = ""  # PowerShell / ADSI command that fixes or lists it
    exploitable_now: bool = False  # an attacker with any domain account can use it today
    needs: tuple[str, ...] = ()  # snapshot fields read (gap matching)
    needs_clear_names: bool = False  # meaningless on a pseudonymised snapshot
    samba: bool = True  # can a Samba AD DC express the weakness (end-to-end tests)?

    def run(self, snapshot: Snapshot, ctx: RuleContext) -> Hits | NotEvaluated:
        gap = gap_for(snapshot, self.needs)
        if gap:
            return NotEvaluated(gap)
        if self.needs_clear_names and snapshot.pseudonymised:
            return NotEvaluated("noms pseudonymisés dans l'instantané")
        result = self.evaluate(snapshot, ctx)
        if isinstance(result, NotEvaluated | Hits):
            return result
        return Hits(objects=list(result))


# How the collector words its gaps, per snapshot field a rule may need (lower-case prefixes).
# The plain field name always works too ("dns_zones: ..."); "domain: ..." covers domain.*.
GAP_ALIASES: dict[str, tuple[str, ...]] = {
    "dns_zones": ("dns zones",),
    "cert_templates": ("certificate template", "ad cs"),
    "sysvol": ("sysvol",),
    "domain_descriptor": ("domain head security descriptor",),
    "adminsdholder_descriptor": ("adminsdholder security descriptor",),
    "domain.ds_heuristics": ("dsheuristics",),
    "domain.laps_schema": ("laps schema",),
    "laps": ("laps schema",),
}


def is_partial(gap: str) -> bool:
    """One object skipped (or a count of them): the stage still ran, rules still apply."""
    return "skipped" in gap.lower() and "member list" not in gap.lower()


def gap_for(snapshot: Snapshot, needs: tuple[str, ...]) -> str:
    """The first recorded gap that concerns one of ``needs`` ("" when none).

    A gap that only skipped individual objects does not suspend rules: the analysis keeps them
    in ``AnalysisResult.gaps`` so the result shows the collection was partial.
    """
    for gap in snapshot.gaps:
        if is_partial(gap):
            continue
        text = gap.strip().lower()
        key = text.split(":", 1)[0].strip()
        for need in needs:
            need = need.lower()
            if key == need or need.startswith(key + ".") or key.startswith(need + "."):
                return gap
            field_name = need.split(".")[-1]
            prefixes = (f"{need} ", f"{field_name} ", *GAP_ALIASES.get(need, ()))
            if any(text.startswith(prefix) for prefix in prefixes):
                return gap
    return ""


_REGISTRY: dict[str, Rule] = {}
# Ids renamed before release to follow ANSSI's own ids: old id → current id. Exceptions and
# lookups made with an old id still reach the rule.
RENAMED = {
    "unconstrained_delegation": "vuln2_delegation_t4d",
    "adcs_esc1_templates": "vuln1_adcs_template_auth_enroll_with_name",
}


def current_id(rule_id: str) -> str:
    return RENAMED.get(rule_id, rule_id)


def rule(**definition: Any) -> Callable[[Evaluator], Evaluator]:
    """Decorator: ``@rule(id=..., category=..., ...)`` over the evaluate function."""

    def register_evaluator(evaluate: Evaluator) -> Evaluator:
        register(Rule(evaluate=evaluate, **definition))
        return evaluate

    return register_evaluator


def register(definition: Rule) -> None:
    if definition.category not in CATEGORIES:
        raise ValueError(f"{definition.id}: unknown category {definition.category!r}")
    if not 0 <= definition.severity <= 4:
        raise ValueError(f"{definition.id}: severity must be 0..4")
    if definition.anssi and definition.level is None:
        raise ValueError(f"{definition.id}: an ANSSI control needs its level")
    if definition.level is not None and not 1 <= definition.level <= 5:
        raise ValueError(f"{definition.id}: ANSSI level must be 1..5")
    existing = _REGISTRY.get(definition.id)
    if existing is not None and existing != definition:
        raise ValueError(f"rule id registered twice with different meanings: {definition.id}")
    _REGISTRY[definition.id] = definition


def _load_rule_modules() -> None:
    for name in RULE_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def all_rules() -> dict[str, Rule]:
    """Every rule, in registration order (category by category)."""
    _load_rule_modules()
    return dict(_REGISTRY)


def get(rule_id: str) -> Rule:
    rule_id = current_id(rule_id)
    if rule_id not in _REGISTRY:
        _load_rule_modules()
    return _REGISTRY[rule_id]
