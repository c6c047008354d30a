"""An exposure that comes back after being fixed is alerted again: one alert per return (issue 19)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_mandate_services_list"),
        ("exposure", "0003_target_refused"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="exposurealert",
            name="exposure_alert_once",
        ),
        migrations.AddField(
            model_name="exposurealert",
            name="episode",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddConstraint(
            model_name="exposurealert",
            constraint=models.UniqueConstraint(
                fields=("structure", "fingerprint", "episode"),
                name="exposure_alert_once_per_return",
            ),
        ),
    ]
