"""API tokens can no longer be created without an end date (kept apart from 0003 so that the
data update and the schema change run in separate transactions on PostgreSQL)."""

from django.db import migrations, models

import carbet.accounts.models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_token_expiry")]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(
                default=carbet.accounts.models.default_token_expiry, verbose_name="expire le"
            ),
        ),
    ]
