"""Every API token gets an end date: tokens created without one expire ``CARBET_API_TOKEN_DAYS``
after this upgrade, and are marked so that the profile page can tell their owner."""

import datetime as dt

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def give_old_tokens_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    days = getattr(settings, "CARBET_API_TOKEN_DAYS", 90)
    ApiToken.objects.using(schema_editor.connection.alias).filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + dt.timedelta(days=days), expiry_added=True
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expiry_added",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.RunPython(give_old_tokens_an_expiry, migrations.RunPython.noop),
    ]
