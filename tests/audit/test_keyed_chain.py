"""Attacks on the audit trail by someone who can write the database (and the data directory),
but does not hold the audit key: each one must be reported by ``verify``."""

from __future__ import annotations

import hashlib
import json
from io import StringIO
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection

from carbet.audit import anchor, chain, keyring, services
from carbet.audit.models import AuditEntry
from carbet.core.tenancy import SYSTEM
from tests.audit.test_chain import problems_text, raw, triggers_lifted


@pytest.fixture
def append(db, django_capture_on_commit_callbacks):
    def _append(count: int, action: str = "test.append") -> list[AuditEntry]:
        entries = []
        for index in range(count):
            with django_capture_on_commit_callbacks(execute=True):
                entries.append(services.record(SYSTEM, action, changes={"n": index}))
        return entries

    return _append


def rows() -> list[dict]:
    return list(AuditEntry.objects.order_by("sequence").values(*chain.FIELDS))


def rewrite_with_plain_sha256(edit_sequence: int, new_changes: dict) -> None:
    """The old attack: edit a row, then recompute every plain SHA-256 and re-chain the rest
    (what was enough to fool ``verify`` before the key)."""
    previous = chain.GENESIS
    with triggers_lifted():
        for row in rows():
            if row["sequence"] == edit_sequence:
                row["changes"] = new_changes
            row["prev_hash"] = previous
            new_hash = hashlib.sha256(chain.canonical(row)).hexdigest()
            raw(
                "UPDATE audit_auditentry SET changes = %s, prev_hash = %s, entry_hash = %s "
                "WHERE sequence = %s",
                [json.dumps(row["changes"]), previous, new_hash, row["sequence"]],
            )
            previous = new_hash


def test_every_entry_is_sealed_with_the_key_kept_outside_the_database(append, audit_key_file):
    entries = append(3)
    assert audit_key_file.exists() and (audit_key_file.stat().st_mode & 0o777) == 0o600
    key = keyring.current()
    assert {e.key_id for e in entries} == {key.id} and {e.scheme for e in entries} == {2}
    secret = key.secret.decode()
    with connection.cursor() as cursor:  # the secret is nowhere in the database
        cursor.execute("SELECT * FROM audit_auditentry")
        assert secret not in repr(cursor.fetchall())
    assert services.verify().ok


def test_recompute_and_rewrite_is_detected(append):
    append(5)
    rewrite_with_plain_sha256(2, {"n": 99})
    report = services.verify()
    assert not report.ok
    assert "#2 contenu modifié" in problems_text(report)


def test_rewrite_with_another_key_is_detected(append):
    append(4)
    forged_key = b"x" * 43
    with triggers_lifted():
        for row in rows():
            row["changes"] = {"n": "falsifié"}
            raw(
                "UPDATE audit_auditentry SET changes = %s, entry_hash = %s WHERE sequence = %s",
                ['{"n": "falsifié"}', chain.keyed_seal(row, forged_key), row["sequence"]],
            )
    text = problems_text(services.verify())
    assert "sceau de la clé invalide" in text


def test_downgrade_of_the_whole_trail_to_plain_hashes_is_detected(append, audit_head_file):
    """Everything rewritten as legacy (unkeyed) entries, with a legacy anchor to match."""
    append(4)
    previous = chain.GENESIS
    with triggers_lifted():
        for row in rows():
            row.update(scheme=1, key_id="", prev_hash=previous)
            new_hash = chain.legacy_hash(row)
            raw(
                "UPDATE audit_auditentry SET scheme = 1, key_id = '', prev_hash = %s, "
                "entry_hash = %s WHERE sequence = %s",
                [previous, new_hash, row["sequence"]],
            )
            previous = new_hash
    audit_head_file.write_text(f"4 {previous}\n")
    assert "jamais scellé par la clé" in problems_text(services.verify())


def test_wiping_the_table_and_deleting_the_anchor_is_detected(append, audit_head_file):
    append(3)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry")
    audit_head_file.unlink()
    report = services.verify()
    assert not report.ok
    assert "journal et ancre effacés" in problems_text(report)


def test_wipe_is_detected_even_with_the_key_in_the_environment(region, settings, audit_head_file):
    """No key file to notice the wipe: the accounts (created through audited actions) do."""
    settings.CARBET_AUDIT_KEYS = [keyring.generate_secret()]
    services.record(SYSTEM, "test.one")
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry")
    audit_head_file.unlink(missing_ok=True)
    assert "compte(s)" in problems_text(services.verify())


def test_a_fresh_installation_verifies(db):
    assert services.verify().ok


def test_truncated_tail_is_detected(append):
    append(6)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence > 3")
    assert "entrées 4 à 6 supprimées" in problems_text(services.verify())


def test_truncated_tail_with_a_rewritten_anchor_is_detected(append, audit_head_file):
    entries = append(6)
    with triggers_lifted():
        raw("DELETE FROM audit_auditentry WHERE sequence > 3")
    # Without the key: an unsigned anchor, or a signed one with a made-up tag.
    audit_head_file.write_text(f"3 {entries[2].entry_hash}\n")
    assert "ancre de fin sans signature" in problems_text(services.verify())
    key_id = entries[2].key_id
    audit_head_file.write_text(f"v2 3 {entries[2].entry_hash} {key_id} {'0' * 64}\n")
    assert "signature invalide" in problems_text(services.verify())


def test_deleted_key_is_reported(append, audit_key_file):
    append(2)
    audit_key_file.unlink()
    assert "introuvable" in problems_text(services.verify())


def test_legacy_entries_keep_verifying_and_get_sealed(db, django_capture_on_commit_callbacks):
    """Entries written with the old scheme, then the migration seals them under the key."""
    from carbet.audit.migrations import __name__ as package

    migration = __import__(f"{package}.0004_keyed_chain", fromlist=["seal_legacy_entries"])
    previous = chain.GENESIS
    for sequence in (1, 2, 3):
        entry = AuditEntry(
            sequence=sequence,
            actor_label="ancien",
            action="legacy.entry",
            changes={"n": sequence},
            prev_hash=previous,
            scheme=1,
        )
        entry.entry_hash = chain.legacy_hash(services.row_of(entry))
        entry.save(force_insert=True)
        previous = entry.entry_hash
    editor = SimpleNamespace(connection=connection)
    with django_capture_on_commit_callbacks(execute=True):
        migration.seal_legacy_entries(django_apps, editor)
    seal = AuditEntry.objects.get(sequence=4)
    assert seal.action == "audit.rekey" and seal.scheme == 2 and seal.prev_hash == previous
    report = services.verify()
    assert report.ok, problems_text(report)
    assert any("3 entrée(s) écrite(s) avant la clé" in note for note in report.notes)
    # Rewriting the old history now breaks the keyed entry, which nobody can re-seal.
    rewrite_with_plain_sha256(2, {"n": "falsifié"})
    assert "#4 contenu modifié après écriture (sceau de la clé invalide)" in problems_text(
        services.verify()
    )


def test_a_legacy_entry_after_keyed_ones_is_detected(append):
    entries = append(2)
    forged = AuditEntry(
        sequence=3,
        actor_label="intrus",
        action="forged",
        prev_hash=entries[-1].entry_hash,
        scheme=1,
    )
    forged.entry_hash = chain.legacy_hash(services.row_of(forged))
    forged.save(force_insert=True)
    assert "entrée sans clé après des entrées scellées" in problems_text(
        services.verify(check_anchor=False)
    )


def test_rotation_keeps_old_entries_verifiable_and_refuses_the_retired_key(
    append, django_capture_on_commit_callbacks
):
    append(2)
    old = keyring.current()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("audit", "rekey", "--reason", "clé exposée", stdout=out)
    new = keyring.current()
    assert new.id != old.id and [k.id for k in keyring.load()] == [new.id, old.id]
    rekey = AuditEntry.objects.get(sequence=3)
    assert rekey.action == "audit.rekey" and rekey.key_id == new.id
    assert rekey.changes == {"previous_key": old.id, "key": new.id, "reason": "clé exposée"}
    append(1)
    assert services.verify().ok
    # Someone still holding the old key appends after the rotation.
    last = AuditEntry.objects.order_by("-sequence").first()
    forged = AuditEntry(
        sequence=last.sequence + 1,
        actor_label="intrus",
        action="forged",
        prev_hash=last.entry_hash,
        scheme=2,
        key_id=old.id,
    )
    forged.entry_hash = chain.keyed_seal(services.row_of(forged), old.secret)
    forged.save(force_insert=True)
    assert "clé plus ancienne" in problems_text(services.verify(check_anchor=False))


def test_a_new_key_in_the_environment_is_recorded_as_a_rekey(append, settings):
    append(1)
    old = keyring.current()
    settings.CARBET_AUDIT_KEYS = [keyring.generate_secret(), old.secret.decode()]
    entry = append(1)[0]
    rekey = AuditEntry.objects.get(sequence=entry.sequence - 1)
    assert rekey.action == "audit.rekey" and rekey.changes["previous_key"] == old.id
    assert services.verify().ok


def test_reanchor_command_signs_the_anchor(append, audit_head_file):
    append(2)
    audit_head_file.unlink()
    call_command("audit", "reanchor", "--reason", "test", stdout=StringIO())
    head = anchor.read()
    assert not head.legacy
    assert anchor.tag_valid(head, keyring.as_mapping(keyring.load())[0])
