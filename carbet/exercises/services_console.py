"""The live console: start, pause, resume, trigger, skip, ad-hoc injects, expectations,
observations, and what players send from their space (replies, the hot RETEX).

Every staff action takes an ``Actor`` and checks ``exercises.run`` on the structure (the
regional console: ``exercises.regional``), is audited and written to the exercise log. The
clock job (``dispatch``) does the sending; these functions only move rows and make sure a
clock runs (``ensure_clock``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, DateTimeField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from carbet.audit import services as audit
from carbet.core.access import require
from carbet.core.tenancy import Actor
from carbet.exercises import dispatch
from carbet.exercises.choices import (
    LIVE_STATUSES,
    Channel,
    ExerciseStatus,
    InjectScope,
    InjectState,
    LinkPurpose,
    LogKind,
    Outcome,
    ParticipantRole,
    ReplySource,
)
from carbet.exercises.models import (
    AccessLink,
    Exercise,
    Expectation,
    ExpectationResult,
    Inject,
    Observation,
    PhoneReminder,
    Reply,
    RetexAnswer,
)
from carbet.exercises.service import ExercisePerm
from carbet.exercises.services import ExerciseError, actor_label, log

MAX_TEXT = 20_000
MAX_ADHOC_MINUTES = 7 * 24 * 60


def clock_params(exercise: Exercise) -> dict:
    if exercise.regional_id:
        return {"regional": exercise.regional_id}
    return {"exercise": exercise.pk}


def ensure_clock(exercise: Exercise, actor: Actor | None = None) -> None:
    """Submit the clock job unless one is queued or running for this exercise (a duplicate
    would be harmless — claims are atomic — only wasteful)."""
    from carbet.jobs import services as jobs
    from carbet.jobs.models import Job, JobStatus

    params = clock_params(exercise)
    alive = Job.objects.filter(
        kind="exercises.clock",
        status__in=(JobStatus.QUEUED, JobStatus.RUNNING),
        params=params,
    ).exists()
    if alive:
        return
    job = jobs.submit(
        "exercises.clock",
        actor=actor,
        structure=None if exercise.regional_id else exercise.structure,
        params=params,
        title=_("Horloge de l'exercice « %(t)s »") % {"t": exercise.title},
    )
    target = exercise.regional if exercise.regional_id else exercise
    type(target).objects.filter(pk=target.pk).update(clock_job=str(job.pk))


# Offsets given their wall time by one UPDATE (a CASE on the offset): a regional start of 200
# structures x 250 injects is two statements over the 50,000 rows, not one per offset (250
# statements took 9 s, during which the first injects were already due).
SCHEDULE_CHUNK = 200


def schedule_pending(exercise_ids: list[int], clock) -> None:
    """(Re)compute the wall time of every pending inject of ``exercise_ids`` from its scenario
    offset, with ``clock``'s start, compression and pauses (all those exercises share them:
    one exercise, or the structures of a regional exercise), in one UPDATE per
    ``SCHEDULE_CHUNK`` distinct offsets (``carbet.engines.exercises.schedule.wall_time``)."""
    pending = Inject.objects.filter(exercise_id__in=exercise_ids, state=InjectState.PENDING)
    offsets = sorted(pending.values_list("offset_seconds", flat=True).order_by().distinct())
    for start in range(0, len(offsets), SCHEDULE_CHUNK):
        chunk = offsets[start : start + SCHEDULE_CHUNK]
        pending.filter(offset_seconds__in=chunk).update(
            due_at=Case(
                *[When(offset_seconds=o, then=Value(dispatch.due_time(clock, o))) for o in chunk],
                output_field=DateTimeField(),
            )
        )


def _schedule_injects(exercise: Exercise) -> None:
    schedule_pending([exercise.pk], exercise)


def begin(exercise: Exercise, now: datetime) -> None:
    """Start the clock of ``exercise`` at ``now`` (no permission check: callers check)."""
    exercise.status = ExerciseStatus.RUNNING
    exercise.started_at = now
    exercise.pauses = []
    exercise.save(update_fields=["status", "started_at", "pauses"])
    _schedule_injects(exercise)
    log(exercise, LogKind.CONSOLE, _("Début de l'exercice."), at=now)


def start(actor: Actor, exercise: Exercise, *, ip: str | None = None) -> None:
    require(actor, ExercisePerm.RUN, exercise.structure)
    if exercise.regional_id:
        raise ExerciseError(
            _(
                "Cet exercice fait partie d'un exercice régional : démarrez-le "
                "depuis la console régionale."
            )
        )
    if exercise.status not in (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED):
        raise ExerciseError(_("Cet exercice a déjà commencé ou est clos."))
    with transaction.atomic():
        locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
        if locked.status not in (ExerciseStatus.DRAFT, ExerciseStatus.SCHEDULED):
            raise ExerciseError(_("Cet exercice a déjà commencé ou est clos."))
        begin(exercise, timezone.now())
        ensure_clock(exercise, actor)
    audit.record(actor, "exercise.start", exercise, ip=ip)


def suspend(exercise: Exercise, now: datetime, label: str) -> None:
    exercise.status = ExerciseStatus.PAUSED
    exercise.paused_at = now
    exercise.pauses = [*exercise.pauses, [now.isoformat(), None]]
    exercise.save(update_fields=["status", "paused_at", "pauses"])
    log(exercise, LogKind.CONSOLE, _("Pause : plus aucun envoi."), actor=label, at=now)


def unsuspend(exercise: Exercise, now: datetime, label: str) -> None:
    pauses = [list(p) for p in exercise.pauses]
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = now.isoformat()
    exercise.pauses = pauses
    exercise.status = ExerciseStatus.RUNNING
    paused_for = now - (exercise.paused_at or now)
    exercise.paused_at = None
    exercise.save(update_fields=["status", "paused_at", "pauses"])
    _schedule_injects(exercise)
    log(
        exercise,
        LogKind.CONSOLE,
        _("Reprise : les injects suivants sont décalés de %(s)d secondes.")
        % {"s": int(paused_for.total_seconds())},
        actor=label,
        at=now,
    )


def pause(actor: Actor, exercise: Exercise, *, ip: str | None = None) -> None:
    require(actor, ExercisePerm.RUN, exercise.structure)
    with transaction.atomic():
        locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
        if locked.status != ExerciseStatus.RUNNING:
            raise ExerciseError(_("Seul un exercice en cours peut être mis en pause."))
        suspend(locked, timezone.now(), actor_label(actor))
    exercise.refresh_from_db()
    audit.record(actor, "exercise.pause", exercise, ip=ip)


def resume(actor: Actor, exercise: Exercise, *, ip: str | None = None) -> None:
    require(actor, ExercisePerm.RUN, exercise.structure)
    with transaction.atomic():
        locked = Exercise.objects.select_for_update().get(pk=exercise.pk)
        if locked.status != ExerciseStatus.PAUSED:
            raise ExerciseError(_("Cet exercice n'est pas en pause."))
        unsuspend(locked, timezone.now(), actor_label(actor))
        ensure_clock(locked, actor)
    exercise.refresh_from_db()
    audit.record(actor, "exercise.resume", exercise, ip=ip)


def _scenario_seconds(exercise: Exercise, now: datetime) -> int:
    from carbet.engines.exercises import schedule

    if exercise.started_at is None:
        return 0
    minutes = schedule.scenario_minutes(
        exercise.started_at,
        now,
        compression=exercise.compression,
        pauses=dispatch._pauses(exercise),
    )
    return int(minutes * 60)


def trigger_now(actor: Actor, inject: Inject, *, ip: str | None = None) -> None:
    """Make a pending inject due now; the clock sends it within a second."""
    exercise = inject.exercise
    require(actor, ExercisePerm.RUN, exercise.structure)
    if exercise.status != ExerciseStatus.RUNNING:
        raise ExerciseError(_("L'exercice doit être en cours pour envoyer un inject."))
    now = timezone.now()
    moved = Inject.objects.filter(pk=inject.pk, state=InjectState.PENDING).update(
        offset_seconds=_scenario_seconds(exercise, now), due_at=now, depends_on=[]
    )
    if not moved:
        raise ExerciseError(_("Cet inject a déjà été envoyé ou sauté."))
    log(
        exercise,
        LogKind.CONSOLE,
        _("Envoi immédiat demandé : %(t)s") % {"t": inject.title},
        actor=actor_label(actor),
        inject=inject,
    )
    ensure_clock(exercise, actor)
    audit.record(actor, "exercise.trigger", inject, structure=exercise.structure, ip=ip)


def skip(actor: Actor, inject: Inject, reason: str = "", *, ip: str | None = None) -> None:
    exercise = inject.exercise
    require(actor, ExercisePerm.RUN, exercise.structure)
    skipped = Inject.objects.filter(pk=inject.pk, state=InjectState.PENDING).update(
        state=InjectState.SKIPPED, error=reason[:300]
    )
    if not skipped:
        raise ExerciseError(_("Cet inject a déjà été envoyé ou sauté."))
    log(
        exercise,
        LogKind.SKIPPED,
        _("Inject sauté : %(t)s") % {"t": inject.title},
        actor=actor_label(actor),
        inject=inject,
        data={"reason": reason[:300]},
    )
    audit.record(
        actor,
        "exercise.skip",
        inject,
        structure=exercise.structure,
        changes={"reason": reason[:300]},
        ip=ip,
    )


def add_adhoc(
    actor: Actor,
    exercise: Exercise,
    *,
    title: str,
    channel: str,
    body: str = "",
    subject: str = "",
    audience: dict[str, Any] | None = None,
    sender_name: str = "",
    in_minutes: int = 0,
    outlet: str = "",
    script: str = "",
    scope: str = InjectScope.LOCAL,
    ip: str | None = None,
) -> Inject:
    """An inject written during the exercise, due ``in_minutes`` scenario minutes from now."""
    require(actor, ExercisePerm.RUN, exercise.structure)
    if exercise.status in (ExerciseStatus.FINISHED, ExerciseStatus.CANCELLED):
        raise ExerciseError(_("L'exercice est clos."))
    if channel not in Channel.values:
        raise ExerciseError(_("Canal inconnu : %(c)s") % {"c": channel})
    if not title.strip():
        raise ExerciseError(_("Donnez un titre à l'inject."))
    minutes = max(0, min(int(in_minutes), MAX_ADHOC_MINUTES))
    now = timezone.now()
    offset = _scenario_seconds(exercise, now) + minutes * 60
    count = exercise.injects.filter(adhoc=True).count() + 1
    inject = Inject.objects.create(
        exercise=exercise,
        ref=f"AH{count}",
        title=title.strip()[:200],
        channel=channel,
        scope=scope,
        offset_seconds=offset,
        sender_name=sender_name.strip()[:150],
        audience=audience or {"to": ["all"]},
        subject=subject.strip()[:250],
        body=body[:MAX_TEXT],
        outlet=outlet.strip()[:150],
        script=script[:MAX_TEXT],
        adhoc=True,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    if exercise.started_at is not None:
        inject.due_at = dispatch.due_time(exercise, offset)
        inject.save(update_fields=["due_at"])
    log(
        exercise,
        LogKind.CONSOLE,
        _("Inject ajouté en direct : %(t)s") % {"t": inject.title},
        actor=actor_label(actor),
        inject=inject,
    )
    if exercise.status in LIVE_STATUSES:
        ensure_clock(exercise, actor)
    audit.record(
        actor,
        "exercise.adhoc",
        inject,
        structure=exercise.structure,
        changes={"channel": channel, "in_minutes": minutes},
        ip=ip,
    )
    return inject


def validate_expectation(
    actor: Actor,
    expectation: Expectation,
    outcome: str,
    comment: str = "",
    *,
    ip: str | None = None,
) -> ExpectationResult:
    exercise = expectation.exercise
    require(actor, ExercisePerm.RUN, exercise.structure)
    if outcome not in Outcome.values:
        raise ExerciseError(_("Résultat inconnu : %(o)s") % {"o": outcome})
    result, _created = ExpectationResult.objects.update_or_create(
        expectation=expectation,
        defaults={
            "outcome": outcome,
            "comment": comment[:MAX_TEXT],
            "by": actor if getattr(actor, "pk", None) else None,
            "by_label": actor_label(actor),
            "at": timezone.now(),
        },
    )
    log(
        exercise,
        LogKind.EXPECTATION,
        f"{expectation.ref} : {Outcome(outcome).label}",
        actor=actor_label(actor),
        inject=expectation.inject,
        data={"outcome": outcome, "comment": comment[:500]},
    )
    audit.record(
        actor,
        "exercise.expectation",
        expectation,
        structure=exercise.structure,
        changes={"outcome": outcome},
        ip=ip,
    )
    return result


def _check_rating(rating: int) -> int:
    try:
        value = int(rating)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 4:
        raise ExerciseError(_("La note va de 1 à 4."))
    return value


def record_observation(
    who: Actor | AccessLink,
    exercise: Exercise,
    *,
    criterion: str,
    rating: int,
    note: str = "",
    ip: str | None = None,
) -> Observation:
    """A line of the observation grid: by a staff member (``exercises.run``) or by an
    observer through their signed link (``AccessLink`` of a participant with that role)."""
    if isinstance(who, AccessLink):
        person = who.participant
        if (
            who.exercise_id != exercise.pk
            or person is None
            or who.purpose != LinkPurpose.SPACE
            or person.role not in (ParticipantRole.OBSERVER, ParticipantRole.ANIMATOR)
        ):
            raise ExerciseError(_("Ce lien ne permet pas d'observer cet exercice."))
        label, user = person.name, None
    else:
        require(who, ExercisePerm.RUN, exercise.structure)
        person, label = None, actor_label(who)
        user = who if getattr(who, "pk", None) else None
    if not criterion.strip():
        raise ExerciseError(_("Choisissez le critère observé."))
    observation = Observation.objects.create(
        exercise=exercise,
        observer=person,
        user=user,
        criterion=criterion.strip()[:200],
        rating=_check_rating(rating),
        note=note[:MAX_TEXT],
    )
    log(
        exercise,
        LogKind.OBSERVATION,
        f"{observation.criterion} : {observation.rating}/4",
        actor=label,
        data={"note": note[:500]},
    )
    if not isinstance(who, AccessLink):
        audit.record(who, "exercise.observation", observation, structure=exercise.structure, ip=ip)
    return observation


def submit_reply(
    link: AccessLink, *, body: str, inject: Inject | None = None, subject: str = ""
) -> Reply:
    """A player's answer from their space (the link was opened by ``tokens.open_link``)."""
    exercise = link.exercise
    if link.purpose != LinkPurpose.SPACE or link.participant is None:
        raise ExerciseError(_("Ce lien ne permet pas de répondre."))
    if exercise.status not in LIVE_STATUSES:
        raise ExerciseError(_("L'exercice n'est pas en cours : les réponses sont closes."))
    if inject is not None and (
        inject.exercise_id != exercise.pk or inject.state != InjectState.SENT
    ):
        raise ExerciseError(_("Cet inject n'a pas été reçu dans cet exercice."))
    if not body.strip():
        raise ExerciseError(_("Écrivez votre réponse."))
    reply = Reply.objects.create(
        exercise=exercise,
        inject=inject,
        participant=link.participant,
        source=ReplySource.FORM,
        subject=subject.strip()[:250],
        body=body[:MAX_TEXT],
    )
    log(
        exercise,
        LogKind.REPLY,
        (subject or body)[:300],
        actor=link.participant.name,
        inject=inject,
        data={"reply": reply.pk, "source": ReplySource.FORM},
    )
    return reply


def submit_retex(link: AccessLink, answers: dict[str, Any], role: str = "") -> RetexAnswer:
    """The anonymous hot RETEX: one answer per link, kept without any link to the person."""
    if link.purpose != LinkPurpose.RETEX:
        raise ExerciseError(_("Ce lien n'ouvre pas le questionnaire."))
    clean = {str(k)[:60]: str(v)[:4000] for k, v in list(answers.items())[:50]}
    with transaction.atomic():
        if not AccessLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        ):
            raise ExerciseError(_("Ce questionnaire a déjà été rempli avec ce lien."))
        return RetexAnswer.objects.create(
            exercise=link.exercise,
            role=role if role in ParticipantRole.values else "",
            answers=clean,
        )


def mark_call_done(actor: Actor, reminder: PhoneReminder, *, ip: str | None = None) -> None:
    exercise = reminder.exercise
    require(actor, ExercisePerm.RUN, exercise.structure)
    if PhoneReminder.objects.filter(pk=reminder.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor if getattr(actor, "pk", None) else None
    ):
        log(
            exercise,
            LogKind.CONSOLE,
            _("Appel passé : %(c)s") % {"c": reminder.callee},
            actor=actor_label(actor),
            inject=reminder.inject,
        )


def close(exercise: Exercise, now: datetime, label: str) -> None:
    """Finish ``exercise`` (no check): injects not sent are skipped, the roadmap is told."""
    from carbet.exercises import services_after

    pauses = [list(p) for p in exercise.pauses]
    if pauses and pauses[-1][1] is None:
        pauses[-1][1] = now.isoformat()
    Exercise.objects.filter(pk=exercise.pk).update(
        status=ExerciseStatus.FINISHED, finished_at=now, pauses=pauses, paused_at=None
    )
    exercise.status, exercise.finished_at, exercise.pauses = ExerciseStatus.FINISHED, now, pauses
    exercise.injects.filter(state=InjectState.PENDING).update(
        state=InjectState.SKIPPED, error=_("Exercice terminé avant l'envoi.")
    )
    log(exercise, LogKind.CONSOLE, _("Fin de l'exercice."), actor=label, at=now)
    services_after.record_held(exercise)


def finish(actor: Actor, exercise: Exercise, *, ip: str | None = None) -> None:
    require(actor, ExercisePerm.RUN, exercise.structure)
    if exercise.status not in LIVE_STATUSES:
        raise ExerciseError(_("Seul un exercice en cours ou en pause peut être terminé."))
    close(exercise, timezone.now(), actor_label(actor))
    audit.record(actor, "exercise.finish", exercise, ip=ip)


def elapsed(exercise: Exercise, now: datetime | None = None) -> timedelta:
    """Scenario time elapsed (for the console's clock)."""
    return timedelta(seconds=_scenario_seconds(exercise, now or timezone.now()))
