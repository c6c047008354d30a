"""Regional exercises: one scenario for N structures, one console (centre staff only)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carbet.audit.services import client_ip
from carbet.core import access
from carbet.exercises import livecache, selectors
from carbet.exercises.choices import ExerciseStatus
from carbet.exercises.forms import AdhocForm, RegionalForm
from carbet.exercises.models import RegionalExercise
from carbet.exercises.service import ExercisePerm
from carbet.exercises.views import _version

POLL_SECONDS = 5
# The live part's renderings (this process's): see ``carbet.exercises.livecache``.
LIVE = livecache.LiveFragments()


def _regional_services() -> Any:
    from carbet.exercises import services_regional

    return services_regional


def regional_for(request: Any, pk: int) -> RegionalExercise:
    access.require(request.user, ExercisePerm.REGIONAL)
    return access.visible_or_404(request.user, RegionalExercise, pk, ExercisePerm.REGIONAL)


@login_required
def regional_list(request):
    access.require(request.user, ExercisePerm.REGIONAL)
    rows = RegionalExercise.objects.visible_to(request.user, ExercisePerm.REGIONAL)
    return render(request, "exercises/regional_list.html", {"regionals": rows[:100]})


@login_required
def regional_new(request, version_pk: int):
    access.require(request.user, ExercisePerm.REGIONAL)
    version = _version(version_pk)
    form = RegionalForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            regional = _regional_services().create_regional(
                request.user,
                version,
                list(data["structures"]),
                planned_start=data["planned_start"],
                title=data["title"],
                compression=data["compression"],
                profile=data["profile"],
                ip=client_ip(request),
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Exercice régional créé."))
            return redirect("exercises:regional", pk=regional.pk)
    return render(
        request,
        "exercises/regional_form.html",
        {"form": form, "version": version, "title": _("Nouvel exercice régional")},
    )


def _board_key(regional: RegionalExercise) -> str:
    """The cache key of this second's board: a console polled by 20 animators every few
    seconds computes it once a second per process. The status is in the key (a start or a
    pause shows at once) and so is the creation time (a reused id is another exercise)."""
    created = regional.created_at.timestamp() if regional.created_at else 0
    return f"exercises:regional:{regional.pk}:{created}:{regional.status}:{int(time.time())}"


def _live_key(regional: RegionalExercise, language: str | None = None) -> str:
    """The live fragment's key: the board's, without the second (``livecache`` ages it)."""
    created = regional.created_at.timestamp() if regional.created_at else 0
    language = language or get_language()
    return f"exercises:regional-live:{regional.pk}:{created}:{regional.status}:{language}"


def _forget(regional: RegionalExercise) -> None:
    """Drop this second's board and this process's live fragments: an action shows at once
    here, and within ``livecache.FRESH`` seconds in the other processes."""
    cache.delete(_board_key(regional))
    LIVE.forget([_live_key(regional, code) for code, _name in settings.LANGUAGES])


def _board(regional: RegionalExercise) -> tuple[list[dict], list[dict]]:
    # Grouped queries, a constant number whatever the number of structures, and no scenario
    # snapshot decoded; then cached for the second.
    return cache.get_or_set(
        _board_key(regional),
        lambda: (selectors.board_rows(regional), selectors.regional_inject_rows(regional)),
        timeout=2,
    )


def _context(regional: RegionalExercise) -> dict[str, Any]:
    board, injects = _board(regional)
    return {
        "regional": regional,
        "board": board,
        "injects": injects,
        "poll": POLL_SECONDS,
        "live": regional.status in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED),
        "totals": {
            key: sum(row[key] for row in board)
            for key in ("met", "partly", "not_met", "pending", "total")
        },
    }


@login_required
def regional_console(request, pk: int):
    regional = regional_for(request, pk)
    context = _context(regional)
    context["adhoc_form"] = AdhocForm()
    return render(request, "exercises/regional.html", context)


@login_required
@require_GET
def regional_live(request, pk: int):
    """The console's live part, polled by every animator: its HTML is rendered about once a
    second per process and language, off the request path (``livecache``); rights are checked
    on each request, before. It is rendered without the request, so nothing of one user's
    session can be in it."""
    regional = regional_for(request, pk)
    html = LIVE.get(
        _live_key(regional),
        lambda: render_to_string("exercises/_regional_live.html", _context(regional)),
    )
    return HttpResponse(html)


@login_required
@require_POST
def regional_clock(request, pk: int, action: str):
    regional = regional_for(request, pk)
    services = _regional_services()
    operation = {
        "demarrer": services.start_regional,
        "pause": services.pause_regional,
        "reprendre": services.resume_regional,
        "terminer": services.finish_regional,
    }.get(action)
    if operation is None:
        raise PermissionDenied
    try:
        operation(request.user, regional, ip=client_ip(request))
        _forget(regional)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Console régionale : action faite."))
    return redirect("exercises:regional", pk=regional.pk)


@login_required
@require_POST
def regional_adhoc(request, pk: int):
    regional = regional_for(request, pk)
    form = AdhocForm(request.POST)
    if form.is_valid():
        try:
            _regional_services().add_regional_adhoc(
                request.user, regional, ip=client_ip(request), **form.cleaned_data
            )
        except ValueError as exc:
            messages.error(request, str(exc))
        else:
            _forget(regional)
            messages.success(
                request, _("Inject régional ajouté : il part vers toutes les structures.")
            )
    else:
        messages.error(request, _("Inject non ajouté : titre et contenu sont obligatoires."))
    return redirect("exercises:regional", pk=regional.pk)
