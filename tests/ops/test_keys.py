"""``carbet keys``: rotation with a key file, re-encryption, retiring old keys."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from carbet.audit.models import AuditEntry
from carbet.core import crypto

SECRET = "identifiant SMTP confidentiel"


@pytest.fixture
def key_file_setup(settings, tmp_path, monkeypatch):
    """Keys from a key file in a private data directory, none from the environment."""
    monkeypatch.delenv("CARBET_ENCRYPTION_KEYS", raising=False)
    settings.DATA_DIR = tmp_path
    settings.CARBET_AUDIT_HEAD_FILE = str(tmp_path / "audit" / "head")
    old = crypto.generate_key()
    (tmp_path / "keys").mkdir(mode=0o700)
    (tmp_path / "keys" / "encryption.key").write_text(old + "\n")
    settings.CARBET_ENCRYPTION_KEYS = [old]
    return tmp_path / "keys" / "encryption.key", old


def _raw(table, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {table._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_rotate_puts_a_new_key_first_and_reencrypts(credential_table, key_file_setup, settings):
    path, old = key_file_setup
    row = credential_table.objects.create(name="smtp", secret=SECRET)
    empty = credential_table.objects.create(name="vide", secret="")
    before = _raw(credential_table, row.pk)
    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    keys = path.read_text().split()
    assert len(keys) == 2 and keys[1] == old and keys[0] != old
    assert (path.stat().st_mode & 0o777) == 0o600
    after = _raw(credential_table, row.pk)
    assert after != before and crypto.decrypts_with(after, keys[:1])
    assert not crypto.decrypts_with(after, [old])
    assert _raw(credential_table, empty.pk) == ""
    assert "1 valeur(s) rechiffrée(s)" in out.getvalue() and "Redémarrez" in out.getvalue()
    assert AuditEntry.objects.filter(action="keys.rotate").exists()

    call_command("keys", "retire", stdout=StringIO())
    assert path.read_text().split() == keys[:1]
    settings.CARBET_ENCRYPTION_KEYS = keys[:1]
    assert credential_table.objects.get(pk=row.pk).secret == SECRET


def test_retire_refuses_while_old_ciphertext_remains(credential_table, key_file_setup, settings):
    path, old = key_file_setup
    row = credential_table.objects.create(name="ldap", secret=SECRET)
    newest = crypto.generate_key()
    settings.CARBET_ENCRYPTION_KEYS = [newest, old]
    path.write_text(f"{newest}\n{old}\n")
    with pytest.raises(CommandError, match="reencrypt"):
        call_command("keys", "retire", stdout=StringIO())
    assert path.read_text().split() == [newest, old]
    call_command("keys", "reencrypt", stdout=StringIO())
    call_command("keys", "retire", stdout=StringIO())
    settings.CARBET_ENCRYPTION_KEYS = [newest]
    assert credential_table.objects.get(pk=row.pk).secret == SECRET


def test_keys_from_the_environment_are_not_edited(db, monkeypatch, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    monkeypatch.setenv("CARBET_ENCRYPTION_KEYS", crypto.generate_key())
    with pytest.raises(CommandError, match="CARBET_ENCRYPTION_KEYS"):
        call_command("keys", "rotate", stdout=StringIO())
    assert not (tmp_path / "keys" / "encryption.key").exists()


def test_generate_prints_a_usable_key():
    out = StringIO()
    call_command("keys", "generate", stdout=out)
    key = out.getvalue().strip()
    token = Fernet(key.encode()).encrypt(b"x").decode()
    assert crypto.decrypts_with(token, [key])
