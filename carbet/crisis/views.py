"""Crisis pages before a case: reporting an incident, the centre's queue and qualification,
the structure's crisis page (its kit), and the ARS's aggregates.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carbet.core import access
from carbet.core.models import Structure
from carbet.core.tenancy import can
from carbet.crisis import selectors_pages as sel
from carbet.crisis.choices import ReportStatus
from carbet.crisis.forms import QualifyForm, ReportForm
from carbet.crisis.models import IncidentReport
from carbet.crisis.service import CrisisPerm
from carbet.crisis.views_common import attempt


@login_required
def index(request):
    user = request.user
    if not (can(user, CrisisPerm.REPORT) or can(user, CrisisPerm.VIEW)):
        if can(user, CrisisPerm.AGGREGATES):
            return redirect("crisis:ars")
        raise access.refusal()
    structures = list(Structure.objects.visible_to(user, CrisisPerm.REPORT).order_by("name")[:50])
    return render(
        request,
        "crisis/index.html",
        {
            "queue": sel.open_reports(user)[:200] if can(user, CrisisPerm.MANAGE) else [],
            "may_manage": can(user, CrisisPerm.MANAGE),
            "cases": sel.cases_for(user)[:200],
            "closed": sel.cases_for(user, closed=True)[:50],
            "reports": sel.my_reports(user).exclude(status=ReportStatus.QUALIFIED)[:20]
            if not can(user, CrisisPerm.MANAGE)
            else [],
            "structures": structures,
            "hotline": sel.hotline(),
        },
    )


@login_required
def report_new(request):
    """The phone page: four questions and one button."""
    user = request.user
    access.require(user, CrisisPerm.REPORT)
    structures = list(Structure.objects.visible_to(user, CrisisPerm.REPORT).order_by("name")[:500])
    chosen = request.POST.get("structure") or request.GET.get("structure")
    if chosen is None and len(structures) == 1:
        chosen = str(structures[0].pk)
    structure = (
        access.structure_for(user, chosen, CrisisPerm.REPORT, see=CrisisPerm.REPORT)
        if chosen and chosen.isdigit()
        else None
    )
    form = ReportForm(request.POST or None)
    if request.method == "POST" and structure is not None and form.is_valid():
        from carbet.crisis import services

        data = form.cleaned_data
        report = attempt(
            request,
            lambda: services.report_incident(
                user,
                structure,
                what=data["what"],
                since=data["since"],
                affected=data["affected"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                contact_email=data["contact_email"],
            ),
        )
        if isinstance(report, IncidentReport):
            return redirect("crisis:report_done", pk=report.pk)
    return render(
        request,
        "crisis/report.html",
        {
            "form": form,
            "structure": structure,
            "structures": structures,
            "hotline": sel.hotline(),
        },
    )


@login_required
def report_done(request, pk: int):
    report = access.owned_for(
        request.user, IncidentReport, pk, CrisisPerm.REPORT, see=CrisisPerm.REPORT
    )
    return render(request, "crisis/report_done.html", {"report": report, "hotline": sel.hotline()})


@login_required
def report_qualify(request, pk: int):
    report = access.owned_for(
        request.user,
        IncidentReport.objects.visible_to(request.user, CrisisPerm.REPORT).select_related(
            "structure"
        ),
        pk,
        CrisisPerm.MANAGE,
        see=CrisisPerm.REPORT,
    )
    from carbet.crisis import library, services

    choices = library.choices()
    form = QualifyForm(request.POST or None, templates=choices)
    if report.status != ReportStatus.NEW:
        messages.info(request, _("Ce signalement a déjà été traité."))
        case = getattr(report, "case", None)
        return redirect("crisis:case", pk=case.pk) if case else redirect("crisis:index")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        opening = data["decision"] == "open"
        result = attempt(
            request,
            lambda: services.qualify_report(
                request.user,
                report,
                qualification=data["qualification"],
                severity=data["severity"],
                personal_data=data["personal_data"],
                category=data["category"],
                note=data["note"],
                aware_at=data["aware_at"],
                open_case=opening,
            ),
        )
        if result is not None and opening and hasattr(result, "pk"):
            messages.success(
                request,
                _("Dossier ouvert : les tâches, listes et échéances du modèle sont en place."),
            )
            return redirect("crisis:case", pk=result.pk)
        if result is not None and not opening:
            messages.success(request, _("Signalement classé sans suite."))
            return redirect("crisis:index")
    return render(request, "crisis/qualify.html", {"report": report, "form": form})


@login_required
def structure_page(request, pk: int):
    """A structure's crisis page: report, the kit to print, its cases (those the person sees)."""
    structure = access.structure_for(request.user, pk, see=CrisisPerm.REPORT)
    return render(
        request,
        "crisis/structure.html",
        {
            "structure": structure,
            "cases": sel.cases_for(request.user).filter(structure=structure),
            "closed": sel.cases_for(request.user, closed=True).filter(structure=structure),
            "reports": sel.my_reports(request.user)
            .filter(structure=structure)
            .exclude(status=ReportStatus.QUALIFIED)[:20],
            "may_report": can(request.user, CrisisPerm.REPORT, structure),
            "hotline": sel.hotline(),
        },
    )


@login_required
def kit_pdf(request, pk: int):
    from carbet.crisis import pdf

    structure = access.structure_for(request.user, pk, see=CrisisPerm.REPORT)
    data = pdf.crisis_kit(structure, site_url=request.build_absolute_uri("/"))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="kit-de-crise-{structure.pk}.pdf"'
    return response


@login_required
def ars(request):
    access.require(request.user, CrisisPerm.AGGREGATES)
    return render(request, "crisis/ars.html", sel.aggregates(request.user))
