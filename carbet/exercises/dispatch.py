"""Sending injects on time, without cron: the clock of a running exercise.

One background job (``exercises.clock``, ``job_kinds.py``) runs the clock of one exercise or of
one regional exercise (all its structures' exercises). It sleeps until the next due inject (at
most ``MAX_SLEEP`` so a pause, a trigger or an ad-hoc inject is seen within a second), then:

1. **claims** the due injects of running exercises in one conditional UPDATE
   (``pending`` → ``sending`` with this run's ``claim_id``): a second clock, a restarted one or
   a console action can never claim the same row, so it is never handled twice;
2. checks **at that moment** that the structure's mandate covers exercises
   (``carbet.core.mandates``): without one, the claimed injects fail with the reason and
   nothing leaves;
3. sends each e-mail inject in **one SMTP transaction** to the exercise's registered
   participants it is addressed to (plus, when the profile has a mailbox, a copy to it: the
   archive), with a Message-ID derived from the inject (``message_id_of``), then marks it
   ``sent`` *with the same claim id* and writes the log row in the same transaction; other
   channels (press, social, document, message, phone) only write rows, in one transaction.

The guarantee when a worker dies (SIGKILL, power loss) at any point:

* before the claim commits: the rows are still ``pending``; the next run sends them;
* between the claim and the SMTP transaction, or after a refused/failed one: nothing left;
  the row stays ``sending``; it is resolved below;
* after the server accepted the message and before ``sent`` committed (accepted messages are
  committed in groups of at most ``SETTLE_EVERY``, within ``SETTLE_SECONDS``): the rows stay
  ``sending`` too.

A ``sending`` row older than ``STALE_CLAIM`` (longer than any SMTP exchange can last, so its
worker is dead) is resolved by ``recover``: a non-mail inject is put back to ``pending`` (its
rows are created idempotently: ``get_or_create`` on the inject); a mail inject is looked up by
its Message-ID in the archive mailbox (IMAP, ``replies.archived``). Since the archive is a
recipient of the same SMTP transaction, the server accepted the message for everyone iff the
archive has it: found → ``sent``; not found → ``pending`` (sent again, same Message-ID).
Without an archive mailbox the fate is unknown and the row becomes ``failed`` with "envoi
incertain" for the animator to check and trigger again: a player may have to be told by hand,
but nobody ever receives an inject twice. The reaper of ``carbet/jobs`` restarts the clock
job itself (heartbeats), and the job is idempotent: a new run starts with ``recover``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Case, CharField, Min, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core import mandates
from carbet.core.models import Mandate
from carbet.core.tenancy import SYSTEM
from carbet.engines.exercises import schedule
from carbet.exercises.choices import (
    LIVE_STATUSES,
    Channel,
    ExerciseStatus,
    InjectState,
    LogKind,
)
from carbet.exercises.mailing import (
    Mailer,
    build_message,
    message_id_of,
    recipients_of,
)
from carbet.exercises.models import (
    Exercise,
    Inject,
    LogEntry,
    Participant,
    PhoneReminder,
    PressItem,
)
from carbet.exercises.service import EXERCISE_MANDATE

log = logging.getLogger("carbet.exercises")
MAX_SLEEP = 1.0
# Accepted mails are marked sent in groups of this size, or after this long, at the latest.
SETTLE_EVERY = 25
SETTLE_SECONDS = 0.2
# The exercise's scenario snapshot is big (every inject's text): never loaded by the clock.
HEAVY = ("exercise__scenario", "exercise__variables", "exercise__report_summary")
STALE_CLAIM = timedelta(seconds=90)


@dataclass
class ClockResult:
    sent: int = 0
    published: int = 0
    failed: int = 0
    skipped: int = 0
    recovered: int = 0
    ticks: int = 0
    lateness: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        values = {k: v for k, v in vars(self).items() if k != "lateness"}
        if self.lateness:
            ordered = sorted(self.lateness)
            values["lateness_max"] = round(ordered[-1], 3)
        return values


# --- the clock -----------------------------------------------------------------------------


def _pauses(row) -> list[schedule.Pause]:
    result = []
    for start, end in row.pauses or []:
        result.append(
            schedule.Pause(
                datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None
            )
        )
    return result


def due_time(exercise, offset_seconds: float) -> datetime | None:
    """The wall time of scenario second ``offset_seconds`` (None while paused before it)."""
    return schedule.wall_time(
        exercise.started_at,
        offset_seconds / 60.0,
        compression=exercise.compression,
        pauses=_pauses(exercise),
    )


def _mandated(exercises: list[Exercise], day) -> set[int]:
    """Ids of the exercises whose structure holds, today, a mandate covering exercises (the
    rule of ``carbet.core.mandates.check``, for many structures in one query)."""
    structure_ids = {e.structure_id for e in exercises}
    covered = {
        m.structure_id
        for m in Mandate.objects.visible_to(SYSTEM).filter(structure_id__in=structure_ids)
        if m.covers(EXERCISE_MANDATE) and m.is_valid_on(day)
    }
    return {e.pk for e in exercises if e.structure_id in covered}


def _outcomes(exercise: Exercise) -> dict[str, schedule.InjectOutcome]:
    replied = set(exercise.replies.exclude(inject=None).values_list("inject__ref", flat=True))
    results: dict[str, dict[str, str]] = {}
    for ref, code, outcome in exercise.expectations.exclude(result=None).values_list(
        "inject__ref", "ref", "result__outcome"
    ):
        results.setdefault(ref, {})[code] = outcome
    return {
        inject.ref: schedule.InjectOutcome(
            sent=inject.state == InjectState.SENT,
            skipped=inject.state in (InjectState.SKIPPED, InjectState.FAILED),
            replied=inject.ref in replied,
            expectations=results.get(inject.ref, {}),
        )
        for inject in exercise.injects.all()
    }


@dataclass(frozen=True)
class _Node:
    code: str
    offset_minutes: float
    depends_on: tuple


def _conditions(exercise: Exercise, now: datetime) -> dict[str, schedule.Decision]:
    """The engine's decision for each inject of ``exercise`` (dependencies and conditions)."""
    from carbet.engines.exercises.model import Dependency

    injects = list(exercise.injects.all())
    nodes = [
        _Node(
            i.ref,
            i.offset_seconds / 60.0,
            tuple(Dependency(d["inject"], d["condition"]) for d in i.depends_on or []),
        )
        for i in injects
    ]
    codes = {i.ref: list(i.expectations.values_list("ref", flat=True)) for i in injects}
    decisions = schedule.decide(
        nodes,
        _outcomes(exercise),
        start=exercise.started_at,
        now=now,
        compression=exercise.compression,
        pauses=_pauses(exercise),
        expectation_codes=codes,
    )
    return {d.code: d for d in decisions}


def _filter_conditional(rows: list[Inject], now: datetime, result: ClockResult) -> list[Inject]:
    """Drop the due injects whose conditions are not decided yet; skip the impossible ones."""
    keep, cache = [], {}
    for inject in rows:
        if not inject.depends_on:
            keep.append(inject)
            continue
        if inject.exercise_id not in cache:
            cache[inject.exercise_id] = _conditions(inject.exercise, now)
        decision = cache[inject.exercise_id].get(inject.ref)
        if decision is None or decision.state == schedule.DUE:
            keep.append(inject)
        elif decision.state == schedule.BLOCKED:
            if Inject.objects.filter(pk=inject.pk, state=InjectState.PENDING).update(
                state=InjectState.SKIPPED, error=decision.reason[:300]
            ):
                result.skipped += 1
                _log(inject, LogKind.SKIPPED, _("Inject non joué : %(r)s") % {"r": decision.reason})
    return keep


def _log(inject: Inject, kind: str, text: str, data: dict | None = None) -> None:
    LogEntry.objects.create(
        exercise_id=inject.exercise_id,
        kind=kind,
        inject=inject,
        text=text,
        actor_label=str(SYSTEM),
        data=data or {},
    )


def _refuse_unmandated(rows: list[Inject], allowed: set[int], result: ClockResult) -> list[Inject]:
    refused: dict[int, list[Inject]] = {}
    for inject in rows:
        if inject.exercise_id not in allowed:
            refused.setdefault(inject.exercise_id, []).append(inject)
    for injects in refused.values():
        exercise = injects[0].exercise
        decision = mandates.check(exercise.structure, EXERCISE_MANDATE)
        try:  # audits the refusal (``mandate.refused``) with its reason
            mandates.require_mandate(SYSTEM, exercise.structure, EXERCISE_MANDATE)
        except mandates.MandateRefused:
            pass
        for inject in injects:
            if Inject.objects.filter(pk=inject.pk, state=InjectState.PENDING).update(
                state=InjectState.FAILED, error=decision.reason[:300]
            ):
                result.failed += 1
                _log(inject, LogKind.FAILED, decision.reason)
    return [inject for inject in rows if inject.exercise_id in allowed]


def _claim(ids: list[int], claim: str, now: datetime) -> list[Inject]:
    with transaction.atomic():
        Inject.objects.filter(pk__in=ids, state=InjectState.PENDING).update(
            state=InjectState.SENDING, claim_id=claim, claimed_at=now
        )
    return list(
        Inject.objects.filter(pk__in=ids, state=InjectState.SENDING, claim_id=claim)
        .select_related("exercise", "exercise__profile")
        .defer(*HEAVY)
        .order_by("due_at", "id")
    )


def _finish(inject: Inject, claim: str, kind: str, text: str, data: dict, **fields) -> bool:
    """Mark a claimed inject sent (only if still ours) and log it, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        done = Inject.objects.filter(
            pk=inject.pk, state=InjectState.SENDING, claim_id=claim
        ).update(state=InjectState.SENT, sent_at=now, error="", **fields)
        if done:
            LogEntry.objects.create(
                exercise_id=inject.exercise_id,
                kind=kind,
                inject=inject,
                text=text,
                actor_label=str(SYSTEM),
                data=data,
                at=now,
            )
    return bool(done)


def _fail(inject: Inject, claim: str, reason: str) -> None:
    with transaction.atomic():
        if Inject.objects.filter(pk=inject.pk, state=InjectState.SENDING, claim_id=claim).update(
            state=InjectState.FAILED, error=reason[:300]
        ):
            _log(inject, LogKind.FAILED, reason)


def _publish(inject: Inject, claim: str) -> None:
    """Non-mail channels: rows only, created idempotently with the state change."""
    exercise = inject.exercise
    with transaction.atomic():
        if inject.channel in (Channel.PRESS, Channel.SOCIAL):
            PressItem.objects.get_or_create(
                inject=inject,
                defaults={
                    "exercise": exercise,
                    "channel": inject.channel,
                    "outlet": inject.outlet or inject.sender_name,
                    "headline": inject.subject or inject.title,
                    "body": inject.body,
                },
            )
            kind, text = LogKind.PUBLISHED, _("Publication simulée en ligne : %(t)s")
        elif inject.channel == Channel.PHONE:
            PhoneReminder.objects.get_or_create(
                inject=inject,
                defaults={
                    "exercise": exercise,
                    "callee": inject.sender_name,
                    "script": inject.script or inject.body,
                },
            )
            kind, text = LogKind.PHONE, _("Appel à passer maintenant : %(t)s")
        else:
            kind, text = LogKind.PUBLISHED, _("Mis à disposition des joueurs : %(t)s")
        _finish(inject, claim, kind, text % {"t": inject.title}, {"channel": inject.channel})


def _prepare_mail(inject: Inject, claim: str, people: list[Participant]):
    """(profile, message, envelope, to) of a claimed mail inject, or None after failing it."""
    exercise, profile = inject.exercise, inject.exercise.profile
    if profile is None:
        _fail(inject, claim, _("Aucun profil d'envoi n'est choisi pour cet exercice."))
        return None
    to = sorted({p.email for p in recipients_of(inject, people) if p.email})
    if not to:
        _fail(inject, claim, _("Aucun participant destinataire n'a d'adresse e-mail."))
        return None
    message = build_message(exercise, inject, profile, to)
    envelope = to + ([profile.reply_address] if profile.imap_host else [])
    return profile, message, envelope, to


def _settle(sent: list, claim: str) -> int:
    """Mark a group of accepted mail injects ``sent`` and log them, in one transaction; only
    the rows still claimed by ``claim`` are touched. Returns how many were settled."""
    if not sent:
        return 0
    now = timezone.now()
    by_pk = {item[0].pk: item for item in sent}
    with transaction.atomic():
        mine = list(
            Inject.objects.select_for_update()
            .filter(pk__in=list(by_pk), state=InjectState.SENDING, claim_id=claim)
            .values_list("pk", flat=True)
        )
        if not mine:
            return 0
        Inject.objects.filter(pk__in=mine).update(
            state=InjectState.SENT,
            sent_at=now,
            error="",
            message_id=Case(
                *[When(pk=pk, then=Value(str(by_pk[pk][1]["Message-ID"]))) for pk in mine],
                output_field=CharField(),
            ),
        )
        LogEntry.objects.bulk_create(
            [
                LogEntry(
                    exercise_id=by_pk[pk][0].exercise_id,
                    kind=LogKind.SENT,
                    inject_id=pk,
                    text=_("Courriel envoyé à %(n)d participant(s) : %(t)s")
                    % {"n": len(by_pk[pk][2]), "t": by_pk[pk][0].title},
                    actor_label=str(SYSTEM),
                    data={
                        "to": by_pk[pk][2],
                        "refused": sorted(by_pk[pk][3]),
                        "message_id": str(by_pk[pk][1]["Message-ID"]),
                    },
                    at=now,
                )
                for pk in mine
            ]
        )
    return len(mine)


def _send_mails(
    injects: list[Inject], claim: str, mailer: Mailer, people: dict, result: ClockResult
) -> None:
    """Send the claimed mail injects over ``PARALLEL`` SMTP connections at once; each
    message's state is committed (by this thread) as soon as its server answered."""
    jobs = {}
    for inject in injects:
        prepared = _prepare_mail(inject, claim, people.get(inject.exercise_id, []))
        if prepared is None:
            result.failed += 1
            continue
        profile, message, envelope, to = prepared
        future = mailer.pool().submit(mailer.send, profile, message, envelope)
        jobs[future] = (inject, message, to)
    accepted: list = []
    flushed = time.monotonic()

    def flush() -> None:
        nonlocal flushed
        done = _settle(accepted, claim)
        result.sent += done
        if done:
            at = timezone.now()
            result.lateness += [(at - item[0].due_at).total_seconds() for item in accepted]
        accepted.clear()
        flushed = time.monotonic()

    for future in as_completed(jobs):
        inject, message, to = jobs[future]
        try:
            refused = future.result()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            _fail(inject, claim, f"{type(exc).__name__}: {exc}")
            result.failed += 1
            continue
        accepted.append((inject, message, to, refused))
        # States are committed in small groups: a worker dying in between leaves those rows
        # "sending", resolved by ``recover`` (the archive, or "uncertain"): never resent blind.
        if len(accepted) >= SETTLE_EVERY or time.monotonic() - flushed > SETTLE_SECONDS:
            flush()
    flush()


def _participants(exercise_ids: set[int]) -> dict[int, list[Participant]]:
    found: dict[int, list[Participant]] = {}
    for person in Participant.objects.filter(exercise_id__in=exercise_ids).select_related("cell"):
        found.setdefault(person.exercise_id, []).append(person)
    return found


def tick(exercise_ids: list[int], claim: str, mailer: Mailer, result: ClockResult) -> None:
    """Handle every inject due now in the running exercises ``exercise_ids``."""
    now = timezone.now()
    due = list(
        Inject.objects.filter(
            exercise_id__in=exercise_ids,
            exercise__status=ExerciseStatus.RUNNING,
            state=InjectState.PENDING,
            due_at__lte=now,
        )
        .select_related("exercise", "exercise__structure")
        .defer(*HEAVY)
        .order_by("due_at", "id")
    )
    if not due:
        return
    due = _filter_conditional(due, now, result)
    exercises = list({i.exercise_id: i.exercise for i in due}.values())
    due = _refuse_unmandated(due, _mandated(exercises, timezone.localdate(now)), result)
    claimed = _claim([i.pk for i in due], claim, now)
    people = _participants({i.exercise_id for i in claimed})
    _send_mails([i for i in claimed if i.channel == Channel.EMAIL], claim, mailer, people, result)
    for inject in claimed:
        if inject.channel != Channel.EMAIL:
            _publish(inject, claim)
            result.published += 1
            result.lateness.append((timezone.now() - inject.due_at).total_seconds())


def recover(exercise_ids: list[int], now: datetime | None = None) -> int:
    """Resolve the ``sending`` rows left by a dead worker (see the module docstring)."""
    from carbet.exercises import replies

    now = now or timezone.now()
    stuck = (
        Inject.objects.filter(
            exercise_id__in=exercise_ids,
            state=InjectState.SENDING,
            claimed_at__lt=now - STALE_CLAIM,
        )
        .select_related("exercise", "exercise__profile")
        .defer(*HEAVY)
    )
    resolved = 0
    for inject in stuck:
        exercise, profile = inject.exercise, inject.exercise.profile
        if inject.channel != Channel.EMAIL:
            verdict: bool | None = False  # rows only: redoing them is idempotent
        elif profile is None:
            verdict = False  # nothing could have left without a profile
        else:
            verdict = replies.archived(
                profile, message_id_of(exercise, inject, profile.sender_domain)
            )
        base = Inject.objects.filter(
            pk=inject.pk, state=InjectState.SENDING, claim_id=inject.claim_id
        )
        if verdict is True:
            done = base.update(
                state=InjectState.SENT,
                sent_at=now,
                message_id=message_id_of(exercise, inject, profile.sender_domain),
            )
            if done:
                _log(inject, LogKind.SENT, _("Envoi confirmé par l'archive après une reprise."))
        elif verdict is False:
            done = base.update(state=InjectState.PENDING, claim_id="", claimed_at=None)
        else:
            reason = _(
                "Envoi incertain : le processus d'envoi s'est arrêté pendant l'envoi. Vérifiez "
                "auprès des joueurs avant de relancer cet inject."
            )
            done = base.update(state=InjectState.FAILED, error=reason)
            if done:
                _log(inject, LogKind.FAILED, reason)
        resolved += done
    return resolved


def clock_exercise_ids(params: dict) -> list[int]:
    if params.get("regional"):
        query = Exercise.objects.filter(regional_id=int(params["regional"]))
    else:
        query = Exercise.objects.filter(pk=int(params["exercise"]))
    return list(query.values_list("pk", flat=True))


def run_clock(
    params: dict,
    report: Callable[[int, str], None] | None = None,
    *,
    claim: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    once: bool = False,
) -> dict:
    """The clock loop: until no live exercise of ``params`` has an inject left to send."""
    claim = claim or uuid.uuid4().hex
    ids = clock_exercise_ids(params)
    result = ClockResult(recovered=recover(ids))
    mailer = Mailer()
    last_report = time.monotonic()
    try:
        while True:
            live = dict(
                Exercise.objects.filter(pk__in=ids, status__in=LIVE_STATUSES).values_list(
                    "pk", "status"
                )
            )
            running = [pk for pk, status in live.items() if status == ExerciseStatus.RUNNING]
            if running:
                tick(running, claim, mailer, result)
                result.ticks += 1
            left = Inject.objects.filter(
                exercise_id__in=list(live), state__in=(InjectState.PENDING, InjectState.SENDING)
            )
            if once or not live or not left.exists():
                break
            upcoming = left.filter(
                exercise_id__in=running, state=InjectState.PENDING, due_at__gt=timezone.now()
            ).aggregate(at=Min("due_at"))["at"]
            wait = MAX_SLEEP
            if upcoming is not None:
                wait = min(MAX_SLEEP, max(0.0, (upcoming - timezone.now()).total_seconds()))
            if report is not None and time.monotonic() - last_report > 10:
                report(0, _("%(n)d envoyé(s)") % {"n": result.sent + result.published})
                last_report = time.monotonic()
            if wait > 0:
                sleep(wait)
    finally:
        mailer.close()
    return result.as_dict()
