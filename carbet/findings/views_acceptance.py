"""Pages of risk acceptance: the list, a request, one acceptance with its signature or refusal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core.forms import apply_errors
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.forms import AcceptanceDecisionForm, AcceptanceRequestForm
from carbet.findings.models import Finding, RiskAcceptance, RiskAcceptanceStatus
from carbet.findings.services import acceptance as service

PAGE_SIZE = 50
MAX_CHOICES = 500


def _visible(request: Any, pk: int) -> RiskAcceptance:
    return get_object_or_404(
        RiskAcceptance.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).select_related(
            "structure__organisation", "requested_by", "decided_by"
        ),
        pk=pk,
    )


@login_required
def acceptance_list(request):
    user = request.user
    if not can(user, Perm.FINDINGS_DETAIL):
        raise PermissionDenied
    rows = (
        RiskAcceptance.objects.visible_to(user, Perm.FINDINGS_DETAIL)
        .select_related("structure", "requested_by", "decided_by")
        .annotate(findings_count=Count("findings"))
        .order_by("-requested_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in RiskAcceptanceStatus.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "findings/findings/acceptance_list.html",
        {
            "page": page,
            "status": status,
            "statuses": RiskAcceptanceStatus.choices,
            "today": timezone.localdate(),
            "can_request": can(user, Perm.ACCEPTANCE_REQUEST),
        },
    )


def _structure_for_request(request: Any, ids: list[int]) -> Structure | None:
    """The one structure of the ticked findings, or of ``?structure=``."""
    user = request.user
    allowed = Structure.objects.visible_to(user, Perm.ACCEPTANCE_REQUEST).select_related(
        "organisation"
    )
    if ids:
        structure_ids = set(
            Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL)
            .filter(pk__in=ids)
            .values_list("structure_id", flat=True)
        )
        if len(structure_ids) > 1:
            messages.error(
                request,
                _(
                    "Une demande porte sur une seule structure : cochez les vulnérabilités d'une "
                    "seule structure."
                ),
            )
            return None
        if structure_ids:
            return allowed.filter(pk=structure_ids.pop()).first()
    raw = request.POST.get("structure") or request.GET.get("structure") or ""
    return allowed.filter(pk=int(raw)).first() if raw.isdigit() else None


@login_required
def acceptance_request(request):
    """The referent asks the director to accept the risk of some open findings."""
    user = request.user
    if not can(user, Perm.ACCEPTANCE_REQUEST):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    ids = [int(v) for v in source.getlist("finding") + source.getlist("findings") if v.isdigit()]
    structure = _structure_for_request(request, ids)
    if structure is None:
        return render(
            request,
            "findings/findings/acceptance_pick.html",
            {
                "structures": Structure.objects.visible_to(
                    user, Perm.ACCEPTANCE_REQUEST
                ).values_list("pk", "name")
            },
        )
    today = timezone.localdate()
    candidates = list(
        Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL)
        .filter(structure=structure, status__in=sorted(OPEN_STATUSES))
        .order_by("-severity", "sla_due", "id")
        .only("pk", "title", "severity")[:MAX_CHOICES]
    )
    # A POST from the list's "request acceptance" button only preselects findings.
    submitting = request.method == "POST" and "justification" in request.POST
    form = AcceptanceRequestForm(
        request.POST if submitting else None,
        initial={"findings": ids},
        findings=candidates,
        today=today,
    )
    if submitting and form.is_valid():
        chosen = list(
            Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL).filter(
                pk__in=form.cleaned_data["findings"], structure=structure
            )
        )
        try:
            created = service.request_acceptance(
                user,
                structure,
                chosen,
                justification=form.cleaned_data["justification"],
                compensating_measures=form.cleaned_data["compensating_measures"],
                expires_on=form.cleaned_data["expires_on"],
                today=today,
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("La demande est enregistrée : la direction de la structure doit la signer."),
            )
            return redirect("findings:acceptance_detail", pk=created.pk)
    return render(
        request,
        "findings/findings/acceptance_request.html",
        {"form": form, "structure": structure, "today": today},
    )


@login_required
def acceptance_detail(request, pk: int):
    item = _visible(request, pk)
    user = request.user
    pending = item.status == RiskAcceptanceStatus.REQUESTED
    return render(
        request,
        "findings/findings/acceptance_detail.html",
        {
            "acceptance": item,
            "findings": item.findings.order_by("-severity", "id")[:MAX_CHOICES],
            "signature": service.signature_of(item),
            "can_sign": pending and can(user, Perm.ACCEPTANCE_SIGN, item.structure),
            "can_revoke": service.can_revoke(user, item),
            "form": AcceptanceDecisionForm(),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def acceptance_decide(request, pk: int):
    """Sign, refuse or lift an acceptance (the service checks the right for each)."""
    item = _visible(request, pk)
    form = AcceptanceDecisionForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        note = form.cleaned_data["note"]
        actions = {
            "approve": (service.approve, _("L'acceptation du risque est signée.")),
            "reject": (service.reject, _("La demande est refusée.")),
            "revoke": (
                service.revoke,
                _("L'acceptation est levée : les vulnérabilités sont rouvertes."),
            ),
        }
        action, done = actions[decision]
        try:
            action(request.user, item, note=note, ip=client_ip(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("findings:acceptance_detail", pk=item.pk)
    return render(
        request,
        "findings/findings/acceptance_detail.html",
        {
            "acceptance": item,
            "findings": item.findings.order_by("-severity", "id")[:MAX_CHOICES],
            "signature": service.signature_of(item),
            "can_sign": item.status == RiskAcceptanceStatus.REQUESTED
            and can(request.user, Perm.ACCEPTANCE_SIGN, item.structure),
            "can_revoke": service.can_revoke(request.user, item),
            "form": form,
            "today": timezone.localdate(),
        },
        status=422,
    )
