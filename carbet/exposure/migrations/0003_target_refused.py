"""The connections the connect-time scope policy refused, per scanned target (issue 11)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("exposure", "0002_default_profile"),
    ]

    operations = [
        migrations.AddField(
            model_name="scantarget",
            name="refused",
            field=models.JSONField(blank=True, default=list),
        ),
    ]
