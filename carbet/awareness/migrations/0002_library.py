from django.db import migrations


def install_library(apps, schema_editor):
    from carbet.awareness import library

    library.install(
        {name: apps.get_model("awareness", name) for name in ("LandingPage", "EmailTemplate", "TrainingModule")}
    )


class Migration(migrations.Migration):
    dependencies = [("awareness", "0001_initial")]

    operations = [migrations.RunPython(install_library, migrations.RunPython.noop)]
