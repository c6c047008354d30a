"""Pages of the roadmap service: the home, a structure's overview, the diagnostic questionnaire,
an assessment by framework and the framework catalogue.

Views are thin: rows come through ``visible_to`` (another structure's id is a 404), the right
is checked on the structure (403), a service does the work.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from carbet.accounts.roles import Perm
from carbet.core import access, uploads
from carbet.core.forms import apply_errors
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.engines.roadmap.frameworks import FrameworkError
from carbet.roadmap import frameworks as framework_loader
from carbet.roadmap import services
from carbet.roadmap.forms import AnswerForm, FrameworkUploadForm
from carbet.roadmap.models import (
    Assessment,
    BackupSystem,
    Framework,
    Result,
    Roadmap,
)
from carbet.roadmap.service import RoadmapPerm

TEMPLATES = "roadmap/"
ASSESSED_KINDS = ("objectives", "measures")


def _diagnostic_framework() -> Framework:
    framework = Framework.objects.filter(code=services.DIAGNOSTIC_CODE).first()
    if framework is None:
        raise Http404
    return framework


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The structures whose roadmap the viewer follows, with their diagnostic score."""
    if not can(request.user, RoadmapPerm.VIEW):
        raise PermissionDenied
    structures = list(
        Structure.objects.visible_to(request.user, RoadmapPerm.VIEW)
        .select_related("organisation")
        .order_by("name")[:1000]
    )
    if len(structures) == 1:
        return redirect("roadmap:structure", structures[0].pk)
    from carbet.roadmap.indicators import diagnostic_scores

    scores = diagnostic_scores([s.pk for s in structures])
    roadmaps = {
        r.structure_id: r
        for r in Roadmap.objects.visible_to(request.user, RoadmapPerm.VIEW).filter(
            structure__in=structures
        )
    }
    rows = [
        {
            "structure": s,
            "score": scores.get(s.pk, {}).get("overall"),
            "roadmap": roadmaps.get(s.pk),
        }
        for s in structures
    ]
    return render(
        request,
        TEMPLATES + "home.html",
        {"rows": rows, "can_regional": can(request.user, Perm.REGION_AGGREGATES)},
    )


@login_required
def structure(request: HttpRequest, structure_id: int) -> HttpResponse:
    """Where the structure stands: diagnostic and priorities, frameworks, roadmap, backups."""
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    diagnostic = Framework.objects.filter(code=services.DIAGNOSTIC_CODE).first()
    result = priorities = None
    if diagnostic is not None:
        assessment = (
            Assessment.objects.visible_to(request.user, RoadmapPerm.VIEW)
            .filter(structure=target, framework=diagnostic)
            .first()
        )
        if assessment is not None:
            result = services.diagnostic_result(assessment)
            by_code = {r.code: r for r in services.requirements_of(diagnostic)}
            priorities = [by_code[c] for c in result.priorities if c in by_code]
    assessed = []
    for framework in Framework.objects.filter(kind__in=ASSESSED_KINDS).order_by("code"):
        states = services.requirement_states(request.user, target, framework)
        assessed.append({"framework": framework, "progress": services.framework_progress(states)})
    roadmap = (
        Roadmap.objects.visible_to(request.user, RoadmapPerm.VIEW).filter(structure=target).first()
    )
    backups = BackupSystem.objects.visible_to(request.user, RoadmapPerm.VIEW).filter(
        structure=target
    )
    return render(
        request,
        TEMPLATES + "structure.html",
        {
            "structure": target,
            "diagnostic": diagnostic,
            "result": result,
            "theme_rows": _theme_rows(diagnostic, result),
            "priorities": priorities,
            "assessed": assessed,
            "roadmap": roadmap,
            "backup_count": backups.count(),
            "can_answer": can(request.user, RoadmapPerm.ANSWER, target),
            "can_edit": can(request.user, RoadmapPerm.EDIT, target),
        },
    )


def _theme_rows(framework: Framework | None, result) -> list[dict[str, Any]]:
    if framework is None or result is None:
        return []
    rows = []
    for theme in framework.themes:
        score = result.theme_scores.get(theme["code"])
        if theme["code"] == "contexte":
            continue
        rows.append(
            {
                "title": theme["title"],
                "score": score,
                "percent": None if score is None else round(score / 3 * 100),
            }
        )
    return rows


# --- The diagnostic questionnaire -------------------------------------------------------------


def _steps(framework: Framework) -> list[dict[str, Any]]:
    questions = services.requirements_of(framework)
    return [
        {
            "theme": theme,
            "questions": [q for q in questions if q.theme == theme["code"]],
        }
        for theme in framework.themes
    ]


@login_required
def diagnostic(request: HttpRequest, structure_id: int) -> HttpResponse:
    """One theme per step; each step is saved on its own (htmx swaps in the next one)."""
    target = access.structure_for(
        request.user, structure_id, RoadmapPerm.ANSWER, see=RoadmapPerm.VIEW
    )
    framework = _diagnostic_framework()
    steps = _steps(framework)
    try:
        index = int(request.POST.get("step") or request.GET.get("etape") or 1) - 1
    except ValueError:
        index = 0
    index = min(max(index, 0), len(steps) - 1)
    assessment = services.assessment_for(target, framework)
    error = ""
    if request.method == "POST":
        choices = {q.code: request.POST.get(f"q-{q.code}", "") for q in steps[index]["questions"]}
        try:
            services.save_theme(request.user, assessment, choices)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            if index + 1 >= len(steps):
                messages.success(request, _("Merci : votre diagnostic est enregistré."))
                done = reverse("roadmap:structure", args=[target.pk])
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = done
                    return response
                return redirect(done)
            index += 1
            if not request.htmx:
                url = reverse("roadmap:diagnostic", args=[target.pk])
                return redirect(f"{url}?etape={index + 1}")
    given = {a.requirement_id: a for a in assessment.answers.select_related("requirement").all()}
    step = steps[index]
    questions = []
    for question in step["questions"]:
        row = given.get(question.pk)
        current = ""
        if row is not None:
            current = row.result if row.result in ("unknown", "na") else str(row.score)
        questions.append(
            {
                "q": question,
                "current": current,
                "choices": [(str(i), label) for i, label in enumerate(question.answers)],
            }
        )
    context = {
        "structure": target,
        "framework": framework,
        "step": step,
        "number": index + 1,
        "count": len(steps),
        "questions": questions,
        "error": error,
        "progress": round(index * 100 / len(steps)),
    }
    template = "_diagnostic_step.html" if request.htmx else "diagnostic.html"
    return render(request, TEMPLATES + template, context)


# --- Assessment against one framework -------------------------------------------------------


@login_required
def assessment(request: HttpRequest, structure_id: int, framework: str) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    framework_row = get_object_or_404(Framework, code=framework, kind__in=ASSESSED_KINDS)
    can_answer = can(request.user, RoadmapPerm.ANSWER, target)
    if request.method == "POST":
        if not can_answer:
            raise PermissionDenied
        form = AnswerForm(request.POST)
        if form.is_valid():
            requirement = get_object_or_404(
                framework_row.requirements, code=form.cleaned_data["requirement"], retired=False
            )
            record = services.assessment_for(target, framework_row)
            try:
                services.answer(
                    request.user,
                    record,
                    requirement,
                    result=form.cleaned_data["result"],
                    justification=form.cleaned_data["justification"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Réponse enregistrée."))
        if form.errors:
            messages.error(request, _("Réponse non enregistrée : vérifiez le formulaire."))
        return redirect(
            reverse("roadmap:assessment", args=[target.pk, framework_row.code])
            + f"#req-{request.POST.get('requirement', '')[:60]}"
        )
    states = services.requirement_states(request.user, target, framework_row)
    themes = [
        {"theme": t, "states": [s for s in states if s.requirement.theme == t["code"]]}
        for t in framework_row.themes
    ]
    coverage = None
    if framework_row.code == "care-d2":
        coverage = _coverage(target)
    return render(
        request,
        TEMPLATES + "assessment.html",
        {
            "structure": target,
            "framework": framework_row,
            "themes": themes,
            "progress": services.framework_progress(states),
            "can_answer": can_answer,
            "result_choices": Result.choices,
            "coverage": coverage,
        },
    )


def _coverage(target: Structure) -> dict[str, Any] | None:
    """The 66 % rule for the structure's GHT (or organisation), when it has several entities."""
    from carbet.roadmap.indicators import group_coverage

    result = group_coverage(target)
    if result is None:
        return None
    coverage, entities = result
    return {"share": round(coverage.share * 100), "met": coverage.met, "entities": entities}


# --- Frameworks ---------------------------------------------------------------------------------


FRAMEWORK_MAX_BYTES = 2 * 1024 * 1024


@login_required
def framework_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, RoadmapPerm.VIEW):
        raise PermissionDenied
    manage = can(request.user, RoadmapPerm.FRAMEWORK)
    form = FrameworkUploadForm()
    if request.method == "POST":
        if not manage:
            raise PermissionDenied
        form = FrameworkUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                # The one upload path: size while reading, JSON text by content.
                loaded = uploads.load(
                    upload,
                    {uploads.Kind.JSON},
                    max_bytes=FRAMEWORK_MAX_BYTES,
                    size_message=_("Fichier trop gros (2 Mo au plus)."),
                )
                result = framework_loader.load_upload(
                    loaded.data, loaded.original_name, actor=request.user
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("file", message)
            except FrameworkError as exc:
                for issue in exc.issues[:30]:
                    form.add_error("file", str(issue))
            else:
                messages.success(
                    request,
                    _("Référentiel %(code)s %(version)s chargé.")
                    % {"code": result.code, "version": result.version},
                )
                return redirect("roadmap:frameworks")
    return render(
        request,
        TEMPLATES + "frameworks.html",
        {
            "frameworks": Framework.objects.all(),
            "form": form if manage else None,
        },
    )


@login_required
def framework_detail(request: HttpRequest, code: str) -> HttpResponse:
    if not can(request.user, RoadmapPerm.VIEW):
        raise PermissionDenied
    framework = get_object_or_404(Framework, code=code)
    requirements = services.requirements_of(framework)
    themes = [
        {"theme": t, "requirements": [r for r in requirements if r.theme == t["code"]]}
        for t in framework.themes
    ]
    return render(request, TEMPLATES + "framework.html", {"framework": framework, "themes": themes})
