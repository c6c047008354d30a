"""Pages of the community events: the agenda, an event, registering and cancelling, the
centre's forms and registration lists, and each person's private calendar address.

Thin: the selectors find what the person may see (an event not for them is a 404), the
services check the rights again, write and audit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carbet.audit.services import client_ip
from carbet.community import selectors_events as selectors
from carbet.community import services_events as services
from carbet.community.choices import RegistrationStatus
from carbet.community.forms_events import CancelEventForm, EventForm, RegisterForm
from carbet.community.models import Registration
from carbet.community.service import CommunityPerm
from carbet.community.services_events_mail import event_ics, ics_filename
from carbet.community.targeting import is_empty
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can


@login_required
@require_GET
def events(request: HttpRequest) -> HttpResponse:
    rows = list(selectors.visible_events(request.user))
    mine = selectors.my_registrations(request.user, [e.pk for e in rows])
    return render(
        request,
        "community/events/list.html",
        {
            "rows": [{"event": e, "registration": mine.get(e.pk)} for e in rows],
            "can_publish": can(request.user, CommunityPerm.PUBLISH),
        },
    )


def _detail_context(request: HttpRequest, event, form: RegisterForm | None = None) -> dict:
    user = request.user
    structures = selectors.registration_structures(user, event)
    registration = selectors.my_registration(user, event)
    active = registration is not None and registration.status in services.ACTIVE
    is_open = True
    try:
        services.check_open(event, timezone.now())
    except ValidationError:
        is_open = False
    if form is None and structures and not active and is_open:
        form = RegisterForm(structures=structures)
    return {
        "event": event,
        "description_html": selectors.description_html(event),
        "places": selectors.places(event),
        "registration": registration if active else None,
        "colleagues": selectors.colleagues(user, event),
        "form": form if is_open and not active else None,
        "is_open": is_open,
        "can_publish": can(user, CommunityPerm.PUBLISH),
        "for_everyone": is_empty(event),
    }


@login_required
@require_GET
def events_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    return render(request, "community/events/detail.html", _detail_context(request, event))


@login_required
@require_POST
def events_register(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    form = RegisterForm(
        request.POST, structures=selectors.registration_structures(request.user, event)
    )
    if form.is_valid():
        structure = access.structure_for(
            request.user, form.cleaned_data["structure"], see=CommunityPerm.VIEW
        )
        try:
            row = services.register(request.user, event, structure, ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if row.status == RegistrationStatus.WAITLIST:
                messages.warning(request, _("Complet : vous êtes sur la liste d'attente."))
            else:
                messages.success(request, _("Inscription confirmée. Un e-mail vous est envoyé."))
            return redirect("community:events_detail", event.pk)
    context = _detail_context(request, event, form)
    return render(request, "community/events/detail.html", context, status=422)


@login_required
@require_POST
def events_unregister(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.owned_for(
        request.user,
        Registration,  # owned_for applies visible_to and joins the structure
        pk,
        CommunityPerm.VIEW,
        see=CommunityPerm.VIEW,
    )
    services.cancel_registration(request.user, row, ip=client_ip(request))
    messages.success(request, _("Inscription annulée."))
    if row.user_id != request.user.pk:
        return redirect("community:events_registrations", row.event_id)
    return redirect("community:events_detail", row.event_id)


@login_required
@require_GET
def events_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_for(request.user, pk)
    registration = selectors.my_registration(request.user, event)
    with_link = can(request.user, CommunityPerm.PUBLISH) or (
        registration is not None and registration.status == RegistrationStatus.REGISTERED
    )
    data = event_ics(event, with_link=with_link)
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics_filename(event)}"'
    return response


# --- The centre ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def events_create(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.PUBLISH)
    form = EventForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.create_event(request.user, form.values(), ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Événement publié."))
            return redirect("community:events_detail", event.pk)
    status = 422 if form.errors else 200
    return render(request, "community/events/form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def events_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_any(request.user, pk)
    form = EventForm(request.POST or None, instance=event, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_event(
                request.user, event, form.values(), ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("Événement modifié."))
            return redirect("community:events_detail", event.pk)
    status = 422 if form.errors else 200
    context = {"form": form, "event": event}
    return render(request, "community/events/form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def events_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_any(request.user, pk)
    form = CancelEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sent = services.cancel_event(
            request.user, event, form.cleaned_data["reason"], ip=client_ip(request)
        )
        messages.success(
            request,
            _("Événement annulé ; %(n)s message(s) envoyé(s) aux personnes inscrites.")
            % {"n": sent},
        )
        return redirect("community:events_detail", event.pk)
    context = {"event": event, "form": form, "places": selectors.places(event)}
    return render(request, "community/events/cancel.html", context)


@login_required
@require_GET
def events_registrations(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_any(request.user, pk)
    groups = selectors.registrations_by_structure(request.user, event)
    context = {"event": event, "groups": groups, "places": selectors.places(event)}
    return render(request, "community/events/registrations.html", context)


@login_required
@require_GET
def events_registrations_csv(request: HttpRequest, pk: int) -> HttpResponse:
    event = selectors.event_any(request.user, pk)
    data = services.export_registrations(request.user, event, ip=client_ip(request))
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="inscriptions-{event.pk}.csv"'
    return response


# --- The private calendar address ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def events_feed(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_feed(request.user, ip=client_ip(request))
            messages.success(request, _("Adresse supprimée : elle ne donne plus rien."))
            return redirect("community:events_feed")
        token = services.create_feed(request.user, ip=client_ip(request))
    feed = selectors.my_feed(request.user)
    context = {"feed": feed, "url": services.feed_url(token) if token else None}
    return render(request, "community/events/feed.html", context)
