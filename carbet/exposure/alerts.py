"""Same-day alerts: a new critical exposure mails the structure's referents, once per return.

"New" means not seen by the structure's previous scan. Recipients are the users holding the
referent role on the structure (directly, through its organisation or its GHT) and its "cyber
referent" contacts — the same people as the weekly digest. Each alerted observation is recorded
(``ExposureAlert``, unique per structure, fingerprint and episode), so a rerun of the scan job
or a later scan that still sees it never alerts twice for it.

An exposure that comes back after being fixed is alerted again, the same day, once per return:
"fixed" means a later successful scan that looked at its target no longer saw it (it is in
that scan's ``diff["gone"]``, which only lists targets scanned to the end). A scan that could
not reach the target proves nothing, so an exposure missing only from such a scan is not a
return.
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
from carbet.exposure.models import ExposureAlert, Scan, ScanObservation, ScanStatus
from carbet.exposure.services_run import definition

log = logging.getLogger("carbet.exposure.alerts")
CRITICAL = 4


def due_alerts(scan: Scan) -> list[tuple[ScanObservation, int]]:
    """The scan's critical observations absent from the previous scan that deserve an alert,
    each with its episode: 1 the first time, one more for each return after a fix."""
    new = set(scan.diff.get("new", []))
    candidates = [
        obs
        for obs in scan.observations.filter(severity__gte=CRITICAL)
        .select_related("target")
        .order_by("check_id", "pk")
        if obs.fingerprint in new
    ]
    if not candidates:
        return []
    last: dict[str, ExposureAlert] = {}
    for alert in (
        ExposureAlert.objects.filter(
            structure_id=scan.structure_id,
            fingerprint__in=[obs.fingerprint for obs in candidates],
        )
        .select_related("scan")
        .order_by("episode")
    ):
        last[alert.fingerprint] = alert
    fixed = _fixed_since(scan, list(last.values()))
    due = []
    for obs in candidates:
        previous = last.get(obs.fingerprint)
        if previous is None:
            due.append((obs, 1))
        elif previous.scan_id != scan.pk and obs.fingerprint in fixed:
            due.append((obs, previous.episode + 1))
    return due


def _alerted_at(alert: ExposureAlert) -> Any:
    return alert.scan.created_at if alert.scan is not None else alert.sent_at


def _fixed_since(scan: Scan, alerts_before: list[ExposureAlert]) -> set[str]:
    """Fingerprints that a successful scan between their last alert and ``scan`` showed gone."""
    if not alerts_before:
        return set()
    since = {alert.fingerprint: _alerted_at(alert) for alert in alerts_before}
    scans = (
        Scan.objects.filter(
            structure_id=scan.structure_id,
            status=ScanStatus.SUCCEEDED,
            created_at__gt=min(since.values()),
            created_at__lte=scan.created_at,
        )
        .exclude(pk=scan.pk)
        .values_list("created_at", "diff")
    )
    fixed: set[str] = set()
    for created_at, diff in scans:
        for item in (diff or {}).get("gone", []):
            fingerprint = item.get("fingerprint") if isinstance(item, dict) else None
            if fingerprint in since and created_at > since[fingerprint]:
                fixed.add(fingerprint)
    return fixed


def new_critical(scan: Scan) -> list[ScanObservation]:
    """The scan's critical observations to alert about (new, or back after a fix)."""
    return [obs for obs, _episode in due_alerts(scan)]


def _items(
    observations: list[ScanObservation], returns: set[int] | None = None
) -> list[dict[str, Any]]:
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
                "returned": obs.pk in (returns or set()),
            }
        )
    return items


def render_alert(
    scan: Scan,
    recipient: Recipient,
    observations: list[ScanObservation],
    returns: set[int] | None = None,
) -> EmailMessage:
    """``returns``: the pks of observations that came back after a fix (said in the mail)."""
    with translation.override(recipient.language or "fr"):
        context = {
            "structure": scan.structure,
            "recipient": recipient,
            "items": _items(observations, returns),
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
    """Send the alert for ``scan``'s new critical exposures (and those back after a fix); the
    number of messages sent."""
    due = due_alerts(scan)
    if not due:
        return 0
    observations = [obs for obs, _episode in due]
    returns = {obs.pk for obs, episode in due if episode > 1}
    people = referents(scan.structure)
    sent = 0
    if people:
        with mailers.default as connection:
            for person in people:
                try:
                    connection.send_messages([render_alert(scan, person, observations, returns)])
                except OSError:
                    log.exception("exposure alert not sent", extra={"scan": scan.pk})
                    continue
                sent += 1
        if not sent:
            # Nothing recorded: the next run of the job tries again.
            raise RuntimeError(_("L'alerte n'a pu être envoyée à aucun destinataire."))
    addresses = [p.email for p in people]
    for obs, episode in due:
        try:
            with transaction.atomic():
                ExposureAlert.objects.create(
                    structure_id=scan.structure_id,
                    fingerprint=obs.fingerprint,
                    scan=scan,
                    title=obs.title[:300],
                    recipients=addresses,
                    episode=episode,
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
            "returned": [obs.title for obs in observations if obs.pk in returns],
            "recipients": addresses,
            "messages": sent,
        },
    )
    return sent
