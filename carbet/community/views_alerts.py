"""Pages of the matched alerts: a structure's alerts and their answers; for the centre, the
region's exposure to each vulnerability, one vulnerability's structures and the passes."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.community import selectors_alerts, services_alerts
from carbet.community.choices import AlertStatus
from carbet.community.service import CommunityPerm
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can

T = "community/alerts/"


class AcknowledgeForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Votre réponse"),
        choices=[(s.value, s.label) for s in services_alerts.ANSWERS],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=gettext_lazy("Pourquoi, ou ce qui a été fait"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Obligatoire si votre structure n'est pas concernée."),
    )


@login_required
def structure_alerts(request: HttpRequest, structure_id: int) -> HttpResponse:
    structure = access.structure_for(request.user, structure_id, see=CommunityPerm.INVENTORY)
    alerts = selectors_alerts.structure_alerts(request.user, structure)
    context = {
        "structure": structure,
        "alerts": alerts,
        "waiting": sum(1 for a in alerts if a.status == AlertStatus.NEW),
        "can_acknowledge": can(request.user, CommunityPerm.ACKNOWLEDGE, structure),
    }
    return render(request, T + "structure.html", context)


@login_required
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access.owned_for(
        request.user,
        selectors_alerts.alerts_for(request.user),
        pk,
        CommunityPerm.INVENTORY,
        see=CommunityPerm.INVENTORY,
    )
    can_acknowledge = can(request.user, CommunityPerm.ACKNOWLEDGE, alert.structure)
    form = AcknowledgeForm(initial={"status": alert.status, "reason": alert.reason})
    status = 200
    if request.method == "POST":
        access.require(request.user, CommunityPerm.ACKNOWLEDGE, alert.structure)
        form = AcknowledgeForm(request.POST)
        if form.is_valid():
            try:
                services_alerts.acknowledge(
                    request.user,
                    alert,
                    form.cleaned_data["status"],
                    form.cleaned_data["reason"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Votre réponse est enregistrée."))
                return redirect("community:alert_detail", alert.pk)
        status = 422
    context = {
        "alert": alert,
        "vuln": alert.vulnerability,
        "structure": alert.structure,
        "form": form,
        "can_acknowledge": can_acknowledge,
        "region": can(request.user, CommunityPerm.REGION),
    }
    return render(request, T + "detail.html", context, status=status)


@login_required
def region(request: HttpRequest) -> HttpResponse:
    access.require(request.user, CommunityPerm.REGION)
    only_open = request.GET.get("ouvertes") == "1"
    context = {
        "rows": selectors_alerts.region_exposure(request.user, only_open=only_open),
        "only_open": only_open,
        "last_run": selectors_alerts.last_run(),
    }
    return render(request, T + "region.html", context)


@login_required
def vulnerability(request: HttpRequest, pk: int) -> HttpResponse:
    vuln = selectors_alerts.vulnerability_for(request.user, pk)
    exposure = selectors_alerts.vulnerability_exposure(request.user, vuln)
    return render(request, T + "vulnerability.html", {"vuln": vuln, "exposure": exposure})


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    context = {
        "runs": selectors_alerts.runs(request.user),
        "can_start": can(request.user, CommunityPerm.REGION),
    }
    return render(request, T + "runs.html", context)


@login_required
@require_POST
def start_run(request: HttpRequest) -> HttpResponse:
    job = services_alerts.start_match(
        request.user, full=request.POST.get("full") == "1", ip=client_ip(request)
    )
    messages.success(request, _("Le rapprochement est lancé ; suivez son avancement ici."))
    return redirect("jobs:detail", job.pk)
