"""Mandates list the kinds they cover instead of one boolean column per service.

A new service declares its mandate kinds in its spec (``carbet.core.contract``): it must not
need a column, hence a migration, in the kernel. The four booleans become the ``services`` list,
in the same order as before.
"""

from django.db import migrations, models

COLUMNS = (
    ("covers_exposure_scan", "exposure_scan"),
    ("covers_directory_audit", "directory_audit"),
    ("covers_phishing", "phishing"),
    ("covers_exercise", "exercise"),
)


def booleans_to_list(apps, schema_editor):
    Mandate = apps.get_model("core", "Mandate")
    for mandate in Mandate.objects.all().only("pk", *(column for column, _code in COLUMNS)):
        mandate.services = [code for column, code in COLUMNS if getattr(mandate, column)]
        mandate.save(update_fields=["services"])


def list_to_booleans(apps, schema_editor):
    Mandate = apps.get_model("core", "Mandate")
    for mandate in Mandate.objects.all():
        for column, code in COLUMNS:
            setattr(mandate, column, code in (mandate.services or []))
        mandate.save(update_fields=[column for column, _code in COLUMNS])


class Migration(migrations.Migration):
    dependencies = [("core", "0003_mandate_scope_label")]

    operations = [
        migrations.AddField(
            model_name="mandate",
            name="services",
            field=models.JSONField(default=list, verbose_name="services couverts"),
        ),
        migrations.RunPython(booleans_to_list, list_to_booleans),
        *(migrations.RemoveField(model_name="mandate", name=column) for column, _code in COLUMNS),
    ]
