"""Evidence pages: a structure's documents (its own and those shared with it), upload with
sharing, download, re-share and deletion (each audited by the service)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit import services as audit
from carbet.audit.services import client_ip
from carbet.core import access, uploads
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can
from carbet.roadmap import services, services_evidence
from carbet.roadmap.forms import EvidenceForm, ShareForm
from carbet.roadmap.models import Evidence, Requirement
from carbet.roadmap.service import RoadmapPerm
from carbet.roadmap.views import TEMPLATES


def _evidence_for(request: HttpRequest, pk: int) -> Evidence:
    return get_object_or_404(
        Evidence.objects.visible_to(request.user, RoadmapPerm.VIEW).select_related(
            "structure__organisation"
        ),
        pk=pk,
    )


def _requirements():
    return (
        Requirement.objects.filter(retired=False, framework__kind__in=("objectives", "measures"))
        .select_related("framework")
        .order_by("framework__code", "order")
    )


@login_required
def evidence_list(request: HttpRequest, structure_id: int) -> HttpResponse:
    target = access.structure_for(request.user, structure_id, see=RoadmapPerm.VIEW)
    can_answer = can(request.user, RoadmapPerm.ANSWER, target)
    targets = services_evidence.share_targets(request.user, target)
    form = None
    if can_answer:
        initial = {"issued_on": timezone.localdate()}
        wanted = request.GET.get("exigence", "")
        if wanted and len(wanted) <= 121:
            initial["requirements"] = [wanted]
        form = EvidenceForm(initial=initial, share_targets=targets, requirements=_requirements())
    if request.method == "POST":
        if not can_answer:
            raise PermissionDenied
        form = EvidenceForm(
            request.POST, request.FILES, share_targets=targets, requirements=_requirements()
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                services_evidence.upload(
                    request.user,
                    target,
                    data["document"],
                    title=data["title"],
                    issued_on=data["issued_on"],
                    valid_until=data.get("valid_until"),
                    requirements=list(data.get("requirements") or []),
                    share_with=list(data.get("share_with") or []),
                    note=data.get("note", ""),
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Justificatif déposé."))
                return redirect("roadmap:evidence", target.pk)
    today = timezone.localdate()
    documents = list(
        services.evidence_covering(request.user, target)
        .select_related("structure")
        .prefetch_related("requirements__framework", "covered")
    )
    return render(
        request,
        TEMPLATES + "evidence.html",
        {
            "structure": target,
            "documents": documents,
            "form": form,
            "today": today,
            "can_answer": can_answer,
        },
    )


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = _evidence_for(request, pk)
    try:
        handle = uploads.open_upload(evidence.document.name)
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    audit.record(request.user, "evidence.download", evidence, ip=client_ip(request))
    return FileResponse(
        handle,
        as_attachment=True,
        filename=evidence.document_name or "justificatif",
    )


@login_required
def evidence_share(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_for(request, pk)
    if not can(request.user, RoadmapPerm.ANSWER, evidence.structure):
        raise PermissionDenied
    targets = services_evidence.share_targets(request.user, evidence.structure)
    form = ShareForm(
        request.POST or None,
        share_targets=targets,
        initial={"share_with": list(evidence.covered.exclude(pk=evidence.structure_id))},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services_evidence.share(
                request.user, evidence, list(form.cleaned_data["share_with"]), client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Partage mis à jour."))
            return redirect("roadmap:evidence", evidence.structure_id)
    return render(request, TEMPLATES + "evidence_share.html", {"evidence": evidence, "form": form})


@require_POST
@login_required
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = _evidence_for(request, pk)
    structure_id = evidence.structure_id
    services_evidence.delete(request.user, evidence, client_ip(request))
    messages.success(request, _("Justificatif supprimé."))
    return redirect("roadmap:evidence", structure_id)
