"""The audit trail: hash chain, tail anchor, append-only guards and database triggers."""

from __future__ import annotations

import os
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from carbet.audit import anchor, services, triggers
from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM


@pytest.fixture
def append(db, django_capture_on_commit_callbacks):
    """Append entries the way production does: committed, so the anchor moves."""

    def _append(count: int, **kwargs) -> list[AuditEntry]:
        entries = []
        for index in range(count):
            with django_capture_on_commit_callbacks(execute=True):
                entries.append(
                    services.record(
                        SYSTEM,
                        kwargs.get("action", "test.append"),
                        changes={"n": index, "name": ["avant", "après"]},
                        label=f"objet {index}",
                    )
                )
        return entries

    return _append


@contextmanager
def triggers_lifted():
    """What an intruder with database access would do first (rolled back with the test)."""
    with connection.cursor() as cursor:
        triggers.remove(cursor, connection.vendor)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            triggers.install(cursor, connection.vendor)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def problems_text(report) -> str:
    return " | ".join(f"#{p.sequence} {p.problem}" for p in report.problems)


def test_an_untouched_trail_verifies(append):
    entries = append(5)
    report = services.verify()
    assert report.ok, problems_text(report)
    assert report.checked == 5
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].prev_hash == entries[0].entry_hash
    head = anchor.read()
    assert (head.sequence, head.entry_hash) == (5, entries[-1].entry_hash)
    assert not head.legacy and entries[-1].scheme == 2  # signed with the audit key


def test_anchor_file_is_private(append, audit_head_file):
    append(1)
    assert audit_head_file.exists()
    assert (audit_head_file.stat().st_mode & 0o777) == 0o600
    assert (audit_head_file.parent.stat().st_mode & 0o777) == 0o700


def test_edited_content_is_detected(append):
    append(4)
    with triggers_lifted():
        raw(
            "UPDATE audit_auditentry SET changes = %s WHERE sequence = 2",
            ['{"n": 99, "name": ["avant", "falsifié"]}'],
        )
    report = services.verify()
    assert not report.ok
    assert any(p.sequence == 2 and "contenu modifié" in p.problem for p in report.problems)


def test_deleted_middle_entry_is_detected(append):
    append(5)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence = 3")
    report = services.verify()
    text = problems_text(report)
    assert "entrées 3 à 3 supprimées" in text
    assert "#4 chaînage rompu" in text


def test_deleted_tail_is_detected_by_the_anchor(append):
    append(5)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence >= 4")
    # What remains is a perfectly valid chain: only the anchor can tell.
    assert services.verify(check_anchor=False).ok
    report = services.verify()
    assert "entrées 4 à 5 supprimées (fin du journal" in problems_text(report)


def test_deleted_tail_stays_detected_after_new_appends(append):
    append(5)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence >= 4")
    append(3)  # sequences 4, 5, 6 again, with different hashes
    report = services.verify()
    assert not report.ok
    assert "ne correspond plus à l'ancre" in problems_text(report)


def test_reordered_entries_are_detected(append):
    append(4)
    with triggers_lifted():
        raw("UPDATE audit_auditentry SET sequence = 1000 WHERE sequence = 2")
        raw("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 3")
        raw("UPDATE audit_auditentry SET sequence = 3 WHERE sequence = 1000")
    report = services.verify()
    assert {p.sequence for p in report.problems} >= {2, 3}


def test_missing_or_damaged_anchor_is_reported(append, audit_head_file):
    append(2)
    audit_head_file.unlink()
    assert "ancre de fin absente" in problems_text(services.verify())
    audit_head_file.write_text("not an anchor\n")
    assert "ancre de fin illisible" in problems_text(services.verify())


def test_empty_trail_without_anchor_is_fine(db):
    assert services.verify().ok


def test_the_anchor_only_moves_forward(append):
    entries = append(3)
    assert not anchor.advance(2, entries[1].entry_hash)
    assert anchor.read().sequence == 3
    assert anchor.advance(2, entries[1].entry_hash, force=True)
    assert anchor.read().sequence == 2


def test_a_rolled_back_append_does_not_move_the_anchor(append, django_capture_on_commit_callbacks):
    append(2)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.record(SYSTEM, "test.rolled_back")
            raise RuntimeError("the surrounding action failed")
    assert anchor.read().sequence == 2
    assert services.verify().ok


def test_model_guards_refuse_changes(append):
    entry = append(1)[0]
    entry.action = "forged"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditentry SET action = 'forged'",
        "DELETE FROM audit_auditentry",
        "DELETE FROM audit_auditentry WHERE sequence = 1",
    ],
)
def test_database_triggers_refuse_raw_updates_and_deletes(append, sql):
    append(2)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        raw(sql)
    assert AuditEntry.objects.count() == 2
    assert services.verify().ok


def test_deleting_a_user_or_structure_keeps_entries_sealed(
    region, django_capture_on_commit_callbacks
):
    from carbet.core.models import Mandate

    user = region.users["director_b"]
    with django_capture_on_commit_callbacks(execute=True):
        services.record(user, "structure.update", region.b, changes={"name": ["x", "y"]})
    entry = AuditEntry.objects.get(action="structure.update")
    Mandate.objects.filter(structure=region.b).delete()
    region.b.delete()
    user.delete()
    entry.refresh_from_db()
    assert entry.actor_id is not None and entry.structure_id is not None
    assert services.verify().ok


def test_sequential_appends_keep_one_chain(append):
    append(50)
    report = services.verify()
    assert report.ok and report.checked == 50
    sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, 51))


def test_verify_command_exit_codes(append):
    append(3)
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "intact" in out.getvalue() and "3 entrée(s)" in out.getvalue()
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence = 2")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", stdout=out)
    assert exit_info.value.code == 1
    assert "ALTÉRÉ" in out.getvalue() and "#3" in out.getvalue()


def test_anchor_command_reanchors_and_is_audited(append, audit_head_file):
    append(2)
    audit_head_file.unlink()
    with pytest.raises(SystemExit):
        call_command("audit", "verify", stdout=StringIO())
    call_command("audit", "reanchor", "--reason", "répertoire recréé", stdout=StringIO())
    last = AuditEntry.objects.order_by("-sequence").first()
    assert last.action == "audit.reanchor" and last.changes["reason"] == "répertoire recréé"
    assert services.verify().ok


def test_anchor_command_refuses_a_broken_chain(append):
    from django.core.management.base import CommandError

    append(3)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence = 2")
    with pytest.raises(CommandError, match="rompue"):
        call_command("audit", "reanchor", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_flush_lifts_and_restores_the_triggers():
    services.record(SYSTEM, "test.flush")
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    services.record(SYSTEM, "test.after_flush")
    with pytest.raises(IntegrityError, match="append-only"):
        raw("DELETE FROM audit_auditentry")


def test_anchor_writes_are_atomic(append, audit_head_file):
    append(1)
    leftovers = [name for name in os.listdir(audit_head_file.parent) if name.endswith(".tmp")]
    assert leftovers == []


def test_one_anchor_write_per_transaction(db, django_capture_on_commit_callbacks, monkeypatch):
    writes = []
    original = anchor._write
    monkeypatch.setattr(
        anchor, "_write", lambda path, head: (writes.append(head), original(path, head))
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for index in range(30):
            services.record(SYSTEM, "test.bulk", changes={"n": index})
    assert len(writes) == 1 and writes[0].sequence == 30
    assert services.verify().ok


def test_a_rolled_back_savepoint_is_not_anchored(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.record(SYSTEM, "test.kept")
        with pytest.raises(RuntimeError), transaction.atomic():
            services.record(SYSTEM, "test.rolled_back")
            raise RuntimeError("inner step failed")
    head = anchor.read()
    kept = AuditEntry.objects.get(action="test.kept")
    assert (head.sequence, head.entry_hash) == (kept.sequence, kept.entry_hash)
    assert services.verify().ok
