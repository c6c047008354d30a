"""The messages and calendar files of community events (see ``services_events``).

Every message is personal (one person, their language, their own registration), in plain text
and HTML, and carries the event as a ``.ics`` file (except the waiting-list notice): calendar
programs add it, update it (same UID, higher SEQUENCE) or strike it out (STATUS:CANCELLED).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbet.community.choices import EventKind, EventStatus, RegistrationStatus
from carbet.community.models import Event, Registration
from carbet.core.links import absolute_url, base_url
from carbet.engines.community.calendar import EventItem, build_calendar

log = logging.getLogger("carbet.community.events")

PRODID = "-//Carbet//Agenda de la communauté//FR"

# --- iCalendar -------------------------------------------------------------------------------


def event_uid(event: Event) -> str:
    """Stable for the event's whole life: calendar programs update the same entry."""
    host = urlsplit(base_url()).hostname or "carbet"
    return f"community-event-{event.pk}@{host}"


def event_item(
    event: Event, *, cancelled_for_person: bool = False, with_link: bool = True
) -> EventItem:
    """The event as a calendar entry; ``with_link``: the connection link is for the people
    registered (and the centre) only."""
    description = event.description
    link = event.online_url if with_link else ""
    if link:
        description = f"{description}\n\n{_('Lien de connexion :')} {link}".strip()
    return EventItem(
        uid=event_uid(event),
        title=event.title,
        start=event.starts_at,
        end=event.ends_at,
        location=event.location or link,
        url=absolute_url(reverse("community:events_detail", args=[event.pk])),
        description=description,
        sequence=event.sequence,
        cancelled=cancelled_for_person or event.status == EventStatus.CANCELLED,
        updated=event.updated_at,
        reminder=timedelta(hours=1),
    )


def event_ics(event: Event, *, with_link: bool = True) -> bytes:
    item = event_item(event, with_link=with_link)
    return build_calendar([item], calendar_name=event.title, prodid=PRODID)


def ics_filename(event: Event) -> str:
    return f"evenement-{event.pk}.ics"


# --- Messages --------------------------------------------------------------------------------


def _when(event: Event) -> str:
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    if start.date() == end.date():
        return _("le %(day)s de %(start)s à %(end)s") % {
            "day": start.strftime("%d/%m/%Y"),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
        }
    return _("du %(start)s au %(end)s") % {
        "start": start.strftime("%d/%m/%Y %H:%M"),
        "end": end.strftime("%d/%m/%Y %H:%M"),
    }


def _texts(kind: str, event: Event, reason: str) -> tuple[str, str]:
    """Subject and first sentence of a message of ``kind``."""
    title = event.title
    texts = {
        "confirmed": (
            _("[Carbet] Inscription confirmée : %(title)s"),
            _(
                "Votre inscription est confirmée. Le fichier joint ajoute l'événement à votre "
                "agenda."
            ),
        ),
        "waitlist": (
            _("[Carbet] Liste d'attente : %(title)s"),
            _(
                "L'événement est complet : vous êtes sur la liste d'attente. Si une place se "
                "libère, vous serez inscrit automatiquement et prévenu par e-mail."
            ),
        ),
        "promoted": (
            _("[Carbet] Une place s'est libérée : %(title)s"),
            _(
                "Une place s'est libérée : vous passez de la liste d'attente aux inscrits. Le "
                "fichier joint ajoute l'événement à votre agenda."
            ),
        ),
        "updated": (
            _("[Carbet] Événement modifié : %(title)s"),
            _(
                "La date, le lieu ou le lien de connexion a changé. Le fichier joint met votre "
                "agenda à jour."
            ),
        ),
        "cancelled": (
            _("[Carbet] Événement annulé : %(title)s"),
            _("Cet événement est annulé. Le fichier joint le retire de votre agenda."),
        ),
        "reminder_day": (
            _("[Carbet] Rappel, c'est demain : %(title)s"),
            _("Petit rappel : vous êtes inscrit à cet événement, qui a lieu demain."),
        ),
        "reminder_week": (
            _("[Carbet] Rappel, dans une semaine : %(title)s"),
            _("Petit rappel : vous êtes inscrit à cette formation, qui a lieu dans une semaine."),
        ),
    }
    subject, lead = texts[kind]
    if kind == "cancelled" and reason:
        lead = f"{lead} {_('Motif : %(reason)s') % {'reason': reason}}"
    return subject % {"title": title}, lead


def render_message(
    registration: Registration, kind: str, reason: str = ""
) -> EmailMultiAlternatives:
    """The message (text and HTML, the person's language) about ``registration``'s event."""
    event, user = registration.event, registration.user
    with_link = registration.status == RegistrationStatus.REGISTERED
    with translation.override(user.language or "fr"):
        subject, lead = _texts(kind, event, reason)
        context = {
            "event": event,
            "link": event.online_url if with_link else "",
            "kind_label": EventKind(event.kind).label if event.kind in EventKind.values else "",
            "person": str(user),
            "structure": registration.structure.name,
            "lead": lead,
            "when": _when(event),
            "url": absolute_url(reverse("community:events_detail", args=[event.pk])),
            "region_name": getattr(settings, "CARBET_REGION_NAME", ""),
        }
        text = render_to_string("community/events/email.txt", context)
        html = render_to_string("community/events/email.html", context)
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[user.email]
        )
        message.attach_alternative(html, "text/html")
        if kind != "waitlist":
            ics = event_ics(event, with_link=with_link)
            message.attach(ics_filename(event), ics, "text/calendar")
    return message


def notify(registrations: Iterable[Registration], kind: str, reason: str = "") -> int:
    """Send one message per registration; the number sent (failures are logged)."""
    rows = [r for r in registrations if r.user.email and r.user.is_active]
    if not rows:
        return 0
    sent = 0
    try:
        with mailers.default as connection:
            for row in rows:
                try:
                    connection.send_messages([render_message(row, kind, reason)])
                except OSError:
                    log.exception("event message not sent", extra={"registration": row.pk})
                    continue
                sent += 1
    except OSError:  # the mail server cannot be reached at all
        log.exception("event messages not sent", extra={"kind": kind, "messages": len(rows)})
    return sent
