"""Pages of the findings store: the list, one finding, status changes, overdue findings,
findings written by hand, imports and exports. Thin: parse, authorise, call a service, render.

Who sees what: every query starts from ``visible_to(user, FINDINGS_DETAIL)`` — a structure's
people see their structures only, the ARS sees no finding at all (403 on lists, 404 on one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Min, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.accounts.roles import Perm
from carbet.audit.services import client_ip
from carbet.core import access
from carbet.core.forms import apply_errors
from carbet.core.models import Asset, Structure
from carbet.core.tenancy import can
from carbet.findings import selectors
from carbet.findings.choices import OPEN_STATUSES, EventKind, Severity, Status
from carbet.findings.forms import (
    BulkStatusForm,
    FindingFilterForm,
    FindingImportForm,
    ManualFindingForm,
    StatusForm,
)
from carbet.findings.models import ActionItem, Finding, FindingEvent, RiskAcceptance
from carbet.findings.services import io, lifecycle, manual
from carbet.findings.services.io_format import COLUMNS, REQUIRED

PAGE_SIZE = 50
MAX_EVIDENCE_ITEMS = 200
MAX_EVENTS = 200
MAX_EVIDENCE_DEPTH = 6


def _visible_finding(request: Any, pk: int) -> Finding:
    return get_object_or_404(
        Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL).select_related(
            "structure__organisation",
            "asset",
            "duplicate_of",
            "status_changed_by",
            "stream",
            "first_run",
        ),
        pk=pk,
    )


def _structures(user: Any, perm: Perm) -> list[tuple[int, str]]:
    return list(Structure.objects.visible_to(user, perm).values_list("pk", "name"))


def _filter_form(request: Any) -> FindingFilterForm:
    user = request.user
    structures = _structures(user, Perm.FINDINGS_DETAIL)
    assets: list[Asset] = []
    raw = request.GET.get("structure", "")
    if raw.isdigit() and int(raw) in {pk for pk, _name in structures}:
        assets = list(
            Asset.objects.visible_to(user, Perm.ASSET_VIEW)
            .filter(structure_id=int(raw))
            .only("pk", "value")
        )
    return FindingFilterForm(request.GET, structures=structures, assets=assets)


# --- The list --------------------------------------------------------------------------------


@login_required
def finding_list(request):
    """Every finding the user may see, filtered, sorted and paginated."""
    user = request.user
    access.require(user, Perm.FINDINGS_DETAIL)
    form = _filter_form(request)
    filters = form.filters()
    page = selectors.page_of(
        selectors.findings_for(user, filters), request.GET.get("page"), PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "bulk_form": BulkStatusForm(),
        "can_triage": can(user, Perm.FINDINGS_TRIAGE),
        "can_write": can(user, Perm.FINDINGS_WRITE),
        "can_export": can(user, Perm.EXPORT_RUN),
        "can_request_acceptance": can(user, Perm.ACCEPTANCE_REQUEST),
        "next_url": request.get_full_path(),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request:
        return render(request, "findings/findings/_table.html", context)
    return render(request, "findings/findings/list.html", context)


def _safe_next(request: Any, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


@login_required
@require_POST
def bulk_status(request):
    """Apply one status change, with one reason, to the findings ticked in the list."""
    user = request.user
    access.require(user, Perm.FINDINGS_TRIAGE)
    back = _safe_next(request, reverse("findings:list"))
    ids = [int(v) for v in request.POST.getlist("finding") if v.isdigit()]
    form = BulkStatusForm(request.POST)
    if not ids:
        messages.error(request, _("Cochez au moins une vulnérabilité."))
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    selected = (
        Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL)
        .filter(pk__in=ids[: lifecycle.MAX_BULK + 1])
        .select_related("structure__organisation")
    )
    try:
        outcome = lifecycle.bulk_change_status(
            user,
            selected,
            form.cleaned_data["status"],
            form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    if outcome.changed:
        messages.success(
            request,
            _("%(n)s vulnérabilité(s) mise(s) à jour.") % {"n": len(outcome.changed)},
        )
    for finding, reason in outcome.refused[:10]:
        messages.warning(request, f"#{finding.pk} « {finding.title} » : {reason}")
    if len(outcome.refused) > 10:
        messages.warning(
            request,
            _("… et %(n)s autre(s) non modifiée(s).") % {"n": len(outcome.refused) - 10},
        )
    return redirect(back)


# --- One finding -----------------------------------------------------------------------------


@dataclass
class EvidenceNode:
    """Structured evidence as nested definition lists (key → value, lists, plain values)."""

    kind: str  # "map", "list" or "value"
    value: str = ""
    items: list[tuple[str, EvidenceNode]] = field(default_factory=list)


def evidence_tree(data: Any, depth: int = 0) -> EvidenceNode:
    if depth >= MAX_EVIDENCE_DEPTH:
        return EvidenceNode("value", str(data)[:2000])
    if isinstance(data, dict):
        items = list(data.items())[:MAX_EVIDENCE_ITEMS]
        return EvidenceNode("map", items=[(str(k), evidence_tree(v, depth + 1)) for k, v in items])
    if isinstance(data, list):
        items = data[:MAX_EVIDENCE_ITEMS]
        return EvidenceNode("list", items=[("", evidence_tree(v, depth + 1)) for v in items])
    if isinstance(data, bool):
        return EvidenceNode("value", _("oui") if data else _("non"))
    return EvidenceNode("value", "—" if data is None else str(data)[:2000])


_CVE = re.compile(r"^CVE-\d{4}-\d+$", re.IGNORECASE)
_CARE = re.compile(r"^(care[ :-]?)?d\d\.(p|o)\d", re.IGNORECASE)


def classify_references(finding: Finding) -> list[tuple[str, str, bool]]:
    """``(kind, text, is_link)`` for each reference: CVE, ANSSI, CaRE, link or other."""
    found: list[tuple[str, str, bool]] = []
    values = [finding.cve] if finding.cve else []
    values += [str(r) for r in finding.references or [] if str(r) != finding.cve]
    for text in values:
        lowered = text.lower()
        if _CVE.match(text):
            found.append(("CVE", text.upper(), False))
        elif lowered.startswith(("anssi", "vuln")) or "hygiene" in lowered:
            found.append(("ANSSI", text, False))
        elif _CARE.match(text) or lowered.startswith("care"):
            found.append(("CaRE", text, False))
        elif lowered.startswith(("https://", "http://")):
            found.append((_("Lien"), text, True))
        else:
            found.append((_("Référence"), text, False))
    return found


def why_points(finding: Finding, today: Any) -> list[str]:
    """Plain sentences on why this finding matters, from what is known about it."""
    points = {
        Severity.CRITICAL: _(
            "Gravité critique : une attaque réussie par ce biais peut arrêter des services ou "
            "exposer des données de patients."
        ),
        Severity.HIGH: _(
            "Gravité élevée : un attaquant peut s'en servir pour entrer ou s'étendre."
        ),
        Severity.MEDIUM: _(
            "Gravité moyenne : seule, elle ouvre rarement la porte, mais elle facilite une attaque."
        ),
        Severity.LOW: _("Gravité faible : à corriger lors des opérations courantes."),
        Severity.INFO: _("Pour information : rien à corriger, mais bon à savoir."),
    }
    found = [str(points.get(finding.severity, ""))]
    if finding.kev:
        found.append(
            _("Des attaquants exploitent déjà cette faiblesse ailleurs (catalogue CISA KEV).")
        )
    if finding.internet_exposed:
        found.append(_("Elle est visible depuis internet : n'importe qui peut la trouver."))
    if finding.epss is not None and finding.epss >= 0.1:
        found.append(
            _("Probabilité d'exploitation dans les 30 jours : %(p)s %%.")
            % {"p": round(finding.epss * 100)}
        )
    if finding.sla_due and finding.status in OPEN_STATUSES:
        if finding.sla_due < today:
            found.append(
                _("L'échéance de correction (%(d)s) est dépassée.")
                % {"d": finding.sla_due.strftime("%d/%m/%Y")}
            )
        else:
            found.append(
                _("À corriger avant le %(d)s.") % {"d": finding.sla_due.strftime("%d/%m/%Y")}
            )
    return [p for p in found if p]


def _status_context(request: Any, finding: Finding, form: StatusForm | None = None) -> dict:
    targets = lifecycle.allowed_targets(request.user, finding)
    return {
        "finding": finding,
        "status_form": form or (StatusForm(targets=targets) if targets else None),
        "today": timezone.localdate(),
        "is_open": finding.status in OPEN_STATUSES,
        "can_request_acceptance": finding.status in OPEN_STATUSES
        and can(request.user, Perm.ACCEPTANCE_REQUEST, finding.structure),
    }


@login_required
def finding_detail(request, pk: int):
    finding = _visible_finding(request, pk)
    user = request.user
    events: list[Any] = list(
        finding.events.select_related("actor", "run").order_by("-at", "-id")[:MAX_EVENTS]
    )
    if len(events) < MAX_EVENTS and not any(e.kind == EventKind.CREATED for e in events):
        # Ingest records a finding's first sighting on the row itself, not as an event.
        events.append(
            FindingEvent(
                kind=EventKind.CREATED,
                at=finding.first_seen,
                run=finding.first_run,
                to_status=Status.NEW,
            )
        )
    actions = ActionItem.objects.visible_to(user, Perm.ACTION_VIEW).filter(findings=finding)
    acceptances = RiskAcceptance.objects.visible_to(user, Perm.FINDINGS_DETAIL).filter(
        findings=finding
    )
    context = _status_context(request, finding)
    context.update(
        events=events,
        actions=list(actions[:50]),
        acceptances=list(acceptances[:20]),
        references=classify_references(finding),
        why=why_points(finding, context["today"]),
        evidence=evidence_tree(finding.evidence) if finding.evidence else None,
        # The same weakness reported by other sources (carbet.findings.correlation).
        also_reported=selectors.also_reported([finding]).get(finding.pk, []),
    )
    return render(request, "findings/findings/detail.html", context)


@login_required
@require_POST
def finding_status(request, pk: int):
    """Change one finding's status; htmx gets the status block back, others a redirect."""
    finding = _visible_finding(request, pk)
    targets = lifecycle.allowed_targets(request.user, finding)
    if not targets:
        raise PermissionDenied
    form = StatusForm(request.POST, targets=targets)
    htmx = getattr(request, "htmx", None)
    if form.is_valid():
        duplicate_of = None
        if form.cleaned_data.get("duplicate_of"):
            duplicate_of = (
                Finding.objects.visible_to(request.user, Perm.FINDINGS_DETAIL)
                .filter(pk=form.cleaned_data["duplicate_of"])
                .first()
            )
            if duplicate_of is None:
                form.add_error("duplicate_of", _("Aucune vulnérabilité visible n'a ce numéro."))
        if form.is_valid():
            try:
                lifecycle.change_status(
                    request.user,
                    finding,
                    form.cleaned_data["status"],
                    form.cleaned_data["reason"],
                    duplicate_of=duplicate_of,
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("L'état de la vulnérabilité est mis à jour."))
                url = reverse("findings:detail", args=[finding.pk])
                if htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = url
                    return response
                return redirect(url)
    context = _status_context(request, finding, form)
    template = "findings/findings/_status.html" if htmx else "findings/findings/status_form.html"
    return render(request, template, context, status=200 if htmx else 422)


# --- Overdue ---------------------------------------------------------------------------------


@login_required
def overdue(request):
    """Open findings past their deadline, structure by structure (worst first)."""
    user = request.user
    access.require(user, Perm.FINDINGS_DETAIL)
    today = timezone.localdate()
    late = Finding.objects.visible_to(user, Perm.FINDINGS_DETAIL).filter(
        status__in=sorted(OPEN_STATUSES), sla_due__lt=today
    )
    by_structure = (
        late.values("structure_id", "structure__name")
        .annotate(
            total=Count("id"),
            critical=Count("id", filter=Q(severity=Severity.CRITICAL)),
            high=Count("id", filter=Q(severity=Severity.HIGH)),
            kev=Count("id", filter=Q(kev=True)),
            oldest=Min("sla_due"),
        )
        .order_by("-critical", "-high", "-total", "structure__name")
    )
    page = Paginator(by_structure, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "findings/findings/overdue.html",
        {"page": page, "today": today, "total": late.count()},
    )


# --- Written by hand -------------------------------------------------------------------------


def _assets_of(user: Any, structure_id: Any) -> list[Asset]:
    if not str(structure_id or "").isdigit():
        return []
    return list(
        Asset.objects.visible_to(user, Perm.FINDINGS_WRITE)
        .filter(structure_id=int(structure_id))
        .only("pk", "value")
    )


@login_required
def manual_create(request):
    """An auditor writes a finding; the same one written twice stays one finding."""
    user = request.user
    access.require(user, Perm.FINDINGS_WRITE)
    structures = _structures(user, Perm.FINDINGS_WRITE)
    chosen = request.POST.get("structure") or request.GET.get("structure")
    form = ManualFindingForm(
        request.POST or None,
        initial={"structure": chosen},
        structures=structures,
        assets=_assets_of(user, chosen),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        structure = access.structure_for(user, data["structure"], see=Perm.FINDINGS_WRITE)
        asset = None
        if data.get("asset"):
            asset = (
                Asset.objects.visible_to(user, Perm.FINDINGS_WRITE)
                .filter(pk=data["asset"], structure=structure)
                .first()
            )
        try:
            finding, created = manual.create_manual_finding(
                user,
                structure,
                manual.ManualFinding(
                    title=data["title"],
                    severity=data["severity"],
                    description=data["description"],
                    remediation=data["remediation"],
                    asset=asset,
                    cve=data.get("cve") or "",
                    rule=data.get("rule") or "",
                    references=data.get("references") or [],
                    cvss=float(data["cvss"]) if data.get("cvss") is not None else None,
                    kev=bool(data.get("kev")),
                ),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if created:
                messages.success(request, _("Le constat est enregistré."))
            else:
                messages.info(
                    request,
                    _(
                        "Ce constat existait déjà pour cette structure (même titre, même actif) : "
                        "il a été mis à jour au lieu d'être dupliqué."
                    ),
                )
            return redirect("findings:detail", pk=finding.pk)
    return render(request, "findings/findings/manual_form.html", {"form": form})


@login_required
def manual_assets(request):
    """The asset choices of one structure (htmx fragment of the manual finding form)."""
    user = request.user
    access.require(user, Perm.FINDINGS_WRITE)
    form = ManualFindingForm(structures=[], assets=_assets_of(user, request.GET.get("structure")))
    return render(request, "findings/findings/_asset_field.html", {"field": form["asset"]})


# --- Import and export -----------------------------------------------------------------------


@login_required
def import_upload(request):
    """Upload a findings file for one structure; it is checked and written by a job."""
    user = request.user
    access.require(user, Perm.FINDINGS_WRITE)
    form = FindingImportForm(
        request.POST or None,
        request.FILES or None,
        structures=_structures(user, Perm.FINDINGS_WRITE),
        max_bytes=io.max_bytes(),
    )
    if request.method == "POST" and form.is_valid():
        structure = access.structure_for(
            user, form.cleaned_data["structure"], see=Perm.FINDINGS_WRITE
        )
        try:
            job = io.submit_import(
                user,
                structure,
                form.cleaned_data["file"],
                complete=form.cleaned_data["complete"],
                ip=client_ip(request),
            )
        except ValidationError as exc:  # not a table at all: said at once, nothing stored
            apply_errors(form, exc)
        else:
            return redirect("jobs:detail", job.pk)
    columns = [(name, name in REQUIRED, aliases) for name, aliases in COLUMNS.items()]
    return render(
        request,
        "findings/findings/import.html",
        {"form": form, "columns": columns, "max_rows": io.MAX_ROWS},
    )


@login_required
def export(request):
    """The list as it is filtered, as CSV, JSON or XLSX (audited)."""
    user = request.user
    access.require(user, Perm.FINDINGS_DETAIL)
    access.require(user, Perm.EXPORT_RUN)
    fmt = request.GET.get("format", "csv")
    if fmt not in io.FORMATS:
        fmt = "csv"
    filters = _filter_form(request).filters()
    rows = selectors.findings_for(user, filters)
    data = io.export_findings(user, rows, fmt, filters=filters.as_dict(), ip=client_ip(request))
    filename = f"{_('vulnerabilites')}-{timezone.localdate():%Y%m%d}.{fmt}"
    if isinstance(data, bytes):
        response: HttpResponse | StreamingHttpResponse = HttpResponse(
            data, content_type=io.CONTENT_TYPES[fmt]
        )
    else:
        response = StreamingHttpResponse(data, content_type=io.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
