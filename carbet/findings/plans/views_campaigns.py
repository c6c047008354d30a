"""Pages of the regional campaigns (centre staff only: CAMPAIGN_MANAGE).

Define the campaign, see which structures it would reach, launch it, follow each structure's
action. A structure's people never reach these pages (403): they see the campaign's notice on
their own action.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.core.forms import apply_errors
from carbet.findings.models import ActionStatus, Campaign
from carbet.findings.plans import campaigns as campaign_services
from carbet.findings.plans.forms import CampaignForm

TEMPLATES = "findings/plans/"


def _campaign_for(request: HttpRequest, pk: int) -> Campaign:
    campaign_services.require_manage(request.user)
    return get_object_or_404(campaign_services.campaigns_for(request.user), pk=pk)


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    campaign_services.require_manage(request.user)
    rows = campaign_services.campaigns_for(request.user).annotate(
        structures=Count("actions__structure", distinct=True),
        finished=Count(
            "actions",
            filter=Q(actions__status__in=[ActionStatus.DONE, ActionStatus.VERIFIED]),
            distinct=True,
        ),
        live=Count("actions", filter=~Q(actions__status=ActionStatus.CANCELLED), distinct=True),
    )
    return render(request, TEMPLATES + "campaigns.html", {"campaigns": rows})


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    campaign_services.require_manage(request.user)
    # The dashboard's "most shared weaknesses" link prefills the criteria it already knows.
    prefill = {
        name: request.GET[name][:200]
        for name in ("title", "match_cve", "match_rule", "match_product")
        if request.GET.get(name)
    }
    form = CampaignForm(request.POST or None, initial=prefill)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_services.save_campaign(
                request.user, form.save(commit=False), ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("La campagne est définie : vérifiez les structures concernées, puis lancez-la."),
            )
            return redirect("findings:campaign_detail", pk=campaign.pk)
    return render(request, TEMPLATES + "campaign_form.html", {"form": form})


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    matches = campaign_services.preview(request.user, campaign)
    progress = campaign_services.progress(request.user, campaign)
    reached = {row.structure.pk for row in progress.rows}
    return render(
        request,
        TEMPLATES + "campaign_detail.html",
        {
            "campaign": campaign,
            "matches": matches,
            "new_matches": [m for m in matches if m.structure.pk not in reached],
            "progress": progress,
        },
    )


@login_required
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    report = campaign_services.launch(request.user, campaign, ip=client_ip(request))
    created, extended = len(report.actions_created), len(report.actions_extended)
    if created or extended:
        messages.success(
            request,
            _(
                "Campagne lancée : %(created)s action(s) créée(s), %(extended)s complétée(s), "
                "%(notices)s avis à envoyer."
            )
            % {"created": created, "extended": extended, "notices": len(report.notices_queued)},
        )
    else:
        messages.info(request, _("Aucune structure n'a de vulnérabilité ouverte correspondante."))
    return redirect("findings:campaign_detail", pk=campaign.pk)
