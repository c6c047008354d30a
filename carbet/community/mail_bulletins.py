"""The e-mails of bulletins: the notice of a new bulletin and the reminder, to the referents and
the director of one structure (``carbet.core.recipients``), each in their own language.

TLP:RED and TLP:AMBER+STRICT bulletins never travel by e-mail: the message only says that a new
bulletin awaits the reader in Carbet (no title, no summary, no content), with the link.
Each message goes to one person: no reader sees another's address.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from carbet.accounts.models import User
from carbet.accounts.roles import StructureRole
from carbet.community.choices import Tlp
from carbet.community.markdown import plain, render
from carbet.community.models import Bulletin
from carbet.core.links import absolute_url
from carbet.core.models import Structure
from carbet.core.recipients import Recipient, addresses, referents

log = logging.getLogger(__name__)

# Bulletins whose content never leaves Carbet.
RESTRICTED_TLP = (Tlp.RED, Tlp.AMBER_STRICT)


def recipients(structure: Structure) -> list[Recipient]:
    """The structure's referents, then its director(s), each address once."""
    found = {r.email.lower(): r for r in referents(structure)}
    directors = [a for a in addresses(structure, [StructureRole.DIRECTOR]) if a not in found]
    languages = dict(User.objects.filter(email__in=directors).values_list("email", "language"))
    for address in directors:
        found[address] = Recipient(address, "", languages.get(address) or "fr")
    return list(found.values())


def restricted(bulletin: Bulletin) -> bool:
    return bulletin.tlp in RESTRICTED_TLP


def render_message(
    bulletin: Bulletin, structure: Structure, recipient: Recipient, *, reminder: bool
) -> EmailMultiAlternatives:
    with translation.override(recipient.language or "fr"):
        context = {
            "bulletin": bulletin,
            "structure": structure,
            "recipient": recipient,
            "reminder": reminder,
            "restricted": restricted(bulletin),
            "text": plain(bulletin.body),
            "url": absolute_url(reverse("community:bulletin_detail", args=[bulletin.pk])),
            "region_name": settings.CARBET_REGION_NAME,
        }
        if restricted(bulletin):
            subject = (
                _("[Carbet] Rappel : un bulletin attend votre réponse dans Carbet")
                if reminder
                else _("[Carbet] Un nouveau bulletin vous attend dans Carbet")
            )
        else:
            values = {"severity": bulletin.get_severity_display(), "title": bulletin.title}
            subject = (
                _("[Carbet] Rappel — bulletin %(severity)s : %(title)s")
                if reminder
                else _("[Carbet] Bulletin %(severity)s : %(title)s")
            ) % values
        body = render_to_string("community/bulletins/email.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split())[:250],
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
        )
        if not restricted(bulletin):
            context["html"] = render(bulletin.body, heading_offset=1)
            message.attach_alternative(
                render_to_string("community/bulletins/email.html", context), "text/html"
            )
    return message


def send(
    bulletin: Bulletin,
    structure: Structure,
    *,
    reminder: bool,
    people: list[Recipient] | None = None,
) -> list[str]:
    """Send the notice (or the reminder) to the structure's people (``people``, found here if
    not given); the addresses reached (none when the mail server cannot be reached)."""
    if people is None:
        people = recipients(structure)
    reached: list[str] = []
    if not people:
        return reached
    try:
        with mailers.default as connection:
            for person in people:
                try:
                    connection.send_messages(
                        [render_message(bulletin, structure, person, reminder=reminder)]
                    )
                except OSError:
                    log.exception(
                        "bulletin mail not sent",
                        extra={"bulletin": bulletin.pk, "structure": structure.pk},
                    )
                    continue
                reached.append(person.email)
    except OSError:  # the mail server cannot be reached at all
        log.exception("mail server unreachable", extra={"bulletin": bulletin.pk})
    return reached
