"""The default scan profile, so a scan can be launched on a fresh installation."""

from django.db import migrations

from carbet.engines.exposure.core import DEFAULT_PORTS


def create_default(apps, schema_editor):
    ScanProfile = apps.get_model("exposure", "ScanProfile")
    if not ScanProfile.objects.filter(is_default=True).exists():
        ScanProfile.objects.create(
            name="Standard",
            description=(
                "Ports à risque et ports médicaux, TLS complet, sites web, messagerie et DNS ; "
                "délais polis pour les serveurs d'un établissement."
            ),
            ports=list(DEFAULT_PORTS),
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("exposure", "0001_initial")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
