"""The crisis engine's phases and regulatory clock, against explicit times."""

from __future__ import annotations

import datetime as dt

import pytest

from carbet.engines.crisis import clock, phases

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def test_changes_forward_back_and_closed():
    phases.check_change("alert", "containment", "rançongiciel confirmé")  # skipping is fine
    phases.check_change("rebuild", "containment", "l'attaquant est revenu")  # back is fine
    for current, target, reason, code in [
        ("alert", "alert", "x", "same"),
        ("closed", "lessons", "x", "closed"),
        ("containment", "alert", "x", "back_to_alert"),
        ("alert", "qualification", "   ", "reason"),
        ("alert", "nowhere", "x", "unknown"),
    ]:
        with pytest.raises(phases.PhaseError) as exc:
            phases.check_change(current, target, reason)
        assert exc.value.code == code


def test_durations_add_up_revisited_phases_and_stop_at_closure():
    changes = [
        phases.Change(T0 + 2 * H, "containment"),
        phases.Change(T0 + 10 * H, "remediation"),
        phases.Change(T0 + 12 * H, "containment"),
        phases.Change(T0 + 15 * H, "closed"),
    ]
    spent = phases.durations(T0, changes, T0 + 100 * H)
    assert spent == {"alert": 2 * H, "containment": 11 * H, "remediation": 2 * H}
    assert phases.total(T0, changes, T0 + 100 * H) == 15 * H
    assert phases.durations(T0, [], T0 + 5 * H) == {"alert": 5 * H}


def test_due_times_from_the_facts():
    facts = clock.Facts(
        aware_at=T0, qualified_at=T0 + 2 * H, personal_data=True, insurer_delay_hours=120
    )
    due = {d.kind: d for d in clock.obligations(facts)}
    assert due["ars"].due_at == T0 + 2 * H  # "sans délai": due once qualified
    assert due["cnil"].due_at == T0 + 72 * H and due["cnil"].applicable
    assert due["police"].due_at == T0 + 72 * H
    assert due["insurer"].due_at == T0 + 120 * H
    assert "2022-715" in due["ars"].basis and "72 heures" in due["cnil"].basis
    no_data = {d.kind: d for d in clock.obligations(clock.Facts(T0, None, False))}
    assert not no_data["cnil"].applicable and no_data["cnil"].due_at is None
    assert no_data["ars"].due_at == T0  # not qualified yet: due from awareness
    assert no_data["insurer"].due_at is None  # no contract delay recorded


def test_reminder_stages_once_each_and_only_the_latest():
    due = T0 + 72 * H

    def stage(now, already=(), sent=False, applicable=True):
        return clock.reminder_stage(
            "cnil", due, applicable=applicable, sent=sent, already=already, now=now
        )

    assert stage(T0) is None
    assert stage(due - 24 * H) == "soon"
    assert stage(due - H, already=["soon"]) is None
    assert stage(due, already=["soon"]) == "due"
    assert stage(due + 25 * H) == "late"  # the job was down: only the latest stage
    assert stage(due + 25 * H, already=["late"]) is None
    assert stage(due + 2 * H, already=["late"]) is None  # never go back to an earlier stage
    assert stage(due, sent=True) is None and stage(due, applicable=False) is None
    ars = clock.reminder_stage("ars", T0, applicable=True, sent=False, already=(), now=T0)
    assert ars == "due"  # no "soon" for a declaration due at once


def test_status():
    assert clock.status(None, applicable=False, sent=False, now=T0) == "not_applicable"
    assert clock.status(T0, applicable=True, sent=True, now=T0) == "sent"
    assert clock.status(None, applicable=True, sent=False, now=T0) == "undated"
    assert clock.status(T0, applicable=True, sent=False, now=T0) == "overdue"
    assert clock.status(T0 + 10 * H, applicable=True, sent=False, now=T0) == "due_soon"
    assert clock.status(T0 + 48 * H, applicable=True, sent=False, now=T0) == "pending"
