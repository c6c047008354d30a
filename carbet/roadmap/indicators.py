"""Indicators: definitions from ``data/indicators.json``, nightly values, regional aggregates.

``compute_all(day)`` computes every *computed* indicator for every structure in a handful of
bulk queries and upserts the day's rows (running it twice the same day rewrites them), then
writes the regional aggregates the ARS reads. *Manual* indicators are typed in by the structure
(``record_manual``); the aggregates take each structure's latest manual value of the period.
Computers are a registry: adding an indicator is a line in the data file and, for a computed
one, a small function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM, Actor, can
from carbet.engines.roadmap import indicators as engine
from carbet.engines.roadmap.indicators import IndicatorDef
from carbet.engines.roadmap.scoring import activity_coverage
from carbet.roadmap.models import (
    Answer,
    AutoEvidence,
    Framework,
    IndicatorValue,
    RegionalIndicator,
    Requirement,
    RestoreResult,
    RestoreTest,
    ServiceFact,
)
from carbet.roadmap.models.assessments import UNSCORED_RESULTS, Result
from carbet.roadmap.service import RoadmapPerm

DEFINITIONS_FILE = Path(__file__).resolve().parent / "data" / "indicators.json"
DIAGNOSTIC_THEME_PREFIX = "diagnostic."
DIAGNOSTIC_THEMES_CODE = "diagnostic_themes"
CONTINUITY_CODE = "continuity_coverage"


@lru_cache(maxsize=4)
def _definitions(mtime: float) -> tuple[IndicatorDef, ...]:
    return tuple(
        engine.parse_definitions(DEFINITIONS_FILE.read_text("utf-8"), DEFINITIONS_FILE.name)
    )


def definitions() -> tuple[IndicatorDef, ...]:
    """The definitions file, re-read when it changes (no restart needed)."""
    return _definitions(DEFINITIONS_FILE.stat().st_mtime)


def definition(code: str) -> IndicatorDef | None:
    return next((d for d in definitions() if d.code == code), None)


@dataclass
class Context:
    day: date
    structure_ids: list[int]
    latest: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    # (structure, kind) → [(date, value)] of the latest fact of each scope (AD domain...).
    current: dict[tuple[int, str], list[tuple[Any, dict[str, Any]]]] = field(default_factory=dict)
    kinds_this_year: dict[str, set[int]] = field(default_factory=dict)
    diagnostic: dict[int, dict[str, float]] | None = None

    def diagnostic_scores(self) -> dict[int, dict[str, float]]:
        if self.diagnostic is None:
            self.diagnostic = diagnostic_scores()
        return self.diagnostic


Computer = Callable[[Context], dict[int, float | None]]
COMPUTERS: dict[str, Computer] = {}


def computer(code: str) -> Callable[[Computer], Computer]:
    def register(function: Computer) -> Computer:
        COMPUTERS[code] = function
        return function

    return register


def _load_facts(ctx: Context) -> None:
    """The current state: the latest fact of each (structure, kind, scope) — never an older
    one (``auto_evidence.current_facts`` is the same rule) — and who had each kind this year.

    A year of weekly scans is tens of thousands of rows: the first pass reads only ids, dates
    and the scope (no whole JSON), the second decodes the values of the latest facts.
    """
    from datetime import datetime, time

    year_start = timezone.make_aware(datetime.combine(date(ctx.day.year, 1, 1), time.min))
    # A range on the raw column (no per-row date cast, which SQLite does in Python).
    day_end = timezone.make_aware(datetime.combine(ctx.day + timedelta(days=1), time.min))
    rows = (
        ServiceFact.objects.filter(at__lt=day_end)
        .order_by("structure_id", "kind", "-at", "-pk")
        .values_list("structure_id", "kind", "value__scope", "at", "pk")
    )
    latest: dict[tuple[int, str], int] = {}
    per_scope: dict[tuple[int, str, str], tuple[Any, int]] = {}
    for structure_id, kind, scope, at, pk in rows.iterator(chunk_size=10000):
        key = (structure_id, kind)
        scope_key = (structure_id, kind, scope.strip().lower() if isinstance(scope, str) else "")
        if scope_key not in per_scope:  # rows come newest first: the first one is current
            per_scope[scope_key] = (at, pk)
        if key not in latest:
            latest[key] = pk
            if at >= year_start:
                ctx.kinds_this_year.setdefault(kind, set()).add(structure_id)
    ids = [pk for _at, pk in per_scope.values()]
    values: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 900):
        values.update(
            ServiceFact.objects.filter(pk__in=ids[start : start + 900]).values_list("pk", "value")
        )
    ctx.latest = {key: values.get(pk) or {} for key, pk in latest.items()}
    for (structure_id, kind, _scope), (at, pk) in per_scope.items():
        ctx.current.setdefault((structure_id, kind), []).append((at, values.get(pk) or {}))


def _bool(value: Any) -> float | None:
    return None if value is None else (1.0 if value is True else 0.0)


def _latest(
    ctx: Context,
    kind: str,
    key: str,
    convert: Callable[[Any], float | None],
    *,
    since: date | None = None,
    combine: Callable[[list[float]], float] = min,
):
    """Each structure's figure from its current facts of ``kind``: one per scope, combined
    (the weakest by default: two AD domains at levels 4 and 2 make level 2). ``since`` drops a
    current fact that is too old for the indicator's period ("this year")."""
    result: dict[int, float | None] = {}
    for sid in ctx.structure_ids:
        numbers = [
            number
            for at, value in ctx.current.get((sid, kind), [])
            if since is None or timezone.localdate(at) >= since
            for number in [convert(value.get(key))]
            if number is not None
        ]
        result[sid] = combine(numbers) if numbers else None
    return result


def _period_start(ctx: Context, code: str) -> date | None:
    """The first day an indicator's facts may date from ("year": this calendar year)."""
    item = definition(code)
    return date(ctx.day.year, 1, 1) if item is not None and item.period == "year" else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@computer("exercise_this_year")
def _exercise(ctx: Context) -> dict[int, float | None]:
    done = ctx.kinds_this_year.get("exercise", set())
    return {sid: 1.0 if sid in done else 0.0 for sid in ctx.structure_ids}


@computer("directory_level")
def _directory_level(ctx: Context) -> dict[int, float | None]:
    return _latest(ctx, "directory_audit", "anssi_level", _number)


@computer("dmarc_reject")
def _dmarc(ctx: Context) -> dict[int, float | None]:
    return _latest(ctx, "exposure_scan", "dmarc_reject", _bool)


@computer("mfa_remote_access")
def _mfa(ctx: Context) -> dict[int, float | None]:
    return _latest(ctx, "exposure_scan", "mfa_remote_access", _bool)


@computer("phishing_reporting_rate")
def _phishing(ctx: Context) -> dict[int, float | None]:
    def percent(value: Any) -> float | None:
        number = _number(value)
        return None if number is None else round(number * 100, 1)

    # Only the structures that ran a campaign this year have the figure: the others are not
    # zeros, they are left out of the mean (and the page says how many it is made of).
    return _latest(
        ctx,
        "phishing_campaign",
        "reporting_rate",
        percent,
        since=_period_start(ctx, "phishing_reporting_rate"),
    )


@computer("restore_tested")
def _restore(ctx: Context) -> dict[int, float | None]:
    since = ctx.day - timedelta(days=365)
    tested = set(
        RestoreTest.objects.filter(
            tested_on__gte=since, tested_on__lte=ctx.day, result=RestoreResult.SUCCESS
        ).values_list("structure_id", flat=True)
    )
    return {sid: 1.0 if sid in tested else 0.0 for sid in ctx.structure_ids}


def diagnostic_scores(structure_ids: list[int] | None = None) -> dict[int, dict[str, float]]:
    """Structure → {"overall": mean, "<theme>": mean} from the diagnostic's scored answers."""
    framework = Framework.objects.filter(code="diagnostic").first()
    if framework is None:
        return {}
    rows = Answer.objects.filter(
        assessment__framework=framework,
        score__isnull=False,
        requirement__scored=True,
        requirement__retired=False,
    ).exclude(result__in=UNSCORED_RESULTS)
    if structure_ids is not None:
        rows = rows.filter(assessment__structure_id__in=structure_ids)
    sums: dict[int, dict[str, list[float]]] = {}
    for sid, theme, score in rows.values_list(
        "assessment__structure_id", "requirement__theme", "score"
    ).iterator(chunk_size=5000):
        per = sums.setdefault(sid, {})
        per.setdefault(theme, [0.0, 0.0])
        per.setdefault("overall", [0.0, 0.0])
        for key in (theme, "overall"):
            per[key][0] += score
            per[key][1] += 1
    return {
        sid: {key: round(total / count, 3) for key, (total, count) in per.items()}
        for sid, per in sums.items()
    }


@computer("diagnostic_score")
def _diagnostic(ctx: Context) -> dict[int, float | None]:
    scores = ctx.diagnostic_scores()
    return {sid: scores.get(sid, {}).get("overall") for sid in ctx.structure_ids}


@computer("care_d2_progress")
def _care_d2(ctx: Context) -> dict[int, float | None]:
    framework = Framework.objects.filter(code="care-d2").first()
    if framework is None:
        return {}
    requirement_ids = set(
        Requirement.objects.filter(framework=framework, retired=False).values_list("pk", flat=True)
    )
    answers: dict[int, dict[int, str]] = {}
    for sid, rid, result, score in Answer.objects.filter(
        assessment__framework=framework, requirement_id__in=requirement_ids
    ).values_list("assessment__structure_id", "requirement_id", "result", "score"):
        answers.setdefault(sid, {})[rid] = result or ("met" if score == 3 else "partial")
    autos: dict[int, set[int]] = {}
    for sid, rid in AutoEvidence.objects.filter(
        requirement_id__in=requirement_ids, satisfied=True
    ).values_list("structure_id", "requirement_id"):
        autos.setdefault(sid, set()).add(rid)
    result: dict[int, float | None] = {}
    for sid in ctx.structure_ids:
        given = answers.get(sid, {})
        applicable = [r for r in requirement_ids if given.get(r) != Result.NOT_APPLICABLE]
        met = sum(
            1
            for r in applicable
            if given.get(r) == Result.MET or (r not in given and r in autos.get(sid, set()))
        )
        result[sid] = round(met * 100 / len(applicable), 1) if applicable else None
    return result


def _manual_values(code: str, structure_ids: list[int], day: date, period: str):
    start = date(day.year, 1, 1) if period == "year" else day - timedelta(days=365)
    rows = (
        IndicatorValue.objects.filter(code=code, manual=True, day__gte=start, day__lte=day)
        .order_by("structure_id", "-day")
        .values_list("structure_id", "value")
    )
    found: dict[int, float | None] = {}
    for sid, value in rows:
        found.setdefault(sid, value)
    return {sid: found.get(sid) for sid in structure_ids}


def continuity_coverage(structures: list[Structure], day: date, threshold: float = 0.66):
    """The ≥ 66 % rule of CaRE D2 (d2.o1.d) for a multi-entity applicant: the share of the
    entities' combined activity (``Structure.activity_weight``) covered by a field continuity
    test this year — an ``exercise`` fact with ``continuity_test`` true, on the structure itself
    or listing it in ``structures``."""
    ids = {s.pk for s in structures}
    covered: set[int] = set()
    facts = ServiceFact.objects.filter(
        kind="exercise", at__year=day.year, at__date__lte=day, structure_id__in=ids
    )
    for structure_id, value in facts.values_list("structure_id", "value"):
        if not (value or {}).get("continuity_test"):
            continue
        covered.add(structure_id)
        listed = (value or {}).get("structures") or []
        covered.update(i for i in listed if isinstance(i, int) and i in ids)
    return activity_coverage({s.pk: s.activity_weight for s in structures}, covered, threshold)


def group_coverage(structure: Structure, day: date | None = None):
    """(coverage, number of entities) of the structure's GHT, else its organisation; ``None``
    for a single-entity applicant (the 66 % rule does not apply)."""
    day = day or timezone.localdate()
    ght_id = structure.organisation.ght_id
    if ght_id:
        members = list(Structure.objects.filter(organisation__ght_id=ght_id))
    else:
        members = list(Structure.objects.filter(organisation_id=structure.organisation_id))
    if len(members) < 2:
        return None
    requirement = Requirement.objects.filter(
        framework__code="care-d2", min_activity_share__isnull=False, retired=False
    ).first()
    threshold = requirement.min_activity_share if requirement else 0.66
    return continuity_coverage(members, day, threshold), len(members)


def compute_all(day: date | None = None, *, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Tonight's values for every structure, then the regional aggregates. Idempotent."""
    day = day or timezone.localdate()
    structures = list(Structure.objects.values_list("pk", "category"))
    ids = [pk for pk, _category in structures]
    categories = dict(structures)
    ctx = Context(day, ids)
    _load_facts(ctx)
    values: dict[str, dict[int, float | None]] = {}
    for item in definitions():
        if item.manual:
            values[item.code] = _manual_values(item.code, ids, day, item.period)
        elif item.code in COMPUTERS:
            values[item.code] = COMPUTERS[item.code](ctx)
    themes = ctx.diagnostic_scores()
    theme_codes = sorted({t for per in themes.values() for t in per if t != "overall"})
    rows = []
    for item in definitions():
        if item.manual:
            continue
        for sid, value in values.get(item.code, {}).items():
            rows.append(IndicatorValue(structure_id=sid, code=item.code, day=day, value=value))
    for theme in theme_codes:
        for sid, per in themes.items():
            if theme in per:
                rows.append(
                    IndicatorValue(
                        structure_id=sid,
                        code=DIAGNOSTIC_THEME_PREFIX + theme,
                        day=day,
                        value=per[theme],
                    )
                )
    regional = {
        item.code: engine.aggregate(item, values.get(item.code, {}), categories)
        for item in definitions()
    }
    for data in regional.values():
        # How many structures the region has, to say "n of them have this figure".
        data["structures"] = len(ids)
    regional[DIAGNOSTIC_THEMES_CODE] = {
        theme: engine.mean_by_category(
            {sid: per.get(theme) for sid, per in themes.items()}, categories
        )
        for theme in theme_codes
    }
    with transaction.atomic():
        IndicatorValue.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["structure", "code", "day"],
            update_fields=["value"],
        )
        for code, data in regional.items():
            RegionalIndicator.objects.update_or_create(code=code, day=day, defaults={"data": data})
        audit.record(
            actor,
            "indicators.compute",
            label=day.isoformat(),
            changes={"structures": len(ids), "values": len(rows)},
        )
    return {"day": day.isoformat(), "structures": len(ids), "values": len(rows)}


def record_manual(
    actor: Actor, structure: Structure, code: str, value: float, *, day=None, note: str = ""
) -> IndicatorValue:
    item = definition(code)
    if item is None or not item.manual:
        raise ValidationError(_("Cet indicateur ne se saisit pas à la main."))
    if not can(actor, RoadmapPerm.ANSWER, structure):
        raise PermissionDenied
    if item.unit == "percent" and not 0 <= value <= 100:
        raise ValidationError(_("Un pourcentage va de 0 à 100."))
    day = day or timezone.localdate()
    row, _created = IndicatorValue.objects.update_or_create(
        structure=structure,
        code=code,
        day=day,
        defaults={
            "value": float(value),
            "manual": True,
            "note": note[:300],
            "recorded_by": actor if getattr(actor, "pk", None) else None,
        },
    )
    audit.record(actor, "indicators.manual", row, changes={"code": code, "value": value})
    return row


def structure_series(structure: Structure, code: str, days: int = 365) -> list[tuple[date, float]]:
    since = timezone.localdate() - timedelta(days=days)
    return [
        (d, v)
        for d, v in IndicatorValue.objects.filter(
            structure=structure, code=code, day__gte=since, value__isnull=False
        )
        .order_by("day")
        .values_list("day", "value")
    ]


def latest_regional(code: str) -> RegionalIndicator | None:
    return RegionalIndicator.objects.filter(code=code).order_by("-day").first()


def roadmap_score(day: date, structure_ids: list[int]) -> dict[int, float]:
    """The dashboards' ``roadmap`` score: the diagnostic's overall score, as a percentage."""
    scores = diagnostic_scores(structure_ids)
    return {
        sid: round(per["overall"] / 3 * 100, 1) for sid, per in scores.items() if "overall" in per
    }
