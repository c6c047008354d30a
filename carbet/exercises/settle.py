"""The clock's writes: claimed injects marked sent (or failed) and logged, in bulk.

Every function here touches only the rows still ``sending`` under the caller's claim id, and
writes the state change, the rows a channel creates (press item, phone reminder) and the log
rows in **one transaction per group**: a worker dying before the commit leaves the whole group
``sending``, which ``dispatch.recover`` resolves (see the ``dispatch`` docstring). A tick of a
regional exercise (200 structures) thus costs a handful of commits instead of one per inject.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core.tenancy import SYSTEM
from carbet.exercises.choices import Channel, InjectState, LogKind
from carbet.exercises.models import Inject, LogEntry, PhoneReminder, PressItem


@dataclass
class Accepted:
    """A mail inject the SMTP server accepted: its message id, recipients, refused ones."""

    inject: Inject
    message_id: str
    to: list[str]
    refused: list[str]


def log_row(inject: Inject, kind: str, text: str, data: dict | None = None, at=None) -> LogEntry:
    return LogEntry(
        exercise_id=inject.exercise_id,
        kind=kind,
        inject=inject,
        text=text,
        actor_label=str(SYSTEM),
        data=data or {},
        at=at or timezone.now(),
    )


def _still_mine(pks: Iterable[int], claim: str) -> set[int]:
    """The rows of ``pks`` still claimed by ``claim``, locked until the end of the
    transaction (a console action or a recovery cannot change them under us)."""
    return set(
        Inject.objects.select_for_update()
        .filter(pk__in=list(pks), state=InjectState.SENDING, claim_id=claim)
        .values_list("pk", flat=True)
    )


def finish(inject: Inject, claim: str, kind: str, text: str, data: dict, **fields) -> bool:
    """Mark one claimed inject sent (only if still ours) and log it, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        done = Inject.objects.filter(
            pk=inject.pk, state=InjectState.SENDING, claim_id=claim
        ).update(state=InjectState.SENT, sent_at=now, error="", **fields)
        if done:
            log_row(inject, kind, text, data, at=now).save()
    return bool(done)


def fail_many(failures: list[tuple[Inject, str]], claim: str) -> int:
    """Mark claimed injects failed with their reason and log them, in one transaction."""
    if not failures:
        return 0
    with transaction.atomic():
        mine = _still_mine((inject.pk for inject, _reason in failures), claim)
        by_reason: dict[str, list[int]] = {}
        for inject, reason in failures:
            if inject.pk in mine:
                by_reason.setdefault(reason[:300], []).append(inject.pk)
        for reason, pks in by_reason.items():
            Inject.objects.filter(pk__in=pks).update(state=InjectState.FAILED, error=reason)
        LogEntry.objects.bulk_create(
            [log_row(i, LogKind.FAILED, reason) for i, reason in failures if i.pk in mine]
        )
    return len(mine)


def _channel_rows(inject: Inject, now: datetime) -> tuple[PressItem | PhoneReminder | None, str]:
    """The row a non-mail inject creates, and its log text."""
    if inject.channel in (Channel.PRESS, Channel.SOCIAL):
        item: PressItem | PhoneReminder | None = PressItem(
            exercise_id=inject.exercise_id,
            inject=inject,
            channel=inject.channel,
            outlet=inject.outlet or inject.sender_name,
            headline=inject.subject or inject.title,
            body=inject.body,
            published_at=now,
        )
        text = _("Publication simulée en ligne : %(t)s")
    elif inject.channel == Channel.PHONE:
        item = PhoneReminder(
            exercise_id=inject.exercise_id,
            inject=inject,
            callee=inject.sender_name,
            script=inject.script or inject.body,
            due_at=now,
        )
        text = _("Appel à passer maintenant : %(t)s")
    else:
        item, text = None, _("Mis à disposition des joueurs : %(t)s")
    return item, text % {"t": inject.title}


def publish_all(injects: list[Inject], claim: str) -> list[Inject]:
    """Non-mail channels (press, social, phone, document, message): their rows, the state
    change and the log rows of every claimed inject, in one transaction. Rows are created
    idempotently (one per inject, an existing one is kept): redoing a group after a
    recovery never doubles an article or a call. Returns the injects published."""
    if not injects:
        return []
    now = timezone.now()
    with transaction.atomic():
        mine = _still_mine((i.pk for i in injects), claim)
        done = [i for i in injects if i.pk in mine]
        press, calls, logs = [], [], []
        for inject in done:
            item, text = _channel_rows(inject, now)
            if isinstance(item, PressItem):
                press.append(item)
            elif isinstance(item, PhoneReminder):
                calls.append(item)
            kind = LogKind.PHONE if inject.channel == Channel.PHONE else LogKind.PUBLISHED
            logs.append(log_row(inject, kind, text, {"channel": inject.channel}, at=now))
        PressItem.objects.bulk_create(press, ignore_conflicts=True)
        PhoneReminder.objects.bulk_create(calls, ignore_conflicts=True)
        Inject.objects.filter(pk__in=mine).update(state=InjectState.SENT, sent_at=now, error="")
        LogEntry.objects.bulk_create(logs)
    for inject in done:
        inject.sent_at = now
    return done


def settle_mails(accepted: list[Accepted], claim: str) -> list[Accepted]:
    """Mark a group of accepted mail injects ``sent`` and log them, in one transaction; only
    the rows still claimed by ``claim`` are touched. Returns the ones settled."""
    if not accepted:
        return []
    now = timezone.now()
    with transaction.atomic():
        mine = _still_mine((item.inject.pk for item in accepted), claim)
        if not mine:
            return []
        done = [item for item in accepted if item.inject.pk in mine]
        Inject.objects.filter(pk__in=mine).update(
            state=InjectState.SENT,
            sent_at=now,
            error="",
            message_id=Case(
                *[When(pk=item.inject.pk, then=Value(item.message_id)) for item in done],
                output_field=CharField(),
            ),
        )
        LogEntry.objects.bulk_create(
            [
                log_row(
                    item.inject,
                    LogKind.SENT,
                    _("Courriel envoyé à %(n)d participant(s) : %(t)s")
                    % {"n": len(item.to), "t": item.inject.title},
                    {"to": item.to, "refused": item.refused, "message_id": item.message_id},
                    at=now,
                )
                for item in done
            ]
        )
    for item in done:
        item.inject.sent_at = now
    return done
