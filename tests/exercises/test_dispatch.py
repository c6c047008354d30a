"""The clock: injects reach a real SMTP server (aiosmtpd) at their time on a compressed clock,
pauses shift them, a paused exercise or a structure without a mandate sends nothing, a claim
is atomic and a dead worker's rows are resolved without sending anything twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM
from carbet.exercises import dispatch, services_console
from carbet.exercises.choices import InjectState, LogKind
from carbet.exercises.models import Inject, LogEntry, PhoneReminder, PressItem, Reply
from tests.exercises.conftest import prepared

pytestmark = pytest.mark.django_db


def _run(exercise, **kwargs) -> dict:
    return dispatch.run_clock({"exercise": exercise.pk}, **kwargs)


def test_every_inject_reaches_its_people_at_its_time_once(exercise, smtp):
    # 3600x: the 90-minute chronogram lasts 1.5 seconds.
    services_console.start(SYSTEM, exercise)
    result = _run(exercise)
    assert result["sent"] == 2 and result["published"] == 2 and result["failed"] == 0
    injects = {i.ref: i for i in exercise.injects.all()}
    assert all(i.state == InjectState.SENT for i in injects.values())
    by_subject = {str(r.message["Subject"]): r for r in smtp.messages}
    assert set(by_subject) == {
        "[EXERCICE] Écrans noirs sur Hopital Manager",
        "[EXERCICE] Point de situation ?",
    }
    first = by_subject["[EXERCICE] Écrans noirs sur Hopital Manager"]
    # "all": the players and the director of the exercise, never the observers or animators.
    assert sorted(first.envelope_to) == [
        "com@alpha.test",
        "crise@alpha.test",
        "directrice@alpha.test",
    ]
    assert by_subject["[EXERCICE] Point de situation ?"].envelope_to == ["com@alpha.test"]
    # The simulated sender writes from the centre's exercise domain, replies come back tagged.
    assert first.message["From"].addresses[0].domain == "exercice.lab.test"
    assert first.message["From"].addresses[0].display_name == "DSI"
    assert f"+{exercise.reply_key}-{injects['I1'].pk}@" in str(first.message["Reply-To"])
    assert first.message["Message-ID"] == injects["I1"].message_id
    assert "Hopital Manager ne répond plus" in first.message.get_content()
    # Never early: each message arrived after its due time.
    for ref in ("I1", "I4"):
        received = by_subject[f"[EXERCICE] {injects[ref].subject}"]
        assert received.at >= injects[ref].due_at.timestamp() - 0.001
    assert injects["I4"].due_at - injects["I1"].due_at == dt.timedelta(seconds=1.5)
    # Press published, phone reminder for the animators, everything in the log.
    assert PressItem.objects.get(inject=injects["I2"]).headline.startswith("Panne au")
    assert PhoneReminder.objects.get(inject=injects["I3"]).script == "Demander la situation."
    kinds = list(LogEntry.objects.filter(exercise=exercise).values_list("kind", flat=True))
    assert kinds.count(LogKind.SENT) == 2 and LogKind.PHONE in kinds
    # A second clock (a restart) finds nothing to do and sends nothing.
    assert _run(exercise)["sent"] == 0
    assert len(smtp.messages) == 2


def test_a_paused_exercise_sends_nothing_and_resume_shifts_later_injects(exercise, smtp):
    exercise.compression = 60.0  # I2 at 30 s, I4 at 90 s of wall time
    exercise.save()
    services_console.start(SYSTEM, exercise)
    _run(exercise, once=True)
    assert smtp.subjects() == ["[EXERCICE] Écrans noirs sur Hopital Manager"]
    before = {i.ref: i.due_at for i in exercise.injects.all()}
    services_console.pause(SYSTEM, exercise)
    Inject.objects.filter(exercise=exercise, ref="I2").update(due_at=timezone.now())
    assert _run(exercise, once=True)["published"] == 0
    assert len(smtp.messages) == 1
    paused_at = exercise.paused_at
    services_console.resume(SYSTEM, exercise)
    exercise.refresh_from_db()
    shift = dt.datetime.fromisoformat(exercise.pauses[0][1]) - paused_at
    after = {i.ref: i.due_at for i in exercise.injects.all()}
    assert after["I1"] == before["I1"]  # already sent: history does not move
    for ref in ("I3", "I4"):
        assert after[ref] - before[ref] == shift
    assert after["I2"] - before["I2"] == shift  # recomputed from the scenario offset


def test_without_a_mandate_nothing_is_sent(region, version, profile, smtp):
    exercise = prepared(region.b, version, profile, mandate=False)
    services_console.start(SYSTEM, exercise)
    result = _run(exercise, once=True)
    assert smtp.messages == [] and result["sent"] == 0
    first = exercise.injects.get(ref="I1")
    assert first.state == InjectState.FAILED and "mandat" in first.error.lower()
    assert AuditEntry.objects.filter(action="mandate.refused", structure_id=region.b.pk).exists()


def test_a_revoked_mandate_stops_the_next_injects(exercise, smtp):
    services_console.start(SYSTEM, exercise)
    _run(exercise, once=True)
    assert len(smtp.messages) == 1
    from carbet.core.models import Mandate

    Mandate.objects.filter(structure=exercise.structure).update(status="revoked")
    Inject.objects.filter(exercise=exercise).update(due_at=timezone.now())
    _run(exercise, once=True)
    assert len(smtp.messages) == 1
    # I2 and I3 refused at once; I4 (its condition still open) is never sent either.
    assert exercise.injects.filter(state=InjectState.FAILED).count() == 2
    assert exercise.injects.get(ref="I4").state in (InjectState.PENDING, InjectState.FAILED)


def test_recipients_are_only_registered_participants(exercise, smtp):
    services_console.start(SYSTEM, exercise)
    services_console.add_adhoc(
        SYSTEM, exercise, title="Au directeur", channel="email", subject="Pour vous",
        audience={"to": ["directeur", "stranger@evil.test", "inconnue"]},
    )  # fmt: skip
    _run(exercise, once=True)
    adhoc = [r for r in smtp.messages if r.message["Subject"] == "[EXERCICE] Pour vous"]
    assert len(adhoc) == 1 and adhoc[0].envelope_to == ["directrice@alpha.test"]


def test_a_claim_is_taken_once(exercise):
    services_console.start(SYSTEM, exercise)
    ids = list(exercise.injects.values_list("pk", flat=True))
    now = timezone.now()
    first = dispatch._claim(ids, "worker-1", now)
    second = dispatch._claim(ids, "worker-2", now)
    assert len(first) == 4 and second == []
    # Only the claimant may settle its rows.
    assert not dispatch._finish(first[0], "worker-2", LogKind.SENT, "x", {})
    assert dispatch._finish(first[0], "worker-1", LogKind.SENT, "x", {})


def test_a_dead_workers_rows_are_resolved_without_sending_twice(exercise, smtp):
    services_console.start(SYSTEM, exercise)
    ids = list(exercise.injects.order_by("offset_seconds").values_list("pk", flat=True))
    old = timezone.now() - dispatch.STALE_CLAIM - dt.timedelta(seconds=5)
    dispatch._claim(ids, "dead-worker", old)
    # Too recent a claim is left alone (its worker may still be sending).
    assert dispatch.recover([exercise.pk], now=old + dt.timedelta(seconds=10)) == 0
    assert dispatch.recover([exercise.pk]) == 4
    states = dict(exercise.injects.values_list("ref", "state"))
    # Rows only (press, phone): redone safely; mails without an archive mailbox: uncertain,
    # left for the animator, never sent again behind anyone's back.
    assert states == {"I1": "failed", "I2": "pending", "I3": "pending", "I4": "failed"}
    assert "incertain" in exercise.injects.get(ref="I1").error
    _run(exercise)
    assert smtp.messages == []
    assert PressItem.objects.filter(exercise=exercise).count() == 1


def test_conditions_skip_an_inject_that_can_no_longer_apply(exercise, smtp):
    services_console.start(SYSTEM, exercise)
    _run(exercise, once=True)
    first = exercise.injects.get(ref="I1")
    Reply.objects.create(exercise=exercise, inject=first, source="form", body="Cellule activée")
    Inject.objects.filter(exercise=exercise).update(due_at=timezone.now())
    _run(exercise)
    i4 = exercise.injects.get(ref="I4")
    assert i4.state == InjectState.SKIPPED and "réponse" in i4.error
    assert smtp.subjects() == ["[EXERCICE] Écrans noirs sur Hopital Manager"]


def test_trigger_now_skip_and_finish(exercise, smtp):
    exercise.compression = 1.0
    exercise.save()
    services_console.start(SYSTEM, exercise)
    i4 = exercise.injects.get(ref="I4")
    services_console.trigger_now(SYSTEM, i4)
    i3 = exercise.injects.get(ref="I3")
    services_console.skip(SYSTEM, i3, "Le SAMU ne joue pas")
    _run(exercise, once=True)
    assert sorted(smtp.subjects()) == [
        "[EXERCICE] Point de situation ?",
        "[EXERCICE] Écrans noirs sur Hopital Manager",
    ]
    with pytest.raises(services_console.ExerciseError):
        services_console.skip(SYSTEM, exercise.injects.get(ref="I3"))
    services_console.finish(SYSTEM, exercise)
    assert exercise.injects.get(ref="I2").state == InjectState.SKIPPED
    assert _run(exercise)["sent"] == 0
