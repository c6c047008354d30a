"""Pages of the bulletins (under /communaute/bulletins/): each structure's bulletins and its
answers; the centre's writing, publishing and regional follow-up."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.community import selectors_bulletins as sel
from carbet.community import services_bulletins as services
from carbet.community.choices import Acknowledgement, BulletinStatus
from carbet.community.forms_bulletins import AcknowledgeForm, BulletinForm, targeting_values
from carbet.community.markdown import render as markdown
from carbet.community.models import Bulletin, BulletinDelivery
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can

T = "community/bulletins/"


def _ack_form(delivery: BulletinDelivery, data: Any = None) -> AcknowledgeForm:
    return AcknowledgeForm(data, prefix=f"d{delivery.pk}")


@login_required
def bulletin_list(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    centre = sel.sees_region(request.user)
    context: dict[str, Any] = {
        "centre": centre,
        "can_publish": can(request.user, CommunityPerm.PUBLISH) and centre,
        "can_region": can(request.user, CommunityPerm.REGION) and centre,
    }
    if centre:
        context["bulletins"] = list(sel.region_bulletins()[:300])
    else:
        context["deliveries"] = list(sel.deliveries_for(request.user)[:300])
    return render(request, T + "list.html", context)


@login_required
def bulletin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access.require(request.user, CommunityPerm.VIEW)
    bulletin, deliveries = sel.bulletin_for(request.user, pk)
    for delivery in deliveries:
        services.mark_read(request.user, delivery)
    rows = [
        {
            "delivery": d,
            "can_answer": can(request.user, CommunityPerm.ACKNOWLEDGE, d.structure)
            and bulletin.status == BulletinStatus.PUBLISHED,
            "form": _ack_form(d, None),
        }
        for d in deliveries
    ]
    centre = sel.sees_region(request.user)
    return render(
        request,
        T + "detail.html",
        {
            "bulletin": bulletin,
            "html": markdown(bulletin.body),
            "rows": rows,
            "centre": centre,
            "can_publish": centre and can(request.user, CommunityPerm.PUBLISH),
            "can_region": centre and can(request.user, CommunityPerm.REGION),
        },
    )


@login_required
@require_POST
def bulletin_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = access.owned_for(
        request.user,
        BulletinDelivery,
        pk,
        CommunityPerm.ACKNOWLEDGE,
        see=CommunityPerm.VIEW,
    )
    if delivery.bulletin.status == BulletinStatus.DRAFT:
        raise access.refusal()
    form = _ack_form(delivery, request.POST)
    if form.is_valid():
        try:
            services.acknowledge(
                request.user,
                delivery,
                form.cleaned_data["status"],
                form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("Réponse enregistrée pour %(structure)s : %(status)s.")
                % {"structure": delivery.structure.name, "status": delivery.get_status_display()},
            )
    else:
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    return redirect("community:bulletin_detail", delivery.bulletin_id)


# --- The centre: writing and publishing ------------------------------------------------------


def _edit(request: HttpRequest, bulletin: Bulletin | None) -> HttpResponse:
    if request.method == "POST":
        form = BulletinForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_bulletin(
                    request.user, form.values(), bulletin, ip=client_ip(request)
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Brouillon enregistré."))
                return redirect("community:bulletin_detail", saved.pk)
        count = services.audience(targeting_values(request.POST))
    else:
        form = BulletinForm.for_bulletin(bulletin) if bulletin else BulletinForm()
        count = services.audience(form.initial) if bulletin else services.audience({})
    return render(request, T + "form.html", {"form": form, "bulletin": bulletin, "count": count})


@login_required
def bulletin_create(request: HttpRequest) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    return _edit(request, None)


@login_required
def bulletin_edit(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    bulletin = sel.region_bulletin(pk)
    if bulletin.status != BulletinStatus.DRAFT:
        messages.error(request, _("Seul un brouillon peut être modifié."))
        return redirect("community:bulletin_detail", bulletin.pk)
    return _edit(request, bulletin)


@login_required
def bulletin_audience(request: HttpRequest) -> HttpResponse:
    """The live count of the targeting form (an htmx fragment)."""
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    count = services.audience(targeting_values(request.GET))
    return render(request, T + "_audience.html", {"count": count})


@login_required
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    bulletin = sel.region_bulletin(pk)
    if request.method == "POST":
        try:
            reached = services.publish(request.user, bulletin, ip=client_ip(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "Bulletin publié : %(n)d structure l'a reçu.",
                    "Bulletin publié : %(n)d structures l'ont reçu.",
                    reached,
                )
                % {"n": reached},
            )
            return redirect("community:bulletin_detail", bulletin.pk)
    names = sel.targeted_names(bulletin)
    return render(
        request,
        T + "publish.html",
        {
            "bulletin": bulletin,
            "count": sel.targeted_count(bulletin),
            "names": names,
        },
    )


@login_required
@require_POST
def bulletin_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.PUBLISH)
    bulletin = sel.region_bulletin(pk)
    try:
        services.withdraw(request.user, bulletin, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Bulletin retiré."))
    return redirect("community:bulletin_detail", bulletin.pk)


# --- The centre: regional follow-up ----------------------------------------------------------


@login_required
def bulletin_followup(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.REGION)
    bulletin = sel.region_bulletin(pk)
    return render(
        request,
        T + "followup.html",
        {"bulletin": bulletin, "report": sel.follow_up(request.user, bulletin)},
    )


@login_required
@require_POST
def bulletin_remind(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.REGION)
    bulletin = sel.region_bulletin(pk)
    try:
        sent = services.remind_now(request.user, bulletin, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            ngettext("Rappel envoyé à %(n)d structure.", "Rappel envoyé à %(n)d structures.", sent)
            % {"n": sent},
        )
    return redirect("community:bulletin_followup", bulletin.pk)


def _safe_cell(text: str) -> str:
    """No spreadsheet formula from a free text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
def bulletin_followup_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_centre(request.user, CommunityPerm.REGION)
    bulletin = sel.region_bulletin(pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="bulletin-{bulletin.pk}-suivi.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("structure"),
            _("FINESS"),
            _("catégorie"),
            _("département"),
            _("réponse"),
            _("motif"),
            _("répondu le"),
            _("rappels"),
        ]
    )
    labels = dict(Acknowledgement.choices)
    for row in sel.delivery_rows(request.user, bulletin):
        writer.writerow(
            [
                _safe_cell(row.structure.name),
                row.structure.finess_et,
                row.structure.get_category_display(),
                row.structure.departement,
                str(labels.get(row.status, row.status)),
                _safe_cell(row.reason),
                timezone.localtime(row.acknowledged_at).isoformat(timespec="minutes")
                if row.acknowledged_at
                else "",
                row.reminders,
            ]
        )
    return response
