"""Staff side of the vendor questionnaire: send, follow, revoke, read answers and files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from carbet.audit.services import client_ip
from carbet.bydesign import services_vendor, vendor_questions
from carbet.bydesign.forms import VendorRequestForm
from carbet.bydesign.models import VendorAttachment, VendorRequest
from carbet.bydesign.service import BydesignPerm
from carbet.bydesign.views import service_for
from carbet.core import access, uploads
from carbet.core.forms import apply_errors
from carbet.core.tenancy import can


@login_required
def vendor(request: HttpRequest, pk: int) -> HttpResponse:
    row = service_for(request, pk)
    can_send = can(request.user, BydesignPerm.VENDOR, row.structure)
    form = VendorRequestForm(initial={"email": row.vendor_email}) if can_send else None
    if request.method == "POST":
        access.require(request.user, BydesignPerm.VENDOR, row.structure)
        form = VendorRequestForm(request.POST)
        if form.is_valid():
            try:
                services_vendor.send_request(
                    request.user,
                    row,
                    form.cleaned_data["email"],
                    form.cleaned_data["days"],
                    ip=client_ip(request),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except OSError:
                form.add_error(None, _("Le serveur de messagerie n'a pas accepté l'envoi."))
            else:
                messages.success(request, _("Questionnaire envoyé."))
                return redirect("bydesign:vendor", row.pk)
    now = timezone.now()
    requests = []
    for item in row.vendor_requests.prefetch_related("files"):
        if item.answered_at:
            state = _("Répondu le %(day)s") % {
                "day": timezone.localtime(item.answered_at).strftime("%d/%m/%Y")
            }
        elif item.revoked_at:
            state = _("Révoqué")
        elif item.expires_at <= now:
            state = _("Expiré sans réponse")
        else:
            state = _("En attente de réponse")
        requests.append(
            {
                "request": item,
                "state": state,
                "open": not (item.answered_at or item.revoked_at or item.expires_at <= now),
                "rows": vendor_questions.answered_rows(item.answers),
            }
        )
    return render(
        request,
        "bydesign/vendor.html",
        {
            "service": row,
            "structure": row.structure,
            "form": form,
            "requests": requests,
            "can_send": can_send,
        },
    )


@login_required
@require_POST
def vendor_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.owned_for(
        request.user,
        VendorRequest,  # owned_for applies visible_to and joins service__structure
        pk,
        BydesignPerm.VENDOR,
        see=BydesignPerm.VIEW,
    )
    services_vendor.revoke(request.user, row, ip=client_ip(request))
    messages.success(request, _("Lien révoqué : il n'ouvre plus rien."))
    return redirect("bydesign:vendor", row.service_id)


@login_required
def vendor_file(request: HttpRequest, pk: int) -> HttpResponse:
    row = access.visible_or_404(request.user, VendorAttachment, pk, BydesignPerm.VIEW)
    try:
        handle = uploads.open_upload(row.stored)
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=row.name)
