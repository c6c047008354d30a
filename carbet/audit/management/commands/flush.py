"""Django's ``flush``, aware of the audit table's append-only triggers.

``flush`` empties every table on purpose (a fresh start, and between tests that use real
transactions). On SQLite it issues ``DELETE FROM``, which the audit triggers refuse, so this
command lifts them for the duration of the flush and puts them back, in the same transaction
when the database allows it. On PostgreSQL ``flush`` uses ``TRUNCATE``, which row triggers do
not see, so nothing changes there. Wiping the trail this way leaves the tail anchor pointing
past the end: ``carbet audit verify`` will say so until ``carbet audit reanchor`` is run.
"""

from __future__ import annotations

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from carbet.audit import triggers


class Command(DjangoFlush):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            return super().handle(**options)
        with connection.cursor() as cursor:
            triggers.remove(cursor, connection.vendor)
        try:
            return super().handle(**options)
        finally:
            with connection.cursor() as cursor:
                if "audit_auditentry" in connection.introspection.table_names(cursor):
                    triggers.install(cursor, connection.vendor)
