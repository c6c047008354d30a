"""The knowledge base's full-text index (no model change).

SQLite: an FTS5 virtual table kept in step by triggers on ``community_article``.
PostgreSQL: a GIN expression index on the articles' weighted ``tsvector`` (``french``
configuration, through ``unaccent`` when the extension can be installed).
See ``carbet/community/search.py``.
"""

from django.db import migrations

from carbet.community import search


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        search.sqlite_install(schema_editor)
    elif vendor == "postgresql":
        search.pg_install(schema_editor, apps.get_model("community", "Article"))


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        search.sqlite_uninstall(schema_editor)
    elif vendor == "postgresql":
        search.pg_uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
