"""E-mails of the crisis service: a new report to the centre, reminders and situation points
to the cell. Sent through Django's default mailer (``MAILERS``); a message that cannot be sent
is logged and reported to the caller, never silently dropped.

Recipients are people of the case (cell members who asked for notifications) or the centre's
staff: no message ever goes to an address outside the case.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.accounts.roles import CENTRE_STAFF_ROLES
from carbet.crisis.models import CrisisCase, IncidentReport

log = logging.getLogger(__name__)


def cell_recipients(case: CrisisCase) -> list[str]:
    emails = case.members.filter(active=True, notify=True).exclude(email="")
    return sorted({e.lower() for e in emails.values_list("email", flat=True)})


def centre_recipients() -> list[str]:
    users = User.objects.filter(is_active=True, centre_role__in=list(CENTRE_STAFF_ROLES)).exclude(
        email=""
    )
    return sorted({u.lower() for u in users.values_list("email", flat=True)})


def send(subject: str, body: str, recipients: Iterable[str]) -> list[str]:
    """One message per recipient (nobody sees the others' addresses); returns who got it."""
    delivered: list[str] = []
    addresses = list(recipients)
    if not addresses:
        return delivered
    try:
        # Opening the connection is where a mail server that is down refuses: the report, the
        # reminder or the sitrep is recorded all the same, and the caller learns who got it.
        with mailers.default as connection:
            for address in addresses:
                message = EmailMessage(
                    subject=subject[:200],
                    body=body,
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=[address],
                )
                try:
                    connection.send_messages([message])
                except OSError:
                    log.exception("crisis mail not sent", extra={"to": address})
                    continue
                delivered.append(address)
    except OSError:
        log.exception("crisis mail server unreachable", extra={"to": addresses})
    return delivered


def notify_centre_of_report(report: IncidentReport) -> list[str]:
    structure = report.structure
    body = _(
        "Un incident vient d'être signalé par %(structure)s.\n\n"
        "Ce qui se passe : %(what)s\n"
        "Ce qui est touché : %(affected)s\n"
        "Personne à rappeler : %(name)s, %(phone)s\n\n"
        "Qualifiez le signalement dans Carbet (rubrique Crises)."
    ) % {
        "structure": structure.name,
        "what": report.what,
        "affected": report.affected or "—",
        "name": report.contact_name,
        "phone": report.contact_phone,
    }
    return send(
        _("[Carbet] Incident signalé : %(s)s") % {"s": structure.name},
        body,
        centre_recipients(),
    )
