"""Secrets at rest: ciphertext in the database, key rotation, key file, the secret widget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django import forms
from django.db import connection

from carbet.core import crypto
from carbet.core.crypto import EncryptedTextField, SecretField, SecretInput
from tests.ops.conftest import StoredCredential

ROOT = Path(__file__).resolve().parents[2]
PLAINTEXT = "Mot-de-passe LDAP très secret 42 !"


def _raw_secret(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {StoredCredential._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_encrypt_round_trip_and_randomness():
    token = crypto.encrypt(PLAINTEXT)
    assert crypto.decrypt(token) == PLAINTEXT
    assert crypto.encrypt(PLAINTEXT) != token  # a fresh nonce each time
    assert PLAINTEXT not in token and crypto.looks_encrypted(token)


def test_database_holds_ciphertext_only(credential_table):
    row = credential_table.objects.create(name="ldap", secret=PLAINTEXT)
    stored = _raw_secret(row.pk)
    assert stored != PLAINTEXT and PLAINTEXT not in stored
    assert "secret" not in stored.lower()
    assert crypto.looks_encrypted(stored)
    assert credential_table.objects.get(pk=row.pk).secret == PLAINTEXT


def test_empty_and_null_values_stay_as_they_are(credential_table):
    empty = credential_table.objects.create(name="vide", secret="")
    null = credential_table.objects.create(name="nul", secret=None)
    assert _raw_secret(empty.pk) == "" and _raw_secret(null.pk) is None
    assert credential_table.objects.filter(secret__isnull=True).get() == null


def test_equality_lookups_are_refused(credential_table):
    with pytest.raises(NotImplementedError, match="encrypted"):
        credential_table.objects.filter(secret=PLAINTEXT).exists()


def test_key_rotation_new_key_first_old_still_decrypts(credential_table, settings):
    old_key = crypto.generate_key()
    settings.CARBET_ENCRYPTION_KEYS = [old_key]
    row = credential_table.objects.create(name="smtp", secret=PLAINTEXT)
    old_token = _raw_secret(row.pk)

    new_key = crypto.generate_key()
    settings.CARBET_ENCRYPTION_KEYS = [new_key, old_key]
    assert credential_table.objects.get(pk=row.pk).secret == PLAINTEXT  # old key still decrypts
    rotated = crypto.rotate(old_token)
    settings.CARBET_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == PLAINTEXT  # the new key alone reads rotated values
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        credential_table.objects.get(pk=row.pk)  # but not the old ciphertext


def test_malformed_key_is_a_clear_configuration_error(settings):
    settings.CARBET_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(crypto.ImproperlyConfigured, match="malformed key"):
        crypto.encrypt("x")


def test_key_file_is_created_with_0600(tmp_path):
    env = {"PATH": os.environ["PATH"], "CARBET_DATA_DIR": str(tmp_path / "data")}
    code = "import carbet.settings as s; print(len(s.CARBET_ENCRYPTION_KEYS))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    key_file = tmp_path / "data" / "keys" / "encryption.key"
    assert (key_file.stat().st_mode & 0o777) == 0o600
    assert (key_file.parent.stat().st_mode & 0o777) == 0o700


def test_key_file_with_several_keys_newest_first(tmp_path):
    keys_dir = tmp_path / "data" / "keys"
    keys_dir.mkdir(parents=True)
    newest, oldest = crypto.generate_key(), crypto.generate_key()
    (keys_dir / "encryption.key").write_text(f"{newest}\n{oldest}\n")
    env = {"PATH": os.environ["PATH"], "CARBET_DATA_DIR": str(tmp_path / "data")}
    code = "import carbet.settings as s; print(*s.CARBET_ENCRYPTION_KEYS)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == [newest, oldest]


class CredentialForm(forms.Form):
    password = SecretField(label="Mot de passe", required=False)


def test_widget_never_renders_the_stored_secret():
    form = CredentialForm(initial={"password": PLAINTEXT})
    html = str(form["password"])
    assert PLAINTEXT not in html
    assert "••••" in html and "enregistré" in html
    assert 'type="password"' in html and 'value="' not in html


def test_widget_never_renders_a_submitted_secret_back_on_error():
    class Required(forms.Form):
        password = SecretField(label="Mot de passe", min_length=100)

    form = Required(data={"password": PLAINTEXT})
    assert not form.is_valid()
    assert PLAINTEXT not in str(form["password"])
    assert PLAINTEXT not in SecretInput().render("password", PLAINTEXT)


def test_widget_without_stored_value_shows_no_hint():
    html = str(CredentialForm()["password"])
    assert "enregistré" not in html


def test_empty_submission_keeps_the_stored_secret():
    form = CredentialForm(data={"password": ""}, initial={"password": PLAINTEXT})
    assert form.is_valid()
    assert form.cleaned_data["password"] == PLAINTEXT
    assert not form.has_changed()


def test_new_value_replaces_and_clear_box_removes():
    form = CredentialForm(data={"password": "nouveau"}, initial={"password": PLAINTEXT})
    assert form.is_valid() and form.cleaned_data["password"] == "nouveau"
    form = CredentialForm(
        data={"password": "", "password__clear": "on"}, initial={"password": PLAINTEXT}
    )
    assert form.is_valid() and form.cleaned_data["password"] == ""


def test_model_field_gives_the_secret_form_field():
    field = EncryptedTextField(blank=True).formfield()
    assert isinstance(field, SecretField) and isinstance(field.widget, SecretInput)


def test_every_encrypted_field_is_listed(credential_table):
    assert (StoredCredential, StoredCredential._meta.get_field("secret")) in list(
        crypto.encrypted_fields()
    )
