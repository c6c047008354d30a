"""E-mail of injects: who receives an inject, the message itself, and SMTP connections kept
open across the clock's passes (``dispatch``)."""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.exercises.choices import ParticipantRole, Security
from carbet.exercises.models import Exercise, Inject, Participant, SendingProfile

SMTP_TIMEOUT = 30
IDLE_CHECK = 5.0
PERSON_ROLES = {
    "directeur": ParticipantRole.DIRECTOR,
    "animateur": ParticipantRole.ANIMATOR,
    "observateur": ParticipantRole.OBSERVER,
}
ALL_ROLES = (ParticipantRole.PLAYER, ParticipantRole.DIRECTOR)
BANNER = "EXERCICE — EXERCICE — EXERCICE"


def message_id_of(exercise: Exercise, inject: Inject, domain: str) -> str:
    """The Message-ID of an inject's e-mail: the same on every attempt, so the archive tells
    whether it left, and a receiving server may recognise a repeat."""
    return f"<inject-{inject.pk}.{exercise.reply_key}@{domain}>"


def reply_address(profile: SendingProfile, exercise: Exercise, inject: Inject) -> str:
    """The reply address of an inject: the replies mailbox, sub-addressed (local+tag@domain)."""
    local, _, domain = profile.reply_address.partition("@")
    return f"{local}+{exercise.reply_key}-{inject.pk}@{domain}"


class Mailer:
    """SMTP connections kept open across ticks, one per sending profile."""

    def __init__(self) -> None:
        self.connections: dict[int, tuple[smtplib.SMTP, float]] = {}

    def _connect(self, profile: SendingProfile) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if profile.smtp_security == Security.SSL:
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                profile.smtp_host, profile.smtp_port, timeout=SMTP_TIMEOUT, context=context
            )
        else:
            server = smtplib.SMTP(profile.smtp_host, profile.smtp_port, timeout=SMTP_TIMEOUT)
            if profile.smtp_security == Security.STARTTLS:
                server.starttls(context=context)
        server.ehlo()
        if profile.smtp_username:
            server.login(profile.smtp_username, profile.smtp_password or "")
        return server

    def server(self, profile: SendingProfile) -> smtplib.SMTP:
        held = self.connections.get(profile.pk)
        if held is not None:
            server, used = held
            if time.monotonic() - used < IDLE_CHECK:
                return server
            try:  # an idle connection may have been closed by the server: check before DATA
                if server.noop()[0] == 250:
                    return server
            except (smtplib.SMTPException, OSError):
                pass
            self.drop(profile.pk)
        server = self._connect(profile)
        self.connections[profile.pk] = (server, time.monotonic())
        return server

    def send(self, profile: SendingProfile, message: EmailMessage, rcpts: list[str]) -> dict:
        server = self.server(profile)
        try:
            refused = server.send_message(message, to_addrs=rcpts)
        except (smtplib.SMTPException, OSError):
            self.drop(profile.pk)
            raise
        self.connections[profile.pk] = (server, time.monotonic())
        return refused

    def drop(self, profile_id: int) -> None:
        held = self.connections.pop(profile_id, None)
        if held is None:
            return
        try:
            held[0].quit()
        except (smtplib.SMTPException, OSError):
            held[0].close()

    def close(self) -> None:
        for profile_id in list(self.connections):
            self.drop(profile_id)


# --- who receives what ---------------------------------------------------------------------


def recipients_of(inject: Inject, participants: list[Participant]) -> list[Participant]:
    """The exercise's registered participants an inject is addressed to: "all" (players and
    the exercise director), cell codes, person roles, or participant ids."""
    wanted = (inject.audience or {}).get("to") or ["all"]
    ids = set((inject.audience or {}).get("participants") or [])
    chosen = []
    for person in participants:
        cell_code = person.cell.code if person.cell_id else None
        if (
            person.pk in ids
            or ("all" in wanted and person.role in ALL_ROLES)
            or (cell_code is not None and cell_code in wanted)
            or any(PERSON_ROLES.get(w) == person.role for w in wanted)
        ):
            chosen.append(person)
    return chosen


def build_message(
    exercise: Exercise, inject: Inject, profile: SendingProfile, to: list[str]
) -> EmailMessage:
    """The e-mail of an inject: the simulated sender's name, always within the centre's own
    exercise domain, and "EXERCICE" in the subject and on the first line."""
    domain = profile.sender_domain
    local = inject.sender_local or "cellule-exercice"
    message = EmailMessage()
    message["From"] = formataddr((inject.sender_name or _("Exercice"), f"{local}@{domain}"))
    message["To"] = ", ".join(to)
    message["Reply-To"] = reply_address(profile, exercise, inject)
    message["Subject"] = f"[EXERCICE] {inject.subject or inject.title}"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id_of(exercise, inject, domain)
    message["X-Carbet-Exercise"] = exercise.reply_key
    message["X-Carbet-Inject"] = str(inject.pk)
    footer = _(
        "Ce message fait partie d'un exercice de crise. Répondez à ce message comme vous le "
        "feriez en situation réelle : votre réponse est versée au journal de l'exercice."
    )
    message.set_content(f"{BANNER}\n\n{inject.body}\n\n-- \n{footer}\n")
    return message
