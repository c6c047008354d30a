"""What the directory pages show: latest audits, level distribution, trends, one audit's page."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carbet.core import mandates
from carbet.core.models import Structure
from carbet.core.tenancy import SYSTEM
from carbet.directory.models import AuditStatus, DirectoryAudit
from carbet.directory.service import DIRECTORY_MANDATE
from carbet.engines import charts, disclosure

CATEGORY_LABELS = {
    "stale_objects": gettext_lazy("Objets obsolètes"),
    "privileged_accounts": gettext_lazy("Comptes à privilèges"),
    "trusts": gettext_lazy("Relations d'approbation"),
    "anomalies": gettext_lazy("Anomalies"),
}
# What each ANSSI level means for a director (ANSSI's scale: 1 critical … 5 state of the art).
LEVEL_MEANING = {
    1: gettext_lazy("Niveau 1 : des faiblesses critiques permettent une prise de contrôle rapide."),
    2: gettext_lazy("Niveau 2 : des faiblesses graves restent à corriger en priorité."),
    3: gettext_lazy("Niveau 3 : une base saine, avec des améliorations importantes à mener."),
    4: gettext_lazy("Niveau 4 : un bon niveau, quelques durcissements restent possibles."),
    5: gettext_lazy("Niveau 5 : l'état de l'art, à maintenir dans la durée."),
}


def latest_by_structure(structures: QuerySet) -> list[dict[str, Any]]:
    latest = (
        DirectoryAudit.objects.filter(structure=OuterRef("pk"), status=AuditStatus.DONE)
        .order_by("-analysed_at")
        .values("pk")[:1]
    )
    rows = structures.annotate(last_audit_id=Subquery(latest))
    audits = DirectoryAudit.objects.defer("snapshot", "result").in_bulk(
        [s.last_audit_id for s in rows if s.last_audit_id]
    )
    return [{"structure": s, "audit": audits.get(s.last_audit_id)} for s in rows]


def level_distribution() -> list[dict[str, Any]]:
    """Structures of the region by the ANSSI level of their last audit (aggregate only).

    Small counts are secret (``count`` None) and a table that would put every structure at one
    level is not published at all (every ``count`` None), by ``carbet.engines.disclosure``.
    """
    structures = Structure.objects.visible_to(SYSTEM)
    latest = latest_by_structure(structures)
    counts = Counter(row["audit"].anssi_level for row in latest if row["audit"])
    never = sum(1 for row in latest if not row["audit"])
    cells = [(_("Niveau %(n)s") % {"n": level}, counts.get(level, 0)) for level in range(1, 6)]
    cells.append((_("Jamais audité"), never))
    table = disclosure.protect_counts(cells)
    return [{"label": label, "count": count} for label, count in table.rows()]


def trend_chart(audits: list[DirectoryAudit]) -> SafeString | None:
    done = [a for a in reversed(audits) if a.status == AuditStatus.DONE and a.analysed_at]
    if len(done) < 2:
        return None
    labels = [a.analysed_at.strftime("%d/%m/%y") for a in done]
    series = [
        charts.Series(_("Score global"), [a.score_global for a in done], "#1d4e89"),
        charts.Series(_("Comptes à privilèges"), [a.score_privileged for a in done], "#b03a2e"),
        charts.Series(_("Objets obsolètes"), [a.score_stale for a in done], "#8a6d00"),
    ]
    desc = _("Score sur 100 (plus bas = mieux), du %(first)s au %(last)s.") % {
        "first": labels[0],
        "last": labels[-1],
    }
    # The SVG comes from our chart engine, which escapes every text it draws.
    return mark_safe(  # noqa: S308
        charts.line_chart(
            _("Évolution des scores"), desc, labels, series, y_max=100, width=640, height=220
        )
    )


def mandate_state(structure: Structure):
    return mandates.check(structure, DIRECTORY_MANDATE)


@dataclass
class AuditPage:
    level_meaning: str = ""
    exploitable: list[dict] = field(default_factory=list)
    by_category: list[tuple[str, str, int | None, list[dict]]] = field(default_factory=list)
    not_evaluated: list[dict] = field(default_factory=list)
    new_rules: list[dict] = field(default_factory=list)
    fixed_rules: list[str] = field(default_factory=list)
    previous: DirectoryAudit | None = None


def audit_page(audit_row: DirectoryAudit) -> AuditPage:
    from carbet.directory.services import previous_audit

    findings = audit_row.result.get("findings", [])
    page = AuditPage(level_meaning=LEVEL_MEANING.get(audit_row.anssi_level or 0, ""))
    for item in findings:
        item["objects_preview"] = item["objects"][:10]
    page.exploitable = [f for f in findings if f["exploitable_now"]]
    scores = dict(audit_row.result.get("score", {}))
    for key, label in CATEGORY_LABELS.items():
        items = [f for f in findings if f["category"] == key and not f["exploitable_now"]]
        page.by_category.append((key, str(label), scores.get(key), items))
    page.not_evaluated = audit_row.result.get("not_evaluated", [])
    by_rule = {f["rule"]: f for f in findings}
    page.new_rules = [by_rule[r] for r in audit_row.new_rules if r in by_rule]
    page.fixed_rules = list(audit_row.fixed_rules)
    page.previous = previous_audit(audit_row) if audit_row.status == AuditStatus.DONE else None
    return page
