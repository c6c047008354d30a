"""The campaign report (PDF): the funnel, reporting, results by service, the lure's clues.

Aggregates only, whoever asks: names never go into a file that travels.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from carbet.awareness import results
from carbet.awareness.models import Campaign
from carbet.core.tenancy import Actor


def campaign_report_pdf(actor: Actor, campaign: Campaign) -> bytes:
    from carbet.core.pdf import html_to_pdf

    numbers = results.funnel(campaign)
    html = render_to_string(
        "awareness/report_pdf.html",
        {
            "campaign": campaign,
            "funnel": numbers,
            "rows": [
                ("sent", numbers.sent, 1.0 if numbers.sent else None),
                ("opened", numbers.opened, numbers.rate(numbers.opened)),
                ("clicked", numbers.clicked, numbers.click_rate),
                ("submitted", numbers.submitted, numbers.rate(numbers.submitted)),
                ("reported", numbers.reported, numbers.report_rate),
            ],
            "services": results.by_service(campaign),
            "trend": results.trend(campaign.structure, actor),
            "generated": timezone.now(),
        },
    )
    return html_to_pdf(html)
