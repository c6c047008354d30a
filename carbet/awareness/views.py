"""Staff and structure pages of the awareness service: campaigns, results, staff lists.

Directors and referents (AWARENESS_VIEW) see aggregates by service only; names or pseudonyms
need AWARENESS_NOMINATIVE *and* a campaign whose privacy mode allows them, and every such view
is written to the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.awareness import coverage, results, services_campaigns, services_targets, tracking
from carbet.awareness.choices import CampaignStatus, PrivacyMode, ReportSource
from carbet.awareness.forms import (
    AssignTrainingForm,
    CampaignForm,
    ManualReportForm,
    TargetImportForm,
)
from carbet.awareness.models import (
    Campaign,
    Recipient,
    Target,
    TargetGroup,
    TrainingAssignment,
    TrainingModule,
)
from carbet.awareness.service import AwarenessPerm
from carbet.core import access
from carbet.core.mandates import MandateRefused
from carbet.core.models import Structure
from carbet.core.tenancy import can

MAX_RECIPIENTS_SHOWN = 2000


def _campaign(request: Any, pk: int, perm: Perm = AwarenessPerm.VIEW) -> Campaign:
    related = Campaign.objects.visible_to(request.user, AwarenessPerm.VIEW).select_related(
        "template", "smtp_profile", "training"
    )
    return access.owned_for(request.user, related, pk, perm, see=AwarenessPerm.VIEW)


@login_required
def index(request):
    if not can(request.user, AwarenessPerm.VIEW):
        raise PermissionDenied
    campaigns = (
        Campaign.objects.visible_to(request.user, AwarenessPerm.VIEW)
        .select_related("structure", "template")
        .order_by("-launch_at", "-id")[:200]
    )
    structures = Structure.objects.visible_to(request.user, AwarenessPerm.VIEW).order_by("name")
    return render(
        request,
        "awareness/index.html",
        {
            "campaigns": campaigns,
            "structures": structures[:500],
            "may_manage": can(request.user, AwarenessPerm.MANAGE),
        },
    )


@login_required
def campaign_new(request):
    if not can(request.user, AwarenessPerm.MANAGE):
        raise PermissionDenied
    form = CampaignForm(
        request.POST or None, actor=request.user, structure_id=request.GET.get("structure")
    )
    if request.method == "POST" and form.is_valid():
        campaign = form.save(commit=False)
        campaign.created_by = request.user
        campaign.difficulty = campaign.template.difficulty
        campaign.save()
        form.save_m2m()
        audit.record(
            request.user,
            "awareness.campaign.create",
            campaign,
            structure=campaign.structure,
            ip=client_ip(request),
        )
        messages.success(request, _("Campagne enregistrée en brouillon."))
        return redirect("awareness:campaign", pk=campaign.pk)
    return render(
        request,
        "awareness/form.html",
        {"form": form, "title": _("Nouvelle campagne"), "multipart": False},
    )


@login_required
def campaign_detail(request, pk: int):
    campaign = _campaign(request, pk)
    names = services_campaigns.shows_names(request.user, campaign)
    recipients = []
    if names:
        recipients = list(
            Recipient.objects.visible_to(request.user, AwarenessPerm.NOMINATIVE)
            .filter(campaign=campaign)
            .select_related("target")
            .prefetch_related("clicks")[:MAX_RECIPIENTS_SHOWN]
        )
        audit.record(
            request.user,
            "awareness.results.nominative_view",
            campaign,
            structure=campaign.structure,
            ip=client_ip(request),
            changes={"rows": len(recipients)},
        )
    numbers = results.funnel(campaign)
    return render(
        request,
        "awareness/campaign.html",
        {
            "campaign": campaign,
            "funnel": numbers,
            "steps": _steps(numbers),
            "services": results.by_service(campaign, small_groups=names),
            "recipients": recipients,
            "nominative": names and campaign.privacy == PrivacyMode.NOMINATIVE,
            "may_manage": can(request.user, AwarenessPerm.MANAGE, campaign.structure),
            "report_form": ManualReportForm() if names else None,
            # Counts by reason only (the reasons name domains, never a person).
            "held": coverage.held_summary(campaign),
        },
    )


def _steps(numbers: results.Funnel) -> list[dict[str, Any]]:
    rows = []
    for key, label in (
        ("sent", _("Envoyés")),
        ("opened", _("Ouverts")),
        ("clicked", _("Cliqués")),
        ("submitted", _("Formulaire envoyé")),
        ("reported", _("Signalés")),
    ):
        value = getattr(numbers, key) or 0
        share = numbers.rate(value) if key != "sent" else (1.0 if numbers.sent else 0.0)
        percent = round(100 * (share or 0))
        rows.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "percent": percent,
                "width": f"aw-w{5 * round(percent / 5)}",
            }
        )
    return rows


@login_required
@require_POST
def campaign_launch(request, pk: int):
    campaign = _campaign(request, pk, AwarenessPerm.MANAGE)
    try:
        services_campaigns.launch(request.user, campaign, ip=client_ip(request))
    except MandateRefused as exc:
        messages.error(request, _("Lancement refusé : %(reason)s") % {"reason": exc})
    except services_campaigns.CampaignError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Campagne programmée : les envois suivent le calendrier."))
    return redirect("awareness:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_cancel(request, pk: int):
    campaign = _campaign(request, pk, AwarenessPerm.MANAGE)
    try:
        services_campaigns.cancel(request.user, campaign, ip=client_ip(request))
    except services_campaigns.CampaignError as exc:
        messages.error(request, str(exc))
    return redirect("awareness:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_release(request, pk: int):
    """The centre puts back in the queue the held recipients whose domain is covered again."""
    campaign = _campaign(request, pk, AwarenessPerm.MANAGE)
    try:
        outcome = coverage.release_held(request.user, campaign, ip=client_ip(request))
    except MandateRefused as exc:
        messages.error(request, _("Envoi refusé : %(reason)s") % {"reason": exc})
    except coverage.ReleaseError as exc:
        messages.error(request, str(exc))
    else:
        if outcome.released:
            messages.success(
                request,
                _("%(n)s destinataire(s) remis dans la file d'envoi.") % {"n": outcome.released},
            )
        if outcome.still_held:
            messages.warning(
                request,
                _(
                    "%(n)s destinataire(s) restent retenus : leur domaine n'est toujours pas "
                    "prouvé et couvert par le mandat (voir le motif)."
                )
                % {"n": outcome.still_held},
            )
    return redirect("awareness:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_purge(request, pk: int):
    campaign = _campaign(request, pk, AwarenessPerm.MANAGE)
    if campaign.status not in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
        messages.error(request, _("Seule une campagne terminée peut être purgée."))
    elif not campaign.purged_at:
        results.purge(request.user, campaign, ip=client_ip(request))
        messages.success(request, _("Résultats individuels supprimés ; les chiffres restent."))
    return redirect("awareness:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_manual_report(request, pk: int):
    campaign = _campaign(request, pk, AwarenessPerm.NOMINATIVE)
    if not services_campaigns.shows_names(request.user, campaign):
        raise PermissionDenied
    form = ManualReportForm(request.POST)
    if form.is_valid():
        recipient = get_object_or_404(
            Recipient.objects.visible_to(request.user, AwarenessPerm.NOMINATIVE),
            pk=form.cleaned_data["recipient"],
            campaign=campaign,
        )
        when = min(form.cleaned_data["reported_at"], timezone.now())
        if tracking.mark_reported(recipient, ReportSource.MANUAL, when):
            audit.record(
                request.user,
                "awareness.report.manual",
                campaign,
                structure=campaign.structure,
                ip=client_ip(request),
            )
            messages.success(request, _("Signalement enregistré."))
    else:
        messages.error(request, _("Date de signalement invalide."))
    return redirect("awareness:campaign", pk=campaign.pk)


@login_required
def campaign_pdf(request, pk: int):
    from carbet.awareness.pdf import campaign_report_pdf

    campaign = _campaign(request, pk)
    data = campaign_report_pdf(request.user, campaign)
    audit.record(
        request.user,
        "awareness.report.pdf",
        campaign,
        structure=campaign.structure,
        ip=client_ip(request),
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="campagne-{campaign.pk}.pdf"'
    return response


@login_required
def structure_detail(request, pk: int):
    structure = access.structure_for(request.user, pk, see=AwarenessPerm.VIEW)
    nominative = can(request.user, AwarenessPerm.NOMINATIVE, structure)
    manage = can(request.user, AwarenessPerm.MANAGE, structure)
    # Counts and department names only: no person is listed on this page.
    targets = Target.objects.visible_to(request.user, AwarenessPerm.VIEW).filter(
        structure=structure
    )
    assignments = TrainingAssignment.objects.visible_to(request.user, AwarenessPerm.VIEW).filter(
        structure=structure
    )
    return render(
        request,
        "awareness/structure.html",
        {
            "structure": structure,
            "trend": results.trend(structure, request.user),
            "repeat": results.repeat_clickers(structure, request.user) if nominative else [],
            "target_count": targets.count(),
            "services": sorted(set(targets.values_list("service", flat=True))),
            "groups": TargetGroup.objects.visible_to(request.user, AwarenessPerm.MANAGE).filter(
                structure=structure
            ),
            "domains": coverage.covered_domains(structure),
            "training_total": assignments.count(),
            "training_done": assignments.filter(completed_at__isnull=False).count(),
            "import_form": TargetImportForm() if manage else None,
            "assign_form": AssignTrainingForm(structure=structure, actor=request.user)
            if can(request.user, AwarenessPerm.TRAINING, structure)
            else None,
            "modules": TrainingModule.objects.all(),
            "may_manage": manage,
        },
    )


@login_required
@require_POST
def structure_import(request, pk: int):
    structure = access.structure_for(request.user, pk, AwarenessPerm.MANAGE, see=AwarenessPerm.VIEW)
    form = TargetImportForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choisissez un fichier."))
        return redirect("awareness:structure", pk=structure.pk)
    try:
        loaded = services_targets.load_upload(form.cleaned_data["file"])
    except ValidationError as exc:  # too big, or no table at all: nothing is imported
        messages.error(request, " ".join(exc.messages))
        return redirect("awareness:structure", pk=structure.pk)
    report = services_targets.import_targets(
        request.user, structure, loaded.data, ip=client_ip(request)
    )
    return render(
        request, "awareness/import_report.html", {"structure": structure, "report": report}
    )


@login_required
@require_POST
def structure_assign_training(request, pk: int):
    from carbet.awareness import training

    structure = access.structure_for(
        request.user, pk, AwarenessPerm.TRAINING, see=AwarenessPerm.VIEW
    )
    form = AssignTrainingForm(request.POST, structure=structure, actor=request.user)
    module = get_object_or_404(TrainingModule, pk=request.POST.get("module") or 0)
    if form.is_valid():
        targets = Target.objects.visible_to(request.user, AwarenessPerm.TRAINING).filter(
            structure=structure
        )
        if form.cleaned_data["group"]:
            targets = targets.filter(groups=form.cleaned_data["group"])
        count = training.assign_group(request.user, module, list(targets), ip=client_ip(request))
        messages.success(request, _("%(n)s formation(s) attribuée(s).") % {"n": count})
    return redirect("awareness:structure", pk=structure.pk)
