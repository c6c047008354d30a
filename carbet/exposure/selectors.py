"""What the exposure pages show, computed for one viewer (always through ``visible_to``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.core.models import Structure
from carbet.core.tenancy import Actor, can
from carbet.exposure.models import Scan, ScanObservation, ScanStatus, ScanTarget
from carbet.exposure.service import ExposurePerm
from carbet.exposure.services_run import definition
from carbet.exposure.services_scores import CATEGORIES, category_label
from carbet.findings.models import Finding

GRADE_CLASSES = {"A": "ok", "B": "ok", "C": "warn", "D": "warn", "E": "danger", "F": "danger"}


@dataclass
class Gauge:
    category: str
    label: str
    score: int | None
    grade: str
    reasons: list[str]

    @property
    def css(self) -> str:
        return GRADE_CLASSES.get(self.grade, "muted")


@dataclass
class Priority:
    observation: ScanObservation
    why: str
    how: str
    is_new: bool
    finding_id: int | None = None
    title: str = ""  # the check's title in the reader's language (the stored one is French)


@dataclass
class StructurePage:
    structure: Structure
    latest: Scan | None
    running: Scan | None
    gauges: list[Gauge] = field(default_factory=list)
    overall: Gauge | None = None
    priorities: list[Priority] = field(default_factory=list)
    new: list[Priority] = field(default_factory=list)
    targets: list[ScanTarget] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    history: list[Scan] = field(default_factory=list)


def gauges(scan: Scan | None) -> tuple[list[Gauge], Gauge | None]:
    if scan is None or not scan.scores:
        return [], None
    items = []
    for category in CATEGORIES:
        value = scan.scores.get(category)
        if value:
            items.append(
                Gauge(
                    category,
                    category_label(category),
                    value.get("score"),
                    value.get("grade", ""),
                    value.get("reasons", []),
                )
            )
    overall = scan.scores.get("overall") or {}
    # The caps that hold the grade down (a critical finding, an untrusted certificate...), so
    # the reader sees why a good average still reads D or F.
    caps = [
        _("Note plafonnée à %(grade)s : %(reason)s")
        % {"grade": cap["grade"], "reason": cap["reason"]}
        for cap in overall.get("caps") or []
        if cap.get("grade") and cap.get("reason")
    ]
    return items, Gauge(
        "overall", category_label("overall"), overall.get("score"), overall.get("grade", ""), caps
    )


def priorities(actor: Actor, scan: Scan, limit: int | None = None) -> list[Priority]:
    """The scan's observations, worst first, with why and how, and their finding's id."""
    new = set(scan.diff.get("new", []))
    rows = list(scan.observations.select_related("target").order_by("-severity", "-kev", "pk"))
    if limit:
        rows = rows[:limit]
    findings = {}
    if can(actor, Perm.FINDINGS_DETAIL, scan.structure):
        findings = dict(
            Finding.objects.visible_to(actor, Perm.FINDINGS_DETAIL)
            .filter(structure_id=scan.structure_id, fingerprint__in=[o.fingerprint for o in rows])
            .values_list("fingerprint", "pk")
        )
    items = []
    # The registry holds each check's French and English texts: show the reader's language.
    lang = "en" if (get_language() or "").startswith("en") else "fr"
    for obs in rows:
        known = definition(obs.check_id)
        # A title the observation overrode (a CVE's own name) stays as it was stored.
        title = known.title(lang) if known and obs.title == known.title_fr else obs.title
        items.append(
            Priority(
                observation=obs,
                title=title,
                why=obs.detail or (known.title(lang) if known else ""),
                how=known.remediation(lang) if known else "",
                is_new=obs.fingerprint in new and not scan.diff.get("first"),
                finding_id=findings.get(obs.fingerprint),
            )
        )
    return items


def services_table(targets: list[ScanTarget]) -> list[dict[str, Any]]:
    rows = []
    for target in targets:
        for service in target.services or []:
            rows.append({"target": target.target, **service})
    return sorted(rows, key=lambda r: (r["target"], r.get("port") or 0))


def structure_page(actor: Actor, structure: Structure) -> StructurePage:
    scans = Scan.objects.visible_to(actor, ExposurePerm.VIEW).filter(structure=structure)
    latest = scans.filter(status=ScanStatus.SUCCEEDED).select_related("profile").first()
    running = scans.filter(status__in=[ScanStatus.QUEUED, ScanStatus.RUNNING]).first()
    page = StructurePage(structure, latest, running, history=list(scans[:10]))
    if latest is not None:
        page.gauges, page.overall = gauges(latest)
        all_items = priorities(actor, latest)
        page.priorities = [p for p in all_items if p.observation.severity >= 3][:10]
        page.new = [p for p in all_items if p.is_new]
        page.targets = list(
            ScanTarget.objects.visible_to(actor, ExposurePerm.VIEW)
            .filter(scan=latest)
            .prefetch_related("observations")
        )
        page.services = services_table(page.targets)
    return page


@dataclass
class RegionRow:
    structure: Structure
    scan: Scan | None
    gauges: list[Gauge]
    overall: Gauge | None

    @property
    def cells(self) -> list[Gauge | None]:
        """One cell per category, in the table's order (None: not evaluated)."""
        by_category = {gauge.category: gauge for gauge in self.gauges}
        return [by_category.get(category) for category in CATEGORIES]


def region_rows(actor: Actor) -> list[RegionRow]:
    """Each visible structure with its latest finished scan, worst first."""
    structures = list(
        Structure.objects.visible_to(actor, ExposurePerm.VIEW).select_related("organisation")
    )
    visible = Scan.objects.visible_to(actor, ExposurePerm.VIEW).filter(
        status=ScanStatus.SUCCEEDED, structure__in=structures
    )
    # The last finished scan of each structure (ids grow with time), in two queries.
    last_ids = visible.values("structure_id").annotate(last=Max("pk")).values_list("last")
    latest = {
        scan.structure_id: scan
        for scan in visible.filter(pk__in=[row[0] for row in last_ids]).defer(
            "diff", "ingest_report", "config", "refused"
        )
    }
    rows = []
    for structure in structures:
        scan = latest.get(structure.pk)
        items, overall = gauges(scan)
        rows.append(RegionRow(structure, scan, items, overall))
    rows.sort(
        key=lambda r: (
            r.scan is None,
            -(r.scan.critical_count if r.scan else 0),
            r.overall.score if r.overall and r.overall.score is not None else 101,
            r.structure.name,
        )
    )
    return rows


def category_headers() -> list[str]:
    return [category_label(c) for c in CATEGORIES]


def refused_summary(scan: Scan) -> str:
    if not scan.refused:
        return ""
    return _(
        "%(n)d actif(s) non analysé(s) : propriété non prouvée, conflit ou mandat manquant."
    ) % {"n": len(scan.refused)}
