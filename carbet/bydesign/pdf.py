"""The security decision's dossier (PDF): what the director reads before signing, and what
stays on file once signed — the description, the measures and their state, the cyber index
explained, the residual risks, the vendor's answers and the decision itself."""

from __future__ import annotations

from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone

from carbet.bydesign import selectors
from carbet.bydesign.models import Decision, DigitalService, VendorRequest
from carbet.bydesign.vendor_questions import answered_rows


def dossier_html(service: DigitalService, decision: Decision | None, today: date) -> str:
    page = selectors.service_page(service, today)
    vendor = (
        VendorRequest.objects.filter(service=service, answered_at__isnull=False)
        .order_by("-answered_at")
        .first()
    )
    undone = [r for r in page.rows if r.essential and r.effective not in ("done", "na")]
    return render_to_string(
        "bydesign/dossier_pdf.html",
        {
            "service": service,
            "structure": service.structure,
            "page": page,
            "undone": undone,
            "decision": decision,
            "vendor": vendor,
            "vendor_rows": answered_rows(vendor.answers) if vendor else [],
            "generated": timezone.now(),
        },
    )


def dossier_pdf(service: DigitalService, decision: Decision | None, today: date) -> bytes:
    from carbet.core.pdf import html_to_pdf

    return html_to_pdf(dossier_html(service, decision, today))
