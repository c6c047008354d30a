"""The live console of one exercise: clock actions, the timeline, expectations, calls.

The page polls a partial (``console_live``) every few seconds with htmx: the partial replaces
only the timeline region, which is an ``aria-live="polite"`` region, so screen readers hear
what changed without the focus moving. Forms that the animator is typing in (expectation
comments, ad-hoc inject) live outside the polled region, so a refresh never erases them.
Every action is an ordinary form post too: the console works without JavaScript (reload).
"""

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
from django.views.decorators.http import require_GET, require_POST

from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.tenancy import can
from carbet.exercises import selectors_pages as sel
from carbet.exercises.choices import ExerciseStatus
from carbet.exercises.forms import AdhocForm, ExpectationForm, ObservationForm
from carbet.exercises.models import Expectation, Inject, PhoneReminder
from carbet.exercises.service import ExercisePerm
from carbet.exercises.views import exercise_for

POLL_SECONDS = 3


def _services() -> Any:
    from carbet.exercises import services_console

    return services_console


def _back(exercise_pk: int, anchor: str = "") -> Any:
    return redirect(reverse("exercises:console", args=[exercise_pk]) + anchor)


def _context(request: Any, exercise: Any) -> dict[str, Any]:
    board = sel.console(exercise)
    return {
        "exercise": exercise,
        "board": board,
        "digest": sel.console_digest(exercise, board),
        "poll": POLL_SECONDS,
        "live": exercise.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED),
        "may_run": can(request.user, ExercisePerm.RUN, exercise.structure),
        "now": timezone.now(),
    }


@login_required
def console(request, pk: int):
    exercise = exercise_for(request, pk)
    context = _context(request, exercise)
    context.update(
        {
            "adhoc_form": AdhocForm(),
            "expectation_form": ExpectationForm(),
            "observation_form": ObservationForm(),
            "criteria": sel.grid_criteria(exercise),
        }
    )
    return render(request, "exercises/console.html", context)


@login_required
@require_GET
def console_live(request, pk: int):
    """The polled partial: the clock, what is due, what was sent, replies, calls, the log."""
    exercise = exercise_for(request, pk)
    context = _context(request, exercise)
    if request.GET.get("v") == context["digest"]:
        return HttpResponse(status=204)  # nothing new: htmx keeps the region as it is
    return render(request, "exercises/_console_live.html", context)


@login_required
@require_POST
def clock(request, pk: int, action: str):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    services = _services()
    operation = {
        "demarrer": services.start,
        "pause": services.pause,
        "reprendre": services.resume,
        "terminer": services.finish,
    }.get(action)
    if operation is None:
        raise PermissionDenied
    try:
        operation(request.user, exercise, ip=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("C'est fait : %(s)s.") % {"s": _label(action)})
    return _back(exercise.pk)


def _label(action: str) -> str:
    return {
        "demarrer": _("exercice démarré"),
        "pause": _("exercice en pause, les injects suivants sont décalés"),
        "reprendre": _("exercice repris"),
        "terminer": _("exercice terminé"),
        "envoyer": _("inject envoyé maintenant"),
        "sauter": _("inject sauté"),
    }.get(action, action)


@login_required
@require_POST
def inject_action(request, pk: int, action: str):
    rows = Inject.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    inject = access.owned_for(request.user, rows, pk, ExercisePerm.RUN, see=ExercisePerm.VIEW)
    services = _services()
    try:
        if action == "envoyer":
            services.trigger_now(request.user, inject, ip=client_ip(request))
        elif action == "sauter":
            services.skip(
                request.user,
                inject,
                reason=request.POST.get("reason", "")[:300],
                ip=client_ip(request),
            )
        else:
            raise PermissionDenied
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{inject.ref} : {_label(action)}.")
    return _back(inject.exercise_id)


@login_required
@require_POST
def adhoc(request, pk: int):
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    form = AdhocForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _services().add_adhoc(
                request.user,
                exercise,
                title=data["title"],
                channel=data["channel"],
                body=data["body"],
                subject=data["subject"],
                sender_name=data["sender_name"],
                in_minutes=data["in_minutes"],
                outlet=data["outlet"],
                script=data["script"],
                ip=client_ip(request),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Inject ajouté au chronogramme."))
            return _back(exercise.pk)
    context = _context(request, exercise)
    context.update(
        {
            "adhoc_form": form,
            "expectation_form": ExpectationForm(),
            "observation_form": ObservationForm(),
            "criteria": sel.grid_criteria(exercise),
        }
    )
    return render(request, "exercises/console.html", context, status=400)


@login_required
@require_POST
def expectation_validate(request, pk: int):
    rows = Expectation.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    expectation = access.owned_for(request.user, rows, pk, ExercisePerm.RUN, see=ExercisePerm.VIEW)
    form = ExpectationForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Choisissez un résultat : atteint, partiellement ou non atteint.")
        )
    else:
        try:
            _services().validate_expectation(
                request.user,
                expectation,
                form.cleaned_data["outcome"],
                form.cleaned_data["comment"],
                ip=client_ip(request),
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Attendu %(ref)s évalué.") % {"ref": expectation.ref})
    return _back(expectation.exercise_id, f"#attendu-{expectation.pk}")


@login_required
@require_POST
def call_done(request, pk: int):
    rows = PhoneReminder.objects.visible_to(request.user, ExercisePerm.VIEW).select_related(
        "exercise__structure"
    )
    call = access.owned_for(request.user, rows, pk, ExercisePerm.RUN, see=ExercisePerm.VIEW)
    try:
        _services().mark_call_done(request.user, call, ip=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Appel noté comme passé."))
    return _back(call.exercise_id)


@login_required
@require_POST
def observe(request, pk: int):
    """An animator or the director of exercise notes an observation from the console."""
    exercise = exercise_for(request, pk, ExercisePerm.RUN)
    form = ObservationForm(request.POST)
    if form.is_valid():
        try:
            _services().record_observation(
                request.user,
                exercise,
                criterion=form.cleaned_data["criterion"],
                rating=form.cleaned_data["rating"],
                note=form.cleaned_data["note"],
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Observation enregistrée."))
    else:
        messages.error(request, _("Observation incomplète : critère et note sont obligatoires."))
    return _back(exercise.pk, "#observer")
