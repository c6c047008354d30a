"""After the exercise: evaluation per objective, RETEX items → findings, the report, coverage."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.choices import Category
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.exercises import selectors_pages as sel
from carbet.exercises.forms import CoverageFilterForm, EvaluationForm, ItemForm
from carbet.exercises.models import RetexItem
from carbet.exercises.service import ExercisePerm
from carbet.exercises.views import exercise_for


def _after() -> Any:
    from carbet.exercises import services_after

    return services_after


def _objective_choices(exercise: Any) -> list[tuple[str, str]]:
    return [(row["code"], f"{row['code']} — {row['title']}") for row in sel.objectives_of(exercise)]


@login_required
def evaluation(request, pk: int):
    exercise = exercise_for(request, pk)
    may_run = can(request.user, ExercisePerm.RUN, exercise.structure)
    objectives = sel.objectives_of(exercise)
    for row in objectives:
        evaluation_row = row["evaluation"]
        row["form"] = EvaluationForm(
            prefix=f"o-{row['code']}",
            initial={
                "objective": row["code"],
                "outcome": evaluation_row.outcome if evaluation_row else None,
                "comment": evaluation_row.comment if evaluation_row else "",
            },
        )
    items = list(exercise.items.all())
    return render(
        request,
        "exercises/evaluation.html",
        {
            "exercise": exercise,
            "objectives": objectives,
            "strengths": [i for i in items if i.kind == "strength"],
            "improvements": [i for i in items if i.kind == "improvement"],
            "observations": exercise.observations.select_related("observer").order_by("at"),
            "retex": sel.retex_summary(exercise),
            "item_form": ItemForm(objectives=_objective_choices(exercise)) if may_run else None,
            "may_run": may_run,
        },
    )


def _back(exercise_pk: int, anchor: str = "") -> Any:
    return redirect(reverse("exercises:evaluation", args=[exercise_pk]) + anchor)


@login_required
@require_POST
def evaluate(request, pk: int, objective: str):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    form = EvaluationForm(request.POST, prefix=f"o-{objective}")
    if form.is_valid() and form.cleaned_data["objective"] == objective:
        try:
            _after().evaluate_objective(
                request.user,
                exercise,
                objective,
                form.cleaned_data["outcome"],
                form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Objectif %(code)s évalué.") % {"code": objective})
    else:
        messages.error(
            request, _("Choisissez un résultat pour l'objectif %(code)s.") % {"code": objective}
        )
    return _back(exercise.pk, f"#objectif-{objective}")


@login_required
@require_POST
def item_add(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    form = ItemForm(request.POST, objectives=_objective_choices(exercise))
    if form.is_valid():
        try:
            _after().add_item(request.user, exercise, ip=client_ip(request), **form.cleaned_data)
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Enseignement ajouté."))
    else:
        messages.error(request, _("Enseignement non ajouté : l'intitulé est obligatoire."))
    return _back(exercise.pk, "#enseignements")


@login_required
@require_POST
def item_delete(request, pk: int):
    rows = RetexItem.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    item = access.owned_for(request.user, rows, pk, ExercisePerm.RUN, see=ExercisePerm.VIEW)
    exercise_pk = item.exercise_id
    try:
        _after().delete_item(request.user, item, ip=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    return _back(exercise_pk, "#enseignements")


@login_required
@require_POST
def ingest(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    try:
        report = _after().ingest_retex(request.user, exercise, ip=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        created = getattr(report, "created", None)
        messages.success(
            request,
            _(
                "Axes d'amélioration transmis au plan d'action de la structure%(n)s : ils "
                "apparaissent dans ses vulnérabilités et ses actions correctives."
            )
            % {"n": f" ({created})" if created is not None else ""},
        )
    return _back(exercise.pk, "#enseignements")


@login_required
def report_pdf(request, pk: int):
    from carbet.exercises.pdf import exercise_report_pdf

    exercise = exercise_for(request, pk)
    data = exercise_report_pdf(exercise)
    audit.record(
        request.user,
        "exercise.report_pdf",
        exercise,
        structure=exercise.structure,
        ip=client_ip(request),
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="retex-exercice-{exercise.pk}.pdf"'
    return response


@login_required
def coverage(request):
    """Which structures exercised this year and which did not (centre only)."""
    access.require(request.user, ExercisePerm.REGIONAL)
    visible = Structure.objects.visible_to(request.user, ExercisePerm.REGIONAL)
    departements = sorted(set(visible.values_list("departement", flat=True)) - {""})
    form = CoverageFilterForm(
        request.GET or None, categories=list(Category.choices), departements=departements
    )
    year = timezone.localdate().year
    category = departement = ""
    if form.is_valid():
        year = form.cleaned_data["year"] or year
        category = form.cleaned_data["category"]
        departement = form.cleaned_data["departement"]
    rows = sel.coverage(request.user, year, category=category, departement=departement)
    held = sum(1 for r in rows if r.exercised)
    return render(
        request,
        "exercises/coverage.html",
        {
            "form": form,
            "year": year,
            "missing": [r for r in rows if not r.exercised],
            "done": [r for r in rows if r.exercised],
            "held": held,
            "total": len(rows),
            "percent": round(100 * held / len(rows)) if rows else None,
        },
    )


@login_required
def ars_summary(request):
    """The regional summary for the ARS: aggregates only, small cells hidden."""
    from carbet.accounts.roles import Perm

    if not can(request.user, Perm.REGION_AGGREGATES):
        raise PermissionDenied
    year = timezone.localdate().year
    try:
        year = int(request.GET.get("annee", year))
    except ValueError:
        pass
    return render(
        request,
        "exercises/ars_summary.html",
        {"summary": sel.ars_summary(year), "year": year, "years": range(year, year - 4, -1)},
    )
