"""The main courante: sealed appends, corrections that supersede, append-only at the database
level (SQLite triggers here; PostgreSQL in test_log_concurrency), tampering found by the walk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError, IntegrityError

from carbet.core.tenancy import SYSTEM
from carbet.crisis import selectors, services_log
from carbet.crisis.models import AppendOnlyError, LogEntry
from carbet.crisis.triggers import SQLITE_CREATE
from carbet.engines.crisis import chain
from tests.crisis.conftest import T0


def _fill(case, user, n=5):
    return [
        services_log.append_entry(
            user,
            case,
            text=f"Fait n° {i}",
            kind="fact",
            source="standard",
            event_at=T0 + dt.timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_entries_are_sealed_chained_and_verified(case, region):
    entries = _fill(case, region.users["director"])
    assert [e.sequence for e in entries] == [3, 4, 5, 6, 7]
    assert entries[1].prev_hash == entries[0].entry_hash
    assert entries[0].author_id == region.users["director"].pk
    assert "dir@alpha.test" in entries[0].author_label
    assert entries[0].recorded_at >= entries[0].event_at
    assert services_log.verify_log(case).ok
    assert services_log.verify_log(case).checked == 7


def test_a_correction_supersedes_and_nothing_is_edited(case, region):
    user = region.users["referent"]
    first = _fill(case, user, 1)[0]
    fixed = services_log.correct_entry(
        user, first, text="Fait n° 0 (heure corrigée)", verified=True
    )
    assert fixed.supersedes_id == first.pk and fixed.event_at == first.event_at and fixed.verified
    rows = {e.pk: e for e in selectors.log_entries(case)}
    assert rows[first.pk].superseded and not rows[fixed.pk].superseded
    first.text = "réécrit"
    with pytest.raises(AppendOnlyError):
        first.save()
    with pytest.raises(AppendOnlyError):
        first.delete()
    with pytest.raises(AppendOnlyError):
        LogEntry.objects.filter(case=case).update(text="x")
    with pytest.raises(AppendOnlyError):
        LogEntry.objects.filter(case=case).delete()
    assert services_log.verify_log(case).ok


def test_the_database_refuses_update_and_delete(case, region):
    _fill(case, region.users["director"], 2)
    for statement in (
        "UPDATE crisis_logentry SET text = 'réécrit'",
        "DELETE FROM crisis_logentry",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
    assert LogEntry.objects.filter(case=case).count() == 4


def _untrigger():
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER crisis_log_no_update")
        cursor.execute("DROP TRIGGER crisis_log_no_delete")


def _retrigger():
    with connection.cursor() as cursor:
        for statement in SQLITE_CREATE:
            cursor.execute(statement)


@pytest.mark.parametrize(
    "tamper, problem",
    [
        ("UPDATE crisis_logentry SET text = 'réécrit' WHERE sequence = 4", chain.SEAL),
        ("UPDATE crisis_logentry SET verified = 1 WHERE sequence = 4", chain.SEAL),
        ("DELETE FROM crisis_logentry WHERE sequence = 4", chain.GAP),
    ],
)
def test_tampering_behind_the_triggers_is_found(case, region, tamper, problem, capsys):
    assert connection.vendor == "sqlite"
    _fill(case, region.users["director"], 5)
    _untrigger()
    try:
        with connection.cursor() as cursor:
            cursor.execute(tamper + " AND case_id = %s", [case.pk])
    finally:
        _retrigger()
    result = services_log.verify_log(case)
    first = 5 if problem == chain.GAP else 4
    assert (result.first_broken, result.problem) == (first, problem)
    with pytest.raises(SystemExit) as exit_:
        call_command("crisis", "verify", case.reference)
    assert exit_.value.code == 1
    assert f"n° {first}" in capsys.readouterr().out


def test_the_verify_command_on_an_intact_case(case, region, capsys):
    _fill(case, region.users["director"], 3)
    call_command("crisis", "verify", str(case.pk))
    assert "intacte : 5 entrées" in capsys.readouterr().out


def test_two_entries_never_share_a_sequence(case, region):
    entry = _fill(case, region.users["director"], 1)[0]
    clone = LogEntry(
        case=case,
        sequence=entry.sequence,
        event_at=T0,
        recorded_at=T0,
        author_label="x",
        kind="fact",
        text="x",
        prev_hash=entry.prev_hash,
        entry_hash="0" * 64,
        key_id="x",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)


def test_bad_entries_are_refused(case, region):
    user = region.users["director"]
    for kwargs in (
        {"text": "  ", "kind": "fact"},
        {"text": "x", "kind": "rumeur"},
        {"text": "x" * 20001, "kind": "fact"},
    ):
        with pytest.raises(ValueError):
            services_log.append_entry(user, case, **kwargs)
    for role in ("director_b", "ars_viewer"):
        with pytest.raises(PermissionDenied):
            services_log.append_entry(region.users[role], case, text="x", kind="fact")


def test_filters_and_csv(case, region):
    user = region.users["director"]
    services_log.append_entry(
        user, case, text='=HYPERLINK("http://x")', kind="communication", verified=True
    )
    services_log.append_entry(
        SYSTEM, case, text="Point de 10 h", kind="situation", author_label="Cellule"
    )
    assert [e.kind for e in selectors.log_entries(case, kind="communication")] == ["communication"]
    assert selectors.log_entries(case, text="point de 10").count() == 1
    assert selectors.log_entries(case, verified=True).count() == 1
    assert selectors.log_entries(case, author="Cellule").count() == 1
    csv_text = selectors.log_csv(case)
    assert csv_text.splitlines()[0].startswith("sequence,event_at")
    assert "'=HYPERLINK" in csv_text  # no formula injection


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_a_database_holding_a_log(region, keys):
    """Tests with real transactions end with ``flush``: the log's SQLite triggers stand aside
    exactly while Carbet's flush lifts the audit table's own (see carbet/crisis/triggers.py)."""
    from carbet.crisis import services

    case = services.open_case_for(region.users["centre_admin"], region.a, category="messagerie")
    services_log.append_entry(region.users["centre_admin"], case, text="x", kind="fact")
    call_command("flush", "--no-input")
    assert not LogEntry.objects.exists()
    with connection.cursor() as cursor:  # and the triggers are back
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"crisis_log_no_update", "crisis_log_no_delete", "audit_entry_no_delete"} <= names
