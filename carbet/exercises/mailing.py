"""E-mail of injects: who receives an inject, the message itself, and SMTP connections kept
open across the clock's passes (``dispatch``)."""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr

from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.exercises.choices import ParticipantRole, Security
from carbet.exercises.models import Exercise, Inject, Participant, SendingProfile

SMTP_TIMEOUT = 30
IDLE_CHECK = 5.0
# SMTP connections used at once for a burst (200 structures getting the same inject).
PARALLEL = 4
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
    """SMTP connections kept open across the clock's passes: one per sending profile and per
    sending thread (``dispatch`` sends a burst over a few connections at once)."""

    def __init__(self, parallel: int = PARALLEL) -> None:
        self.connections: dict[tuple[int, int], tuple[smtplib.SMTP, float]] = {}
        self.lock = threading.Lock()
        self.parallel = parallel
        self._pool: ThreadPoolExecutor | None = None

    def pool(self) -> ThreadPoolExecutor:
        """The sending threads (SMTP only: no database work happens in them)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix="exercise-smtp")
        return self._pool

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
        key = (profile.pk, threading.get_ident())
        with self.lock:
            held = self.connections.get(key)
        if held is not None:
            server, used = held
            if time.monotonic() - used < IDLE_CHECK:
                return server
            try:  # an idle connection may have been closed by the server: check before DATA
                if server.noop()[0] == 250:
                    return server
            except (smtplib.SMTPException, OSError):
                pass
            self.drop(key)
        server = self._connect(profile)
        with self.lock:
            self.connections[key] = (server, time.monotonic())
        return server

    def send(self, profile: SendingProfile, message: Message, rcpts: list[str]) -> dict:
        key = (profile.pk, threading.get_ident())
        server = self.server(profile)
        try:
            refused = server.send_message(message, to_addrs=rcpts)
        except (smtplib.SMTPException, OSError):
            self.drop(key)
            raise
        with self.lock:
            self.connections[key] = (server, time.monotonic())
        return refused

    def drop(self, key: tuple[int, int]) -> None:
        with self.lock:
            held = self.connections.pop(key, None)
        if held is None:
            return
        try:
            held[0].quit()
        except (smtplib.SMTPException, OSError):
            held[0].close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for key in list(self.connections):
            self.drop(key)


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
) -> Message:
    """The e-mail of an inject: the simulated sender's name, always within the centre's own
    exercise domain, and "EXERCICE" in the subject and on the first line. Built with the
    ``compat32`` classes (headers encoded here once): ten times cheaper than parsing every
    header through the modern policy, which matters when 200 structures get it at once."""
    domain = profile.sender_domain
    local = inject.sender_local or "cellule-exercice"
    footer = _(
        "Ce message fait partie d'un exercice de crise. Répondez à ce message comme vous le "
        "feriez en situation réelle : votre réponse est versée au journal de l'exercice."
    )
    message = MIMEText(f"{BANNER}\n\n{inject.body}\n\n-- \n{footer}\n", "plain", "utf-8")
    name = inject.sender_name or str(_("Exercice"))
    message["From"] = formataddr((name, f"{local}@{domain}"), charset="utf-8")
    message["To"] = ", ".join(to)
    message["Reply-To"] = reply_address(profile, exercise, inject)
    message["Subject"] = Header(f"[EXERCICE] {inject.subject or inject.title}", "utf-8").encode()
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id_of(exercise, inject, domain)
    message["X-Carbet-Exercise"] = exercise.reply_key
    message["X-Carbet-Inject"] = str(inject.pk)
    return message
