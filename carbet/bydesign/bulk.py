"""One UPDATE statement run with many parameter rows (``executemany``): Django's
``bulk_update`` builds a CASE expression per column, which costs more than the recomputation
itself at regional scale. Values go through each field's own database preparation."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model


def update_many(rows: Sequence[Model], fields: Sequence[str]) -> int:
    if not rows:
        return 0
    meta = type(rows[0])._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in columns)
    # Only quoted model metadata is interpolated; every value is a parameter.
    table, key = quote(meta.db_table), quote(meta.pk.column)
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns] + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(params)
