"""Pages of the corrective action plans: the plan, an action, its evidence, the printable plan.

Views stay thin: they reach rows through ``visible_to`` (another structure's row is a 404),
check the right on the row's structure (403), call a service of ``carbet.findings.plans`` and
render. Campaign pages live in ``carbet.findings.plans.views_campaigns``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.core import access, uploads
from carbet.core.forms import apply_errors
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.findings.choices import OPEN_STATUSES
from carbet.findings.models import ActionEvidence, ActionItem, ActionStatus, Finding
from carbet.findings.plans import evidence as evidence_services
from carbet.findings.plans import selectors, services
from carbet.findings.plans.forms import (
    FUNDING_LIST_ID,
    ROLE_LIST_ID,
    ActionForm,
    CancelForm,
    EvidenceForm,
    FromFindingsForm,
    PlanFilterForm,
    ProgressForm,
)

PAGE_SIZE = 200
TEMPLATES = "findings/plans/"


def _action_for(request: HttpRequest, pk: int, perm: Perm = Perm.ACTION_VIEW) -> ActionItem:
    """The action ``pk`` if the viewer may see it (else 404) and holds ``perm`` (else 403)."""
    action = get_object_or_404(
        selectors.visible_actions(request.user).select_related("structure__organisation__ght"),
        pk=pk,
    )
    if not can(request.user, perm, action.structure):
        raise PermissionDenied
    return action


def _evidence_for(request: HttpRequest, pk: int, perm: Perm) -> ActionEvidence:
    evidence = get_object_or_404(
        ActionEvidence.objects.visible_to(request.user, Perm.ACTION_VIEW).select_related(
            "action__structure__organisation__ght"
        ),
        pk=pk,
    )
    if not can(request.user, perm, evidence.action.structure):
        raise PermissionDenied
    return evidence


def _findings_choices(request: HttpRequest, structure: Structure, action: ActionItem | None):
    """Open findings of the structure (and those the action already carries) to link."""
    condition = Q(status__in=OPEN_STATUSES)
    if action is not None:
        condition |= Q(actions=action)
    return (
        Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL)
        .filter(condition, structure=structure)
        .distinct()
        .order_by("-severity", "sla_due", "id")
    )


def _form_context(form: ActionForm, structure: Structure, **extra: Any) -> dict[str, Any]:
    return {
        "form": form,
        "structure": structure,
        "funding_list_id": FUNDING_LIST_ID,
        "funding_suggestions": services.FUNDING_SUGGESTIONS,
        "role_list_id": ROLE_LIST_ID,
        "role_suggestions": services.ROLE_SUGGESTIONS,
        **extra,
    }


# --- The plan -------------------------------------------------------------------------------


@login_required
def actions(request: HttpRequest) -> HttpResponse:
    """The plan of every structure the viewer may see, by structure then priority."""
    if not can(request.user, Perm.ACTION_VIEW):
        raise PermissionDenied
    structures = selectors.plan_structures(request.user)
    form = PlanFilterForm(request.GET or None, structures=structures)
    today = timezone.localdate()
    listing = selectors.filtered_actions(request.user, form.filters(), today)
    page = Paginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        TEMPLATES + "list.html",
        {
            "form": form,
            "page": page,
            "plans": selectors.group_by_structure(list(page.object_list), today),
            "can_create": Structure.objects.visible_to(request.user, Perm.ACTION_EDIT).exists(),
            "can_campaigns": can(request.user, Perm.CAMPAIGN_MANAGE),
            "many_structures": structures.count() > 1,
        },
    )


@login_required
def structure_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """A structure's plan written for its director: priorities first, what/why/how/who/when."""
    structure = access.structure_for(request.user, pk, see=Perm.ACTION_VIEW)
    today = timezone.localdate()
    actions_of = selectors.visible_actions(request.user).filter(structure=structure)
    to_do = list(
        actions_of.filter(status__in=[ActionStatus.TODO, ActionStatus.IN_PROGRESS]).order_by(
            "priority", "due_date", "id"
        )
    )
    for action in to_do:
        action.overdue = selectors.is_overdue(action, today)  # type: ignore[attr-defined]
        action.owner_text = services.owner_display(action)  # type: ignore[attr-defined]
    finished = list(
        actions_of.filter(status__in=[ActionStatus.DONE, ActionStatus.VERIFIED]).order_by(
            "-completed_at", "-id"
        )[:20]
    )
    return render(
        request,
        TEMPLATES + "structure_plan.html",
        {
            "structure": structure,
            "urgent": [a for a in to_do if a.priority == 1],
            "others": [a for a in to_do if a.priority != 1],
            "finished": finished,
            "summary": selectors.summary(actions_of, today),
            "today": today,
        },
    )


# --- One action -----------------------------------------------------------------------------


@login_required
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk)
    user, structure = request.user, action.structure
    findings = (
        Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL)
        .filter(actions=action)
        .order_by("-severity", "sla_due", "id")
    )
    live = action.status not in services.FINISHED_STATUSES
    can_progress = live and can(user, Perm.ACTION_PROGRESS, structure)
    return render(
        request,
        TEMPLATES + "detail.html",
        {
            "action": action,
            "structure": structure,
            "owner": services.owner_display(action),
            "findings": findings,
            "evidence": action.evidence.select_related("submitted_by", "approved_by"),
            "overdue": selectors.is_overdue(action, timezone.localdate()),
            "can_edit": live and can(user, Perm.ACTION_EDIT, structure),
            "can_progress": can_progress,
            "can_verify": action.status != ActionStatus.CANCELLED
            and can(user, Perm.ACTION_VERIFY, structure),
            "progress_form": ProgressForm(
                initial={"status": action.status, "progress": action.progress}
            )
            if can_progress
            else None,
        },
    )


@login_required
def action_create(request: HttpRequest) -> HttpResponse:
    """New action on one structure (``?structure=<id>``; asked first when several)."""
    editable = Structure.objects.visible_to(request.user, Perm.ACTION_EDIT).select_related(
        "organisation__ght"
    )
    if not editable.exists():
        raise PermissionDenied
    chosen = request.GET.get("structure", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404
        structure = get_object_or_404(editable, pk=int(chosen))
    elif editable.count() == 1:
        structure = editable.get()
    else:
        return render(request, TEMPLATES + "structure_choice.html", {"structures": editable})
    form = ActionForm(
        request.POST or None,
        instance=ActionItem(structure=structure),
        owners=services.owner_candidates(structure),
        findings=_findings_choices(request, structure, None),
    )
    if request.method == "POST" and form.is_valid():
        action = form.save(commit=False)
        try:
            services.create_action(
                request.user, action, form.cleaned_data["findings"], ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("L'action est ajoutée au plan."))
            return redirect("findings:action_detail", pk=action.pk)
    return render(request, TEMPLATES + "form.html", _form_context(form, structure, action=None))


@login_required
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk, Perm.ACTION_EDIT)
    if action.status in services.FINISHED_STATUSES:
        messages.info(request, _("Une action vérifiée ou abandonnée ne se modifie plus."))
        return redirect("findings:action_detail", pk=action.pk)
    structure = action.structure
    form = ActionForm(
        request.POST or None,
        instance=action,
        owners=services.owner_candidates(structure),
        findings=_findings_choices(request, structure, action),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_action(
                request.user,
                form.save(commit=False),
                form.cleaned_data["findings"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("L'action est enregistrée."))
            return redirect("findings:action_detail", pk=action.pk)
    return render(request, TEMPLATES + "form.html", _form_context(form, structure, action=action))


@login_required
@require_POST
def action_progress(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk, Perm.ACTION_PROGRESS)
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.update_progress(
                request.user,
                action,
                progress=form.cleaned_data["progress"],
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("L'avancement est enregistré."))
    else:
        messages.error(request, _("L'avancement est un pourcentage entre 0 et 100."))
    return redirect("findings:action_detail", pk=action.pk)


@login_required
def action_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk, Perm.ACTION_EDIT)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_action(
                request.user, action, form.cleaned_data["reason"], ip=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("L'action est abandonnée."))
            return redirect("findings:action_detail", pk=action.pk)
    return render(request, TEMPLATES + "cancel.html", {"form": form, "action": action})


def _findings_list_url() -> str:
    try:
        return reverse("findings:list")
    except NoReverseMatch:
        return reverse("findings:actions")


@login_required
@require_POST
def actions_from_findings(request: HttpRequest) -> HttpResponse:
    """Posted by the findings list with the selected ids (``findings``, repeated): confirm the
    actions to create, then (``confirm``) create them."""
    form = FromFindingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Sélectionnez au moins une vulnérabilité."))
        return redirect(_findings_list_url())
    chosen = set(form.cleaned_data["findings"])
    visible = Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).filter(pk__in=chosen)
    if visible.count() != len(chosen):
        raise Http404
    try:
        structure, findings = services.findings_for(request.user, chosen)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(_findings_list_url())
    if not can(request.user, Perm.ACTION_EDIT, structure):
        raise PermissionDenied
    grouped = form.cleaned_data["mode"] == FromFindingsForm.GROUPED
    if "confirm" in request.POST:
        created = services.create_from_findings(
            request.user, [f.pk for f in findings], grouped=grouped, ip=client_ip(request)
        )
        messages.success(
            request,
            _("%(count)s action(s) ajoutée(s) au plan de « %(structure)s ».")
            % {"count": len(created), "structure": structure.name},
        )
        if len(created) == 1:
            return redirect("findings:action_detail", pk=created[0].pk)
        return redirect(f"{reverse('findings:actions')}?structure={structure.pk}")
    return render(
        request,
        TEMPLATES + "from_findings.html",
        {
            "grouped": grouped,
            "structure": structure,
            "findings": findings,
            "grouped_draft": services.draft_from_findings(structure, findings),
            "rows": [(f, services.draft_from_findings(structure, [f])) for f in findings],
        },
    )


# --- Evidence -------------------------------------------------------------------------------


@login_required
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action_for(request, pk, Perm.ACTION_PROGRESS)
    if action.status in services.FINISHED_STATUSES:
        messages.info(request, _("Cette action est déjà vérifiée ou abandonnée."))
        return redirect("findings:action_detail", pk=action.pk)
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            evidence_services.submit_evidence(
                request.user,
                action,
                note=form.cleaned_data["note"],
                document=form.cleaned_data["document"] or None,
                claim_done=form.cleaned_data["claim_done"],
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("La preuve est déposée ; le centre la vérifiera avant de clore l'action."),
            )
            return redirect("findings:action_detail", pk=action.pk)
    return render(request, TEMPLATES + "evidence_form.html", {"form": form, "action": action})


@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """Stream an evidence document to those who may see its action (consultation audited)."""
    evidence = _evidence_for(request, pk, Perm.ACTION_VIEW)
    if not evidence.document:
        raise Http404
    try:
        handle = uploads.open_upload(evidence.document.name)
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    audit.record(
        request.user,
        "evidence.download",
        evidence,
        structure=evidence.action.structure,
        changes={"document_sha256": evidence.document_sha256},
        ip=client_ip(request),
    )
    # Stored under a random name (carbet.core.uploads): the download gets a readable one.
    suffix = Path(evidence.document.name).suffix
    filename = f"preuve-action-{evidence.action_id}-{evidence.pk}{suffix}"
    return FileResponse(handle, as_attachment=True, filename=filename)


@login_required
@require_POST
def evidence_approve(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_for(request, pk, Perm.ACTION_VERIFY)
    try:
        evidence_services.approve_evidence(request.user, evidence, ip=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Preuve validée : l'action est vérifiée et ses vulnérabilités sont closes."),
        )
    return redirect("findings:action_detail", pk=evidence.action_id)
