"""Roadmap pages: the plan by year, Carbet's proposal, editing items and milestones, the
director's validation, the PDF and the CaRE evidence checklist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import ActionItem, Finding
from carbet.roadmap import reports, services_roadmap
from carbet.roadmap.forms import ItemForm, MilestoneForm
from carbet.roadmap.models import Milestone, Roadmap, RoadmapItem
from carbet.roadmap.service import RoadmapPerm
from carbet.roadmap.views import TEMPLATES


def _item_for(request: HttpRequest, pk: int, perm: Perm = RoadmapPerm.VIEW) -> RoadmapItem:
    item = get_object_or_404(
        RoadmapItem.objects.visible_to(request.user, RoadmapPerm.VIEW).select_related(
            "roadmap", "structure__organisation", "requirement__framework"
        ),
        pk=pk,
    )
    if not can(request.user, perm, item.structure):
        raise PermissionDenied
    return item


def _link_choices(request: HttpRequest, structure, item: RoadmapItem | None):
    findings = Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).filter(
        structure=structure, status__in=OPEN_STATUSES
    )
    actions = ActionItem.objects.visible_to(request.user, Perm.ACTION_VIEW).filter(
        structure=structure
    )
    if item is not None:
        findings = findings | Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).filter(
            roadmap_items=item
        )
    return findings.distinct().order_by("-severity", "pk")[:500], actions.order_by("priority", "pk")


def _form(request: HttpRequest, structure, item: RoadmapItem | None, data=None) -> ItemForm:
    findings, actions = _link_choices(request, structure, item)
    initial = {}
    if item is not None:
        initial = {name: getattr(item, name) for name in services_roadmap.ITEM_FIELDS}
        initial["findings"] = list(item.findings.values_list("pk", flat=True))
        initial["action_items"] = list(item.action_items.values_list("pk", flat=True))
    else:
        initial = {"year": timezone.localdate().year, "priority": 2, "status": "planned"}
    return ItemForm(data, initial=initial, findings=findings, actions=actions)


@login_required
def plan(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    roadmap = (
        Roadmap.objects.visible_to(request.user, RoadmapPerm.VIEW).filter(structure=target).first()
    )
    can_edit = can(request.user, RoadmapPerm.EDIT, target)
    form = _form(request, target, None) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = _form(request, target, None, request.POST)
        if form.is_valid():
            roadmap = roadmap or services_roadmap.roadmap_for(target)
            try:
                services_roadmap.save_item(
                    request.user,
                    roadmap,
                    form.values(),
                    findings=list(form.cleaned_data["findings"]),
                    actions=list(form.cleaned_data["action_items"]),
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Chantier ajouté."))
                return redirect("roadmap:plan", target.pk)
    return render(
        request,
        TEMPLATES + "plan.html",
        {
            "structure": target,
            "roadmap": roadmap,
            "years": services_roadmap.items_by_year(roadmap) if roadmap else [],
            "funding": services_roadmap.funding_summary(roadmap) if roadmap else [],
            "form": form,
            "can_edit": can_edit,
            "can_validate": can(request.user, RoadmapPerm.ANSWER, target),
        },
    )


@require_POST
@login_required
def plan_propose(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(
        request.user, structure_id, RoadmapPerm.EDIT, see=RoadmapPerm.VIEW
    )
    roadmap = services_roadmap.propose_roadmap(request.user, target, client_ip(request))
    messages.success(
        request,
        _("Proposition prête : %(n)d chantier(s). Relisez-la, ajustez, puis faites-la valider.")
        % {"n": roadmap.items.count()},
    )
    return redirect("roadmap:plan", target.pk)


@require_POST
@login_required
def plan_validate(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(
        request.user, structure_id, RoadmapPerm.ANSWER, see=RoadmapPerm.VIEW
    )
    roadmap = get_object_or_404(
        Roadmap.objects.visible_to(request.user, RoadmapPerm.VIEW), structure=target
    )
    try:
        services_roadmap.validate(request.user, roadmap, client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Feuille de route validée."))
    return redirect("roadmap:plan", target.pk)


@login_required
def plan_pdf(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    pdf = reports.roadmap_pdf(request.user, target)
    audit.record(request.user, "roadmap.pdf", target, ip=client_ip(request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="feuille-de-route-{target.finess_et}.pdf"'
    )
    return response


@login_required
def care_checklist(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    return render(
        request,
        TEMPLATES + "care_checklist.html",
        {
            "structure": target,
            "checklist": reports.care_checklist(request.user, target),
            "today": timezone.localdate(),
        },
    )


@login_required
def item(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item_for(request, pk)
    can_edit = can(request.user, RoadmapPerm.EDIT, row.structure)
    form = _form(request, row.structure, row) if can_edit else None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form = _form(request, row.structure, row, request.POST)
        if form.is_valid():
            try:
                services_roadmap.save_item(
                    request.user,
                    row.roadmap,
                    form.values(),
                    row,
                    findings=list(form.cleaned_data["findings"]),
                    actions=list(form.cleaned_data["action_items"]),
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Chantier enregistré."))
                return redirect("roadmap:plan", row.structure_id)
    return render(
        request,
        TEMPLATES + "item.html",
        {
            "item": row,
            "structure": row.structure,
            "form": form,
            "milestone_form": MilestoneForm() if can_edit else None,
            "milestones": row.milestones.all(),
            "findings": Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).filter(
                roadmap_items=row
            ),
            "actions": ActionItem.objects.visible_to(request.user, Perm.ACTION_VIEW).filter(
                roadmap_items=row
            ),
            "can_edit": can_edit,
        },
    )


@require_POST
@login_required
def item_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item_for(request, pk, RoadmapPerm.EDIT)
    structure_id = row.structure_id
    services_roadmap.delete_item(request.user, row, client_ip(request))
    messages.success(request, _("Chantier retiré de la feuille de route."))
    return redirect("roadmap:plan", structure_id)


@require_POST
@login_required
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    row = _item_for(request, pk, RoadmapPerm.EDIT)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        services_roadmap.add_milestone(
            request.user,
            row,
            form.cleaned_data["title"],
            form.cleaned_data["due_on"],
            client_ip(request),
        )
        messages.success(request, _("Jalon ajouté."))
    else:
        messages.error(request, _("Jalon non ajouté : donnez un titre et une date."))
    return redirect("roadmap:item", row.pk)


@require_POST
@login_required
def milestone_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(
        Milestone.objects.visible_to(request.user, RoadmapPerm.VIEW).select_related(
            "item__structure__organisation"
        ),
        pk=pk,
    )
    services_roadmap.toggle_milestone(request.user, milestone, client_ip(request))
    return redirect("roadmap:item", milestone.item_id)
