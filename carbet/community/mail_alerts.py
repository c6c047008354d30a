"""The same-day targeted alert: one e-mail per structure and vulnerability, to the people who
answer for the structure (its referents and its director), in plain French.

"You run FortiOS 7.0.12 on vpn.example: CVE-… is actively exploited; here is what to do." Each
alert is **claimed** before sending (``sent_at`` set in a transaction, only if still empty), so
two runs at the same time never send it twice and a rerun sends nothing more. When no message
could be delivered at all, the claim is released and the next run tries again. An alert goes
only to a structure that still runs the product (an active line of its inventory), never
elsewhere: the message is built from that structure's own alert row and sent to its people.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.audit import services as audit
from carbet.community.choices import AlertStatus
from carbet.community.models import StructureAlert
from carbet.core.links import absolute_url
from carbet.core.models import Structure
from carbet.core.recipients import Recipient, addresses, referents
from carbet.core.tenancy import SYSTEM

log = logging.getLogger("carbet.community.alerts")
# An alert not delivered (no server, every address refused) is retried for this long.
RETRY_DAYS = 7
# Only news is e-mailed: an entry that became news (NVD publication, KEV addition, CERT-FR
# alert) in the last days. What was already known when a structure's product was first seen
# (the first full pass on a region, a product declared today matching a 2021 CVE) is on its
# alerts page and in its action plan, not in dozens of e-mails on the same morning.
NEWS_DAYS = 7


def people(structure: Structure) -> list[Recipient]:
    """The structure's referents (users and cyber referent contacts) and its director(s), each
    address once, with their language when they are users."""
    found = {r.email.lower(): r for r in referents(structure)}
    extra = [a for a in addresses(structure) if a not in found]
    if extra:
        users = {
            u.email.lower(): u
            for u in User.objects.annotate(address=Lower("email")).filter(address__in=extra)
        }
        for address in extra:
            user = users.get(address)
            found[address] = (
                Recipient(user.email, str(user), user.language or "fr")
                if user is not None
                else Recipient(address, address)
            )
    return sorted(found.values(), key=lambda r: r.email.lower())


def render(alert: StructureAlert, recipient: Recipient) -> EmailMultiAlternatives:
    """The e-mail (plain text and HTML) in the recipient's language."""
    vuln = alert.vulnerability
    with translation.override(recipient.language or "fr"):
        context = {
            "alert": alert,
            "vuln": vuln,
            "structure": alert.structure,
            "recipient": recipient,
            "exploited": vuln.kev,
            "url": absolute_url(reverse("community:alert_detail", args=[alert.pk])),
            "region_name": settings.CARBET_REGION_NAME,
        }
        if vuln.kev:
            subject = _(
                "[Carbet] %(structure)s — urgent : %(vuln)s est exploitée activement et vous "
                "utilisez le logiciel concerné"
            )
        else:
            subject = _(
                "[Carbet] %(structure)s — alerte : %(vuln)s concerne un logiciel que vous utilisez"
            )
        subject = subject % {"structure": alert.structure.name, "vuln": vuln.vuln_id}
        text = render_to_string("community/alerts/alert_email.txt", context)
        html = render_to_string("community/alerts/alert_email.html", context)
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient.email]
        )
    message.attach_alternative(html, "text/html")
    return message


def _claim(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        return bool(StructureAlert.objects.filter(pk=pk, sent_at__isnull=True).update(sent_at=now))


def send(alert: StructureAlert, now: datetime | None = None) -> int:
    """Send one alert if nobody did (the number of messages delivered)."""
    now = now or timezone.now()
    if not alert.lines.filter(active=True).exists():
        return 0  # the structure no longer runs the product: nothing to say
    if not _claim(alert.pk, now):
        return 0
    recipients = people(alert.structure)
    sent = 0
    if recipients:
        try:
            with mailers.default as connection:
                for person in recipients:
                    try:
                        connection.send_messages([render(alert, person)])
                    except OSError:
                        log.exception("community alert not sent", extra={"alert": alert.pk})
                        continue
                    sent += 1
        except OSError:
            log.exception("mail server unreachable", extra={"alert": alert.pk})
        if not sent:  # nothing delivered: release the claim, the next run tries again
            StructureAlert.objects.filter(pk=alert.pk).update(sent_at=None)
            return 0
    delivered = [p.email for p in recipients]
    StructureAlert.objects.filter(pk=alert.pk).update(recipients=delivered)
    audit.record(
        SYSTEM,
        "community.alert.sent",
        alert,
        structure=alert.structure,
        changes={
            "vulnerability": alert.vulnerability.vuln_id,
            "products": alert.products,
            "recipients": delivered,
            "messages": sent,
        },
    )
    return sent


def send_pending(now: datetime | None = None) -> int:
    """Send every recent alert not sent yet; the number of messages delivered."""
    now = now or timezone.now()
    pending = (
        StructureAlert.objects.visible_to(SYSTEM)
        .filter(
            sent_at__isnull=True,
            status=AlertStatus.NEW,
            matched_at__gte=now - timedelta(days=RETRY_DAYS),
        )
        .filter(
            Q(vulnerability__published="")
            | Q(vulnerability__published__gte=(now - timedelta(days=NEWS_DAYS)).date().isoformat())
        )
        .select_related("structure__organisation", "vulnerability")
        .order_by("pk")
    )
    return sum(send(alert, now) for alert in pending)
