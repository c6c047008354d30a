"""Snapshot → analysis: run every rule, apply exceptions, score, order the findings.

``analyse(snapshot, now=..., exceptions=...)`` is the one entry point used by the app, the CLI
and the benchmark. Exceptions are free risk acceptances (a biomedical service account whose
password cannot be changed...): an unexpired exception removes its object — or the whole rule
with object "*" — from the points and from the ANSSI level, but the finding stays visible with
its excepted objects, so nothing is hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from carbet.engines.directory import scoring
from carbet.engines.directory.model import Snapshot
from carbet.engines.directory.rules.graph import RuleContext
from carbet.engines.directory.rules.registry import NotEvaluated, Rule, all_rules, current_id

INTERNAL_ERROR = "erreur interne de la règle"


@dataclass(frozen=True)
class RuleException:
    """Accepted risk: ``object`` is a name as shown in the findings, "*" for the whole rule."""

    rule: str
    object: str = "*"
    justification: str = ""
    expires: date | None = None  # None: until revoked

    def active(self, today: date) -> bool:
        return self.expires is None or self.expires >= today


@dataclass
class RuleFinding:
    rule: str
    anssi: str
    level: int | None
    category: str
    points: int
    severity: int
    title_fr: str
    title_en: str
    description_fr: str
    remediation_fr: str
    command: str
    objects: list[str]  # affected objects still counted (exceptions removed)
    objects_total: int
    exploitable_now: bool
    excepted_objects: list[str] = field(default_factory=list)
    points_model: str = ""

    @property
    def fully_excepted(self) -> bool:
        return not self.objects and bool(self.excepted_objects)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            not (self.exploitable_now and not self.fully_excepted),
            -self.points,
            -self.severity,
            self.level or 9,
            self.rule,
        )


class NotEvaluatedRule(NamedTuple):
    rule: str
    reason: str


@dataclass
class AnalysisResult:
    domain: str
    anssi_level: int
    scores: dict[str, int]
    findings: list[RuleFinding]
    not_evaluated: list[NotEvaluatedRule] = field(default_factory=list)
    # The level when ANSSI controls that could not be evaluated might lower it: then the
    # computed level is an upper bound (``anssi_level_complete`` False).
    anssi_level_complete: bool = True
    # The level exceptions ignored: what an ANSSI auditor would write.
    anssi_level_without_exceptions: int = scoring.BEST_LEVEL
    collected_at: datetime | None = None
    source: str = "carbet"
    rules_evaluated: int = 0
    # The ids of the rules that ran: a rule absent from the findings passed only if it ran
    # (an audit analysed before a rule existed, or a PingCastle report, says nothing of it).
    evaluated: list[str] = field(default_factory=list)
    # Everything the collector could not read, including skipped single objects: when not
    # empty, the result says the collection was partial even where rules could still run.
    gaps: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The public contract (CLI ``--json``, API): these keys first, extras after."""
        return {
            "domain": self.domain,
            "anssi_level": self.anssi_level,
            "score": {key: self.scores.get(key, 0) for key in ("global", *scoring.CATEGORIES)},
            "findings": [
                {
                    "rule": f.rule,
                    "anssi": f.anssi,
                    "level": f.level,
                    "category": f.category,
                    "points": f.points,
                    "severity": f.severity,
                    "title": f.title_fr,
                    "objects": f.objects,
                    "title_en": f.title_en,
                    "objects_total": f.objects_total,
                    "exploitable_now": f.exploitable_now,
                    "excepted_objects": f.excepted_objects,
                    "description": f.description_fr,
                    "remediation": f.remediation_fr,
                    "command": f.command,
                }
                for f in self.findings
            ],
            "not_evaluated": [{"rule": n.rule, "reason": n.reason} for n in self.not_evaluated],
            "anssi_level_complete": self.anssi_level_complete,
            "anssi_level_without_exceptions": self.anssi_level_without_exceptions,
            "collected_at": self.collected_at.isoformat() if self.collected_at else None,
            "source": self.source,
            "gaps": self.gaps,
            "evaluated": self.evaluated,
        }


def analyse(
    snapshot: Snapshot,
    *,
    now: datetime | None = None,
    exceptions: Iterable[RuleException] = (),
) -> AnalysisResult:
    """Run every rule on ``snapshot``.

    Ages (dormant accounts, passwords, krbtgt...) are measured at ``now``, by default the
    moment of collection, so re-analysing an old snapshot describes the directory as it was
    then. Exceptions are judged at ``now`` too, by default today: an expired exception never
    hides a weakness.
    """
    today = (now or datetime.now(UTC)).date()
    now = now or snapshot.collected_at or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    active = [e for e in exceptions if e.active(today)]
    ctx = RuleContext(snapshot=snapshot, now=now)
    findings: list[RuleFinding] = []
    not_evaluated: list[NotEvaluatedRule] = []
    rules = all_rules()
    for definition in rules.values():
        try:
            outcome = definition.run(snapshot, ctx)
        except Exception as exc:  # one faulty rule must not sink the whole audit
            reason = f"{INTERNAL_ERROR} ({type(exc).__name__})"
            not_evaluated.append(NotEvaluatedRule(definition.id, reason))
            continue
        if isinstance(outcome, NotEvaluated):
            not_evaluated.append(NotEvaluatedRule(definition.id, outcome.reason))
            continue
        if not outcome.objects:
            continue
        findings.append(_finding(definition, outcome.objects, outcome.measure, active))
    findings.sort(key=RuleFinding.sort_key)
    scores = scoring.category_scores((f.category, f.points) for f in findings)
    level = scoring.anssi_level(f.level for f in findings if f.anssi and f.objects)
    raw_level = scoring.anssi_level(f.level for f in findings if f.anssi)
    unevaluated_levels = [rules[n.rule].level for n in not_evaluated if rules[n.rule].anssi]
    return AnalysisResult(
        domain=snapshot.domain.dns_name,
        anssi_level=level,
        scores=scores,
        findings=findings,
        not_evaluated=not_evaluated,
        anssi_level_complete=all(lvl is None or lvl >= level for lvl in unevaluated_levels),
        anssi_level_without_exceptions=raw_level,
        collected_at=snapshot.collected_at,
        source=snapshot.collector,
        rules_evaluated=len(rules) - len(not_evaluated),
        evaluated=sorted(set(rules) - {n.rule for n in not_evaluated}),
        gaps=list(snapshot.gaps),
    )


def _finding(
    definition: Rule, objects: list[str], measure: float | None, active: list[RuleException]
) -> RuleFinding:
    mine = [e for e in active if current_id(e.rule) == definition.id]
    whole_rule = any(e.object == "*" for e in mine)
    excepted_names = {e.object.lower() for e in mine}
    kept: list[str] = []
    excepted: list[str] = []
    for name in dict.fromkeys(objects):  # unique, order kept
        (excepted if whole_rule or name.lower() in excepted_names else kept).append(name)
    return RuleFinding(
        rule=definition.id,
        anssi=definition.anssi,
        level=definition.level,
        category=definition.category,
        points=definition.points.compute(len(kept), measure),
        severity=definition.severity,
        title_fr=definition.title_fr,
        title_en=definition.title_en,
        description_fr=definition.description_fr,
        remediation_fr=definition.remediation_fr,
        command=definition.command,
        objects=kept,
        objects_total=len(kept),
        exploitable_now=definition.exploitable_now,
        excepted_objects=excepted,
        points_model=definition.points.describe(),
    )
