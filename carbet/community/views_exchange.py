"""Pages of the exchange with peers (the centre only): exports in STIX 2.1 or MISP, the MISP
feed import, and the events received with the CVEs the region already tracks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carbet.audit.services import client_ip
from carbet.community import selectors_exchange as selectors
from carbet.community import services_exchange as services
from carbet.community.forms_exchange import ExportForm, ImportForm
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.forms import apply_errors

T = "community/exchange/"
PAGE_SIZE = 50
# The attributes shown on an event's page (the rest is counted).
SHOWN_ATTRIBUTES = 1000


def _page(
    request: HttpRequest, export_form: ExportForm, import_form: ImportForm, status: int = 200
) -> HttpResponse:
    actor = request.user
    return render(
        request,
        T + "home.html",
        {
            "export_form": export_form,
            "import_form": import_form,
            "imports": selectors.recent_imports(actor),
            "red_bulletins": selectors.red_bulletins(actor),
            "events": selectors.shared_events(actor).count(),
            "max_archive_mb": services.MAX_ARCHIVE_BYTES // services.MB,
            "max_total_mb": services.MAX_TOTAL_BYTES // services.MB,
        },
        status=status,
    )


@login_required
def exchange(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.EXCHANGE)
    return _page(request, ExportForm(actor=request.user), ImportForm())


@login_required
def exchange_export(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.EXCHANGE)
    if request.method != "POST":
        return redirect("community:exchange")
    form = ExportForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            download = services.export(request.user, form.request(), ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            response = HttpResponse(download.data, content_type=download.content_type)
            response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
            return response
    return _page(request, form, ImportForm(), status=400)


@login_required
def exchange_import(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.EXCHANGE)
    if request.method != "POST":
        return redirect("community:exchange")
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            feed = services.import_misp_archive(
                request.user, form.cleaned_data["archive"], ip=client_ip(request)
            )
        except services.ExchangeImportError as exc:
            form.add_error("archive", str(exc))
        else:
            messages.success(
                request,
                _(
                    "Flux « %(name)s » importé : %(events)s événement(s), "
                    "%(attributes)s attribut(s)."
                )
                % {"name": feed.name, "events": feed.events, "attributes": feed.attributes},
            )
            return redirect("community:exchange_events")
    return _page(request, ExportForm(actor=request.user), form, status=400)


@login_required
def exchange_events(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.EXCHANGE)
    page = Paginator(selectors.shared_events(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tracked = selectors.tracked_by_event(request.user, list(page.object_list))
    rows = [{"event": event, "tracked": tracked.get(event.pk, [])} for event in page.object_list]
    return render(request, T + "events.html", {"page": page, "rows": rows})


@login_required
def exchange_event(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.EXCHANGE)
    event = selectors.shared_event(request.user, pk)
    attributes = event.attributes if isinstance(event.attributes, list) else []
    return render(
        request,
        T + "event.html",
        {
            "event": event,
            "attributes": attributes[:SHOWN_ATTRIBUTES],
            "hidden_attributes": max(0, len(attributes) - SHOWN_ATTRIBUTES),
            "tracked": selectors.tracked(request.user, event.cves),
        },
    )
