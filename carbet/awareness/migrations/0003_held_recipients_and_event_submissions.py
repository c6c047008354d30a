"""Held recipients (a domain no longer covered at sending time), and landing-page submissions
that are events only: the stored pages are rebuilt without any field name, and the columns that
kept field names (of the page and of a submission) go away."""

from django.db import migrations, models


def resanitise_pages(apps, schema_editor):
    # The pure sanitiser of today: stored pages and lure bodies lose every field name.
    from carbet.engines.awareness.landing import sanitize

    for model, column in (("LandingPage", "html"), ("EmailTemplate", "html_body")):
        rows = apps.get_model("awareness", model).objects.exclude(**{column: ""})
        for row in rows.iterator():
            clean = sanitize(getattr(row, column), "#").html
            if clean != getattr(row, column):
                setattr(row, column, clean)
                row.save(update_fields=[column])


class Migration(migrations.Migration):

    dependencies = [
        ('awareness', '0002_library'),
    ]

    operations = [
        migrations.RunPython(resanitise_pages, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='landingpage',
            name='field_names',
        ),
        migrations.RemoveField(
            model_name='recipient',
            name='submitted_fields',
        ),
        migrations.AlterField(
            model_name='recipient',
            name='state',
            field=models.CharField(choices=[('pending', 'À envoyer'), ('sending', 'Envoi commencé'), ('sent', 'Envoyé'), ('failed', 'Échec'), ('uncertain', 'Incertain (envoi interrompu, jamais renvoyé)'), ('skipped', 'Non envoyé (hors mandat)'), ('held', 'Retenu (domaine non couvert)')], default='pending', max_length=10),
        ),
    ]
