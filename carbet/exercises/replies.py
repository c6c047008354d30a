"""Players' e-mail replies, read from the sending profile's mailbox over IMAP.

Every inject leaves with ``Reply-To: <box>+<exercise key>-<inject id>@<domain>`` and a
Message-ID ``<inject-<id>.<key>@<domain>>``; a reply is matched by its sub-address, or failing
that by its ``In-Reply-To``/``References`` (``match_reply``, which never raises on hostile
mail). A matched reply becomes a ``Reply`` row and a line of the exercise log. Messages are read
with ``BODY.PEEK`` and flagged ``\\Seen`` once handled; a reply's Message-ID is unique in the
table, so a second poll (or a flag lost) never counts it twice. The archive copies of the
injects themselves (``X-Carbet-Inject``) are flagged and skipped.

``archived`` is the other use of the mailbox: whether an inject's Message-ID is in it, which
tells the clock that a message whose worker died did leave (``dispatch.recover``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from carbet.audit import services as audit
from carbet.core import imap
from carbet.core.tenancy import SYSTEM
from carbet.exercises.choices import LogKind, ReplySource
from carbet.exercises.models import Exercise, Inject, LogEntry, Reply, SendingProfile

MAX_REPLY_BYTES = 2_000_000
MAX_BODY = 20_000
PLUS_RE = re.compile(r"\+([0-9a-f]{12})-(\d{1,12})@", re.IGNORECASE)
MSGID_RE = re.compile(r"<inject-(\d{1,12})\.([0-9a-f]{12})@", re.IGNORECASE)
ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True)
class Matched:
    reply_key: str
    inject_id: int


def _header(message: EmailMessage, name: str) -> list[str]:
    try:
        return [str(value) for value in (message.get_all(name) or [])]
    except Exception:
        return []


def _addresses(message: EmailMessage, name: str) -> list[str]:
    try:
        return [addr for _name, addr in getaddresses(_header(message, name))]
    except Exception:  # an unparsable address header is skipped
        return []


def match_reply(raw: bytes) -> tuple[Matched | None, EmailMessage | None]:
    """Which exercise and inject a raw mail answers (None if none), and the parsed mail.
    Hostile input (broken MIME, huge headers) gives ``(None, ...)``, never an exception."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
    except Exception:
        return None, None
    if not isinstance(message, EmailMessage):
        return None, None
    addresses = [addr for name in ADDRESS_HEADERS for addr in _addresses(message, name)]
    for address in addresses:
        found = PLUS_RE.search(address or "")
        if found:
            return Matched(found.group(1).lower(), int(found.group(2))), message
    for name in ("In-Reply-To", "References"):
        for value in _header(message, name):
            found = MSGID_RE.search(value)
            if found:
                return Matched(found.group(2).lower(), int(found.group(1))), message
    return None, message


def text_of(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        content = part.get_content() if part is not None else ""
    except Exception:
        content = ""
    return str(content)[:MAX_BODY]


def is_archive_copy(message: EmailMessage) -> bool:
    return bool(_header(message, "X-Carbet-Inject"))


def record(raw: bytes) -> Reply | None:
    """Store the reply in ``raw`` if it answers a known inject; None otherwise."""
    matched, message = match_reply(raw)
    if matched is None or message is None or is_archive_copy(message):
        return None
    inject = (
        Inject.objects.select_related("exercise")
        .filter(pk=matched.inject_id, exercise__reply_key=matched.reply_key)
        .first()
    )
    if inject is None:
        return None
    exercise: Exercise = inject.exercise
    sender = parseaddr(" ".join(_header(message, "From")))[1].strip().lower()[:254]
    person = exercise.participants.filter(email=sender).first() if sender else None
    message_id = (" ".join(_header(message, "Message-ID")).strip()[:250]) or None
    subject = " ".join(_header(message, "Subject"))[:250]
    try:
        with transaction.atomic():
            reply = Reply.objects.create(
                exercise=exercise,
                inject=inject,
                participant=person,
                source=ReplySource.IMAP,
                from_address=sender,
                subject=subject,
                body=text_of(message),
                message_id=message_id,
            )
            LogEntry.objects.create(
                exercise=exercise,
                kind=LogKind.REPLY,
                inject=inject,
                actor_label=(person.name if person else sender)[:200],
                text=subject or reply.body[:300],
                data={"reply": reply.pk, "source": ReplySource.IMAP},
            )
    except IntegrityError:  # the same mail read twice
        return None
    return reply


@dataclass
class PollResult:
    messages: int = 0
    replies: int = 0
    unknown: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def poll(profile: SendingProfile) -> PollResult:
    result = PollResult()
    now = timezone.now()

    def handle(message: imap.Fetched) -> None:
        result.messages += 1
        if message.raw is None:
            result.skipped += 1
        elif record(message.raw) is not None:
            result.replies += 1
        else:
            result.unknown += 1

    result.errors = imap.poll_unseen(
        imap.Mailbox.of(profile, prefix="imap_"), handle, max_bytes=MAX_REPLY_BYTES
    )
    _store(profile, now, result)
    return result


def _store(profile: SendingProfile, now: datetime, result: PollResult) -> None:
    SendingProfile.objects.filter(pk=profile.pk).update(
        last_polled_at=now, last_error=(result.errors[0] if result.errors else "")[:300]
    )


def poll_all() -> dict[str, Any]:
    """Poll every profile with a mailbox (the periodic ``carbet exercises poll``)."""
    totals: dict[str, Any] = {}
    for profile in SendingProfile.objects.exclude(imap_host=""):
        outcome = poll(profile)
        totals[profile.name] = outcome.as_dict()
        if outcome.replies:
            audit.record(
                SYSTEM, "exercise.mailbox_poll", profile, changes={"replies": outcome.replies}
            )
    return totals


def archived(profile: SendingProfile, message_id: str) -> bool | None:
    """Whether the archive mailbox holds ``message_id`` (None: no mailbox, or unreachable —
    the caller must then not assume either way)."""
    if not profile.imap_host:
        return None
    return imap.holds_message_id(imap.Mailbox.of(profile, prefix="imap_"), message_id)
