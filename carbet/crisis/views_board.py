"""The care continuity board, evidence and indicators, the exit and the lessons learned."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.crisis import selectors_pages as sel
from carbet.crisis import services_board, services_evidence
from carbet.crisis.forms import (
    ActivityForm,
    AssetForm,
    AssetStateForm,
    CustodyForm,
    EvidenceForm,
    IndicatorForm,
    LessonForm,
    NewActivityForm,
)
from carbet.crisis.models import (
    Activity,
    ChecklistItem,
    CrisisAsset,
    Evidence,
)
from carbet.crisis.service import CrisisPerm
from carbet.crisis.views_common import attempt, attempt_form, case_for, case_page, row_of


@login_required
def board(request, pk: int):
    case = case_for(request, pk)
    return case_page(
        request,
        case,
        "board",
        "crisis/board.html",
        {
            "activities": case.activities.order_by("position", "name"),
            "assets": case.assets.order_by("state", "label")[:1000],
            "summary": sel.board_summary(case),
            "activity_form": ActivityForm(),
            "new_activity_form": NewActivityForm(),
            "asset_form": AssetForm(),
            "asset_state_form": AssetStateForm(),
        },
    )


@login_required
@require_POST
def activity_add(request, pk: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    form = NewActivityForm(request.POST)
    attempt_form(
        request,
        form,
        lambda: services_board.add_activity(request.user, case, **form.cleaned_data),
        _("Activité ajoutée au tableau."),
    )
    return redirect("crisis:board", pk=case.pk)


@login_required
@require_POST
def activity_update(request, pk: int, activity: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, Activity, activity, CrisisPerm.CONTRIBUTE)
    form = ActivityForm(request.POST)
    attempt_form(
        request,
        form,
        lambda: services_board.set_activity_mode(request.user, row, **form.cleaned_data),
        _("« %(name)s » mis à jour (et noté dans la main courante).") % {"name": row.name},
    )
    return redirect(f"{_board_url(case.pk)}#act-{row.pk}")


def _board_url(pk: int) -> str:
    from django.urls import reverse

    return reverse("crisis:board", args=[pk])


@login_required
@require_POST
def asset_add(request, pk: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    form = AssetForm(request.POST)
    attempt_form(
        request,
        form,
        lambda: services_board.add_asset(request.user, case, **form.cleaned_data),
        _("Système ajouté."),
    )
    return redirect(f"{_board_url(case.pk)}#systemes")


@login_required
@require_POST
def asset_state(request, pk: int, asset: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, CrisisAsset, asset, CrisisPerm.CONTRIBUTE)
    form = AssetStateForm(request.POST)
    attempt_form(
        request,
        form,
        lambda: services_board.set_asset_state(request.user, row, **form.cleaned_data),
        _("État de « %(name)s » mis à jour.") % {"name": row.label},
    )
    return redirect(f"{_board_url(case.pk)}#systemes")


@login_required
def evidence(request, pk: int):
    case = case_for(request, pk)
    form = EvidenceForm()
    indicator_form = IndicatorForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        if request.POST.get("what") == "indicator":
            indicator_form = IndicatorForm(request.POST)
            if indicator_form.is_valid() and attempt(
                request,
                lambda: services_evidence.add_indicator(
                    request.user, case, **indicator_form.cleaned_data
                ),
                _("Indicateur ajouté."),
            ):
                return redirect("crisis:evidence", pk=case.pk)
        else:
            form = EvidenceForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services_evidence.add_evidence(
                        request.user,
                        case,
                        data["file"],
                        description=data["description"],
                        collected_at=data["collected_at"],
                        holder=data["holder"],
                    )
                except ValueError as exc:
                    form.add_error("file", str(exc))
                except Exception as exc:  # a ValidationError keyed by field, from uploads
                    from django.core.exceptions import ValidationError

                    if not isinstance(exc, ValidationError):
                        raise
                    form.add_error("file", exc.messages)
                else:
                    messages.success(
                        request,
                        _("Preuve déposée ; son empreinte SHA-256 est notée et ne changera plus."),
                    )
                    return redirect("crisis:evidence", pk=case.pk)
    return case_page(
        request,
        case,
        "evidence",
        "crisis/evidence.html",
        {
            "evidence": case.evidence.prefetch_related("custody"),
            "indicators": case.indicators.order_by("type", "value")[:2000],
            "form": form,
            "indicator_form": indicator_form,
            "custody_form": CustodyForm(),
        },
    )


@login_required
@require_POST
def custody_add(request, pk: int, evidence: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, Evidence, evidence, CrisisPerm.CONTRIBUTE)
    form = CustodyForm(request.POST)
    attempt_form(
        request,
        form,
        lambda: services_evidence.add_custody(request.user, row, **form.cleaned_data),
        _("Étape de la chaîne de conservation notée."),
    )
    return redirect("crisis:evidence", pk=case.pk)


@login_required
def evidence_download(request, pk: int, evidence: int):
    case = case_for(request, pk)
    row = row_of(request, case, Evidence, evidence, CrisisPerm.VIEW)
    try:
        data = services_evidence.read_evidence(request.user, row)
    except services_evidence.EvidenceAltered:
        messages.error(
            request,
            _(
                "Le fichier conservé ne correspond plus à son empreinte SHA-256 : "
                "il n'est pas servi. Prévenez le centre."
            ),
        )
        return redirect("crisis:evidence", pk=case.pk)
    response = HttpResponse(data, content_type="application/octet-stream")
    safe = "".join(ch for ch in row.name if ch.isalnum() or ch in "._-")[:100] or "preuve"
    response["Content-Disposition"] = f'attachment; filename="{safe}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def stix(request, pk: int):
    case = case_for(request, pk)
    from carbet.crisis import stix as stix_export

    response = HttpResponse(stix_export.bundle_json(case), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="indicateurs-{case.reference}.stix.json"'
    )
    return response


@login_required
def exit_page(request, pk: int):
    case = case_for(request, pk)
    form = LessonForm()
    if request.method == "POST":
        case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
        form = LessonForm(request.POST)
        if form.is_valid():
            from carbet.crisis import services_lessons

            if attempt(
                request,
                lambda: services_lessons.add_lesson(request.user, case, **form.cleaned_data),
                _("Enseignement ajouté."),
            ):
                return redirect("crisis:exit", pk=case.pk)
    items = list(case.checklist.order_by("checklist", "position", "pk"))
    checklists: dict[str, dict] = {}
    for item in items:
        checklists.setdefault(item.checklist, {"title": item.checklist_title, "items": []})
        checklists[item.checklist]["items"].append(item)
    exit_items = checklists.pop("exit", {"title": _("Critères de sortie de crise"), "items": []})
    return case_page(
        request,
        case,
        "exit",
        "crisis/exit.html",
        {
            "exit_items": exit_items,
            "checklists": list(checklists.values()),
            "lessons": case.lessons.order_by("kind", "pk"),
            "form": form,
            "scenario": _scenario(case),
        },
    )


def _scenario(case) -> dict | None:
    """The exercise scenario drawn from a case at its end (exit or lessons), for a preview."""
    import json

    from carbet.crisis.choices import Phase
    from carbet.crisis.services_lessons import exercise_scenario

    if case.phase not in (Phase.EXIT, Phase.LESSONS, Phase.CLOSED):
        return None
    try:
        return json.loads(exercise_scenario(case))
    except (ValueError, LookupError):
        return None


@login_required
@require_POST
def checklist_tick(request, pk: int, item: int):
    case = case_for(request, pk, CrisisPerm.CONTRIBUTE)
    row = row_of(request, case, ChecklistItem, item, CrisisPerm.CONTRIBUTE)
    from carbet.crisis import services_work

    attempt(
        request,
        lambda: services_work.tick_checklist(
            request.user, row, done=request.POST.get("done") == "1"
        ),
    )
    return redirect("crisis:exit", pk=case.pk)


@login_required
@require_POST
def lessons_publish(request, pk: int):
    case = case_for(request, pk, CrisisPerm.MANAGE)
    from carbet.crisis import services_lessons

    result = attempt(request, lambda: services_lessons.publish_lessons(request.user, case))
    if isinstance(result, dict):
        messages.success(
            request,
            _(
                "Transmis au plan de la structure : %(new)d vulnérabilité(s) créée(s), "
                "%(upd)d mise(s) à jour, %(act)d action(s) nouvelle(s)."
            )
            % {
                "new": result.get("findings_created", 0),
                "upd": result.get("findings_updated", 0),
                "act": result.get("actions", 0),
            },
        )
    return redirect("crisis:exit", pk=case.pk)
