"""The keyed chain: each row says how it is sealed, and existing trails get sealed by the key.

Rows written before this migration keep their plain SHA-256 seal (scheme 1) and keep
verifying. If the trail has any, one ``audit.rekey`` entry is appended, sealed with the audit
key (created now if none is configured): its seal covers the last legacy entry's, so from now
on rewriting the old history breaks a seal nobody can recompute without the key. Entries are
never re-written (the table is append-only): the history stays exactly as it was written.

On SQLite, adding the columns rebuilds the table, which drops its triggers: they are put back.
"""

from django.db import migrations, models, transaction
from django.utils import timezone

from carbet.audit import chain, keyring, triggers


def reinstall_triggers(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        triggers.install(cursor, schema_editor.connection.vendor)


def seal_legacy_entries(apps, schema_editor) -> None:
    from carbet.audit import anchor

    entries = apps.get_model("audit", "AuditEntry").objects.using(schema_editor.connection.alias)
    last = entries.order_by("-sequence").first()
    if last is None or entries.filter(scheme=chain.KEYED).exists():
        return
    key = keyring.current(create=True)
    row = {
        "sequence": last.sequence + 1,
        "at": timezone.now(),
        "actor_id": None,
        "actor_label": "Carbet (système)",
        "action": "audit.rekey",
        "object_type": "",
        "object_id": "",
        "object_label": "",
        "structure_id": None,
        "changes": {
            "previous_key": None,
            "key": key.id,
            "legacy_entries": entries.count(),
            "reason": "migration 0004 : passage au journal scellé par clé",
        },
        "source_ip": None,
        "prev_hash": last.entry_hash,
        "scheme": chain.KEYED,
        "key_id": key.id,
    }
    seal = chain.keyed_seal(row, key.secret)
    entries.create(entry_hash=seal, **row)

    def still_valid(head) -> bool:
        stored = entries.filter(sequence=head.sequence).values_list("entry_hash", flat=True)
        return list(stored) == [head.entry_hash]

    transaction.on_commit(
        lambda: anchor.advance(row["sequence"], seal, key=key, still_valid=still_valid),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="scheme",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
        migrations.RunPython(seal_legacy_entries, migrations.RunPython.noop),
    ]
