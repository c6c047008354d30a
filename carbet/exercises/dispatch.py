"""Sending injects on time, without cron: the clock of a running exercise.

One background job (``exercises.clock``, ``job_kinds.py``) runs the clock of one exercise or of
one regional exercise (all its structures' exercises). It sleeps until the next due inject (at
most ``MAX_SLEEP`` so a pause, a trigger or an ad-hoc inject is seen within a second), then:

1. **claims** the due injects of running exercises in one conditional UPDATE
   (``pending`` → ``sending`` with this run's ``claim_id``): a second clock, a restarted one or
   a console action can never claim the same row, so it is never handled twice;
2. checks **at that moment** that each structure's mandate covers exercises (the rule of
   ``carbet.core.mandates``, one query for every structure of the pass): without one, the
   structure's due injects fail with the reason and nothing leaves;
3. builds each e-mail inject's message and hands it to the sending threads: a few persistent
   SMTP connections (``mailing.Mailer``), several messages each, **one SMTP transaction per
   inject** to the exercise's registered participants it is addressed to (plus, when the
   profile has a mailbox, a copy to it: the archive), with a Message-ID derived from the
   inject (``message_id_of``);
4. meanwhile writes the other channels (press, social, document, message, phone) of the whole
   pass in **one transaction** (their rows, ``sent``, the log rows: ``settle.publish_all``);
5. marks the accepted mails ``sent`` *with the same claim id*, with their log rows, in groups
   (``settle.settle_mails``: one transaction per ``SETTLE_EVERY`` mails or ``SETTLE_SECONDS``).

A pass thus costs a few statements and commits whatever the number of structures: a regional
exercise of 200 structures has 200 injects due at the same second.

The guarantee when a worker dies (SIGKILL, power loss) at any point:

* before the claim commits: the rows are still ``pending``; the next run sends them;
* between the claim and the SMTP transaction, or after a refused/failed one: nothing left;
  the row stays ``sending``; it is resolved below;
* after the server accepted the message and before ``sent`` committed (accepted messages are
  committed in groups of at most ``SETTLE_EVERY``, within ``SETTLE_SECONDS``): the rows stay
  ``sending`` too;
* for the other channels, before their one transaction commits: the whole group stays
  ``sending`` and none of its rows (article, call, log) exists.

A ``sending`` row older than ``STALE_CLAIM`` (longer than any SMTP exchange can last, so its
worker is dead) is resolved by ``recover``: a non-mail inject is put back to ``pending`` (its
rows are created idempotently: at most one per inject, an existing one is kept); a mail inject
is looked up by its Message-ID in the archive mailbox (IMAP, ``replies.archived``). Since the
archive is a recipient of the same SMTP transaction, the server accepted the message for
everyone iff the archive has it: found → ``sent``; not found → ``pending`` (sent again, same
Message-ID). Without an archive mailbox the fate is unknown and the row becomes ``failed`` with
"envoi incertain" for the animator to check and trigger again: a player may have to be told by
hand, but nobody ever receives an inject twice. The reaper of ``carbet/jobs`` restarts the clock
job itself (heartbeats), and the job is idempotent: a new run starts with ``recover``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.core import mandates
from carbet.core.models import Mandate
from carbet.core.tenancy import SYSTEM
from carbet.engines.exercises import schedule
from carbet.exercises import settle
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
from carbet.exercises.models import Exercise, Expectation, Inject, Participant
from carbet.exercises.service import EXERCISE_MANDATE

log = logging.getLogger("carbet.exercises")
MAX_SLEEP = 1.0
# Accepted mails are marked sent in groups of this size, or after this long, at the latest.
SETTLE_EVERY = 25
SETTLE_SECONDS = 0.2
# The exercise's scenario snapshot is big (every inject's text): never loaded by the clock.
HEAVY = ("exercise__scenario", "exercise__variables", "exercise__report_summary")
STALE_CLAIM = timedelta(seconds=90)
# At most this many injects are claimed by one pass (the earliest due first): a pass, even
# after a long pause of a big regional exercise, lasts seconds, far below ``STALE_CLAIM``.
PASS_LIMIT = 1000


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


def _outcomes(exercise: Exercise, injects: list[Inject]) -> dict[str, schedule.InjectOutcome]:
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
        for inject in injects
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
    codes: dict[str, list[str]] = {i.ref: [] for i in injects}
    for ref, code in Expectation.objects.filter(inject__exercise=exercise).values_list(
        "inject__ref", "ref"
    ):  # one query for the exercise, not one per inject
        codes.setdefault(ref, []).append(code)
    decisions = schedule.decide(
        nodes,
        _outcomes(exercise, injects),
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
    settle.log_row(inject, kind, text, data).save()


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


# Kept under this name: the claim test settles a row by hand.
_finish = settle.finish


def _prepare_mail(inject: Inject, people: list[Participant]):
    """(profile, message, envelope, to) of a claimed mail inject, or the reason it cannot
    leave (a string)."""
    exercise, profile = inject.exercise, inject.exercise.profile
    if profile is None:
        return _("Aucun profil d'envoi n'est choisi pour cet exercice.")
    to = sorted({p.email for p in recipients_of(inject, people) if p.email})
    if not to:
        return _("Aucun participant destinataire n'a d'adresse e-mail.")
    message = build_message(exercise, inject, profile, to)
    envelope = to + ([profile.reply_address] if profile.imap_host else [])
    return profile, message, envelope, to


def _submit_mails(
    injects: list[Inject], claim: str, mailer: Mailer, people: dict, result: ClockResult
) -> dict[Future, tuple[Inject, Message, list[str]]]:
    """Build the claimed mail injects' messages and hand them to the sending threads
    (``Mailer.parallel`` persistent SMTP connections, several messages each); the ones that
    cannot leave are failed at once, together."""
    jobs: dict[Future, tuple[Inject, Message, list[str]]] = {}
    unsendable: list[tuple[Inject, str]] = []
    for inject in injects:
        prepared = _prepare_mail(inject, people.get(inject.exercise_id, []))
        if isinstance(prepared, str):
            unsendable.append((inject, prepared))
            continue
        profile, message, envelope, to = prepared
        future = mailer.pool().submit(mailer.send, profile, message, envelope)
        jobs[future] = (inject, message, to)
    result.failed += settle.fail_many(unsendable, claim)
    return jobs


def _collect_mails(
    jobs: dict[Future, tuple[Inject, Message, list[str]]], claim: str, result: ClockResult
) -> None:
    """Settle the mails as their server answers: accepted ones marked sent in groups of at
    most ``SETTLE_EVERY`` or every ``SETTLE_SECONDS``, refused ones failed with them."""
    accepted: list[settle.Accepted] = []
    failures: list[tuple[Inject, str]] = []
    flushed = time.monotonic()

    def flush() -> None:
        nonlocal flushed
        done = settle.settle_mails(accepted, claim)
        result.sent += len(done)
        result.lateness += [(i.inject.sent_at - i.inject.due_at).total_seconds() for i in done]
        result.failed += settle.fail_many(failures, claim)
        accepted.clear()
        failures.clear()
        flushed = time.monotonic()

    for future in as_completed(jobs):
        inject, message, to = jobs[future]
        try:
            refused = future.result()
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            failures.append((inject, f"{type(exc).__name__}: {exc}"))
        else:
            accepted.append(
                settle.Accepted(inject, str(message["Message-ID"]), to, sorted(refused))
            )
        # States are committed in small groups: a worker dying in between leaves those rows
        # "sending", resolved by ``recover`` (the archive, or "uncertain"): never resent blind.
        if len(accepted) + len(failures) >= SETTLE_EVERY or (
            time.monotonic() - flushed > SETTLE_SECONDS
        ):
            flush()
    flush()


def _participants(exercise_ids: set[int]) -> dict[int, list[Participant]]:
    found: dict[int, list[Participant]] = {}
    for person in Participant.objects.filter(exercise_id__in=exercise_ids).select_related("cell"):
        found.setdefault(person.exercise_id, []).append(person)
    return found


def tick(exercise_ids: list[int], claim: str, mailer: Mailer, result: ClockResult) -> int:
    """Handle every inject due now in the running exercises ``exercise_ids``: one claim for
    all of them, mandates checked once per structure, mails sent over the connection pool
    while the other channels are written in one transaction, states settled in groups.
    Returns how many due injects it found (``PASS_LIMIT`` at most)."""
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
        .order_by("due_at", "id")[:PASS_LIMIT]
    )
    found = len(due)
    if not due:
        return 0
    due = _filter_conditional(due, now, result)
    exercises = list({i.exercise_id: i.exercise for i in due}.values())
    due = _refuse_unmandated(due, _mandated(exercises, timezone.localdate(now)), result)
    if not due:
        return found
    claimed = _claim([i.pk for i in due], claim, now)
    mails = [i for i in claimed if i.channel == Channel.EMAIL]
    people = _participants({i.exercise_id for i in mails}) if mails else {}
    jobs = _submit_mails(mails, claim, mailer, people, result)
    # Written while the mails are on the wire (the sending threads do no database work).
    published = settle.publish_all([i for i in claimed if i.channel != Channel.EMAIL], claim)
    result.published += len(published)
    result.lateness += [(i.sent_at - i.due_at).total_seconds() for i in published]
    _collect_mails(jobs, claim, result)
    return found


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
            backlog = False
            if running:
                backlog = tick(running, claim, mailer, result) >= PASS_LIMIT
                result.ticks += 1
            left = Inject.objects.filter(
                exercise_id__in=list(live), state__in=(InjectState.PENDING, InjectState.SENDING)
            )
            if once or not live or not left.exists():
                break
            upcoming = left.filter(
                exercise_id__in=running, state=InjectState.PENDING, due_at__gt=timezone.now()
            ).aggregate(at=Min("due_at"))["at"]
            wait = 0.0 if backlog else MAX_SLEEP
            if upcoming is not None and not backlog:
                wait = min(MAX_SLEEP, max(0.0, (upcoming - timezone.now()).total_seconds()))
            if report is not None and time.monotonic() - last_report > 10:
                report(0, _("%(n)d envoyé(s)") % {"n": result.sent + result.published})
                last_report = time.monotonic()
            if wait > 0:
                sleep(wait)
    finally:
        mailer.close()
    return result.as_dict()
