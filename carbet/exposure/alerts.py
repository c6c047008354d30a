"""Same-day alerts: a new critical exposure mails the structure's referents, once.

"New" means not seen by the structure's previous scan. Recipients are the users holding the
referent role on the structure (directly, through its organisation or its GHT) and its "cyber
referent" contacts — the same people as the weekly digest. Each alerted observation is recorded
(``ExposureAlert``, unique per structure and fingerprint) before the next one, so a rerun of the
scan job or a later scan never alerts twice for it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from carbet.audit import services as audit
from carbet.core.links import absolute_url
from carbet.core.recipients import Recipient, referents
from carbet.core.tenancy import SYSTEM
from carbet.exposure.models import ExposureAlert, Scan, ScanObservation
from carbet.exposure.services_run import definition

log = logging.getLogger("carbet.exposure.alerts")
CRITICAL = 4


def new_critical(scan: Scan) -> list[ScanObservation]:
    """The scan's critical observations absent from the previous scan and never alerted."""
    new = set(scan.diff.get("new", []))
    already = set(
        ExposureAlert.objects.filter(structure_id=scan.structure_id).values_list(
            "fingerprint", flat=True
        )
    )
    return [
        obs
        for obs in scan.observations.filter(severity__gte=CRITICAL)
        .select_related("target")
        .order_by("check_id", "pk")
        if obs.fingerprint in new and obs.fingerprint not in already
    ]


def _items(observations: list[ScanObservation]) -> list[dict[str, Any]]:
    items = []
    for obs in observations:
        known = definition(obs.check_id)
        items.append(
            {
                "title": obs.title,
                "where": obs.target.target + (f", port {obs.port}" if obs.port else ""),
                "detail": obs.detail,
                "how": known.remediation_fr if known else "",
                "cve": obs.cve,
            }
        )
    return items


def render_alert(scan: Scan, recipient: Recipient, observations: list[ScanObservation]):
    with translation.override(recipient.language or "fr"):
        context = {
            "structure": scan.structure,
            "recipient": recipient,
            "items": _items(observations),
            "url": absolute_url(reverse("exposure:structure", args=[scan.structure_id])),
            "region_name": settings.CARBET_REGION_NAME,
        }
        subject = ngettext(
            "[Carbet] %(structure)s — urgent : %(n)d service critique exposé sur internet",
            "[Carbet] %(structure)s — urgent : %(n)d services critiques exposés sur internet",
            len(observations),
        ) % {"structure": scan.structure.name, "n": len(observations)}
        body = render_to_string("exposure/alert_email.txt", context)
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient.email]
    )


def alert_new_critical(scan: Scan) -> int:
    """Send the alert for ``scan``'s new critical exposures; the number of messages sent."""
    observations = new_critical(scan)
    if not observations:
        return 0
    people = referents(scan.structure)
    sent = 0
    if people:
        with mailers.default as connection:
            for person in people:
                try:
                    connection.send_messages([render_alert(scan, person, observations)])
                except OSError:
                    log.exception("exposure alert not sent", extra={"scan": scan.pk})
                    continue
                sent += 1
        if not sent:
            # Nothing recorded: the next run of the job tries again.
            raise RuntimeError(_("L'alerte n'a pu être envoyée à aucun destinataire."))
    addresses = [p.email for p in people]
    for obs in observations:
        try:
            with transaction.atomic():
                ExposureAlert.objects.create(
                    structure_id=scan.structure_id,
                    fingerprint=obs.fingerprint,
                    scan=scan,
                    title=obs.title[:300],
                    recipients=addresses,
                )
        except IntegrityError:  # a concurrent run recorded it first
            continue
    audit.record(
        SYSTEM,
        "exposure.alert.sent",
        scan,
        structure=scan.structure,
        changes={
            "observations": [obs.title for obs in observations],
            "recipients": addresses,
            "messages": sent,
        },
    )
    return sent
