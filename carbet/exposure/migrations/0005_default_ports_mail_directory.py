"""The default profile also scans the mail and directory ports (110, 143, 389, 465, 587, 636,
993, 995), so their STARTTLS/TLS checks run on every default scan. A profile an analyst edited
keeps its own list: only the ports are added, nothing is removed."""

from django.db import migrations

ADDED = (110, 143, 389, 465, 587, 636, 993, 995)


def add_ports(apps, schema_editor):
    ScanProfile = apps.get_model("exposure", "ScanProfile")
    for profile in ScanProfile.objects.filter(is_default=True):
        ports = sorted({*profile.ports, *ADDED})
        if ports != list(profile.ports):
            profile.ports = ports
            profile.save(update_fields=["ports"])


class Migration(migrations.Migration):
    dependencies = [("exposure", "0004_alert_per_return")]
    operations = [migrations.RunPython(add_ports, migrations.RunPython.noop)]
