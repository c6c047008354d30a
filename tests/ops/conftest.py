"""Shared fixtures of the operations tests."""

from __future__ import annotations

import pytest
from django.db import connection, models

from carbet.core.crypto import EncryptedTextField


class StoredCredential(models.Model):
    """A throw-away model: the table is created and dropped by the fixture below."""

    name = models.CharField(max_length=50)
    secret = EncryptedTextField(blank=True, null=True)

    class Meta:
        app_label = "ops"
        db_table = "test_ops_stored_credential"

    def __str__(self) -> str:
        return self.name


@pytest.fixture
def credential_table(transactional_db):
    with connection.schema_editor() as editor:
        editor.create_model(StoredCredential)
    yield StoredCredential
    with connection.schema_editor() as editor:
        editor.delete_model(StoredCredential)
