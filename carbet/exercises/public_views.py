"""The public space /x/: players, observers and the hot RETEX, by signed link, no account.

A link that is unknown, forged, revoked or expired gets a plain 404, whatever the route
(``carbet.exercises.tokens.open_link``). Responses are marked not to be cached, indexed or
sent as a referrer. Posts are authorised by the unguessable token itself, hence
``csrf_exempt``: there is no session for a forged request to ride on.

One link, one person: a player's link opens the player space (messages, press and social
page, documents, reply form), an observer's the observation grid (made for a phone), a RETEX
link the anonymous questionnaire (one answer per link; the answer keeps no link to anyone).
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from carbet.exercises import selectors_pages as sel
from carbet.exercises import tokens
from carbet.exercises.choices import LinkPurpose, ParticipantRole
from carbet.exercises.forms import ObservationForm, ReplyForm, RetexForm
from carbet.exercises.models import AccessLink, Observation


def _private(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def _space(token: str) -> AccessLink:
    link = tokens.open_link(token, LinkPurpose.SPACE)
    if link is None or link.participant is None:
        raise Http404
    return link


def _console() -> object:
    from carbet.exercises import services_console

    return services_console


@csrf_exempt
@_private
@require_http_methods(["GET", "POST"])
def space(request, token: str):
    link = tokens.open_link(token, LinkPurpose.SPACE)
    if link is None:
        retex = tokens.open_link(token, LinkPurpose.RETEX)
        if retex is None:
            raise Http404
        return _retex(request, retex)
    if link.participant is None:
        raise Http404
    if link.participant.role in (ParticipantRole.OBSERVER, ParticipantRole.ANIMATOR):
        return _observer(request, link, token)
    return _player(request, link, token)


def _player(request, link: AccessLink, token: str):
    feed = sel.player_feed(link)
    choices = [(i.pk, f"{i.ref} — {i.subject or i.title}") for i in feed["messages"]]
    form = ReplyForm(request.POST or None, injects=choices)
    sent = False
    if request.method == "POST" and form.is_valid():
        inject = None
        if form.cleaned_data["inject"]:
            inject = link.exercise.injects.filter(pk=form.cleaned_data["inject"]).first()
        try:
            _console().submit_reply(  # type: ignore[attr-defined]
                link,
                body=form.cleaned_data["body"],
                subject=form.cleaned_data["subject"],
                inject=inject,
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(f"/x/{token}/?envoye=1#reponses")
    if request.GET.get("envoye"):
        sent = True
    return render(
        request,
        "exercises/public/player.html",
        {
            "link": link,
            "exercise": link.exercise,
            "participant": link.participant,
            "feed": feed,
            "form": form,
            "sent": sent,
            "token": token,
        },
        status=400 if request.method == "POST" else 200,
    )


def _observer(request, link: AccessLink, token: str):
    form = ObservationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _console().record_observation(  # type: ignore[attr-defined]
                link,
                link.exercise,
                criterion=form.cleaned_data["criterion"],
                rating=form.cleaned_data["rating"],
                note=form.cleaned_data["note"],
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(f"/x/{token}/?note=1")
    mine = Observation.objects.filter(exercise=link.exercise, observer=link.participant).order_by(
        "-at"
    )
    return render(
        request,
        "exercises/public/observer.html",
        {
            "exercise": link.exercise,
            "participant": link.participant,
            "criteria": sel.grid_criteria(link.exercise),
            "form": form,
            "observations": mine[:50],
            "saved": bool(request.GET.get("note")),
            "token": token,
        },
        status=400 if request.method == "POST" else 200,
    )


def _retex(request, link: AccessLink):
    done = link.used_at is not None
    form = RetexForm(request.POST or None)
    if request.method == "POST" and not done and form.is_valid():
        try:
            _console().submit_retex(  # type: ignore[attr-defined]
                link, form.answers(), role=form.cleaned_data["role"]
            )
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            done = True
    return render(
        request,
        "exercises/public/retex.html",
        {"exercise": link.exercise, "form": form, "done": done},
        status=400 if request.method == "POST" and not done else 200,
    )


@_private
@require_GET
def press(request, token: str):
    """The simulated press and social-media page: what has been published so far."""
    link = _space(token)
    feed = sel.player_feed(link)
    return render(
        request,
        "exercises/public/press.html",
        {"exercise": link.exercise, "feed": feed, "token": token},
    )


@_private
@require_GET
def message(request, token: str, pk: int):
    """One message or document of the player's space, in full."""
    link = _space(token)
    feed = sel.player_feed(link)
    inject = next((m for m in feed["messages"] if m.pk == pk), None)
    if inject is None:
        raise Http404
    return render(
        request,
        "exercises/public/message.html",
        {"exercise": link.exercise, "inject": inject, "token": token, "title": _("Message")},
    )
