"""The director's "feuille de route" PDF and the CaRE evidence checklist.

The PDF is rendered with WeasyPrint from one self-contained template (inline CSS, no fetch):
page 1 says where the structure stands and its six priorities, the following pages give the
plan year by year with budgets and funding, then the CaRE checklist — for each objective, what
is proven and by which document, ready for the declaration. Downloads are audited.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from carbet.core.models import Structure
from carbet.core.pdf import html_to_pdf
from carbet.core.tenancy import Actor
from carbet.roadmap import auto_evidence, services, services_roadmap
from carbet.roadmap.models import Assessment, Framework, Roadmap

CARE_CODES = ("care-d1", "care-d2")


def care_checklist(actor: Actor, structure: Structure, today: date | None = None) -> list[dict]:
    """For each CaRE framework: each objective with its state and the proofs that back it."""
    today = today or timezone.localdate()
    result = []
    for framework in Framework.objects.filter(code__in=CARE_CODES).order_by("code"):
        rows = []
        for state in services.requirement_states(actor, structure, framework, today):
            valid = [e for e in state.evidence if e.is_valid_on(today)]
            expired = [e for e in state.evidence if not e.is_valid_on(today)]
            auto = state.auto if state.auto_satisfied else None
            rows.append(
                {
                    "state": state,
                    "valid": valid,
                    "expired": expired,
                    "auto": auto,
                    "auto_text": auto_evidence.describe(auto.fact) if auto else "",
                    "ready": state.met
                    and (bool(valid) or auto is not None or state.not_applicable),
                }
            )
        ready = sum(1 for r in rows if r["ready"])
        result.append({"framework": framework, "rows": rows, "ready": ready, "total": len(rows)})
    return result


def roadmap_context(actor: Actor, structure: Structure, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    roadmap = Roadmap.objects.filter(structure=structure).first()
    diagnostic = Framework.objects.filter(code=services.DIAGNOSTIC_CODE).first()
    result = priorities = None
    if diagnostic is not None:
        assessment = Assessment.objects.filter(structure=structure, framework=diagnostic).first()
        if assessment is not None:
            result = services.diagnostic_result(assessment)
            by_code = {r.code: r for r in services.requirements_of(diagnostic)}
            priorities = [by_code[c] for c in result.priorities if c in by_code]
    themes = []
    if diagnostic is not None and result is not None:
        for theme in diagnostic.themes:
            score = result.theme_scores.get(theme["code"])
            if theme["code"] != "contexte":
                themes.append({"title": theme["title"], "score": score})
    return {
        "structure": structure,
        "today": today,
        "region_name": settings.CARBET_REGION_NAME,
        "roadmap": roadmap,
        "years": services_roadmap.items_by_year(roadmap) if roadmap else [],
        "funding": services_roadmap.funding_summary(roadmap) if roadmap else [],
        "result": result,
        "themes": themes,
        "priorities": priorities,
        "checklist": care_checklist(actor, structure, today),
    }


def roadmap_pdf(actor: Actor, structure: Structure, today: date | None = None) -> bytes:
    html = render_to_string("roadmap/pdf/roadmap.html", roadmap_context(actor, structure, today))
    return html_to_pdf(html)
