"""The security decision pages: the dossier, the director's signature, the signed PDF."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit.services import client_ip
from carbet.bydesign import pdf, selectors, services_decision
from carbet.bydesign.forms import DecisionForm
from carbet.bydesign.models import Decision
from carbet.bydesign.service import BydesignPerm
from carbet.bydesign.views import service_for
from carbet.core import access, uploads
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can

T = "bydesign/"


@login_required
def decision(request: HttpRequest, pk: int) -> HttpResponse:
    row = service_for(request, pk)
    can_decide = can(request.user, BydesignPerm.DECIDE, row.structure)
    form = DecisionForm() if can_decide else None
    if request.method == "POST":
        access.require(
            request.user,
            BydesignPerm.DECIDE,
            row.structure,
            message=_("Seule la direction de la structure signe la décision de sécurité."),
        )
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                services_decision.sign(request.user, row, form.cleaned_data, ip=client_ip(request))
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Décision signée et enregistrée."))
                return redirect("bydesign:decision", row.pk)
    today = timezone.localdate()
    page = selectors.service_page(row, today)
    return render(
        request,
        T + "decision.html",
        {
            "service": row,
            "structure": row.structure,
            "page": page,
            "undone": [r for r in page.rows if r.essential and r.effective not in ("done", "na")],
            "history": row.decisions.all()[:20],
            "form": form,
        },
    )


@login_required
def dossier_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier as it stands today (a draft until signed)."""
    row = service_for(request, pk)
    content = pdf.dossier_pdf(row, None, timezone.localdate())
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="dossier-{row.pk}.pdf"'
    return response


@login_required
def signed_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier exactly as it was signed."""
    row = access.visible_or_404(request.user, Decision, pk, BydesignPerm.VIEW)
    if not row.dossier:
        raise Http404
    try:
        handle = uploads.open_upload(row.dossier)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"decision-{row.pk}.pdf",
        content_type="application/pdf",
    )
