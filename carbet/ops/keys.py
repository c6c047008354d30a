"""Rotating the keys that encrypt stored credentials.

Keys live either in ``CARBET_ENCRYPTION_KEYS`` (managed by the operator's tooling) or in the
key file ``DATA_DIR/keys/encryption.key`` (one key per line, newest first). Rotation: a new key
goes first, every stored value is re-encrypted with it, and the old keys can then be retired
once nothing needs them any more.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from carbet.core import crypto


class KeysManagedElsewhere(Exception):
    """The keys come from the environment: Carbet cannot edit them."""


@dataclass(frozen=True)
class ReencryptReport:
    values: int
    fields: list[str]


def key_file() -> Path:
    return Path(settings.DATA_DIR) / "keys" / "encryption.key"


def keys_from_environment() -> bool:
    return bool(os.environ.get("CARBET_ENCRYPTION_KEYS", "").strip())


def _write_keys(keys: list[str]) -> None:
    path = key_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write("\n".join(keys) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def reencrypt_all() -> ReencryptReport:
    """Decrypt every encrypted value with whichever key fits and store it under the first key."""
    count, fields = 0, []
    for model, field in crypto.encrypted_fields():
        fields.append(f"{model._meta.label}.{field.name}")
        manager = model._base_manager  # a platform operation: every row, whatever its tenant
        with transaction.atomic():
            rows = manager.select_for_update().exclude(**{f"{field.attname}__isnull": True})
            for pk, plaintext in rows.values_list("pk", field.attname):
                if plaintext in (None, ""):
                    continue
                manager.filter(pk=pk).update(**{field.attname: plaintext})
                count += 1
    return ReencryptReport(count, fields)


def rotate() -> tuple[str, ReencryptReport]:
    """Put a new key first in the key file and re-encrypt everything with it."""
    if keys_from_environment():
        raise KeysManagedElsewhere()
    new_key = crypto.generate_key()
    keys = [new_key, *settings.CARBET_ENCRYPTION_KEYS]
    _write_keys(keys)
    settings.CARBET_ENCRYPTION_KEYS = keys
    return new_key, reencrypt_all()


def undecryptable_with_first_key() -> int:
    """How many stored values the newest key alone cannot decrypt."""
    newest = settings.CARBET_ENCRYPTION_KEYS[:1]
    missing = 0
    for model, field in crypto.encrypted_fields():
        raw_values = model._base_manager.exclude(**{f"{field.attname}__isnull": True})
        for pk in raw_values.values_list("pk", flat=True):
            token = _raw_value(model, field, pk)
            if token and not crypto.decrypts_with(token, newest):
                missing += 1
    return missing


def _raw_value(model, field, pk) -> str | None:
    from django.db import connections, router

    connection = connections[router.db_for_read(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(field.column)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else None


def retire_old_keys() -> int:
    """Keep only the newest key, once every stored value decrypts with it. Returns how many
    keys were removed."""
    if keys_from_environment():
        raise KeysManagedElsewhere()
    keys = list(settings.CARBET_ENCRYPTION_KEYS)
    if len(keys) <= 1:
        return 0
    if undecryptable_with_first_key():
        raise ValueError("some values still need an old key")
    _write_keys(keys[:1])
    settings.CARBET_ENCRYPTION_KEYS = keys[:1]
    return len(keys) - 1
